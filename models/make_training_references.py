#!/usr/bin/env python3
"""Makes the PyTorch reference runs that tests/e2e/train_test.cc compares `onyx train` with.

For each run it writes models/reference/NAME.args (the `onyx train` arguments, one per
line, paths relative to models/) and NAME.npy, a float64 array [epochs, 3] holding per
epoch: the training loss (forward pass before that epoch's update), then the validation
loss and accuracy after the update. All runs are full-batch, so no shuffling is involved.

Runs: the tutorial classifier (models/tutorial_mlp, made by make_tutorial_mlp.py) with
each optimizer, and small MLPs (models/activation_mlp/ACT.onnx, written here with
onnx.helper from the same PyTorch weights) for each activation with mse and bce losses.

Run with Debian's python3 (python3-torch, python3-onnx, python3-numpy):
    /usr/bin/python3 models/make_training_references.py
"""
import os

import numpy as np
import onnx
import torch
from onnx import helper, numpy_helper, TensorProto

HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.path.join(HERE, "reference")
EPOCHS = 20


def load(name):
    return torch.from_numpy(np.load(os.path.join(HERE, "tutorial_mlp", name + ".npy")))


def tutorial_model():
    model = onnx.load(os.path.join(HERE, "tutorial_mlp", "model.onnx"))
    weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy())
               for t in model.graph.initializer}
    fc1, fc2 = torch.nn.Linear(20, 50), torch.nn.Linear(50, 2)
    with torch.no_grad():
        fc1.weight.copy_(weights["fc1.weight"]); fc1.bias.copy_(weights["fc1.bias"])
        fc2.weight.copy_(weights["fc2.weight"]); fc2.bias.copy_(weights["fc2.bias"])
    return torch.nn.Sequential(fc1, torch.nn.ReLU(), fc2, torch.nn.Softmax(dim=1))


def run(name, model, loss_fn, optimizer, x, y, vx, vy, accuracy, args, batch=None):
    """Trains in order (no shuffle), `batch` rows per step (default: all); the
    logged loss is the mean of the epoch's batch losses, as `onyx train` logs it."""
    rows = []
    batch = batch or len(x)
    for _ in range(EPOCHS):
        losses = []
        for start in range(0, len(x), batch):
            optimizer.zero_grad()
            loss = loss_fn(model(x[start:start + batch]), y[start:start + batch])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        with torch.no_grad():
            out = model(vx)
            rows.append([float(np.mean(losses)), loss_fn(out, vy).item(), accuracy(out, vy)])
    np.save(os.path.join(REF, name + ".npy"), np.array(rows, dtype=np.float64))
    with open(os.path.join(REF, name + ".args"), "w") as f:
        f.write("\n".join(args + ["--epochs", str(EPOCHS), "--no-shuffle"]) + "\n")


def class_accuracy(out, y):
    return (out.argmax(dim=1) == y).double().mean().item()


def tutorial_runs():
    x, y, vx, vy = load("train_x"), load("train_y"), load("test_x"), load("test_y")
    data = ["tutorial_mlp/model.onnx", "--inputs", "tutorial_mlp/train_x.npy",
            "--targets", "tutorial_mlp/train_y.npy", "--val-inputs", "tutorial_mlp/test_x.npy",
            "--val-targets", "tutorial_mlp/test_y.npy", "--loss", "cross_entropy"]
    optimizers = {
        "tutorial_adam": (lambda p: torch.optim.Adam(p, lr=0.001),
                          ["--optimizer", "adam", "--lr", "0.001"]),
        "tutorial_sgd_nesterov": (lambda p: torch.optim.SGD(p, lr=0.5, momentum=0.9, nesterov=True),
                                  ["--optimizer", "sgd", "--lr", "0.5", "--momentum", "0.9", "--nesterov"]),
        "tutorial_sgd_wd": (lambda p: torch.optim.SGD(p, lr=0.3, momentum=0.5, dampening=0.1,
                                                      weight_decay=0.01),
                            ["--optimizer", "sgd", "--lr", "0.3", "--momentum", "0.5",
                             "--dampening", "0.1", "--weight-decay", "0.01"]),
        "tutorial_adamw": (lambda p: torch.optim.AdamW(p, lr=0.005, weight_decay=0.05, amsgrad=True),
                           ["--optimizer", "adamw", "--lr", "0.005", "--weight-decay", "0.05", "--amsgrad"]),
        "tutorial_rmsprop": (lambda p: torch.optim.RMSprop(p, lr=0.001, momentum=0.5, centered=True),
                             ["--optimizer", "rmsprop", "--lr", "0.001", "--momentum", "0.5", "--centered"]),
        "tutorial_adagrad": (lambda p: torch.optim.Adagrad(p, lr=0.05, lr_decay=0.01,
                                                           initial_accumulator_value=0.1),
                             ["--optimizer", "adagrad", "--lr", "0.05", "--lr-decay", "0.01",
                              "--initial-accumulator", "0.1"]),
    }
    for name, (make, args) in optimizers.items():
        model = tutorial_model()
        run(name, model, torch.nn.CrossEntropyLoss(), make(model.parameters()), x, y, vx, vy,
            class_accuracy, data + args)
    # Class weights with label smoothing, and mini-batches of 200 made of two
    # accumulated micro-batches of 100 (same gradient as one batch of 200).
    model = tutorial_model()
    run("tutorial_weighted_smoothing", model,
        torch.nn.CrossEntropyLoss(weight=torch.tensor([0.3, 0.7]), label_smoothing=0.1),
        torch.optim.Adam(model.parameters(), lr=0.003), x, y, vx, vy, class_accuracy,
        data + ["--optimizer", "adam", "--lr", "0.003", "--class-weights", "0.3,0.7",
                "--label-smoothing", "0.1"])
    model = tutorial_model()
    run("tutorial_minibatch_accumulate", model, torch.nn.CrossEntropyLoss(),
        torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9), x, y, vx, vy, class_accuracy,
        data + ["--optimizer", "sgd", "--lr", "0.1", "--momentum", "0.9", "--batch-size", "100",
                "--accumulate-steps", "2"], batch=200)


ACTIVATIONS = {
    # name: (torch module, ONNX node maker)
    "Sigmoid": (torch.nn.Sigmoid(), lambda i, o: helper.make_node("Sigmoid", [i], [o])),
    "Tanh": (torch.nn.Tanh(), lambda i, o: helper.make_node("Tanh", [i], [o])),
    "LeakyRelu": (torch.nn.LeakyReLU(0.1), lambda i, o: helper.make_node("LeakyRelu", [i], [o], alpha=0.1)),
    "Elu": (torch.nn.ELU(0.7), lambda i, o: helper.make_node("Elu", [i], [o], alpha=0.7)),
    "Selu": (torch.nn.SELU(), lambda i, o: helper.make_node("Selu", [i], [o])),
    "Softplus": (torch.nn.Softplus(), lambda i, o: helper.make_node("Softplus", [i], [o])),
    "Gelu": (torch.nn.GELU(), lambda i, o: helper.make_node("Gelu", [i], [o])),
    "GeluTanh": (torch.nn.GELU(approximate="tanh"),
                 lambda i, o: helper.make_node("Gelu", [i], [o], approximate="tanh")),
    "Mish": (torch.nn.Mish(), lambda i, o: helper.make_node("Mish", [i], [o])),
}


def activation_model(name, act_node, fc1, fc2, with_sigmoid):
    """Gemm -> activation -> Gemm [-> Sigmoid], opset 20 (Gelu is new in 20)."""
    init = [numpy_helper.from_array(t.detach().numpy(), n) for n, t in
            [("fc1.weight", fc1.weight), ("fc1.bias", fc1.bias),
             ("fc2.weight", fc2.weight), ("fc2.bias", fc2.bias)]]
    out = "probability" if with_sigmoid else "prediction"
    nodes = [helper.make_node("Gemm", ["input", "fc1.weight", "fc1.bias"], ["h"], transB=1),
             act_node("h", "a"),
             helper.make_node("Gemm", ["a", "fc2.weight", "fc2.bias"],
                              ["logit" if with_sigmoid else out], transB=1)]
    if with_sigmoid:
        nodes.append(helper.make_node("Sigmoid", ["logit"], [out]))
    graph = helper.make_graph(
        nodes, name + "_mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 20])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, ["batch", 1])], init)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    model.ir_version = 9
    return model


def activation_runs():
    x, vx = load("train_x"), load("test_x")
    y = load("train_y").float().unsqueeze(1)
    vy = load("test_y").float().unsqueeze(1)
    folder = os.path.join(HERE, "activation_mlp")
    os.makedirs(folder, exist_ok=True)
    np.save(os.path.join(folder, "train_y.npy"), y.numpy())
    np.save(os.path.join(folder, "test_y.npy"), vy.numpy())
    for act_name, (act, act_node) in ACTIVATIONS.items():
        for loss_name in ["mse", "bce"]:
            torch.manual_seed(1)
            fc1, fc2 = torch.nn.Linear(20, 16), torch.nn.Linear(16, 1)
            layers = [fc1, act, fc2] + ([torch.nn.Sigmoid()] if loss_name == "bce" else [])
            model = torch.nn.Sequential(*layers)
            file = f"{act_name}_{loss_name}.onnx"
            onnx.save(activation_model(act_name, act_node, fc1, fc2, loss_name == "bce"),
                      os.path.join(folder, file))
            loss_fn = torch.nn.MSELoss() if loss_name == "mse" else torch.nn.BCELoss()
            args = [f"activation_mlp/{file}", "--inputs", "tutorial_mlp/train_x.npy",
                    "--targets", "activation_mlp/train_y.npy",
                    "--val-inputs", "tutorial_mlp/test_x.npy",
                    "--val-targets", "activation_mlp/test_y.npy",
                    "--loss", loss_name, "--optimizer", "adam", "--lr", "0.01"]
            accuracy = (lambda out, t: ((out > 0.5) == (t > 0.5)).double().mean().item()) \
                if loss_name == "bce" else (lambda out, t: float("nan"))
            run(f"{act_name}_{loss_name}", model, loss_fn,
                torch.optim.Adam(model.parameters(), lr=0.01), x, y, vx, vy, accuracy, args)


def main():
    torch.set_num_threads(1)
    os.makedirs(REF, exist_ok=True)
    tutorial_runs()
    activation_runs()


if __name__ == "__main__":
    main()
