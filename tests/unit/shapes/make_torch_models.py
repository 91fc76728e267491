#!/usr/bin/env python3
"""Makes tests/unit/shapes/torch_models: small models exported by torch.onnx.export
with a dynamic batch, so they hold the exporter's own shape plumbing
(Shape -> Gather -> Unsqueeze -> Concat -> Reshape, Resize sizes built from
Shape -> Slice -> Concat) and its Upsample (opset 9) / Resize (opset 13) forms,
plus an input and PyTorch's output for torch_models_test.cc.

    /usr/bin/python3 tests/unit/shapes/make_torch_models.py
"""
import os

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "torch_models")


class UpsampleFlatten(torch.nn.Module):
    """Nearest x2 (and, when `bilinear`, a bilinear resize to 8x12 added), flatten
    with x.size(0), Linear, Softmax."""

    def __init__(self, bilinear):
        super().__init__()
        self.fc = torch.nn.Linear(3 * 8 * 12, 5)
        self.bilinear = bilinear

    def forward(self, x):
        y = F.interpolate(x, scale_factor=2.0, mode="nearest")
        if self.bilinear:
            y = y + F.interpolate(x, size=(8, 12), mode="bilinear", align_corners=False)
        y = y.reshape(y.size(0), -1)
        return torch.softmax(self.fc(y), dim=1)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    x = torch.randn(3, 3, 4, 6)
    for name, opset, bilinear in (("upsample_opset9", 9, False), ("resize_opset13", 13, True)):
        model = UpsampleFlatten(bilinear).eval()
        path = os.path.join(OUT, name + ".onnx")
        torch.onnx.export(model, torch.randn(2, 3, 4, 6), path, opset_version=opset,
                          input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
        with torch.no_grad():
            y = model(x)
        np.save(os.path.join(OUT, name + "_x.npy"), x.numpy())
        np.save(os.path.join(OUT, name + "_y.npy"), y.numpy())
        print(name, "->", tuple(y.shape))


if __name__ == "__main__":
    main()
