// Tick selection and formatting.
#include "tools/plot/axis.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace onyx::plot {

Ticks NiceTicks(double lo, double hi, int target, bool widen, bool integer) {
  if (!std::isfinite(lo) && !std::isfinite(hi)) lo = 0, hi = 1;
  if (!std::isfinite(lo)) lo = hi - 1;
  if (!std::isfinite(hi)) hi = lo + 1;
  if (lo > hi) std::swap(lo, hi);
  if (hi - lo <= 1e-12 * std::max(1.0, std::fabs(lo))) {
    const double pad = lo == 0 ? 1 : std::fabs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const double raw = (hi - lo) / std::max(target, 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double fraction = raw / magnitude;
  double step = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  step *= magnitude;
  if (integer) step = std::max(step, 1.0);

  Ticks ticks;
  ticks.step = step;
  // A small slack so that lo = 0.30000000000000004 still counts as 0.3.
  const double slack = step * 1e-9;
  if (widen) {
    ticks.lo = std::floor((lo + slack) / step) * step;
    ticks.hi = std::ceil((hi - slack) / step) * step;
  } else {
    ticks.lo = lo;
    ticks.hi = hi;
  }
  const double first = std::ceil((ticks.lo - slack) / step);
  const double last = std::floor((ticks.hi + slack) / step);
  for (double k = first; k <= last && ticks.values.size() < 1000; ++k) {
    const double v = k * step;
    ticks.values.push_back(std::fabs(v) < slack ? 0.0 : v);
  }
  return ticks;
}

std::string FormatTick(double value, double step) {
  char buf[64];
  if (std::fabs(value) < step * 1e-6) value = 0;
  const double biggest = std::max(std::fabs(value), step);
  const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  if (biggest >= 1e6 || decimals > 6) {
    // Enough significant digits to tell neighbouring ticks apart.
    const int digits = static_cast<int>(std::floor(std::log10(biggest) + 1e-9) -
                                        std::floor(std::log10(step) + 1e-9)) +
                       1;
    std::snprintf(buf, sizeof(buf), "%.*g", std::clamp(digits, 1, 15), value);
    return buf;
  }
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  return buf;
}

}  // namespace onyx::plot
