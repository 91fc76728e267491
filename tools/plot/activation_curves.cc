// Activation curves from the runtime itself: one session per op holding the
// forward node and the backward nodes its gradient builder emits.
#include "tools/plot/activation_curves.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "runtime/gradient.h"
#include "runtime/graph.h"
#include "runtime/session.h"

namespace onyx::plot {
namespace {

// Opset new enough for every plotted op (Swish arrived in 24).
constexpr int64_t kOpset = 24;
constexpr int kMaxPoints = 2001;  // Softmax's Jacobian batch is points^2 floats

ValueInfo FloatInput(const std::string& name, const Shape& shape) {
  ValueInfo info;
  info.name = name;
  info.dtype = DataType::kFloat32;
  info.has_shape = true;
  for (int64_t d : shape) info.dims.push_back(Dim{d, ""});
  return info;
}

// Graph: y = op(x); dx = backward(dY = dy) as emitted by op's gradient builder.
absl::StatusOr<Graph> ForwardBackwardGraph(const std::string& op, const Shape& shape,
                                           const OpRegistry& registry) {
  const GradientBuilder* builder = registry.FindGradient(kOnnxDomain, op);
  if (builder == nullptr) {
    return absl::UnimplementedError(absl::StrFormat("op %s has no gradient builder", op));
  }
  Graph g;
  g.name = "plot_" + op;
  g.opset_imports[kOnnxDomain] = kOpset;
  g.opset_imports[kOnyxDomain] = 1;
  g.inputs = {FloatInput("x", shape), FloatInput("dy", shape)};
  Node f;
  f.name = "f";
  f.op_type = op;
  f.inputs = {"x"};
  f.outputs = {"y"};
  int counter = 0;
  const GradientContext ctx{f, kOpset, {"dy"}, {true}, [&counter](const std::string& hint) {
                              return absl::StrCat("bw_", hint, "_", counter++);
                            }};
  absl::StatusOr<GradientNodes> backward = (*builder)(ctx);
  if (!backward.ok()) return backward.status();
  if (backward->input_grads.empty() || backward->input_grads[0].empty()) {
    return absl::InternalError(absl::StrFormat("%s: gradient builder gave no dX", f.Describe()));
  }
  g.nodes.push_back(std::move(f));
  for (Node& n : backward->nodes) g.nodes.push_back(std::move(n));
  ValueInfo y, dx;
  y.name = "y";
  dx.name = backward->input_grads[0];
  g.outputs = {y, dx};
  return g;
}

}  // namespace

const std::vector<std::string>& PlottableActivations() {
  static const std::vector<std::string> ops = {"Relu",    "LeakyRelu", "Sigmoid", "Tanh",
                                               "Softmax", "Softplus",  "Elu",     "Selu",
                                               "Gelu",    "Mish",      "Swish",   "HardSwish"};
  return ops;
}

absl::StatusOr<ActivationCurve> SampleActivation(const std::string& op, double lo, double hi,
                                                 int points, const OpRegistry& registry) {
  const auto& known = PlottableActivations();
  if (std::find(known.begin(), known.end(), op) == known.end()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("cannot plot %s: expected one of %s", op, absl::StrJoin(known, ",")));
  }
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo < hi) || std::fabs(lo) > 1e30 ||
      std::fabs(hi) > 1e30) {
    return absl::InvalidArgumentError(
        absl::StrFormat("range must be finite with LO < HI, got %g,%g", lo, hi));
  }
  if (points < 2 || points > kMaxPoints) {
    return absl::InvalidArgumentError(
        absl::StrFormat("points must be in [2, %d], got %d", kMaxPoints, points));
  }
  const bool softmax = op == "Softmax";
  const int64_t n = points;
  ActivationCurve curve;
  curve.op = op;
  std::vector<float> xs(n);
  for (int64_t i = 0; i < n; ++i) {
    xs[i] = static_cast<float>(lo + (hi - lo) * static_cast<double>(i) / (n - 1));
    curve.x.push_back(xs[i]);
  }
  // Elementwise ops: one row, dY = 1. Softmax: n copies of x, dY = identity.
  const int64_t rows = softmax ? n : 1;
  const Shape shape = softmax ? Shape{n, n} : Shape{n};
  std::vector<float> x_feed(rows * n), dy_feed(rows * n, softmax ? 0.f : 1.f);
  for (int64_t r = 0; r < rows; ++r) {
    std::copy(xs.begin(), xs.end(), x_feed.begin() + r * n);
    if (softmax) dy_feed[r * n + r] = 1.f;
  }

  absl::StatusOr<Graph> graph = ForwardBackwardGraph(op, shape, registry);
  if (!graph.ok()) return graph.status();
  auto session = Session::Create(*std::move(graph), registry);
  if (!session.ok()) return session.status();
  auto x_tensor = Tensor::FromVector<float>(shape, x_feed);
  if (!x_tensor.ok()) return x_tensor.status();
  auto dy_tensor = Tensor::FromVector<float>(shape, dy_feed);
  if (!dy_tensor.ok()) return dy_tensor.status();
  auto outputs = (*session)->Run({{"x", *x_tensor}, {"dy", *dy_tensor}});
  if (!outputs.ok()) return outputs.status();
  const Tensor& y = (*outputs)[0];
  const Tensor& dx = (*outputs)[1];
  if (y.num_elements() != rows * n || dx.num_elements() != rows * n ||
      y.dtype() != DataType::kFloat32 || dx.dtype() != DataType::kFloat32) {
    return absl::InternalError(absl::StrFormat("%s: unexpected output shapes", op));
  }
  for (int64_t i = 0; i < n; ++i) {
    curve.y.push_back(y.data<float>()[i]);
    curve.dy.push_back(dx.data<float>()[softmax ? i * n + i : i]);
  }
  return curve;
}

Figure ActivationFigure(const std::vector<ActivationCurve>& curves, double lo, double hi) {
  Figure figure;
  figure.title = "Onyx activations and their derivatives (forward and backward kernels)";
  figure.columns = std::min<int>(4, std::max<size_t>(1, curves.size()));
  for (const ActivationCurve& c : curves) {
    const bool softmax = c.op == "Softmax";
    Panel panel;
    panel.title = c.op;
    panel.x_label = softmax ? "x_i (one 1-D input)" : "x";
    panel.x_range = std::make_pair(lo, hi);
    panel.series.push_back(
        {.label = softmax ? "y_i" : "f(x)", .x = c.x, .y = c.y, .color = "#1f77b4"});
    panel.series.push_back({.label = softmax ? "dy_i/dx_i" : "f'(x)",
                            .x = c.x,
                            .y = c.dy,
                            .color = "#d62728",
                            .dashed = true});
    figure.panels.push_back(std::move(panel));
  }
  return figure;
}

}  // namespace onyx::plot
