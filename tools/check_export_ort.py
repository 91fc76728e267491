#!/usr/bin/env python3
"""Checks that a model written by `onyx train --out` loads in ONNX Runtime and
that ORT and `onyx run` agree on it. Needs onnxruntime (e.g. a venv made with
--system-site-packages); the test suite itself does not need Python.

Usage: check_export_ort.py ONYX_BINARY TUNED.onnx INPUT.npy [--rtol R --atol A]
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort


def main():
    p = argparse.ArgumentParser()
    p.add_argument("onyx")
    p.add_argument("model")
    p.add_argument("input")
    p.add_argument("--rtol", type=float, default=1e-4)
    p.add_argument("--atol", type=float, default=1e-5)
    a = p.parse_args()
    onnx.checker.check_model(onnx.load(a.model))
    sess = ort.InferenceSession(a.model, providers=["CPUExecutionProvider"])
    x = np.load(a.input)
    name = sess.get_inputs()[0].name
    ort_outs = sess.run(None, {name: x})
    with tempfile.TemporaryDirectory() as out_dir:
        subprocess.run([a.onyx, "run", a.model, "--input", f"{name}={a.input}",
                        "--output-dir", out_dir], check=True, stdout=subprocess.DEVNULL)
        worst = 0.0
        for meta, expected in zip(sess.get_outputs(), ort_outs):
            got = np.load(os.path.join(out_dir, meta.name + ".npy"))
            err = np.max(np.abs(got - expected) / (a.atol + a.rtol * np.abs(expected)))
            worst = max(worst, float(err))
            print(f"{meta.name}: shape {got.shape}, max |onyx - ort| = "
                  f"{np.max(np.abs(got - expected)):.3g}")
    print("agree" if worst <= 1 else "DISAGREE")
    return 0 if worst <= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
