#!/usr/bin/env bash
# Builds Onyx's libFuzzer targets (clang, ASan + UBSan) in a separate build folder,
# seeds a corpus from models/ and a sample of the ONNX conformance models, and runs
# each target for SECONDS (one job each).
#
#   tools/fuzz.sh [SECONDS] [TARGET...]      targets: fuzz_model fuzz_npy (default both)
#
# Environment: ONYX_FUZZ_BUILD (default build-fuzz), JOBS (build parallelism, 2),
# ONYX_ONNX_TESTS_DIR (default ../shared/onnx-tests), FUZZ_SAMPLE (conformance
# models to seed with, default 150), CMAKE_CXX_COMPILER_LAUNCHER (e.g. ccache).
# Findings land in BUILD/fuzz-artifacts/TARGET/ (crash-*, leak-*, timeout-*); replay
# one with BUILD/tests/fuzz/TARGET FILE. The corpus grows in BUILD/fuzz-corpus/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(fuzz_model fuzz_npy)
build=${ONYX_FUZZ_BUILD:-build-fuzz}
onnx_tests=${ONYX_ONNX_TESTS_DIR:-../shared/onnx-tests}

# libgomp, as Debian's oneDNN uses it: one OpenMP runtime in the process.
gomp=$(g++ -print-file-name=libgomp.so)
# -O1: much faster to build under the sanitizers than -O2, and still quick to run.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" \
  -DCMAKE_CXX_COMPILER=clang++ -DONYX_FUZZ=ON -DONYX_BUILD_TESTS=OFF -DONYX_CUDA=OFF \
  -DOpenMP_CXX_FLAGS=-fopenmp=libgomp -DOpenMP_CXX_LIB_NAMES=gomp \
  -DOpenMP_gomp_LIBRARY="$gomp" >/dev/null
cmake --build "$build" -j"${JOBS:-2}" --target "${targets[@]}"

seed() {  # seed DIR FILES...: copies files under 64 KiB, named after their path
  local dir=$1
  shift
  mkdir -p "$dir"
  for f in "$@"; do
    [ -f "$f" ] && [ "$(stat -c %s "$f")" -le 65536 ] || continue
    # No leading "../" in the name: a dotfile would be hidden from ls and the count.
    cp -n "$f" "$dir/$(echo "$f" | sed 's|^\(\.\./\)*||' | tr '/' '_')"
  done
}

for target in "${targets[@]}"; do
  corpus=$build/fuzz-corpus/$target
  artifacts=$build/fuzz-artifacts/$target/
  mkdir -p "$corpus" "$artifacts"
  case $target in
    fuzz_model)
      seed "$corpus" $(find models -name '*.onnx')
      if [ -d "$onnx_tests/node" ]; then
        seed "$corpus" $(find "$onnx_tests" -name model.onnx | sort |
                         awk -v n="${FUZZ_SAMPLE:-150}" '{a[NR]=$0} END {
                           step = NR > n ? NR / n : 1
                           for (i = 1; i <= NR; i += step) print a[int(i)] }')
      fi ;;
    fuzz_npy) seed "$corpus" $(find models -name '*.npy') ;;
  esac
  echo "== $target: $(ls -A "$corpus" | wc -l) corpus files, ${seconds}s"
  # -rss_limit_mb: a model that gets past the size caps must still not blow up memory.
  "$build/tests/fuzz/$target" "$corpus" -max_total_time="$seconds" -max_len=65536 \
    -timeout=30 -rss_limit_mb=3072 -print_final_stats=1 -artifact_prefix="$artifacts"
done
