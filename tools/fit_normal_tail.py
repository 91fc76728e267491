#!/usr/bin/env python3
"""Fits the polynomial of activation_internal::NormalUpperTail (activation_math.h).

The standard normal's upper tail Q(a) = erfc(a / sqrt 2) / 2, a >= 0, is written
exp(-a^2 / 2) * t * P(t) with t = 1 / (1 + a / K). P is a least-squares fit, in
a Chebyshev basis weighted for relative error, of Q(a) exp(a^2 / 2) / t over
a in [0, A_MAX]. The check evaluates the float formula step by step in float32
(Horner with fused multiply-adds, as the C++ does) against math.erfc in double
at every float32 a it samples, also with t one ulp off either way (the GPU's
approximate reciprocal), and prints the coefficients for the C++.
Usage: /usr/bin/python3 tools/fit_normal_tail.py [K] [DEGREE]   (default 3 8)
"""
import math
import sys

import numpy as np

K = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
DEGREE = int(sys.argv[2]) if len(sys.argv) > 2 else 8
A_MAX = 14.0  # beyond it Q(a) < 1e-44, below float's smallest subnormal step


def fit():
    t_min = 1 / (1 + A_MAX / K)
    t = np.cos(np.linspace(0, np.pi, 20000)) * (1 - t_min) / 2 + (1 + t_min) / 2
    a = K * (1 / t - 1)
    scaled = np.array([0.5 * math.erfc(v / math.sqrt(2)) * math.exp(v * v / 2) for v in a])
    target = scaled / t
    u = (2 * t - (1 + t_min)) / (1 - t_min)
    basis = np.polynomial.chebyshev.chebvander(u, DEGREE)
    weight = 1 / target
    coef, *_ = np.linalg.lstsq(basis * weight[:, None], target * weight, rcond=None)
    series = np.polynomial.Chebyshev(coef, domain=[t_min, 1])
    power = series.convert(kind=np.polynomial.Polynomial).coef
    return [np.float32(c) for c in power]


def tail_in_float(a, p, t_ulps=0):
    f = np.float32
    a = f(a)
    t = f(1) / (f(1) + a * f(1 / K))
    t = f(np.float64(t) * (1 + t_ulps * 2.0**-23))
    acc = p[-1]
    for c in p[-2::-1]:
        acc = f(np.float64(acc) * np.float64(t) + np.float64(c))  # fma: one rounding
    h = f(a * a)
    r = f(np.float64(a) * np.float64(a) - np.float64(h))  # exact remainder of a^2
    e = f(f(math.exp(-0.5 * float(h))) * f(1 - f(0.5) * r))
    return float(e * f(t * acc))


def main():
    p = fit()
    for t_ulps, what in ((0, "t correctly rounded"), (1, "t 1 ulp up"), (-1, "t 1 ulp down")):
        worst, worst_a = 0.0, 0.0
        for a in np.linspace(0, 13, 100001):
            a = float(np.float32(a))
            expected = 0.5 * math.erfc(a / math.sqrt(2))
            if expected < 1e-37:  # float subnormals: relative error is meaningless
                continue
            error = abs(tail_in_float(a, p, t_ulps) - expected) / expected
            if error > worst:
                worst, worst_a = error, a
        print(f"K = {K}, degree {DEGREE}, {what}: worst relative error {worst:.3g}"
              f" at a = {worst_a:.6g} (expf's own error comes on top)")
    print("coefficients, t^0 first:")
    print(", ".join(f"{float(c):.9g}f" for c in p))


if __name__ == "__main__":
    main()
