// Norm gradients: the BatchNormalization (training and inference), LayerNormalization
// and InstanceNormalization builders through autograd, against central finite
// differences of sum(Y * R) in float64 for every differentiable input; float32
// against the same numbers; the legacy-opset training switch of the BN builder.
#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/mathgrad/grad_check.h"
#include "tests/unit/pool/run_node.h"

namespace onyx::pooltest {
namespace {

using mathgrad_test::AutogradGrads;
using mathgrad_test::FiniteDifferences;
using mathgrad_test::ForwardSpec;
using mathgrad_test::FromDoubles;
using mathgrad_test::RandomValues;
using mathgrad_test::RunForward;
using mathgrad_test::TestRegistry;
using mathgrad_test::ToDoubles;

// Inputs given as (shape, values); gradients checked for inputs `wrt`.
void CheckGradients(const std::string& op, std::vector<Attribute> attrs, int64_t opset,
                    const std::vector<Shape>& shapes,
                    const std::vector<std::vector<double>>& values,
                    const std::vector<size_t>& wrt) {
  ForwardSpec spec{op, attrs, {}, opset};
  ForwardSpec spec32{op, attrs, {}, opset};
  for (size_t i = 0; i < shapes.size(); ++i) {
    spec.inputs.push_back(FromDoubles(DataType::kFloat64, shapes[i], values[i]));
    spec32.inputs.push_back(FromDoubles(DataType::kFloat32, shapes[i], values[i]));
  }
  ASSERT_OK_AND_ASSIGN(Tensor y, RunForward(spec));
  const std::vector<double> rv = RandomValues(y.num_elements(), 77);
  const Tensor r = FromDoubles(DataType::kFloat64, y.shape(), rv);
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> grads, AutogradGrads(spec, r, wrt));
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> grads32,
                       AutogradGrads(spec32, FromDoubles(DataType::kFloat32, y.shape(), rv), wrt));
  for (size_t k = 0; k < wrt.size(); ++k) {
    SCOPED_TRACE(::testing::Message() << op << " d/d input " << wrt[k]);
    ASSERT_OK_AND_ASSIGN(std::vector<double> fd, FiniteDifferences(spec, r, wrt[k]));
    ASSERT_FALSE(grads[k].empty());
    ASSERT_EQ(grads[k].shape(), shapes[wrt[k]]);
    const std::vector<double> got = ToDoubles(grads[k]), got32 = ToDoubles(grads32[k]);
    for (size_t i = 0; i < fd.size(); ++i) {
      ASSERT_NEAR(got[i], fd[i], 1e-6 * (1 + std::fabs(fd[i]))) << "at " << i;
      ASSERT_NEAR(got32[i], fd[i], 2e-4 * (1 + std::fabs(fd[i]))) << "float32 at " << i;
    }
  }
}

TEST(NormGrad, BatchNormTrainingMode) {
  const std::vector<Shape> shapes = {{4, 3, 5}, {3}, {3}, {3}, {3}};
  CheckGradients("BatchNormalization", {Int("training_mode", 1), Float("epsilon", 1e-3f)}, 15,
                 shapes,
                 {RandomValues(60, 1, -2, 2), RandomValues(3, 2, 0.5, 1.5), RandomValues(3, 3),
                  RandomValues(3, 4), RandomValues(3, 5, 0.5, 1.5)},
                 {0, 1, 2});
  // Rows of >= 16 values take the long-row reduction path.
  CheckGradients("BatchNormalization", {Int("training_mode", 1)}, 15,
                 {{3, 2, 4, 5}, {2}, {2}, {2}, {2}},
                 {RandomValues(120, 11, -2, 2), RandomValues(2, 12, 0.5, 1.5), RandomValues(2, 13),
                  RandomValues(2, 14), RandomValues(2, 15, 0.5, 1.5)},
                 {0, 1, 2});
  // [N, C] input (BatchNorm1d-style).
  CheckGradients("BatchNormalization", {Int("training_mode", 1)}, 15, {{6, 4}, {4}, {4}, {4}, {4}},
                 {RandomValues(24, 6, -2, 2), RandomValues(4, 7, 0.5, 1.5), RandomValues(4, 8),
                  RandomValues(4, 9), RandomValues(4, 10, 0.5, 1.5)},
                 {0, 1, 2});
}

TEST(NormGrad, BatchNormInference) {
  CheckGradients("BatchNormalization", {}, 15, {{2, 3, 2, 3}, {3}, {3}, {3}, {3}},
                 {RandomValues(36, 1, -2, 2), RandomValues(3, 2, 0.5, 1.5), RandomValues(3, 3),
                  RandomValues(3, 4), RandomValues(3, 5, 0.5, 1.5)},
                 {0, 1, 2});
}

TEST(NormGrad, BatchNormLegacyOpsetTrainsWhenStatsAreRequested) {
  Node fwd;
  fwd.name = "bn";
  fwd.op_type = "BatchNormalization";
  fwd.inputs = {"x", "s", "b", "m", "v"};
  fwd.outputs = {"y", "rm", "rv", "sm", "sv"};
  const GradientBuilder* builder = TestRegistry().FindGradient("", "BatchNormalization");
  ASSERT_NE(builder, nullptr);
  for (bool with_stats : {true, false}) {
    if (!with_stats) fwd.outputs = {"y"};
    int counter = 0;
    GradientContext ctx{
        fwd, 9, {"dy"}, {true, true, true, false, false}, [&](const std::string& h) {
          return h + std::to_string(counter++);
        }};
    ctx.output_grads.resize(fwd.outputs.size());
    ASSERT_OK_AND_ASSIGN(GradientNodes g, (*builder)(ctx));
    ASSERT_EQ(g.nodes.size(), 1u);
    EXPECT_EQ(g.nodes[0].op_type, "BatchNormalizationGrad");
    ASSERT_OK_AND_ASSIGN(int64_t training, g.nodes[0].GetInt("training_mode", -1));
    EXPECT_EQ(training, with_stats ? 1 : 0);
    EXPECT_FALSE(g.input_grads[0].empty());
    EXPECT_TRUE(g.input_grads[3].empty());
  }
}

TEST(NormGrad, LayerNorm) {
  CheckGradients("LayerNormalization", {Float("epsilon", 1e-3f)}, 17, {{3, 2, 5}, {5}, {5}},
                 {RandomValues(30, 1, -2, 2), RandomValues(5, 2, 0.5, 1.5), RandomValues(5, 3)},
                 {0, 1, 2});
  CheckGradients("LayerNormalization", {Int("axis", 1)}, 17, {{3, 2, 4}, {2, 4}, {2, 4}},
                 {RandomValues(24, 4, -2, 2), RandomValues(8, 5, 0.5, 1.5), RandomValues(8, 6)},
                 {0, 1, 2});
  // Broadcast Scale [1, 4] over [2, 4]: dScale folds back; no B.
  CheckGradients("LayerNormalization", {Int("axis", 1)}, 17, {{3, 2, 4}, {1, 4}},
                 {RandomValues(24, 7, -2, 2), RandomValues(4, 8, 0.5, 1.5)}, {0, 1});
}

TEST(NormGrad, InstanceNorm) {
  CheckGradients("InstanceNormalization", {Float("epsilon", 1e-3f)}, 22, {{2, 3, 4, 2}, {3}, {3}},
                 {RandomValues(48, 1, -2, 2), RandomValues(3, 2, 0.5, 1.5), RandomValues(3, 3)},
                 {0, 1, 2});
}

}  // namespace
}  // namespace onyx::pooltest
