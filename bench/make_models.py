#!/usr/bin/python3
"""Generates the benchmark models into bench/models/ (git-ignored).

Run with Debian's python3 (torch, torchvision, onnx):  /usr/bin/python3 bench/make_models.py
- act_<Op>.onnx: one activation node on a float32[4096,4096] input
- tiny_relu.onnx: Relu on float32[1,16] (per-call overhead)
- resnet18.onnx, mobilenet_v2.onnx: torchvision, random weights (seed 0), opset 17, dynamic batch
- transformer.onnx: 4-layer nn.TransformerEncoder (d_model 256, 4 heads, GELU, batch_first),
  input [batch, 128, 256], opset 17
The tutorial MLP is models/tutorial_mlp/model.onnx (made by models/make_tutorial_mlp.py).
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "models")
SIDE = 4096

# op -> (opset, attributes, extra initializers as {name: array})
ACTIVATIONS = {
    "Relu": (17, {}, {}),
    "LeakyRelu": (17, {"alpha": 0.1}, {}),
    "Sigmoid": (17, {}, {}),
    "Tanh": (17, {}, {}),
    "Softplus": (17, {}, {}),
    "Elu": (17, {}, {}),
    "Selu": (17, {}, {}),
    "Celu": (17, {"alpha": 1.5}, {}),
    "Gelu": (20, {}, {}),
    "GeluTanh": (20, {"approximate": "tanh"}, {}),
    "Mish": (18, {}, {}),
    "HardSigmoid": (17, {}, {}),
    "HardSwish": (17, {}, {}),
    "Swish": (24, {}, {}),
    "ThresholdedRelu": (17, {}, {}),
    "Softmax": (17, {"axis": -1}, {}),
    "LogSoftmax": (17, {"axis": -1}, {}),
    "PRelu": (17, {}, {"slope": np.linspace(0.01, 0.3, SIDE, dtype=np.float32)}),
}


def single_node(op, opset, attrs, extras, shape, path):
    onnx_op = "Gelu" if op == "GeluTanh" else op
    inputs = ["x"] + list(extras)
    node = helper.make_node(onnx_op, inputs, ["y"], name=op.lower(), **attrs)
    graph = helper.make_graph(
        [node], op, [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
        initializer=[numpy_helper.from_array(v, k) for k, v in extras.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.save(model, path)  # no checker: this onnx may predate the op's opset


def torch_models(which):
    import torch
    import torchvision

    class Encoder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            layer = torch.nn.TransformerEncoderLayer(d_model=256, nhead=4, dim_feedforward=1024,
                                                     dropout=0.0, activation="gelu",
                                                     batch_first=True)
            self.encoder = torch.nn.TransformerEncoder(layer, num_layers=4,
                                                       enable_nested_tensor=False)

        def forward(self, x):
            return self.encoder(x)

    makers = {
        "resnet18": (lambda: torchvision.models.resnet18(weights=None), (1, 3, 224, 224)),
        "mobilenet_v2": (lambda: torchvision.models.mobilenet_v2(weights=None), (1, 3, 224, 224)),
        "transformer": (Encoder, (1, 128, 256)),
    }
    for name, (make, shape) in makers.items():
        if which and name not in which:
            continue
        torch.manual_seed(0)
        model = make().eval()
        x = torch.randn(*shape)
        path = os.path.join(OUT, name + ".onnx")
        # Grad mode stays on: with grad-requiring weights the encoder skips its fused
        # "fast path" (aten::_transformer_encoder_layer_fwd), which ONNX cannot express.
        torch.onnx.export(model, (x,), path, opset_version=17, input_names=["input"],
                          output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
        print("wrote", path)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", help="model names to (re)make")
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    for op, (opset, attrs, extras) in ACTIVATIONS.items():
        name = "act_" + op
        if args.only and name not in args.only:
            continue
        single_node(op, opset, attrs, extras, [SIDE, SIDE], os.path.join(OUT, name + ".onnx"))
    if not args.only or "tiny_relu" in args.only:
        single_node("Relu", 17, {}, {}, [1, 16], os.path.join(OUT, "tiny_relu.onnx"))
    torch_models(args.only)


if __name__ == "__main__":
    main()
