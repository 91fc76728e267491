// Gradient builders of the elementwise activations, PRelu and Identity: the backward
// graph autograd builds from them against central finite differences in float64.
#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/gradient.h"
#include "tests/status_matchers.h"
#include "tests/unit/actgrad/grad_harness.h"

namespace onyx::actgrad_test {
namespace {

struct EltwiseCase {
  std::string label;
  std::string op_type;
  std::vector<Attribute> attrs;
  std::vector<double> kinks;  // points where f' jumps: inputs keep away from them
  bool reads_output;          // the backward node reads Y (else X)
};

std::vector<EltwiseCase> EltwiseCases() {
  return {
      {"Relu", "Relu", {}, {0}, true},
      {"LeakyRelu", "LeakyRelu", {FloatAttr("alpha", 0.1f)}, {0}, false},
      {"LeakyReluNegAlpha", "LeakyRelu", {FloatAttr("alpha", -0.5f)}, {0}, false},
      {"Sigmoid", "Sigmoid", {}, {}, true},
      {"Tanh", "Tanh", {}, {}, true},
      {"Softplus", "Softplus", {}, {}, false},
      {"Elu", "Elu", {FloatAttr("alpha", 0.7f)}, {0}, false},
      {"Selu", "Selu", {}, {0}, false},
      {"SeluAttrs", "Selu", {FloatAttr("alpha", 1.5f), FloatAttr("gamma", 2.f)}, {0}, false},
      {"Celu", "Celu", {FloatAttr("alpha", 0.5f)}, {0}, false},
      {"Gelu", "Gelu", {}, {}, false},
      {"GeluTanh", "Gelu", {StringAttr("approximate", "tanh")}, {}, false},
      {"Mish", "Mish", {}, {}, false},
      {"HardSigmoid", "HardSigmoid", {FloatAttr("alpha", 0.3f), FloatAttr("beta", 0.4f)},
       {-0.4 / 0.3, 0.6 / 0.3}, false},
      {"HardSigmoidDefault", "HardSigmoid", {}, {-2.5, 2.5}, false},
      {"HardSwish", "HardSwish", {}, {-3, 3}, false},
      {"Swish", "Swish", {FloatAttr("alpha", 0.8f)}, {}, false},
      {"ThresholdedRelu", "ThresholdedRelu", {FloatAttr("alpha", 0.5f)}, {0.5}, false},
  };
}

struct EltwiseParam {
  EltwiseCase c;
  DataType dtype;
};

void PrintTo(const EltwiseParam& p, std::ostream* os) {
  *os << p.c.label << "/" << DataTypeName(p.dtype);
}

class EltwiseGradTest : public ::testing::TestWithParam<EltwiseParam> {};

TEST_P(EltwiseGradTest, MatchesFiniteDifferences) {
  const EltwiseCase& c = GetParam().c;
  const DataType dtype = GetParam().dtype;
  const std::vector<Shape> shapes = {{2, 3, 5}};
  const std::vector<double> x = TestValues(30, 1, -4.5, 4.5, c.kinks);
  const std::vector<double> r = TestValues(30, 2, -1.5, 1.5);

  ASSERT_OK_AND_ASSIGN(
      GradientGraph gg,
      BuildGradientGraph(LossGraph(c.op_type, c.attrs, shapes, dtype, 24), "loss", {"x0"},
                         TestRegistry()));
  ASSERT_EQ(gg.grad_names.size(), 1u);
  ASSERT_FALSE(gg.grad_names[0].empty());
  // Exactly one <Op>Grad node reading (dY, Y or X) with the forward's attributes.
  int grad_nodes = 0;
  for (const Node& n : gg.graph.nodes) {
    if (n.op_type != c.op_type + "Grad") continue;
    ++grad_nodes;
    EXPECT_EQ(n.domain, kOnyxDomain);
    ASSERT_EQ(n.inputs.size(), 2u);
    EXPECT_EQ(n.inputs[1], c.reads_output ? "y" : "x0");
    EXPECT_EQ(n.attributes.size(), c.attrs.size());
    ASSERT_EQ(n.outputs.size(), 1u);
    EXPECT_EQ(n.outputs[0], gg.grad_names[0]);
  }
  EXPECT_EQ(grad_nodes, 1);

  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out, RunGraph(gg.graph, dtype, {x}, shapes, r));
  ASSERT_EQ(out.size(), 2u);
  ASSERT_EQ(out[1].dtype(), dtype);
  ASSERT_EQ(out[1].shape(), shapes[0]);
  const std::vector<double> grad = ToDoubles(out[1]);
  ASSERT_OK_AND_ASSIGN(
      std::vector<double> fd,
      FiniteDifferences(LossGraph(c.op_type, c.attrs, shapes, DataType::kFloat64, 24), {x},
                        shapes, r, 0, 1e-5));
  const double tol = dtype == DataType::kFloat64 ? 1e-7 : 2e-5;
  for (size_t i = 0; i < fd.size(); ++i) {
    EXPECT_NEAR(grad[i], fd[i], tol * (1 + std::fabs(fd[i]))) << "x = " << x[i];
  }
}

std::vector<EltwiseParam> EltwiseParams() {
  std::vector<EltwiseParam> params;
  for (const EltwiseCase& c : EltwiseCases()) {
    params.push_back({c, DataType::kFloat64});
    params.push_back({c, DataType::kFloat32});
  }
  return params;
}

INSTANTIATE_TEST_SUITE_P(
    Activations, EltwiseGradTest, ::testing::ValuesIn(EltwiseParams()),
    [](const ::testing::TestParamInfo<EltwiseParam>& info) {
      return info.param.c.label + (info.param.dtype == DataType::kFloat64 ? "_f64" : "_f32");
    });

// Gradient is exactly zero on the flat side, the identity on the linear side.
TEST(EltwiseGradTest, ReluGradientIsAStep) {
  const std::vector<Shape> shapes = {{4}};
  ASSERT_OK_AND_ASSIGN(GradientGraph gg,
                       BuildGradientGraph(LossGraph("Relu", {}, shapes, DataType::kFloat64, 14),
                                          "loss", {"x0"}, TestRegistry()));
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out,
                       RunGraph(gg.graph, DataType::kFloat64, {{-2, -0.5, 0.5, 3}}, shapes,
                                {1.5, 2, -3, 4}));
  EXPECT_EQ(ToDoubles(out[1]), (std::vector<double>{0, 0, -3, 4}));
}

TEST(EltwiseGradTest, BadAttributeIsAnError) {
  const std::vector<Shape> shapes = {{4}};
  auto gg = BuildGradientGraph(
      LossGraph("Gelu", {StringAttr("approximate", "cubic")}, shapes, DataType::kFloat64, 20),
      "loss", {"x0"}, TestRegistry());
  EXPECT_EQ(gg.status().code(), absl::StatusCode::kInvalidArgument) << gg.status();
}

TEST(IdentityGradTest, PassesDyThrough) {
  const std::vector<Shape> shapes = {{2, 3}};
  const std::vector<double> x = TestValues(6, 3, -2, 2);
  const std::vector<double> r = TestValues(6, 4, -2, 2);
  ASSERT_OK_AND_ASSIGN(
      GradientGraph gg,
      BuildGradientGraph(LossGraph("Identity", {}, shapes, DataType::kFloat64, 21), "loss",
                         {"x0"}, TestRegistry()));
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out,
                       RunGraph(gg.graph, DataType::kFloat64, {x}, shapes, r));
  EXPECT_EQ(ToDoubles(out[1]), r);
}

struct PReluCase {
  std::string label;
  Shape x;
  Shape slope;
};

void PrintTo(const PReluCase& c, std::ostream* os) { *os << c.label; }

class PReluGradTest : public ::testing::TestWithParam<PReluCase> {};

TEST_P(PReluGradTest, MatchesFiniteDifferences) {
  const PReluCase& c = GetParam();
  const std::vector<Shape> shapes = {c.x, c.slope};
  const std::vector<double> x = TestValues(NumElements(c.x), 5, -3, 3, {0});
  const std::vector<double> slope = TestValues(NumElements(c.slope), 6, -0.5, 1.5);
  const std::vector<double> r = TestValues(NumElements(c.x), 7, -1.5, 1.5);
  for (DataType dtype : {DataType::kFloat64, DataType::kFloat32}) {
    SCOPED_TRACE(DataTypeName(dtype));
    ASSERT_OK_AND_ASSIGN(GradientGraph gg,
                         BuildGradientGraph(LossGraph("PRelu", {}, shapes, dtype, 16), "loss",
                                            {"x0", "x1"}, TestRegistry()));
    ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out,
                         RunGraph(gg.graph, dtype, {x, slope}, shapes, r));
    ASSERT_EQ(out.size(), 3u);
    ASSERT_EQ(out[1].shape(), c.x);
    ASSERT_EQ(out[2].shape(), c.slope);
    const double tol = dtype == DataType::kFloat64 ? 1e-7 : 2e-5;
    for (size_t which : {0, 1}) {
      SCOPED_TRACE(which == 0 ? "dX" : "dSlope");
      ASSERT_OK_AND_ASSIGN(
          std::vector<double> fd,
          FiniteDifferences(LossGraph("PRelu", {}, shapes, DataType::kFloat64, 16),
                            {x, slope}, shapes, r, which, 1e-5));
      const std::vector<double> grad = ToDoubles(out[1 + which]);
      for (size_t i = 0; i < fd.size(); ++i) {
        EXPECT_NEAR(grad[i], fd[i], tol * (1 + std::fabs(fd[i]))) << i;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, PReluGradTest,
    ::testing::Values(PReluCase{"SameShape", {2, 3}, {2, 3}},
                      PReluCase{"Channel", {2, 3, 2, 2}, {3, 1, 1}},
                      PReluCase{"LastDim", {2, 3, 4}, {4}},
                      PReluCase{"Scalar", {3, 4}, {1}},
                      PReluCase{"Middle", {2, 3, 4}, {3, 1}}),
    [](const ::testing::TestParamInfo<PReluCase>& info) { return info.param.label; });

// Only the slope is trained: the PReluGrad node omits its dX output.
TEST(PReluGradTest, OnlySlopeWanted) {
  const std::vector<Shape> shapes = {{2, 2}, {2}};
  ASSERT_OK_AND_ASSIGN(
      GradientGraph gg,
      BuildGradientGraph(LossGraph("PRelu", {}, shapes, DataType::kFloat64, 16), "loss",
                         {"x1"}, TestRegistry()));
  int found = 0;
  for (const Node& n : gg.graph.nodes) {
    if (n.op_type != "PReluGrad") continue;
    ++found;
    ASSERT_EQ(n.outputs.size(), 2u);
    EXPECT_EQ(n.outputs[0], "");
    EXPECT_EQ(n.outputs[1], gg.grad_names[0]);
  }
  EXPECT_EQ(found, 1);
  // x = [[-1, 2], [-3, 4]], r = [[1, 1], [2, 1]]: dslope = [-1*1 + -3*2, 0] = [-7, 0].
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out,
                       RunGraph(gg.graph, DataType::kFloat64, {{-1, 2, -3, 4}, {0.5, 0.5}},
                                shapes, {1, 1, 2, 1}));
  EXPECT_EQ(ToDoubles(out[1]), (std::vector<double>{-7, 0}));
}

}  // namespace
}  // namespace onyx::actgrad_test
