#!/usr/bin/env bash
# sanitizer_reports.sh DIR — fails the test run if AddressSanitizer,
# LeakSanitizer or UndefinedBehaviorSanitizer wrote any report into DIR.
# (A report in a test's child process does not fail the Criterion test itself.)
set -u
dir=$1
reports=("$dir"/report*)
[ -e "${reports[0]}" ] || exit 0
for r in "${reports[@]}"; do
  echo "---- $r"
  cat "$r"
done
echo "FAILED: ${#reports[@]} sanitizer report(s) above; the test run fails." >&2
exit 1
