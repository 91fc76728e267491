#!/usr/bin/env bash
# Builds the GPU check's binaries here (no GPU needed) and packs them, with the
# shared libraries a lent GPU machine's image may lack, into
# .gpupack/gpu_pack.tar.xz (git-ignored), so that machine's short lease runs the
# check instead of compiling. On the GPU machine, with .gpupack carried:
#   mkdir -p /tmp/g && tar xJf .gpupack/gpu_pack.tar.xz -C /tmp/g &&
#   ONYX_PREBUILT=1 tools/gpu_check.sh /tmp/g
# Usage: tools/gpu_pack.sh [BUILD_DIR]   (default build-gpu)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-gpu}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DONYX_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="90-real;90-virtual" \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache >/dev/null
make -C "$BUILD" -j"$(nproc)" gpu_test gpu_activation_bench onyx >/dev/null

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
# The build-tree layout gpu_check.sh expects.
mkdir -p "$STAGE/tests/unit/gpu" "$STAGE/bench" "$STAGE/tools" "$STAGE/lib"
cp "$BUILD/tests/unit/gpu/gpu_test" "$STAGE/tests/unit/gpu/"
cp "$BUILD/bench/gpu_activation_bench" "$STAGE/bench/"
cp "$BUILD/tools/onyx" "$STAGE/tools/"
# Every linked library but glibc's and the driver's (those must be the machine's own).
for binary in "$STAGE"/tests/unit/gpu/gpu_test "$STAGE"/bench/gpu_activation_bench "$STAGE"/tools/onyx; do
  ldd "$binary" | awk '$3 ~ /^\// {print $3}'
done | sort -u |
  grep -vE '/(libc|libm|libdl|libpthread|librt|libcuda)\.so|/ld-linux' |
  while read -r lib; do cp -L "$lib" "$STAGE/lib/"; done
mkdir -p .gpupack
tar cJf .gpupack/gpu_pack.tar.xz -C "$STAGE" .
ls -la .gpupack/gpu_pack.tar.xz
