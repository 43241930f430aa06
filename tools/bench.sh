#!/usr/bin/env bash
# bench.sh — what `make bench` runs: this machine's matrix-product rate
# (OpenBLAS sgemm, build/bench --peak, 1 and 2 threads, the best kept), then each benchmark model (chapter
# 06's ViT, chapter 07's hybrid and CNN, chapter 11's ViT-B/16) in C
# (build/bench) and then in PyTorch (tools/bench_torch.py) with the same
# settings, one model after the other, in rounds: the small models twice,
# ViT-B/16 three times, C then PyTorch in each round, every side's best kept
# (on the project's AMD EPYC, family 26, the speed moved by up to a third within
# minutes; so both sides meet the same minutes, and each its fastest); the sgemm rate
# measured again at the end (the better of the two kept); then the results:
#
#   train_img_per_s: c=<n> torch=<n> ratio=<c/torch>           the ViT
#   infer_img_per_s: c=<n> torch=<n> ratio=<c/torch>           the ViT
#   train_img_per_s_hybrid: c=<n> torch=<n> ratio=<c/torch>
#   train_img_per_s_cnn: c=<n> torch=<n> ratio=<c/torch>
#   vitb16_ms_batch1: c=<ms> torch=<ms> ratio=<torch/c>
#   vitb16_ms_batch8: c=<ms> torch=<ms> ratio=<torch/c>
#   vitb16_ms_batch1_all_tokens: c=<ms> torch=<ms> ratio=<torch/c>
#   vitb16_load_ms: c=<ms> (<n> MB checkpoint, in the page cache)
#   sgemm_gflop_per_s: <rate> (OpenBLAS sgemm, 2048x2048, <n> threads)
#   gflop_per_s_<model>_<work>: c=<rate> torch=<rate> c_of_sgemm=<c/sgemm> torch_of_sgemm=<torch/sgemm>
#
# one gflop_per_s line for each model and work (train, infer; batch1, batch8,
# batch1_all_tokens for ViT-B/16): the FLOPs build/bench counts per image (its
# flop_per_img line) times the images per second. Above 1, a ratio says C is faster.
#
# C classifies with ViT-B/16 as chapter 11 does: the last block for the class
# token alone, all the logits need (6% fewer FLOPs; torchvision computes every
# token). The batch1 and batch8 lines time that; batch1_all_tokens times C on
# every token, the same work as torchvision's, against the same PyTorch time.
# Each side's GFLOP/s counts the FLOPs it does.
#
# All of that runs once with the OpenBLAS kernels the walkthrough runs (the
# Makefile's OPENBLAS_CORETYPE, AVX2 on every machine, for figures that are the
# same bytes everywhere) and, when OpenBLAS left to itself would choose others for
# this CPU (its AVX-512 kernels on a CPU that has AVX-512), once more with those,
# for C and PyTorch alike. Each round opens with a line naming its kernels:
#
#   blas_core: Haswell (OPENBLAS_CORETYPE=Haswell: the walkthrough's kernels)
#   blas_core: Cooperlake (OpenBLAS's own choice for this CPU)
#
# Flags (--steps N, --warmup N, --max-threads N, --runs N) go to both programs.
#   tools/bench.sh [--steps 40] [--warmup 5] [--max-threads 2] [--runs 5]
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A out # "<side> <model>" -> that program's output (every round's)
# One program's run: side (c, torch) and model (or peak, peak2: the sgemm rate),
# printed and kept.
run() {
  local text
  case "$1 $2" in
    "c peak"*) text=$(build/bench --peak "${flags[@]}") ;;
    c*) text=$(build/bench --model "$2" "${flags[@]}") ;;
    torch*) text=$(/usr/bin/python3 tools/bench_torch.py --model "$2" "${flags[@]}") ;;
  esac
  echo "$text"
  out[$1 $2]+="$text"$'\n'
}
flags=("$@")

# Every benchmark, C then PyTorch for each model, in rounds, with the kernels of
# the environment.
measure() {
  out=()
  run c peak
  for round in 1 2; do
    for model in vit hybrid cnn; do
      run c "$model"
      run torch "$model"
    done
  done
  for round in 1 2 3; do
    run c vitb16
    run torch vitb16
  done
  run c peak2
}

# The values of key on the "<side> <model> <kind>" lines of that side's output.
value() { sed -n "s/^$1 $2 $3 .*$4=\([0-9.e+-]*\).*/\1/p" <<<"${out[$1 $2]}"; }
# The best of them: the shortest time (ms_ keys), else the highest rate.
best() { value "$1" "$2" best "$3" | sort -g | if [[ $3 == ms_* ]]; then head -1; else tail -1; fi; }

# One result line: label, model, key (and PyTorch's key, when not the same); the
# ratio c/torch (rates) or torch/c (times, ms).
result() {
  awk -v label="$1" -v c="$(best c "$2" "$3")" -v t="$(best torch "$2" "${4:-$3}")" -v key="$3" \
    'BEGIN { r = key ~ /^ms_/ ? t / c : c / t
             printf "%s: c=%.0f torch=%.0f ratio=%.2f\n", label, c, t, r }'
}

# One GFLOP/s line: label, model, flop_per_img key, the best lines' key, images per
# unit (a rate: 1, per second; a time in ms: B images per that many ms); then, when
# C's work differs from PyTorch's, C's flop_per_img key and C's best lines' key.
gflops() {
  awk -v label="$1" -v sgemm="$sgemm" -v B="$5" \
    -v flop_c="$(value c "$2" flop_per_img "${6:-$3}" | head -1)" -v c="$(best c "$2" "${7:-$4}")" \
    -v flop_t="$(value c "$2" flop_per_img "$3" | head -1)" -v t="$(best torch "$2" "$4")" \
    'function rate(flop, x) { return B ? flop * B / (x / 1000) / 1e9 : flop * x / 1e9 }
     BEGIN { rc = rate(flop_c, c); rt = rate(flop_t, t)
             printf "%s: c=%.1f torch=%.1f c_of_sgemm=%.2f torch_of_sgemm=%.2f\n",
                    label, rc, rt, rc / sgemm, rt / sgemm }'
}

# The result lines of the last measure.
report() {
  result train_img_per_s vit train_img_per_s
  result infer_img_per_s vit infer_img_per_s
  result train_img_per_s_hybrid hybrid train_img_per_s
  result train_img_per_s_cnn cnn train_img_per_s
  result vitb16_ms_batch1 vitb16 ms_batch1
  result vitb16_ms_batch8 vitb16 ms_batch8
  result vitb16_ms_batch1_all_tokens vitb16 ms_batch1_all_tokens ms_batch1
  grep '^c vitb16 load_ms=' <<<"${out[c vitb16]}" | sort -t= -k2 -g | head -1 |
    sed 's/^c vitb16 load_ms=/vitb16_load_ms: c=/' # the fastest of the rounds

  # The machine's rate: the best sgemm measurement, of either run and any thread count.
  read -r sgemm threads < <(for p in peak peak2; do echo "${out[c $p]}"; done |
    sed -n 's/.* threads=\([0-9]*\) gflop_per_s=\([0-9.]*\).*/\2 \1/p' | sort -g | tail -1)
  echo "sgemm_gflop_per_s: $sgemm (OpenBLAS sgemm, 2048x2048, $threads threads)"
  for model in vit hybrid cnn; do
    gflops "gflop_per_s_${model}_train" $model train train_img_per_s 0
    gflops "gflop_per_s_${model}_infer" $model infer infer_img_per_s 0
  done
  gflops gflop_per_s_vitb16_batch1 vitb16 infer ms_batch1 1 logits
  gflops gflop_per_s_vitb16_batch8 vitb16 infer ms_batch8 8 logits
  gflops gflop_per_s_vitb16_batch1_all_tokens vitb16 infer ms_batch1 1 infer ms_batch1_all_tokens
}

# The kernels OpenBLAS runs in the environment given: OpenBLAS's name for them.
core() { "$@" build/bench --peak --max-threads 1 | sed -n 's/^c sgemm core=//p'; }

given=$(core env) own=$(core env -u OPENBLAS_CORETYPE)
if [ -n "${OPENBLAS_CORETYPE:-}" ]; then # as `make` sets it, or you did
  echo "blas_core: $given (OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE: the walkthrough's kernels)"
else # tools/bench.sh run by hand, outside make
  echo "blas_core: $given (OpenBLAS's own choice for this CPU)"
fi
measure && report
[ "$own" = "$given" ] && exit
unset OPENBLAS_CORETYPE
echo "blas_core: $own (OpenBLAS's own choice for this CPU)"
measure && report
