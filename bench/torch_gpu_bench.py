#!/usr/bin/env python3
"""PyTorch's own time for the real models of models/make_real_models.py on a CUDA GPU, the
reference that `onyx bench --device cuda` is compared with (tools/gpu_check.sh).

Eager fp32 forward under no_grad, batch B, with TF32 off (Onyx's cuDNN and cuBLAS calls
compute in fp32; PyTorch's cuDNN convolutions would use TF32 by default). Prints, per
model, the median and minimum of ITERS timed forwards after WARMUP (CUDA events).
Usage: python3 bench/torch_gpu_bench.py [--batch B] [--iters N] [--warmup W] NAME ...
"""
import argparse
import os
import statistics
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
import make_real_models  # noqa: E402


def time_model(name, batch, iters, warmup):
    module, sample_shape, _ = make_real_models.build_model(name)
    module = module.cuda()
    x = torch.randn((batch,) + sample_shape, device="cuda")
    times = []
    with torch.no_grad():
        for i in range(warmup + iters):
            start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            module(x)
            stop.record()
            stop.synchronize()
            if i >= warmup:
                times.append(start.elapsed_time(stop))
    return statistics.median(times), min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="+")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--iters", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("SKIP: PyTorch sees no CUDA device")
        return
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    print(f"PyTorch {torch.__version__} on {torch.cuda.get_device_name()}, batch {args.batch}")
    for name in args.names:
        median, best = time_model(name, args.batch, args.iters, args.warmup)
        print(f"{name}: median {median:.3f} ms, min {best:.3f} ms")


if __name__ == "__main__":
    main()
