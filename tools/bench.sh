#!/usr/bin/env bash
# bench.sh — what `make bench` runs: each benchmark model (chapter 06's ViT,
# chapter 07's hybrid and CNN) trained and evaluated in C (build/bench) and
# then in PyTorch (tools/bench_torch.py) with the same settings, one model
# after the other, then one line per figure with the ratio C / PyTorch:
#
#   train_img_per_s: c=<n> torch=<n> ratio=<c/torch>           the ViT
#   infer_img_per_s: c=<n> torch=<n> ratio=<c/torch>           the ViT
#   train_img_per_s_hybrid: c=<n> torch=<n> ratio=<c/torch>
#   train_img_per_s_cnn: c=<n> torch=<n> ratio=<c/torch>
#
# Flags (--steps N, --warmup N, --max-threads N) go to both programs.
#   tools/bench.sh [--steps 40] [--warmup 5] [--max-threads 2]
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A out # "<side> <model>" -> that program's output
for model in vit hybrid cnn; do
  out[c $model]=$(build/bench --model "$model" "$@")
  echo "${out[c $model]}"
  out[torch $model]=$(/usr/bin/python3 tools/bench_torch.py --model "$model" "$@")
  echo "${out[torch $model]}"
done

# The value of key on the "<side> <model> best" line of that program's output.
best() { sed -n "s/^$1 $2 best .*$3=\([0-9.]*\).*/\1/p" <<<"${out[$1 $2]}"; }

# One result line: label, model, key.
result() {
  awk -v label="$1" -v c="$(best c "$2" "$3")" -v t="$(best torch "$2" "$3")" \
    'BEGIN { printf "%s: c=%.0f torch=%.0f ratio=%.2f\n", label, c, t, c / t }'
}

result train_img_per_s vit train_img_per_s
result infer_img_per_s vit infer_img_per_s
result train_img_per_s_hybrid hybrid train_img_per_s
result train_img_per_s_cnn cnn train_img_per_s
