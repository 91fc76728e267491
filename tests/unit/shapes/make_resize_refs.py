#!/usr/bin/env python3
"""Makes tests/unit/shapes/resize_refs: reference outputs of Upsample / Resize
from the ONNX project's own NumPy reference (onnx.backend.test.case.node.resize
.interpolate_nd, as shipped in Debian's python3-onnx 1.12), for resize_test.cc.

Each case writes <name>_x.npy (input) and <name>_y.npy (expected output); the
C++ test holds the same case table (op, opset, attributes, scales or sizes).

Run with Debian's python3:  /usr/bin/python3 tests/unit/shapes/make_resize_refs.py
"""
import os

import numpy as np
from onnx.backend.test.case.node.resize import (interpolate_nd, linear_coeffs,
                                                nearest_coeffs)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "resize_refs")


def data(shape):
    n = int(np.prod(shape))
    return ((np.arange(n) * 37 + 11) % 64 / 32.0 - 1.0).reshape(shape).astype(np.float32)


def nearest(mode):
    return lambda ratio: nearest_coeffs(ratio, mode=mode)


# name: (input shape, coeffs, scales or None, sizes or None, coordinate mode)
CASES = {
    "upsample_nearest": ((1, 2, 2, 3), nearest("floor"), [1, 1, 2, 3], None, "asymmetric"),
    "upsample_linear": ((1, 1, 3, 4), linear_coeffs, [1, 1, 2, 2.5], None, "asymmetric"),
    "resize_nearest_half_pixel": ((1, 2, 5, 4), nearest("round_prefer_floor"), [1, 1, 0.6, 1.75],
                                  None, "half_pixel"),
    "resize_nearest_asymmetric_ceil": ((1, 1, 4, 4), nearest("ceil"), None, [1, 1, 7, 3],
                                       "asymmetric"),
    "resize_nearest_align_corners_prefer_ceil": ((2, 3, 5), nearest("round_prefer_ceil"), None,
                                                 [2, 3, 8], "align_corners"),
    "resize_linear_half_pixel": ((1, 2, 4, 5), linear_coeffs, [1, 1, 1.5, 0.8], None,
                                 "half_pixel"),
    "resize_linear_align_corners": ((1, 1, 3, 4), linear_coeffs, None, [1, 1, 5, 7],
                                    "align_corners"),
    "resize_linear_pytorch_half_pixel": ((1, 1, 4, 6), linear_coeffs, None, [1, 1, 1, 4],
                                         "pytorch_half_pixel"),
    "resize_linear_asymmetric_3d": ((2, 3, 4), linear_coeffs, [1, 2, 0.5], None, "asymmetric"),
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, (shape, coeffs, scales, sizes, coord) in CASES.items():
        x = data(shape)
        if sizes is not None:
            y = interpolate_nd(x, lambda r, *_: coeffs(r), output_size=sizes,
                               coordinate_transformation_mode=coord)
        else:
            y = interpolate_nd(x, lambda r, *_: coeffs(r), scale_factors=np.array(scales),
                               coordinate_transformation_mode=coord)
        np.save(os.path.join(OUT, name + "_x.npy"), x)
        np.save(os.path.join(OUT, name + "_y.npy"), y.astype(np.float32))
        print(name, x.shape, "->", y.shape)


if __name__ == "__main__":
    main()
