#!/usr/bin/env bash
# Builds the GPU check's binaries here (no GPU needed) and packs them, with the
# shared libraries a lent GPU machine's image may lack, into
# .gpupack/gpu_pack.tar.xz, and the conformance data into .gpupack/onnx_tests.tar.xz
# (git-ignored), so that machine's short lease runs the check instead of compiling.
# On the GPU machine, with .gpupack carried:
#   tools/gpu_unpack.sh && ONYX_PREBUILT=1 tools/gpu_check.sh build-gpu
# Usage: tools/gpu_pack.sh   (builds in build-gpu: the test binaries name that path)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=build-gpu
TARGETS="gpu_test gpu_activation_bench onyx conformance_cuda_test train_cuda_e2e"
BINARIES="tests/unit/gpu/gpu_test bench/gpu_activation_bench tools/onyx
  tests/conformance/conformance_cuda_test tests/e2e/train_cuda_e2e"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DONYX_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES="90-real;90-virtual" \
  -DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache >/dev/null
# shellcheck disable=SC2086
make -C "$BUILD" -j"$(nproc)" $TARGETS >/dev/null

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
# The build-tree layout gpu_check.sh and the tests' compiled-in paths expect.
for binary in $BINARIES; do
  mkdir -p "$STAGE/$(dirname "$binary")"
  cp "$BUILD/$binary" "$STAGE/$binary"
done
# Every linked library but glibc's and the driver's (those must be the machine's own).
mkdir -p "$STAGE/lib"
for binary in $BINARIES; do
  ldd "$STAGE/$binary" | awk '$3 ~ /^\// {print $3}'
done | sort -u |
  grep -vE '/(libc|libm|libdl|libpthread|librt|libcuda)\.so|/ld-linux' |
  while read -r lib; do cp -L "$lib" "$STAGE/lib/"; done
mkdir -p .gpupack
tar cJf .gpupack/gpu_pack.tar.xz -C "$STAGE" .
# The conformance data (../shared/onnx-tests), which the device's copy of the tree lacks.
DATA=$(sed -n 's/^ONYX_ONNX_TESTS_DIR:PATH=//p' "$BUILD/CMakeCache.txt")
tar cJf .gpupack/onnx_tests.tar.xz -C "$DATA" .
echo "$DATA" >.gpupack/onnx_tests_dir
pwd >.gpupack/source_dir
ls -la .gpupack
