// Losses and their gradients against numbers produced by PyTorch 1.13 (float32),
// pasted below so the test needs no Python. The script that printed them:
//
//   import torch
//   def p(name, t):
//       print("// %s\n{%s}" % (name, ", ".join("%.9g" % v for v in
//       t.detach().reshape(-1).tolist())))
//   x = torch.tensor([[0.5, -1.2, 2.0, 0.3, -0.7], [1.5, 0.2, -0.4, 3.1, 0.0],
//                     [-2.0, 0.9, 0.4, -0.1, 1.7], [0.05, 0.6, -1.5, 2.2, -0.3]],
//                    requires_grad=True)
//   y = torch.tensor([2, 0, -100, 4]); w = torch.tensor([0.5, 1.0, 2.0, 1.5, 0.8])
//   for red in ["mean", "sum", "none"]:
//       l = torch.nn.functional.cross_entropy(x, y, weight=w, ignore_index=-100,
//                                             label_smoothing=0.1, reduction=red)
//       p("ce_w_ls_" + red, l)
//       g, = torch.autograd.grad(l.sum(), x); p("ce_w_ls_" + red + "_grad", g)
//   x2 = torch.tensor([[[0.1, -0.5], [1.2, 0.3], [-0.8, 2.0]],
//                      [[0.7, 0.0], [-1.1, 0.4], [0.9, -0.2]]], requires_grad=True)
//   y2 = torch.tensor([[0, 1], [2, 1]])
//   l = torch.nn.functional.cross_entropy(x2, y2, ignore_index=1, label_smoothing=0.2)
//   p("ce_nd_ii1_ls02_mean", l)
//   g, = torch.autograd.grad(l, x2); p("ce_nd_ii1_ls02_mean_grad", g)
//   pr = torch.tensor([0.0, 1.0, 0.3, 0.999, 1e-8, 0.5, 1.0, 0.0], requires_grad=True)
//   t = torch.tensor([0.0, 0.0, 1.0, 1.0, 1.0, 0.3, 1.0, 1.0])
//   for red in ["none", "mean"]:
//       l = torch.nn.functional.binary_cross_entropy(pr, t, reduction=red)
//       p("bce_" + red, l)
//       g, = torch.autograd.grad(l.sum(), pr); p("bce_" + red + "_grad", g)
//   z = torch.tensor([-200.0, -30.0, -1.0, 0.0, 2.5, 40.0, 150.0], requires_grad=True)
//   tz = torch.tensor([0.0, 1.0, 0.25, 0.5, 1.0, 0.0, 1.0])
//   for red in ["none", "sum"]:
//       l = torch.nn.functional.binary_cross_entropy_with_logits(z, tz, reduction=red)
//       p("bcel_" + red, l)
//       g, = torch.autograd.grad(l.sum(), z); p("bcel_" + red + "_grad", g)
//   a = torch.tensor([[1.0, -2.0, 0.5], [3.0, 0.25, -1.5]], requires_grad=True)
//   b = torch.tensor([[0.5, -1.0, 0.5], [1.0, 1.25, 2.0]])
//   for red in ["mean", "sum"]:
//       l = torch.nn.functional.mse_loss(a, b, reduction=red)
//       p("mse_" + red, l)
//       g, = torch.autograd.grad(l, a); p("mse_" + red + "_grad", g)
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/training/autograd.h"
#include "tests/status_matchers.h"
#include "tests/unit/loss/loss_test_util.h"

namespace onyx::loss_test {
namespace {

void ExpectClose(const Tensor& got, const std::vector<double>& want, double rtol = 1e-5,
                 double atol = 1e-6) {
  const std::vector<double> g = ToDoubles(got);
  ASSERT_EQ(g.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(g[i], want[i], atol + rtol * std::abs(want[i])) << "element " << i;
  }
}

// ---- CrossEntropyLoss(weight, ignore_index = -100, label_smoothing = 0.1) ----
const std::vector<float> kCeX = {0.5,  -1.2, 2.0, 0.3,  -0.7, 1.5,  0.2, -0.4, 3.1, 0.0,
                                 -2.0, 0.9,  0.4, -0.1, 1.7,  0.05, 0.6, -1.5, 2.2, -0.3};
const std::vector<int64_t> kCeY = {2, 0, -100, 4};
const std::vector<float> kCeW = {0.5, 1.0, 2.0, 1.5, 0.8};
const std::vector<double> kCeSumGrad = {0.27241686,
                                        0.0315928981,
                                        -0.574295521,
                                        0.201223314,
                                        0.0690623075,
                                        -0.374219835,
                                        0.00337782083,
                                        -0.0271699801,
                                        0.394871831,
                                        0.0031401387,
                                        0,
                                        0,
                                        0,
                                        0,
                                        0,
                                        0.0583282895,
                                        0.0984302238,
                                        -0.025497457,
                                        0.556588769,
                                        -0.68784982};
const std::vector<double> kCeMeanGrad = {0.0825505629,
                                         0.00957360584,
                                         -0.174028963,
                                         0.060976766,
                                         0.0209279731,
                                         -0.113399953,
                                         0.00102358311,
                                         -0.00823332649,
                                         0.119658142,
                                         0.000951558119,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0,
                                         0.0176752396,
                                         0.0298273414,
                                         -0.00772650214,
                                         0.168663263,
                                         -0.208439365};

struct CeCase {
  const char* reduction;
  std::vector<double> loss;
  const std::vector<double>* grad;  // of loss.sum()
};

TEST(TorchReferenceTest, CrossEntropyWithWeightsIgnoreIndexAndLabelSmoothing) {
  const std::vector<CeCase> cases = {
      {"mean", {1.34885609}, &kCeMeanGrad},
      {"sum", {4.45122528}, &kCeSumGrad},
      {"none", {0.967594266, 1.14593244, 0, 2.33769846}, &kCeSumGrad},
  };
  const Tensor x = Make<float>({4, 5}, kCeX);
  const Tensor y = Make<int64_t>({4}, kCeY);
  const Tensor w = Make<float>({5}, kCeW);
  for (const CeCase& c : cases) {
    SCOPED_TRACE(c.reduction);
    const std::vector<Attribute> attrs = {StringAttr("reduction", c.reduction),
                                          FloatAttr("label_smoothing", 0.1f)};
    ASSERT_OK_AND_ASSIGN(Tensor loss, RunOne(kOnyxDomain, "CrossEntropyLoss", {x, y, w}, attrs));
    ExpectClose(loss, c.loss);
    const Tensor dloss =
        std::string(c.reduction) == "none" ? Make<float>({4}, {1, 1, 1, 1}) : Make<float>({}, {1});
    std::vector<Attribute> grad_attrs = attrs;
    grad_attrs.push_back(StringAttr("input_kind", "scores"));
    ASSERT_OK_AND_ASSIGN(Tensor dx,
                         RunOne(kOnyxDomain, "CrossEntropyLossGrad", {dloss, x, y, w}, grad_attrs));
    ExpectClose(dx, *c.grad);
  }
}

TEST(TorchReferenceTest, CrossEntropySpatialIgnoreIndexLabelSmoothing) {
  const Tensor x =
      Make<float>({2, 3, 2}, {0.1, -0.5, 1.2, 0.3, -0.8, 2.0, 0.7, 0.0, -1.1, 0.4, 0.9, -0.2});
  const Tensor y = Make<int32_t>({2, 2}, {0, 1, 2, 1});
  const std::vector<Attribute> attrs = {IntAttr("ignore_index", 1),
                                        FloatAttr("label_smoothing", 0.2f)};
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out,
                       RunNode(kOnyxDomain, "CrossEntropyLoss", {x, y}, attrs, 2));
  ExpectClose(out[0], {1.14364362});
  // Backward through the log_prob output (the default input_kind).
  ASSERT_OK_AND_ASSIGN(Tensor dx, RunOne(kOnyxDomain, "CrossEntropyLossGrad",
                                         {Make<float>({}, {1}), out[1], y}, attrs));
  ExpectClose(dx, {-0.319973588, 0, 0.307218254, 0, 0.0127553083, 0, 0.176160812, 0, 0.00129581243,
                   0, -0.177456617, 0});
}

// The lead's autograd, seeded with d(loss) = 1, through the CrossEntropyLoss
// gradient builder: the same numbers as torch's loss.backward().
TEST(TorchReferenceTest, AutogradThroughCrossEntropyMatchesTorch) {
  Graph graph;
  graph.opset_imports[""] = 13;
  graph.opset_imports[kOnyxDomain] = 1;
  const Tensor x = Make<float>({4, 5}, kCeX);
  graph.inputs.push_back(InputInfo("x", x));
  graph.initializers["y"] = Make<int64_t>({4}, kCeY);
  graph.initializers["w"] = Make<float>({5}, kCeW);
  Node node;
  node.name = "ce";
  node.op_type = "CrossEntropyLoss";
  node.domain = kOnyxDomain;
  node.inputs = {"x", "y", "w"};
  node.outputs = {"loss", "log_prob"};
  node.attributes = {FloatAttr("label_smoothing", 0.1f)};
  graph.nodes.push_back(node);
  ValueInfo loss;
  loss.name = "loss";
  graph.outputs.push_back(loss);
  ASSERT_OK_AND_ASSIGN(GradientGraph grad,
                       BuildGradientGraph(graph, "loss", {"x"}, DefaultRegistry()));
  ASSERT_EQ(grad.grad_names.size(), 1u);
  ASSERT_FALSE(grad.grad_names[0].empty());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Session> session,
                       Session::Create(grad.graph, DefaultRegistry()));
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out, session->Run({{"x", x}}));
  ASSERT_EQ(out.size(), 2u);
  ExpectClose(out[0], {1.34885609});
  ExpectClose(out[1], kCeMeanGrad);
}

// ---- BCELoss with probabilities 0 and 1 (log clamped to >= -100) ----
const std::vector<float> kBceP = {0.0, 1.0, 0.3, 0.999, 1e-8, 0.5, 1.0, 0.0};
const std::vector<float> kBceT = {0.0, 0.0, 1.0, 1.0, 1.0, 0.3, 1.0, 1.0};

TEST(TorchReferenceTest, BceLossClampsLogAtZeroAndOne) {
  const Tensor p = Make<float>({8}, kBceP);
  const Tensor t = Make<float>({8}, kBceT);
  ASSERT_OK_AND_ASSIGN(Tensor none,
                       RunOne(kOnyxDomain, "BceLoss", {p, t}, {StringAttr("reduction", "none")}));
  ExpectClose(none, {0, 100, 1.20397282, 0.00100048748, 18.420681, 0.693147182, 0, 100});
  ASSERT_OK_AND_ASSIGN(Tensor mean, RunOne(kOnyxDomain, "BceLoss", {p, t}));
  ExpectClose(mean, {27.5398502});
  // torch's backward: (p - t) / max(p(1-p), 1e-12), finite at the end points.
  ASSERT_OK_AND_ASSIGN(Tensor dnone, RunOne(kOnyxDomain, "BceLossGrad",
                                            {Make<float>({8}, std::vector<float>(8, 1.f)), p, t},
                                            {StringAttr("reduction", "none")}));
  ExpectClose(
      dnone,
      {0, 9.99999996e+11, -3.33333325, -1.001001, -100000000, 0.799999952, 0, -9.99999996e+11},
      1e-4);
  ASSERT_OK_AND_ASSIGN(Tensor dmean,
                       RunOne(kOnyxDomain, "BceLossGrad", {Make<float>({}, {1}), p, t}));
  ExpectClose(
      dmean,
      {0, 1.24999999e+11, -0.416666657, -0.125125125, -12500000, 0.099999994, 0, -1.24999999e+11},
      1e-4);
}

// ---- BCEWithLogitsLoss with large |x| ----
TEST(TorchReferenceTest, BceWithLogitsStableForLargeLogits) {
  const Tensor z = Make<float>({7}, {-200.0, -30.0, -1.0, 0.0, 2.5, 40.0, 150.0});
  const Tensor t = Make<float>({7}, {0.0, 1.0, 0.25, 0.5, 1.0, 0.0, 1.0});
  ASSERT_OK_AND_ASSIGN(Tensor none, RunOne(kOnyxDomain, "BceWithLogitsLoss", {z, t},
                                           {StringAttr("reduction", "none")}));
  ExpectClose(none, {0, 30, 0.563261628, 0.693147182, 0.0788897499, 40, 0});
  ASSERT_OK_AND_ASSIGN(Tensor sum, RunOne(kOnyxDomain, "BceWithLogitsLoss", {z, t},
                                          {StringAttr("reduction", "sum")}));
  ExpectClose(sum, {71.3352966});
  const std::vector<double> grad = {0, -1, 0.0189414322, 0, -0.0758581758, 1, 0};
  ASSERT_OK_AND_ASSIGN(Tensor dsum,
                       RunOne(kOnyxDomain, "BceWithLogitsLossGrad", {Make<float>({}, {1}), z, t},
                              {StringAttr("reduction", "sum")}));
  ExpectClose(dsum, grad);
}

// ---- MSELoss ----
TEST(TorchReferenceTest, MseLoss) {
  const Tensor a = Make<float>({2, 3}, {1.0, -2.0, 0.5, 3.0, 0.25, -1.5});
  const Tensor b = Make<float>({2, 3}, {0.5, -1.0, 0.5, 1.0, 1.25, 2.0});
  ASSERT_OK_AND_ASSIGN(Tensor mean, RunOne(kOnyxDomain, "MseLoss", {a, b}));
  ExpectClose(mean, {3.08333325});
  ASSERT_OK_AND_ASSIGN(Tensor sum,
                       RunOne(kOnyxDomain, "MseLoss", {a, b}, {StringAttr("reduction", "sum")}));
  ExpectClose(sum, {18.5});
  ASSERT_OK_AND_ASSIGN(Tensor dmean,
                       RunOne(kOnyxDomain, "MseLossGrad", {Make<float>({}, {1}), a, b}));
  ExpectClose(dmean, {0.166666672, -0.333333343, 0, 0.666666687, -0.333333343, -1.16666675});
  ASSERT_OK_AND_ASSIGN(Tensor dsum, RunOne(kOnyxDomain, "MseLossGrad", {Make<float>({}, {1}), a, b},
                                           {StringAttr("reduction", "sum")}));
  ExpectClose(dsum, {1, -2, 0, 4, -2, -7});
}

}  // namespace
}  // namespace onyx::loss_test
