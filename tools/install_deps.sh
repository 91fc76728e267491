#!/usr/bin/env bash
# Installs the Debian 12 packages Onyx builds and tests with, if any is missing.
# Idempotent: does nothing (and needs no network) when all are present.
set -euo pipefail
packages=(cmake g++ make libdnnl-dev libprotobuf-dev protobuf-compiler libonnx-dev
          libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
          ocl-icd-opencl-dev opencl-c-headers  # dnnl-config.cmake looks for OpenCL
          libxml2-dev                          # the plot tests read SVGs back
          pkg-config librsvg2-dev              # PNG plots (optional: SVG works without)
          libopenmpi-dev openmpi-bin           # onyx train --distributed (ONYX_MPI)
          python3-torch python3-torchvision    # the real-model e2e tests export their models
          python3-onnx python3-numpy           # at test time (models/make_real_models.py)
          clang libclang-rt-14-dev)            # tools/fuzz.sh (libFuzzer, sanitizers)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "Installing: ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
