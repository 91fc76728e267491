// Shared by the fast-loop tests: the ISAs this CPU runs and float constants.
#pragma once

#include <limits>
#include <vector>

#include "ops/activation/fast_loops.h"

namespace onyx::fast_test {

inline constexpr float kInf = std::numeric_limits<float>::infinity();
inline constexpr double kMinDenormal = 1.4012984643248171e-45;  // 2^-149

// Every fast::Isa this CPU (and OS) supports, baseline first.
inline std::vector<fast::Isa> SupportedIsas() {
  std::vector<fast::Isa> out;
  for (fast::Isa isa : {fast::Isa::kBaseline, fast::Isa::kAvx2, fast::Isa::kAvx512}) {
    if (fast::IsaSupported(isa)) out.push_back(isa);
  }
  return out;
}

}  // namespace onyx::fast_test
