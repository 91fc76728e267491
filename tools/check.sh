#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite through ctest
# (labels: unit, conformance, e2e, gpu). Extra arguments go to ctest (e.g. -L unit).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/build.sh"
cd "$root/build"
ctest --output-on-failure -j "$(nproc)" "$@"
