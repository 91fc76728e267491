// Shared by the fast-loop tests: the ISAs this CPU runs and float constants.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"

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

// Runs fn through fast::ForwardFloat on every supported ISA, streaming or not,
// for several lengths and output misalignments, over `inputs(n)`, and checks
// each result against `ref` (double; a NaN input must give NaN): within
// `tol(x, want)` when `want` is finite in float, else the matching infinity.
template <typename Fn>
void CheckEveryVariant(const std::string& name, const Fn& fn,
                       const std::function<std::vector<float>(int64_t)>& inputs,
                       const std::function<double(double)>& ref,
                       const std::function<double(double x, double want)>& tol) {
  for (fast::Isa isa : SupportedIsas()) {
    for (bool stream : {false, true}) {
      for (int64_t n : {1, 15, 16, 1000, 1029, 5000, 70001}) {
        for (int offset : {0, 1, 3}) {
          const std::vector<float> x = inputs(n);
          std::vector<float> buffer(n + 16, -7.f);
          float* y = buffer.data() + offset;
          fast::ForwardFloat(fn, x.data(), y, n, isa, stream);
          for (int64_t i = 0; i < n; ++i) {
            const double want = std::isnan(x[i]) ? double(x[i]) : ref(double(x[i]));
            const double got = y[i];
            auto where = [&] {  // built only when an assertion fails
              return name + " " + fast::IsaName(isa) + (stream ? " stream" : " plain") +
                     " n=" + std::to_string(n) + " x=" + std::to_string(x[i]);
            };
            if (std::isnan(want)) {
              ASSERT_TRUE(std::isnan(got)) << where() << " got " << got;
            } else if (std::isinf(want) || std::fabs(want) > std::numeric_limits<float>::max()) {
              ASSERT_EQ(got, want > 0 ? kInf : -kInf) << where();
            } else {
              ASSERT_NEAR(got, want, tol(x[i], want)) << where();
            }
          }
          EXPECT_EQ(buffer[n + offset], -7.f) << name << ": wrote past the end";
        }
      }
    }
  }
}

}  // namespace onyx::fast_test
