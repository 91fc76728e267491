#!/usr/bin/env bash
# GPU check in one command: configures a CUDA build (sm_90 + PTX), builds only
# the GPU test and benchmark targets, runs gpu_test (one process), the activation
# bandwidth benchmark and cpu-vs-cuda runs, and writes everything to RESULTS (default
# gpu_results.txt, or $OUT/gpu_results.txt when $OUT is set).
# Usage: tools/gpu_check.sh [BUILD_DIR] [RESULTS]
# ONYX_BENCH_MIB: the benchmark's tensor sizes in MiB (default "64 256").
# ONYX_REAL_MODELS: the real models to check on the GPU (default "resnet18 mobilenet_v2
# transformer_encoder"; empty: none).
# ONYX_PREBUILT=1: BUILD_DIR already holds the binaries (tools/gpu_pack.sh, then
# tools/gpu_unpack.sh on the GPU machine).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-gpu}
RESULTS=${2:-${OUT:-.}/gpu_results.txt}
JOBS=$(nproc)
{
  echo "== onyx GPU check $(date -u +%FT%TZ) on $(hostname)"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || true
  nvcc --version | tail -1
} | tee "$RESULTS"

if [ "${ONYX_PREBUILT:-0}" != 1 ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DONYX_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES="90-real;90-virtual" >"$BUILD.configure.log" 2>&1 ||
    { echo "configure failed:"; tail -30 "$BUILD.configure.log"; } | tee -a "$RESULTS"
  if ! make -C "$BUILD" -j"$JOBS" gpu_test gpu_activation_bench onyx conformance_cuda_test \
      train_cuda_e2e >"$BUILD.build.log" 2>&1; then
    { echo "build failed:"; grep -E "error|Error" -A3 "$BUILD.build.log" | head -60; } | tee -a "$RESULTS"
    [ -n "${OUT:-}" ] && cp "$BUILD.build.log" "$OUT/" 2>/dev/null
    exit 1
  fi
fi
# Packed libraries (tools/gpu_pack.sh), then cuDNN / NCCL / cuBLAS from the
# image's pip wheels where the system has none.
NVIDIA_LIBS=$(python3 -c 'import glob, nvidia, os
print(":".join(sorted(glob.glob(os.path.join(list(nvidia.__path__)[0], "*", "lib")))))' 2>/dev/null || true)
export LD_LIBRARY_PATH="$BUILD/lib${NVIDIA_LIBS:+:$NVIDIA_LIBS}:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# One process for all ~800 GPU tests (ctest would start a CUDA context per test).
echo "== gpu_test (every CUDA kernel vs the CPU kernel)" | tee -a "$RESULTS"
timeout 300 "$BUILD/tests/unit/gpu/gpu_test" --gtest_brief=1 2>&1 |
  grep -vE '^skipped: |: Skipped$' | tail -300 | tee -a "$RESULTS"
# The conformance folders on a CUDA session and `onyx train --device cuda` against
# PyTorch's reference runs (tools/gpu_unpack.sh puts the paths they name in place).
for t in tests/conformance/conformance_cuda_test tests/e2e/train_cuda_e2e; do
  [ -x "$BUILD/$t" ] || continue
  echo "== $t" | tee -a "$RESULTS"
  timeout 300 "$BUILD/$t" --gtest_brief=1 2>&1 | grep -vE '^skipped: |: Skipped$' | tail -100 |
    tee -a "$RESULTS"
done
echo "== gpu_activation_bench" | tee -a "$RESULTS"
"$BUILD/bench/gpu_activation_bench" ${ONYX_BENCH_MIB:-64 256} 2>&1 | tee -a "$RESULTS"
echo "== onyx run --device cuda (tutorial MLP)" | tee -a "$RESULTS"
"$BUILD/tools/onyx" run models/tutorial_mlp/model.onnx --device cuda 2>&1 | tail -8 | tee -a "$RESULTS"
echo "== onyx bench --device cuda vs cpu (tutorial MLP, batch 256)" | tee -a "$RESULTS"
for dev in cpu cuda; do
  "$BUILD/tools/onyx" bench models/tutorial_mlp/model.onnx --device $dev --batch 256 --iters 200 2>&1 |
    tail -6 | tee -a "$RESULTS"
done
echo "== onyx train, tutorial MLP, cpu vs cuda (the loss curves should agree; fallback lines name ops left on the CPU)" |
  tee -a "$RESULTS"
for dev in cpu cuda; do
  "$BUILD/tools/onyx" train models/tutorial_mlp/model.onnx --inputs models/tutorial_mlp/train_x.npy \
    --targets models/tutorial_mlp/train_y.npy --loss cross_entropy --optimizer adam --lr 0.01 \
    --epochs 3 --batch-size 32 --no-shuffle --device $dev --out "/tmp/gpu_check_$dev.onnx" 2>&1 |
    tail -6 | sed "s/^/[$dev] /" | tee -a "$RESULTS"
done
# Real models (models/make_real_models.py, written by this machine's PyTorch) on a CUDA
# session against PyTorch's outputs; then onyx bench on the CPU and the GPU, and PyTorch's
# own CUDA time (bench/torch_gpu_bench.py) for the same modules.
REAL=${ONYX_REAL_MODELS-resnet18 mobilenet_v2 transformer_encoder}
if [ -n "$REAL" ] && python3 -c "import torch, torchvision, onnx" 2>/dev/null; then
  MODELS=$(mktemp -d)
  echo "== real models: onyx test --device cuda against PyTorch's outputs" | tee -a "$RESULTS"
  # shellcheck disable=SC2086
  python3 models/make_real_models.py "$MODELS" $REAL 2>&1 | tail -5 | tee -a "$RESULTS"
  for model in $REAL; do
    "$BUILD/tools/onyx" test "$MODELS/$model" --device cuda --rtol 1e-3 --atol 1e-4 2>&1 |
      tail -12 | tee -a "$RESULTS"
  done
  echo "== real models, batch 8: onyx bench cpu and cuda (host inputs and outputs), PyTorch cuda" |
    tee -a "$RESULTS"
  for model in $REAL; do
    for dev in cpu cuda; do
      echo "$model --device $dev:" | tee -a "$RESULTS"
      "$BUILD/tools/onyx" bench "$MODELS/$model/model.onnx" --device $dev --batch 8 --iters 50 \
        2>&1 | grep -E "runs:|p50|rror" | tee -a "$RESULTS"
    done
  done
  # shellcheck disable=SC2086
  python3 bench/torch_gpu_bench.py --batch 8 $REAL 2>&1 | tee -a "$RESULTS"
fi
