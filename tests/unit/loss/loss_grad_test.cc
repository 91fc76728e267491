// Gradient builders of the loss family: the emitted nodes are wired into a graph
// with their forward node and run; dX is compared with central finite differences.
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/gradient.h"
#include "tests/status_matchers.h"
#include "tests/unit/loss/loss_test_util.h"

namespace onyx::loss_test {
namespace {

struct BuiltGraph {
  Graph graph;
  std::string dx;  // name of d(input 0)
};

// Forward node `fwd` (inputs x0, x1[, x2], outputs as given) plus the builder's
// nodes for upstream gradient "dloss"; graph outputs: loss, then dX.
absl::StatusOr<BuiltGraph> BuildWithGradient(Node fwd, const std::vector<Tensor>& inputs,
                                             const Tensor& dloss) {
  BuiltGraph built;
  Graph& g = built.graph;
  g.opset_imports[""] = 13;
  g.opset_imports[kOnyxDomain] = 1;
  fwd.name = "loss_node";
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string name = "x" + std::to_string(i);
    g.inputs.push_back(InputInfo(name, inputs[i]));
    fwd.inputs.push_back(name);
  }
  g.inputs.push_back(InputInfo("dloss", dloss));
  const GradientBuilder* builder = DefaultRegistry().FindGradient(fwd.domain, fwd.op_type);
  if (builder == nullptr) return absl::NotFoundError("no gradient builder for " + fwd.op_type);
  int counter = 0;
  GradientContext ctx{
      fwd,
      13,
      {"dloss"},
      std::vector<bool>(inputs.size(), false),
      [&counter](const std::string& hint) { return hint + "__" + std::to_string(counter++); }};
  ctx.output_grads.resize(fwd.outputs.size());
  ctx.wants_input_grad[0] = true;
  auto nodes = (*builder)(ctx);
  if (!nodes.ok()) return nodes.status();
  if (nodes->input_grads.size() != inputs.size()) {
    return absl::InternalError("input_grads has the wrong size");
  }
  for (size_t i = 1; i < inputs.size(); ++i) {
    if (!nodes->input_grads[i].empty()) return absl::InternalError("gradient for a label");
  }
  built.dx = nodes->input_grads[0];
  ValueInfo loss_out, dx_out;
  loss_out.name = fwd.outputs[0];
  dx_out.name = built.dx;
  g.outputs = {loss_out, dx_out};
  g.nodes.push_back(fwd);
  for (Node& n : nodes->nodes) g.nodes.push_back(std::move(n));
  return built;
}

absl::StatusOr<std::vector<Tensor>> RunBuilt(const BuiltGraph& built,
                                             const std::vector<Tensor>& inputs,
                                             const Tensor& dloss) {
  auto session = Session::Create(built.graph, DefaultRegistry());
  if (!session.ok()) return session.status();
  NamedTensors feeds;
  for (size_t i = 0; i < inputs.size(); ++i) feeds.emplace_back("x" + std::to_string(i), inputs[i]);
  feeds.emplace_back("dloss", dloss);
  return (*session)->Run(feeds);
}

struct BuilderCase {
  const char* domain;
  const char* op;
  std::vector<Attribute> attrs;
  std::vector<std::string> outputs;
  bool class_labels;  // labels int64 [N] (else float target shaped like x)
  bool weights;
};

TEST(LossGradTest, BuiltBackwardMatchesFiniteDifferences) {
  const std::vector<BuilderCase> cases = {
      {kOnnxDomain, "SoftmaxCrossEntropyLoss", {}, {"loss"}, true, false},
      {kOnnxDomain,
       "SoftmaxCrossEntropyLoss",
       {IntAttr("ignore_index", 0)},
       {"loss", "lp"},
       true,
       true},
      {kOnnxDomain,
       "NegativeLogLikelihoodLoss",
       {StringAttr("reduction", "sum")},
       {"loss"},
       true,
       true},
      {kOnyxDomain, "CrossEntropyLoss", {FloatAttr("label_smoothing", 0.2f)}, {"loss"}, true, true},
      {kOnyxDomain, "CrossEntropyLoss", {}, {"loss", "lp"}, true, false},
      {kOnyxDomain, "MseLoss", {}, {"loss"}, false, false},
      {kOnyxDomain, "BceLoss", {StringAttr("reduction", "sum")}, {"loss"}, false, false},
      {kOnyxDomain, "BceWithLogitsLoss", {}, {"loss"}, false, false},
  };
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(-2, 2), p(0.1, 0.9);
  for (const BuilderCase& c : cases) {
    SCOPED_TRACE(std::string(c.op) + " outputs=" + std::to_string(c.outputs.size()));
    const Shape shape = {4, 3};
    std::vector<double> x(12), t(12);
    const bool prob = std::string(c.op) == "BceLoss";
    for (double& v : x) v = prob ? p(rng) : u(rng);
    for (double& v : t) v = p(rng);
    std::vector<Tensor> inputs = {Make<double>(shape, x)};
    if (c.class_labels) {
      inputs.push_back(Make<int64_t>({4}, {2, 0, 1, 0}));
    } else {
      inputs.push_back(Make<double>(shape, t));
    }
    if (c.weights) inputs.push_back(Make<double>({3}, {0.5, 1.5, 2.0}));
    Node fwd;
    fwd.op_type = c.op;
    fwd.domain = c.domain;
    fwd.attributes = c.attrs;
    fwd.outputs = c.outputs;
    const Tensor dloss = Make<double>({}, {1.7});
    ASSERT_OK_AND_ASSIGN(BuiltGraph built, BuildWithGradient(fwd, inputs, dloss));
    const Node& grad_node = built.graph.nodes.back();
    EXPECT_EQ(grad_node.domain, kOnyxDomain);
    EXPECT_EQ(grad_node.op_type, std::string(c.op) + "Grad");
    ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out, RunBuilt(built, inputs, dloss));
    const std::vector<double> got = ToDoubles(out[1]);
    ASSERT_EQ(got.size(), x.size());
    const double h = 1e-6;
    for (size_t k = 0; k < x.size(); ++k) {
      std::vector<double> xp = x, xm = x;
      xp[k] += h;
      xm[k] -= h;
      std::vector<Tensor> ip = inputs, im = inputs;
      ip[0] = Make<double>(shape, xp);
      im[0] = Make<double>(shape, xm);
      ASSERT_OK_AND_ASSIGN(std::vector<Tensor> lp, RunBuilt(built, ip, dloss));
      ASSERT_OK_AND_ASSIGN(std::vector<Tensor> lm, RunBuilt(built, im, dloss));
      const double fd = 1.7 * (ToDoubles(lp[0])[0] - ToDoubles(lm[0])[0]) / (2 * h);
      EXPECT_NEAR(got[k], fd, 1e-7 + 1e-6 * std::abs(fd)) << k;
    }
  }
}

TEST(LossGradTest, GradientIntoLogProbIsUnimplemented) {
  Node fwd;
  fwd.name = "sce";
  fwd.op_type = "SoftmaxCrossEntropyLoss";
  fwd.inputs = {"s", "y"};
  fwd.outputs = {"loss", "lp"};
  const GradientBuilder* builder = DefaultRegistry().FindGradient("", fwd.op_type);
  ASSERT_NE(builder, nullptr);
  GradientContext ctx{
      fwd, 13, {"dloss", "dlp"}, {true, false}, [](const std::string& h) { return h + "_1"; }};
  auto nodes = (*builder)(ctx);
  ASSERT_FALSE(nodes.ok());
  EXPECT_EQ(nodes.status().code(), absl::StatusCode::kUnimplemented);
  // No upstream gradient: nothing emitted, no input gradient.
  ctx.output_grads = {"", ""};
  ASSERT_OK_AND_ASSIGN(GradientNodes none, (*builder)(ctx));
  EXPECT_TRUE(none.nodes.empty());
  EXPECT_EQ(none.input_grads, (std::vector<std::string>{"", ""}));
}

}  // namespace
}  // namespace onyx::loss_test
