// Gradient-check harness for the math family: a one-node forward graph feeds a
// test-local loss DotLoss(Y, R) = sum(Y * R) (domain "test.mathgrad", with its own
// builder emitting dY = dL * R), autograd builds the backward, and the input
// gradients come back for comparison with closed forms and finite differences.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "ops/register_all.h"
#include "runtime/op_registry.h"
#include "runtime/session.h"
#include "runtime/status_macros.h"
#include "runtime/training/autograd.h"
#include "tests/unit/common/run_node.h"

namespace onyx::mathgrad_test {

inline constexpr char kTestDomain[] = "test.mathgrad";

using testing_util::FloatAttr;
using testing_util::IntAttr;
using testing_util::ToDoubles;

inline Tensor FromDoubles(DataType dtype, const Shape& shape, const std::vector<double>& v) {
  if (dtype == DataType::kFloat32) {
    return Tensor::FromVector<float>(shape, std::vector<float>(v.begin(), v.end())).value();
  }
  return Tensor::FromVector<double>(shape, v).value();
}

// Uniform in [lo, hi], |x| >= min_abs (divisors), rounded to float32 so the same
// values serve both dtypes.
inline std::vector<double> RandomValues(int64_t n, uint32_t seed, double lo = -2, double hi = 2,
                                        double min_abs = 0) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) {
    do {
      x = static_cast<float>(dist(gen));
    } while (std::fabs(x) < min_abs);
  }
  return v;
}

// L = sum(Y * R) as a float32 scalar (accumulated in double).
class DotLossKernel : public Kernel {
 public:
  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(const Tensor* y, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* r, ctx.RequiredInput(1));
    if (y->shape() != r->shape() || y->dtype() != r->dtype()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "DotLoss: Y %s vs R %s", y->DebugString(), r->DebugString()));
    }
    const std::vector<double> yv = ToDoubles(*y), rv = ToDoubles(*r);
    double sum = 0;
    for (size_t i = 0; i < yv.size(); ++i) sum += yv[i] * rv[i];
    ONYX_ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(0, DataType::kFloat32, {}));
    out->data<float>()[0] = static_cast<float>(sum);
    return absl::OkStatus();
  }
};

// dY = dL * R, in R's dtype.
class DotLossGradKernel : public Kernel {
 public:
  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(const Tensor* dl, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* r, ctx.RequiredInput(1));
    const double scale = dl->data<float>()[0];
    std::vector<double> v = ToDoubles(*r);
    for (double& x : v) x *= scale;
    ctx.SetOutput(0, FromDoubles(r->dtype(), r->shape(), v));
    return absl::OkStatus();
  }
};

// Every Onyx op plus DotLoss / DotLossGrad and DotLoss's builder.
inline const OpRegistry& TestRegistry() {
  static const OpRegistry* registry = [] {
    auto* r = new OpRegistry();
    RegisterAllOps(*r);
    r->Register(kTestDomain, "DotLoss", 1, Device::kCpu,
                [](const Node&, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
                  return std::make_unique<DotLossKernel>();
                });
    r->Register(kTestDomain, "DotLossGrad", 1, Device::kCpu,
                [](const Node&, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
                  return std::make_unique<DotLossGradKernel>();
                });
    r->RegisterGradient(kTestDomain, "DotLoss",
                        [](const GradientContext& ctx) -> absl::StatusOr<GradientNodes> {
                          GradientNodes g;
                          const std::string dy = ctx.fresh_name("dotloss_dy");
                          Node n;
                          n.name = dy + "_node";
                          n.op_type = "DotLossGrad";
                          n.domain = kTestDomain;
                          n.inputs = {ctx.output_grads[0], ctx.node.inputs[1]};
                          n.outputs = {dy};
                          g.nodes.push_back(std::move(n));
                          g.input_grads = {dy, ""};
                          return g;
                        });
    return r;
  }();
  return *registry;
}

// One forward node `op` over inputs x0, x1, ... (an empty Tensor is an omitted
// optional input) with output "y".
struct ForwardSpec {
  std::string op;
  std::vector<Attribute> attrs;
  std::vector<Tensor> inputs;
  int64_t opset = 13;
};

using testing_util::InputName;

inline Graph ForwardGraph(const ForwardSpec& spec) {
  return testing_util::OneNodeGraph({.op_type = spec.op,
                                     .attrs = spec.attrs,
                                     .opset = spec.opset,
                                     .node_name = "fwd",
                                     .imports = {kTestDomain}},
                                    spec.inputs);
}

inline NamedTensors Feeds(const ForwardSpec& spec) { return testing_util::InputFeeds(spec.inputs); }

// Runs the forward alone.
inline absl::StatusOr<Tensor> RunForward(const ForwardSpec& spec) {
  ONYX_ASSIGN_OR_RETURN(auto session, Session::Create(ForwardGraph(spec), TestRegistry()));
  ONYX_ASSIGN_OR_RETURN(std::vector<Tensor> outs, session->Run(Feeds(spec)));
  return outs.at(0);
}

// d(sum(Y * r))/d(input i) for each i in `wrt` through BuildGradientGraph; an
// empty Tensor where autograd found no gradient.
inline absl::StatusOr<std::vector<Tensor>> AutogradGrads(const ForwardSpec& spec,
                                                         const Tensor& r,
                                                         const std::vector<size_t>& wrt) {
  Graph graph = ForwardGraph(spec);
  Node loss;
  loss.name = "loss_node";
  loss.op_type = "DotLoss";
  loss.domain = kTestDomain;
  loss.inputs = {"y", "r"};
  loss.outputs = {"loss"};
  graph.nodes.push_back(std::move(loss));
  graph.initializers["r"] = r;
  std::vector<std::string> wrt_names;
  for (size_t i : wrt) wrt_names.push_back(InputName(i));
  ONYX_ASSIGN_OR_RETURN(GradientGraph gg,
                        BuildGradientGraph(std::move(graph), "loss", wrt_names, TestRegistry()));
  ONYX_ASSIGN_OR_RETURN(auto session, Session::Create(std::move(gg.graph), TestRegistry()));
  ONYX_ASSIGN_OR_RETURN(std::vector<Tensor> outs, session->Run(Feeds(spec)));
  std::vector<Tensor> grads;
  size_t next = 1;  // outputs: loss, then the non-empty gradients in order
  for (const std::string& g : gg.grad_names) grads.push_back(g.empty() ? Tensor() : outs.at(next++));
  return grads;
}

// Central differences of sum(Y * r) with respect to every element of input i,
// evaluated in float64 (the inputs must be float64).
inline absl::StatusOr<std::vector<double>> FiniteDifferences(const ForwardSpec& spec,
                                                             const Tensor& r, size_t i,
                                                             double h = 1e-5) {
  ONYX_ASSIGN_OR_RETURN(auto session, Session::Create(ForwardGraph(spec), TestRegistry()));
  const std::vector<double> rv = ToDoubles(r);
  const Tensor& x = spec.inputs[i];
  std::vector<double> grad(x.num_elements());
  for (int64_t j = 0; j < x.num_elements(); ++j) {
    double loss[2];
    for (int side = 0; side < 2; ++side) {
      ForwardSpec moved = spec;
      ONYX_ASSIGN_OR_RETURN(moved.inputs[i], x.Clone());
      moved.inputs[i].data<double>()[j] += side == 0 ? h : -h;
      ONYX_ASSIGN_OR_RETURN(std::vector<Tensor> outs, session->Run(Feeds(moved)));
      const std::vector<double> yv = ToDoubles(outs.at(0));
      double sum = 0;
      for (size_t k = 0; k < yv.size(); ++k) sum += yv[k] * rv[k];
      loss[side] = sum;
    }
    grad[j] = (loss[0] - loss[1]) / (2 * h);
  }
  return grad;
}

using testing_util::BroadcastSource;
using testing_util::Unravel;

}  // namespace onyx::mathgrad_test
