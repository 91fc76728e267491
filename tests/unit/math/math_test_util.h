// Helpers for the math kernel tests: run a graph of one or two nodes through a
// Session, make deterministic random tensors, read tensors back as doubles.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/tensor.h"
#include "tests/unit/common/run_node.h"

namespace onyx::math_test {

using testing_util::FloatAttr;
using testing_util::IntAttr;

// Runs `op` named `name` on `inputs` (an empty Tensor is an omitted optional
// input) with the default registry and returns its single output.
inline absl::StatusOr<Tensor> RunOne(const std::string& op, const std::vector<Tensor>& inputs,
                                     std::vector<Attribute> attrs = {}, int64_t opset = 13,
                                     const std::string& name = "n") {
  return testing_util::RunNodeSpecFirst(
      {.op_type = op, .attrs = std::move(attrs), .opset = opset, .node_name = name}, inputs);
}

// Deterministic values: floats uniform in [lo, hi], integers uniform in
// [lo, hi] rounded; `nonzero` skips 0 (divisors).
template <typename T>
Tensor Random(const Shape& shape, uint32_t seed, double lo = -3, double hi = 3,
              bool nonzero = false) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<T> values(NumElements(shape));
  for (T& v : values) {
    do {
      const double x = dist(gen);
      v = std::is_floating_point_v<T> ? static_cast<T>(x) : static_cast<T>(std::llround(x));
    } while (nonzero && v == T(0));
  }
  return Tensor::FromVector<T>(shape, values).value();
}

using testing_util::BroadcastSource;
using testing_util::ElementAsDouble;
using testing_util::Unravel;
inline constexpr auto& AsDoubles = testing_util::ToDoubles;

}  // namespace onyx::math_test
