// Axis arithmetic for charts: "nice" tick steps (1, 2 or 5 times a power of
// ten), tick labels, and the linear map from data values to pixels.
#pragma once

#include <string>
#include <vector>

namespace onyx::plot {

struct Ticks {
  double lo = 0, hi = 1;  // the axis domain (widened to whole steps when asked)
  double step = 1;
  std::vector<double> values;  // multiples of step within [lo, hi]
};

// About `target` ticks over [lo, hi]. `widen` stretches the domain to whole
// steps; `integer` keeps the step >= 1 (epochs). A degenerate or non-finite
// range becomes a small one around its finite end (or [0, 1]).
Ticks NiceTicks(double lo, double hi, int target, bool widen, bool integer = false);

// A tick value printed with as many decimals as `step` needs ("-2.5", "0", "1e+06").
std::string FormatTick(double value, double step);

// Maps [d0, d1] onto [r0, r1] linearly (r1 < r0 for a y axis growing upwards).
struct LinearScale {
  double d0, d1, r0, r1;
  double operator()(double v) const { return r0 + (v - d0) / (d1 - d0) * (r1 - r0); }
};

}  // namespace onyx::plot
