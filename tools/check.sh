#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite through ctest
# (labels: unit, conformance, e2e, gpu). Extra arguments go to ctest (e.g. -L unit).
#
# Where the CUDA path is built, it is built once more over the host emulator
# (tests/cuda_emu) in build-cuda-emu/, and the GPU tests run there without a GPU.
# ONYX_SKIP_CUDA_EMULATOR=1 leaves that out.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/build.sh"
cd "$root/build"
ctest --output-on-failure -j "$(nproc)" "$@"

if grep -q "^ONYX_CUDA:BOOL=ON" "$root/build/CMakeCache.txt" &&
   [ "${ONYX_SKIP_CUDA_EMULATOR:-0}" != 1 ]; then
  echo "== the CUDA kernels and GPU tests over the host emulator (build-cuda-emu)"
  cmake -S "$root" -B "$root/build-cuda-emu" -DCMAKE_BUILD_TYPE=Release \
    -DONYX_CUDA_EMULATOR=ON > /dev/null
  cmake --build "$root/build-cuda-emu" -j "$(nproc)" --target gpu_test cuda_emulator_test \
    train_cuda_e2e conformance_cuda_test onyx
  cd "$root/build-cuda-emu"
  ctest --output-on-failure -j "$(nproc)" -L gpu
fi
