#!/usr/bin/env bash
# Builds the whole project with AddressSanitizer + UndefinedBehaviorSanitizer
# (ONYX_SANITIZE=ON) in a separate build folder and runs the test suite there.
# Any sanitizer report fails the test that triggered it.
#
#   tools/sanitize.sh [LABEL_REGEX]     default 'unit|e2e'; 'unit|e2e|conformance' for all
#
# Environment: ONYX_SANITIZE_BUILD (default build-sanitize), JOBS (2),
# CMAKE_CXX_COMPILER_LAUNCHER (e.g. ccache), CXX (compiler; default g++).
set -euo pipefail
cd "$(dirname "$0")/.."

labels=${1:-unit|e2e}
build=${ONYX_SANITIZE_BUILD:-build-sanitize}
# -O1: the sanitizers' usual trade-off between build time and run time.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" \
  -DONYX_SANITIZE=ON >/dev/null
cmake --build "$build" -j"${JOBS:-2}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tools/lsan_suppressions.txt}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" -L "$labels" --output-on-failure -j"${JOBS:-2}" --timeout 1800
