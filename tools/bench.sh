#!/usr/bin/env bash
# bench.sh — what `make bench` runs: the benchmark ViT trained and evaluated in
# C (build/bench) and in PyTorch (tools/bench_torch.py) with the same settings,
# then one line per figure with the ratio C / PyTorch:
#
#   train_img_per_s: c=<n> torch=<n> ratio=<c/torch>
#   infer_img_per_s: c=<n> torch=<n> ratio=<c/torch>
#
# Flags (--steps N, --warmup N, --max-threads N) go to both programs.
#   tools/bench.sh [--steps 40] [--warmup 5] [--max-threads 2]
set -euo pipefail
cd "$(dirname "$0")/.."

c=$(build/bench "$@")
echo "$c"
torch=$(/usr/bin/python3 tools/bench_torch.py "$@")
echo "$torch"

# The value of key on the "<side> best" line of the output.
best() { sed -n "s/^$1 best .*$2=\([0-9.]*\).*/\1/p" <<<"$3"; }

for key in train_img_per_s infer_img_per_s; do
  cv=$(best c "$key" "$c")
  tv=$(best torch "$key" "$torch")
  awk -v k="$key" -v c="$cv" -v t="$tv" \
    'BEGIN { printf "%s: c=%.0f torch=%.0f ratio=%.2f\n", k, c, t, c / t }'
done
