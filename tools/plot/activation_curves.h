// Samples activation functions and their derivatives by running Onyx's own
// forward kernels and the backward kernels their gradient builders emit.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/op_registry.h"
#include "tools/plot/chart.h"

namespace onyx::plot {

struct ActivationCurve {
  std::string op;
  std::vector<double> x;   // lo + (hi - lo) * i / (n - 1), rounded to float32
  std::vector<double> y;   // op(x)
  std::vector<double> dy;  // d op / dx at x; for Softmax the diagonal dy_i/dx_i
};

// The ops `onyx plot activations` draws by default, in order.
const std::vector<std::string>& PlottableActivations();

// Runs op(x) on `points` float32 samples of [lo, hi] and the backward of that
// node (the registry's gradient builder, seeded with dY = 1) in one session.
// Softmax is taken over the whole 1-D sample; its derivative is the Jacobian's
// diagonal, from a batch whose row i is x and whose dY row i is e_i.
// InvalidArgument for an op not in PlottableActivations() or a bad range.
absl::StatusOr<ActivationCurve> SampleActivation(const std::string& op, double lo, double hi,
                                                 int points, const OpRegistry& registry);

// One panel per curve: f solid and f' dashed, x over [lo, hi].
Figure ActivationFigure(const std::vector<ActivationCurve>& curves, double lo, double hi);

}  // namespace onyx::plot
