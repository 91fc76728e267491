// Gradients of the elementwise ops through autograd against central finite
// differences in float64 (inputs kept away from kinks and ties), plus float32
// runs against the float64 result.
#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/mathgrad/grad_check.h"

namespace onyx::mathgrad_test {
namespace {

// Autograd's gradients of every input in `wrt` against finite differences.
void CheckAgainstFiniteDifferences(const ForwardSpec& spec, const std::vector<size_t>& wrt,
                                   double tol = 1e-6) {
  ASSERT_OK_AND_ASSIGN(Tensor y, RunForward(spec));
  const Tensor r = FromDoubles(y.dtype(), y.shape(), RandomValues(y.num_elements(), 99));
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> grads, AutogradGrads(spec, r, wrt));
  ASSERT_EQ(grads.size(), wrt.size());
  for (size_t k = 0; k < wrt.size(); ++k) {
    const Tensor& x = spec.inputs[wrt[k]];
    ASSERT_FALSE(grads[k].empty()) << spec.op << " input " << wrt[k];
    ASSERT_EQ(grads[k].shape(), x.shape()) << spec.op;
    ASSERT_OK_AND_ASSIGN(std::vector<double> fd, FiniteDifferences(spec, r, wrt[k]));
    const std::vector<double> got = ToDoubles(grads[k]);
    for (size_t i = 0; i < fd.size(); ++i) {
      EXPECT_NEAR(got[i], fd[i], tol * (1 + std::fabs(fd[i])))
          << spec.op << " input " << wrt[k] << " element " << i;
    }
  }
}

struct UnaryGradCase {
  std::string op;
  double lo, hi;
};

class UnaryGradTest : public ::testing::TestWithParam<UnaryGradCase> {};

TEST_P(UnaryGradTest, MatchesFiniteDifferences) {
  const UnaryGradCase& c = GetParam();
  std::vector<double> x = RandomValues(24, 7, c.lo, c.hi);
  // Floor/Ceil/Round/Sign/Abs have kinks at (half-)integers and 0: nudge away.
  for (double& v : x) {
    const double frac = v - std::floor(v);
    if (frac < 0.05 || frac > 0.95 || std::fabs(frac - 0.5) < 0.05) v += 0.2;
  }
  CheckAgainstFiniteDifferences({c.op, {}, {FromDoubles(DataType::kFloat64, {4, 6}, x)}}, {0});
}

TEST_P(UnaryGradTest, Float32MatchesFloat64) {
  const UnaryGradCase& c = GetParam();
  const std::vector<double> x = RandomValues(12, 8, c.lo, c.hi, 0.1);
  const std::vector<double> r = RandomValues(12, 9);
  std::vector<double> g[2];
  int k = 0;
  for (DataType dt : {DataType::kFloat32, DataType::kFloat64}) {
    ForwardSpec spec{c.op, {}, {FromDoubles(dt, {12}, x)}};
    ASSERT_OK_AND_ASSIGN(std::vector<Tensor> grads,
                         AutogradGrads(spec, FromDoubles(dt, {12}, r), {0}));
    ASSERT_EQ(grads[0].dtype(), dt);
    g[k++] = ToDoubles(grads[0]);
  }
  for (size_t i = 0; i < 12; ++i) EXPECT_NEAR(g[0][i], g[1][i], 1e-5 * (1 + std::fabs(g[1][i])));
}

INSTANTIATE_TEST_SUITE_P(
    Ops, UnaryGradTest,
    ::testing::Values(UnaryGradCase{"Sqrt", 0.2, 5}, UnaryGradCase{"Exp", -3, 3},
                      UnaryGradCase{"Log", 0.2, 5}, UnaryGradCase{"Neg", -3, 3},
                      UnaryGradCase{"Abs", -3, 3}, UnaryGradCase{"Erf", -2, 2},
                      UnaryGradCase{"Reciprocal", 0.3, 4}, UnaryGradCase{"Sign", -3, 3},
                      UnaryGradCase{"Floor", -3, 3}, UnaryGradCase{"Ceil", -3, 3},
                      UnaryGradCase{"Round", -3, 3}, UnaryGradCase{"Sin", -4, 4},
                      UnaryGradCase{"Cos", -4, 4}, UnaryGradCase{"Softsign", -4, 4}),
    [](const auto& info) { return info.param.op; });

TEST(PowGradTest, BothInputsWithBroadcasting) {
  const Tensor a = FromDoubles(DataType::kFloat64, {2, 3}, RandomValues(6, 1, 0.3, 2.5));
  const Tensor b = FromDoubles(DataType::kFloat64, {3}, RandomValues(3, 2, -2, 3));
  CheckAgainstFiniteDifferences({"Pow", {}, {a, b}, 15}, {0, 1});
  // As exponent B may be negative; as base it must stay positive.
  const Tensor pos = FromDoubles(DataType::kFloat64, {3}, RandomValues(3, 4, 0.5, 3));
  CheckAgainstFiniteDifferences({"Pow", {}, {pos, a}, 15}, {0, 1});
}

TEST(ClipGradTest, InputsFormAndAttributeForm) {
  std::vector<double> x = RandomValues(20, 3, -3, 3);
  for (double& v : x) {
    if (std::fabs(std::fabs(v) - 1.5) < 0.05) v += 0.2;  // away from the bounds
  }
  const Tensor tx = FromDoubles(DataType::kFloat64, {4, 5}, x);
  CheckAgainstFiniteDifferences({"Clip", {}, {tx, FromDoubles(DataType::kFloat64, {}, {-1.5}),
                                              FromDoubles(DataType::kFloat64, {}, {1.5})}},
                                {0});
  CheckAgainstFiniteDifferences(
      {"Clip", {FloatAttr("min", -1.5f), FloatAttr("max", 1.5f)}, {tx}, 6}, {0});
}

TEST(VariadicGradTest, MinMaxSumMeanWithBroadcasting) {
  // Distinct values everywhere: no ties, so Min/Max are differentiable.
  const Tensor a = FromDoubles(DataType::kFloat64, {2, 3}, RandomValues(6, 11));
  const Tensor b = FromDoubles(DataType::kFloat64, {3}, RandomValues(3, 12));
  const Tensor c = FromDoubles(DataType::kFloat64, {2, 1}, RandomValues(2, 13));
  for (const std::string op : {"Min", "Max", "Sum", "Mean"}) {
    CheckAgainstFiniteDifferences({op, {}, {a, b, c}}, {0, 1, 2});
  }
}

TEST(VariadicGradTest, MaxSplitsTiesEvenly) {
  const Tensor a = FromDoubles(DataType::kFloat64, {2}, {1.0, 5.0});
  const Tensor b = FromDoubles(DataType::kFloat64, {2}, {1.0, 2.0});
  const Tensor r = FromDoubles(DataType::kFloat64, {2}, {4.0, 3.0});
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> g, AutogradGrads({"Max", {}, {a, b}}, r, {0, 1}));
  EXPECT_EQ(ToDoubles(g[0]), (std::vector<double>{2.0, 3.0}));
  EXPECT_EQ(ToDoubles(g[1]), (std::vector<double>{2.0, 0.0}));
}

TEST(GatherElementsGradTest, RepeatedIndicesAccumulate) {
  const Tensor data = FromDoubles(DataType::kFloat64, {3, 4}, RandomValues(12, 21));
  const Tensor idx = Tensor::FromVector<int64_t>({2, 4}, std::vector<int64_t>{0, 2, -1, 1, 0, 0, 2, 1})
                         .value();
  CheckAgainstFiniteDifferences({"GatherElements", {IntAttr("axis", 0)}, {data, idx}}, {0});
  const Tensor idx1 = Tensor::FromVector<int64_t>({3, 2}, std::vector<int64_t>{3, 3, 0, 1, 2, -4})
                          .value();
  CheckAgainstFiniteDifferences({"GatherElements", {IntAttr("axis", 1)}, {data, idx1}}, {0});
}

TEST(CastLikeGradTest, CastsTheGradientBackToTheInputsDtype) {
  const Tensor x = FromDoubles(DataType::kFloat64, {3}, {0.5, -1.25, 2.0});
  const Tensor like = FromDoubles(DataType::kFloat32, {1}, {0.0});
  const Tensor r = FromDoubles(DataType::kFloat32, {3}, {1.5, -2.0, 0.25});
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> g, AutogradGrads({"CastLike", {}, {x, like}, 15}, r, {0}));
  ASSERT_EQ(g[0].dtype(), DataType::kFloat64);
  EXPECT_EQ(ToDoubles(g[0]), (std::vector<double>{1.5, -2.0, 0.25}));
}

}  // namespace
}  // namespace onyx::mathgrad_test
