#!/usr/bin/env bash
# Builds the whole project with AddressSanitizer + UndefinedBehaviorSanitizer
# (ONYX_SANITIZE=ON) in a separate build folder and runs the test suite there.
# Any sanitizer report fails the test that triggered it.
#
#   tools/sanitize.sh [LABEL_REGEX]     default 'unit|e2e'; 'unit|e2e|conformance' for all
#
# Environment: ONYX_SANITIZE_BUILD (default build-sanitize), JOBS (2),
# CMAKE_CXX_COMPILER_LAUNCHER (e.g. ccache), CXX (compiler; default g++),
# ONYX_SANITIZE_TARGETS (space-separated test targets: build and run only these,
# e.g. "runtime_test concurrency_test hostile_test"; default everything).
# CUDA is off: the sanitizers do not cover device code, and the gpu tests skip.
set -euo pipefail
cd "$(dirname "$0")/.."

labels=${1:-unit|e2e}
build=${ONYX_SANITIZE_BUILD:-build-sanitize}
# -O1: the sanitizers' usual trade-off between build time and run time.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" \
  -DONYX_SANITIZE=ON -DONYX_CUDA=OFF >/dev/null
targets=(${ONYX_SANITIZE_TARGETS:-})
if [ ${#targets[@]} -eq 0 ]; then
  cmake --build "$build" -j"${JOBS:-2}"
else
  cmake --build "$build" -j"${JOBS:-2}" --target onyx "${targets[@]}"
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
# Open MPI (distributed tests) leaks at MPI_Init by design: keep its components loaded
# and unwind fully so the suppressions see its frames (they lack frame pointers).
export OMPI_MCA_mca_base_component_disable_dlclose=1
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tools/lsan_suppressions.txt:fast_unwind_on_malloc=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if [ ${#targets[@]} -eq 0 ]; then
  ctest --test-dir "$build" -L "$labels" --output-on-failure -j"${JOBS:-2}" --timeout 1800
  exit
fi
status=0
for t in "${targets[@]}"; do  # the named test binaries, each run whole
  exe=$(find "$build/tests" -type f -name "$t" -perm -u+x | head -1)
  echo "== $t"
  "$exe" || status=1
done
exit $status
