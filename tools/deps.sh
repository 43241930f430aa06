#!/usr/bin/env bash
# deps.sh — checks that every Debian package the project needs is installed.
# Missing ones are installed with apt-get when run as root; otherwise the exact
# command to run is printed and the script fails. Silent when all is present.
#
#   tools/deps.sh            the packages for building, testing, figures, docs
#   tools/deps.sh python     also the ones for `make reference` and `make bench`
set -euo pipefail

packages=(
  build-essential        # gcc, make, libc headers
  clang                  # the second compiler the build must stay clean under
  libclang-rt-14-dev     # its sanitizer runtimes, for `make test CC=clang`
  libomp-14-dev          # its OpenMP runtime, for `make CC=clang`
  pkg-config             # finds the libraries' flags
  libcriterion-dev       # the test framework
  libstb-dev             # stb_image_write, stb_image_resize (writing PNGs, resizing)
  libpng-dev             # reading PNGs: libpng, made and fuzzed for untrusted files
  libjpeg62-turbo-dev    # reading JPEGs: libjpeg-turbo, the same
  zlib1g-dev             # reading the gzipped IDX files
  libopenblas-dev        # fast matrix products
  liblapacke-dev         # LAPACK's C interface: chapter 09's PCA, chapter 10's least squares
  gnuplot-nox            # plots (pngcairo terminal)
  fonts-dejavu-core      # the font the plots use
  pandoc                 # weaving docs/*.md into HTML
  dataset-fashion-mnist  # the data: /usr/share/datasets/fashion-mnist
)
if [ "${1:-}" = python ]; then
  packages+=(python3 python3-numpy python3-torch python3-torchvision)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "deps: not a Debian system; install the equivalents of: ${missing[*]}" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing packages: ${missing[*]}" >&2
  echo "deps: run:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
