#!/usr/bin/env python3
"""Makes models/tutorial_mlp: the classic tutorial classifier Linear(20,50) -> ReLU ->
Linear(50,2) -> Softmax(dim=1), exported by torch.onnx.export (opset 17, dynamic
batch), with its data set (sklearn make_classification, standardized) and a PyTorch
reference output in the ONNX backend test layout (test_data_set_0).

Run with Debian's python3 (python3-torch, python3-onnx, python3-sklearn, python3-numpy):
    /usr/bin/python3 models/make_tutorial_mlp.py
"""
import os

import numpy as np
import torch
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "tutorial_mlp")


def make_data():
    from sklearn.datasets import make_classification
    x, y = make_classification(n_samples=1000, n_features=20, n_classes=2, random_state=42)
    split = 800
    mean, std = x[:split].mean(axis=0), x[:split].std(axis=0)
    x = ((x - mean) / std).astype(np.float32)
    return x[:split], y[:split].astype(np.int64), x[split:], y[split:].astype(np.int64)


class Mlp(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(20, 50)
        self.fc2 = torch.nn.Linear(50, 2)

    def forward(self, x):
        return torch.softmax(self.fc2(torch.relu(self.fc1(x))), dim=1)


def save_pb(array, name, path):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(array, name).SerializeToString())


def main():
    torch.manual_seed(0)
    os.makedirs(os.path.join(OUT, "test_data_set_0"), exist_ok=True)
    model = Mlp().eval()
    x_train, y_train, x_test, y_test = make_data()
    torch.onnx.export(model, torch.from_numpy(x_test[:1]), os.path.join(OUT, "model.onnx"),
                      input_names=["input"], output_names=["probabilities"],
                      dynamic_axes={"input": {0: "batch"}, "probabilities": {0: "batch"}},
                      opset_version=17)
    for name, array in [("train_x", x_train), ("train_y", y_train),
                        ("test_x", x_test), ("test_y", y_test)]:
        np.save(os.path.join(OUT, name + ".npy"), array)
    batch = x_test[:16]
    with torch.no_grad():
        probabilities = model(torch.from_numpy(batch)).numpy()
    save_pb(batch, "input", os.path.join(OUT, "test_data_set_0", "input_0.pb"))
    save_pb(probabilities, "probabilities", os.path.join(OUT, "test_data_set_0", "output_0.pb"))


if __name__ == "__main__":
    main()
