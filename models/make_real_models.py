#!/usr/bin/env python3
"""Makes the real-model end-to-end tests: torchvision ResNet-18 and MobileNetV2, a 4-layer
nn.TransformerEncoder (d_model 256, 4 heads, GELU, batch_first) and one small MLP per
activation, each exported by torch.onnx.export at opset 17 with a dynamic batch axis, random
init with fixed seeds, eval mode. Every model is written in the ONNX backend test layout:

    OUT/<name>/model.onnx
    OUT/<name>/test_data_set_0/{input_0,output_0}.pb   batch 1
    OUT/<name>/test_data_set_1/{input_0,output_0}.pb   batch 4 (CNNs) or 8 (MLPs, transformer)

The reference outputs are PyTorch's. The files are large (ResNet-18 is ~45 MB), so ctest runs
this script at test time into the build tree instead of keeping them in git.

Run with Debian's python3 (python3-torch, python3-torchvision, python3-onnx, python3-numpy):
    /usr/bin/python3 models/make_real_models.py OUT_DIR [NAME ...]
"""
import argparse
import inspect
import os

import numpy as np
import torch
import torchvision
from onnx import numpy_helper

ACTIVATIONS = {
    "Relu": lambda: torch.nn.ReLU(),
    "LeakyRelu": lambda: torch.nn.LeakyReLU(0.1),
    "Sigmoid": lambda: torch.nn.Sigmoid(),
    "Tanh": lambda: torch.nn.Tanh(),
    "Softplus": lambda: torch.nn.Softplus(),
    "Elu": lambda: torch.nn.ELU(),
    "Selu": lambda: torch.nn.SELU(),
    "Gelu": lambda: torch.nn.GELU(),
    "Mish": lambda: torch.nn.Mish(),
    "Silu": lambda: torch.nn.SiLU(),
    "Hardswish": lambda: torch.nn.Hardswish(),
}


class Mlp(torch.nn.Module):
    """Linear(32, 64) -> act -> Linear(64, 64) -> act -> Linear(64, 10)."""

    def __init__(self, make_activation):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(32, 64), make_activation(),
            torch.nn.Linear(64, 64), make_activation(),
            torch.nn.Linear(64, 10))

    def forward(self, x):
        return self.net(x)


class Encoder(torch.nn.Module):
    """4-layer post-norm encoder over a (batch, 16, 256) sequence."""

    def __init__(self):
        super().__init__()
        layer = torch.nn.TransformerEncoderLayer(d_model=256, nhead=4, dim_feedforward=512,
                                                 dropout=0.1, activation="gelu",
                                                 batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, num_layers=4,
                                                   enable_nested_tensor=False)

    def forward(self, x):
        return self.encoder(x)


def randomize_constant_parameters(module, generator):
    """Default init leaves norm scales at 1 and many biases at 0; a folding or fusion bug that
    drops or misorders them would then go unnoticed. Perturb every constant 1-D parameter."""
    with torch.no_grad():
        for parameter in module.parameters():
            if parameter.dim() == 1 and bool((parameter == parameter[0]).all()):
                noise = torch.rand(parameter.shape, generator=generator) * 0.4 - 0.2
                parameter.add_(noise)


def calibrate_batch_norms(module, sample_shape, generator):
    """Gives BatchNormalization realistic running statistics (fresh ones are mean 0, var 1):
    a few training-mode passes over random batches, cumulative averages (momentum None)."""
    norms = [m for m in module.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    if not norms:
        return
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None
    module.train()
    with torch.no_grad():
        for _ in range(4):
            module(torch.randn((8,) + sample_shape, generator=generator))


def make_model(name):
    """Returns (module, input shape without batch, batches of the two data sets)."""
    if name == "resnet18":
        return torchvision.models.resnet18(weights=None), (3, 224, 224), (1, 4)
    if name == "mobilenet_v2":
        return torchvision.models.mobilenet_v2(weights=None), (3, 224, 224), (1, 4)
    if name == "transformer_encoder":
        return Encoder(), (16, 256), (1, 8)
    activation = name[len("mlp_"):]
    return Mlp(ACTIVATIONS[activation]), (32,), (1, 8)


def model_names():
    return (["resnet18", "mobilenet_v2", "transformer_encoder"] +
            ["mlp_" + a for a in ACTIVATIONS])


def save_pb(array, name, path):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(array, name).SerializeToString())


def build_model(name):
    """make_model's module with this script's fixed seeds and statistics, in eval mode."""
    torch.manual_seed(0)
    module, sample_shape, batches = make_model(name)
    init_generator = torch.Generator().manual_seed(2)
    randomize_constant_parameters(module, init_generator)
    calibrate_batch_norms(module, sample_shape, init_generator)
    module.eval()
    return module, sample_shape, batches


def export_options():
    """torch.onnx.export's options: the TorchScript exporter (Debian's 1.13 has no other;
    newer PyTorch, on a lent GPU machine, defaults to the dynamo one unless told)."""
    options = dict(input_names=["input"], output_names=["output"],
                   dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                   opset_version=17, do_constant_folding=True)
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        options["dynamo"] = False
    return options


def write_model(name, out_dir):
    module, sample_shape, batches = build_model(name)
    # torch.onnx.export traces with autograd on and the parameters require grad, which keeps
    # the 1.13 TransformerEncoderLayer off its fused inference kernel
    # (torch._transformer_encoder_layer_fwd, which the exporter cannot export): the graph is
    # the ordinary MultiheadAttention / Linear / LayerNorm path. The references below run
    # under no_grad, i.e. through the fused kernel: an independent computation of the same
    # function.
    folder = os.path.join(out_dir, name)
    os.makedirs(folder, exist_ok=True)
    generator = torch.Generator().manual_seed(1)
    # The MLPs get a wide input range so that each activation's tails and kinks are reached.
    scale = 4.0 if name.startswith("mlp_") else 1.0
    inputs = [scale * torch.randn((b,) + sample_shape, generator=generator) for b in batches]
    torch.onnx.export(module, inputs[0], os.path.join(folder, "model.onnx"), **export_options())
    for index, x in enumerate(inputs):
        data_set = os.path.join(folder, "test_data_set_%d" % index)
        os.makedirs(data_set, exist_ok=True)
        with torch.no_grad():
            y = module(x)
        save_pb(x.numpy(), "input", os.path.join(data_set, "input_0.pb"))
        save_pb(y.numpy(), "output", os.path.join(data_set, "output_0.pb"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("names", nargs="*", help="models to write (default: all)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for name in args.names or model_names():
        write_model(name, args.out_dir)
        print("wrote", os.path.join(args.out_dir, name))


if __name__ == "__main__":
    main()
