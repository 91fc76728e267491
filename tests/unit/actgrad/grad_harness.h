// Test harness for gradient builders: graph f(inputs) -> Y, loss = DotLoss(Y, R) =
// sum(Y * R) (a test-local op), differentiated with BuildGradientGraph and compared
// with central finite differences of the same loss in float64.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "ops/register_all.h"
#include "runtime/gradient.h"
#include "runtime/graph.h"
#include "runtime/kernel.h"
#include "runtime/op_registry.h"
#include "runtime/session.h"
#include "runtime/training/autograd.h"
#include "tests/unit/common/run_node.h"

namespace onyx::actgrad_test {

inline constexpr char kTestDomain[] = "test.actgrad";

// DotLoss(Y, R) = sum(Y * R), a scalar of Y's dtype; sums in double.
class DotLossKernel final : public Kernel {
 public:
  absl::Status Compute(KernelContext& ctx) override {
    const Tensor* y = ctx.input(0);
    const Tensor* r = ctx.input(1);
    if (y == nullptr || r == nullptr || y->dtype() != r->dtype() ||
        y->shape() != r->shape()) {
      return absl::InvalidArgumentError("DotLoss: Y and R must match");
    }
    double sum = 0;
    if (y->dtype() == DataType::kFloat64) {
      for (int64_t i = 0; i < y->num_elements(); ++i) {
        sum += y->data<double>()[i] * r->data<double>()[i];
      }
    } else if (y->dtype() == DataType::kFloat32) {
      for (int64_t i = 0; i < y->num_elements(); ++i) {
        sum += double(y->data<float>()[i]) * double(r->data<float>()[i]);
      }
    } else {
      return absl::UnimplementedError("DotLoss: float32 or float64 only");
    }
    auto out = ctx.AllocateOutput(0, y->dtype(), {});
    if (!out.ok()) return out.status();
    if (y->dtype() == DataType::kFloat64) {
      (*out)->data<double>()[0] = sum;
    } else {
      (*out)->data<float>()[0] = static_cast<float>(sum);
    }
    return absl::OkStatus();
  }
};

// d(sum(Y * R))/dY = R times the seed; the seed is 1 (a float32 scalar), so the
// builder ignores it and emits dY = Identity(R) in R's dtype.
inline absl::StatusOr<GradientNodes> DotLossGradient(const GradientContext& ctx) {
  GradientNodes out;
  out.input_grads.assign(ctx.node.inputs.size(), "");
  if (!ctx.wants_input_grad[0]) return out;
  Node node;
  const std::string dy = ctx.fresh_name(ctx.node.inputs[0] + "_grad");
  node.name = ctx.fresh_name(dy + "_node");
  node.op_type = "Identity";
  node.inputs = {ctx.node.inputs[1]};
  node.outputs = {dy};
  out.nodes.push_back(std::move(node));
  out.input_grads[0] = dy;
  return out;
}

// RegisterAllOps plus DotLoss.
inline const OpRegistry& TestRegistry() {
  static const OpRegistry* registry = [] {
    auto* r = new OpRegistry();
    RegisterAllOps(*r);
    r->Register(kTestDomain, "DotLoss", 1, Device::kCpu,
                [](const Node&, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
                  return std::unique_ptr<Kernel>(new DotLossKernel());
                });
    r->RegisterGradient(kTestDomain, "DotLoss", DotLossGradient);
    return r;
  }();
  return *registry;
}

using testing_util::FloatAttr;
using testing_util::IntAttr;
using testing_util::StringAttr;
using testing_util::ToDoubles;

inline ValueInfo Info(const std::string& name, DataType dtype, const Shape& shape) {
  return testing_util::InputInfo(name, dtype, shape);
}

// Inputs x0, x1, ... of `shapes`, node "f" = op(x...) -> "y", "loss" = DotLoss(y, r).
inline Graph LossGraph(const std::string& op_type, std::vector<Attribute> attrs,
                       const std::vector<Shape>& shapes, DataType dtype, int64_t opset) {
  Graph g;
  g.name = "actgrad";
  g.opset_imports[""] = opset;
  g.opset_imports[kTestDomain] = 1;
  Node f;
  f.name = "f";
  f.op_type = op_type;
  f.attributes = std::move(attrs);
  for (size_t i = 0; i < shapes.size(); ++i) {
    const std::string name = absl::StrCat("x", i);
    g.inputs.push_back(Info(name, dtype, shapes[i]));
    f.inputs.push_back(name);
  }
  f.outputs = {"y"};
  g.inputs.push_back(Info("r", dtype, shapes[0]));
  Node loss;
  loss.name = "loss_node";
  loss.domain = kTestDomain;
  loss.op_type = "DotLoss";
  loss.inputs = {"y", "r"};
  loss.outputs = {"loss"};
  g.nodes = {std::move(f), std::move(loss)};
  ValueInfo out;
  out.name = "loss";
  g.outputs.push_back(out);
  return g;
}

// Runs `graph` with feeds x0.. = inputs (converted to `dtype`) and r.
inline absl::StatusOr<std::vector<Tensor>> RunGraph(Graph graph, DataType dtype,
                                                    const std::vector<std::vector<double>>& xs,
                                                    const std::vector<Shape>& shapes,
                                                    const std::vector<double>& r) {
  auto session = Session::Create(std::move(graph), TestRegistry());
  if (!session.ok()) return session.status();
  NamedTensors feeds;
  auto make = [dtype](const Shape& shape,
                      const std::vector<double>& v) -> absl::StatusOr<Tensor> {
    if (dtype == DataType::kFloat64) return Tensor::FromVector<double>(shape, v);
    std::vector<float> f(v.begin(), v.end());
    return Tensor::FromVector<float>(shape, f);
  };
  for (size_t i = 0; i < xs.size(); ++i) {
    auto t = make(shapes[i], xs[i]);
    if (!t.ok()) return t.status();
    feeds.push_back({absl::StrCat("x", i), *t});
  }
  auto rt = make(shapes[0], r);
  if (!rt.ok()) return rt.status();
  feeds.push_back({"r", *rt});
  return (*session)->Run(feeds);
}

// d(loss)/d(x`which`) of the float64 `forward` graph by central differences, step h.
inline absl::StatusOr<std::vector<double>> FiniteDifferences(
    Graph forward, std::vector<std::vector<double>> xs, const std::vector<Shape>& shapes,
    const std::vector<double>& r, size_t which, double h) {
  auto session = Session::Create(std::move(forward), TestRegistry());
  if (!session.ok()) return session.status();
  auto loss = [&]() -> absl::StatusOr<double> {
    NamedTensors feeds;
    for (size_t i = 0; i < xs.size(); ++i) {
      auto t = Tensor::FromVector<double>(shapes[i], xs[i]);
      if (!t.ok()) return t.status();
      feeds.push_back({absl::StrCat("x", i), *t});
    }
    auto rt = Tensor::FromVector<double>(shapes[0], r);
    if (!rt.ok()) return rt.status();
    feeds.push_back({"r", *rt});
    auto out = (*session)->Run(feeds);
    if (!out.ok()) return out.status();
    return (*out)[0].data<double>()[0];
  };
  std::vector<double> grad(xs[which].size());
  for (size_t k = 0; k < grad.size(); ++k) {
    const double x = xs[which][k];
    xs[which][k] = x + h;
    auto plus = loss();
    xs[which][k] = x - h;
    auto minus = loss();
    xs[which][k] = x;
    if (!plus.ok()) return plus.status();
    if (!minus.ok()) return minus.status();
    grad[k] = (*plus - *minus) / (2 * h);
  }
  return grad;
}

// Values in [lo, hi] from a fixed LCG, each rounded to float32 (so float32 and
// float64 runs see the same points) and moved at least `gap` away from `kinks`.
inline std::vector<double> TestValues(int64_t n, uint32_t seed, double lo, double hi,
                                      const std::vector<double>& kinks = {},
                                      double gap = 0.05) {
  std::vector<double> v(n);
  uint32_t state = seed * 2654435761u + 12345u;
  for (int64_t i = 0; i < n; ++i) {
    state = state * 1664525u + 1013904223u;
    double x = lo + (hi - lo) * (state >> 8) / double(1 << 24);
    for (double k : kinks) {
      if (std::fabs(x - k) < gap) x = k + (x < k ? -gap : gap);
    }
    v[i] = static_cast<float>(x);
  }
  return v;
}

}  // namespace onyx::actgrad_test
