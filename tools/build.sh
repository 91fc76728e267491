#!/usr/bin/env bash
# Configures and builds Onyx (Release) into build/; quick when nothing changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/install_deps.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release "$@" > /dev/null
cmake --build "$root/build" -j "$(nproc)"
