#!/usr/bin/env bash
# On a lent GPU machine: unpacks what tools/gpu_pack.sh packed into build-gpu and
# puts the tree and the conformance data where the test binaries' compiled-in
# paths (those of the checkout on the build machine) look for them.
# Usage: tools/gpu_unpack.sh   (from the tree, with .gpupack carried)
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build-gpu
tar xJf .gpupack/gpu_pack.tar.xz -C build-gpu
SOURCE_DIR=$(cat .gpupack/source_dir)
if [ "$(realpath -m "$SOURCE_DIR")" != "$(realpath "$PWD")" ]; then
  if [ -e "$SOURCE_DIR" ]; then
    echo "gpu_unpack: $SOURCE_DIR exists and is not this tree ($PWD); the e2e and" \
      "conformance binaries will not find their files" >&2
  else
    mkdir -p "$(dirname "$SOURCE_DIR")"
    ln -s "$(realpath "$PWD")" "$SOURCE_DIR"
  fi
fi
DATA_DIR=$(cat .gpupack/onnx_tests_dir)
mkdir -p "$DATA_DIR"
tar xJf .gpupack/onnx_tests.tar.xz -C "$DATA_DIR"
echo "unpacked: build-gpu ($(du -sh build-gpu | cut -f1)), $SOURCE_DIR, $DATA_DIR"
