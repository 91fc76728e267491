#!/usr/bin/env bash
# Installs what is missing, builds in Release and runs the demo on the bundled
# tutorial classifier: info, one inference, the PyTorch reference check, a
# short fine-tune with accuracy before and after, and the plots (activation
# curves and the training curve) written to build/demo/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/build.sh"
onyx="$root/build/tools/onyx"
model="$root/models/tutorial_mlp/model.onnx"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
demo="$root/build/demo"
mkdir -p "$demo"
set -x
"$onyx" info "$model"
"$onyx" run "$model" --input input="$root/models/tutorial_mlp/test_x.npy" --output-dir "$out"
"$onyx" test "$root/models/tutorial_mlp"
# A short fine-tune of the tutorial classifier: validation accuracy before and after.
data="$root/models/tutorial_mlp"
"$onyx" train "$model" --inputs "$data/train_x.npy" --targets "$data/train_y.npy" \
  --val-inputs "$data/test_x.npy" --val-targets "$data/test_y.npy" \
  --loss cross_entropy --optimizer adam --lr 0.01 --epochs 10 --batch-size 64 --seed 1 \
  --log-csv "$demo/train_log.csv" --plot "$demo/training.svg" --out "$out/tuned.onnx"
"$onyx" run "$out/tuned.onnx" --input input="$data/test_x.npy"
# Plots: every activation and its derivative from Onyx's own forward and backward
# kernels, and the saved training log redrawn (PNG needs librsvg2-dev at build time).
"$onyx" plot activations --out "$demo/activations.svg"
"$onyx" plot activations --out "$demo/activations.png" || echo "no PNG: built without librsvg"
"$onyx" plot log "$demo/train_log.csv" --out "$demo/train_log.png" || echo "no PNG: built without librsvg"
{ set +x; } 2>/dev/null
echo "plots written to $demo: activations.svg activations.png training.svg train_log.png"
