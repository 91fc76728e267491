// SampleActivation: the runtime's forward and backward kernels, run by the plot
// sampler, against double-precision formulas; and its argument checks.
#include "tools/plot/activation_curves.h"

#include <cmath>
#include <string>

#include "gtest/gtest.h"
#include "ops/register_all.h"
#include "tests/unit/plot/activation_reference.h"

namespace onyx::plot {
namespace {

using plot_test::Elementwise;
using plot_test::Kinks;

bool NearKink(const std::string& op, double x) {
  for (double k : Kinks(op)) {
    if (std::fabs(x - k) < 1e-6) return true;
  }
  return false;
}

class SampleActivationTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SampleActivationTest, MatchesDoubleFormulas) {
  const std::string op = GetParam();
  constexpr int kPoints = 201;
  auto curve = SampleActivation(op, -5, 5, kPoints, DefaultRegistry());
  ASSERT_TRUE(curve.ok()) << curve.status();
  ASSERT_EQ(curve->x.size(), size_t{kPoints});
  ASSERT_EQ(curve->y.size(), size_t{kPoints});
  ASSERT_EQ(curve->dy.size(), size_t{kPoints});
  EXPECT_EQ(curve->x.front(), -5);
  EXPECT_EQ(curve->x.back(), 5);
  std::vector<double> ref_y(kPoints), ref_dy(kPoints);
  if (op == "Softmax") {
    plot_test::SoftmaxReference(curve->x, ref_y, ref_dy);
  } else {
    for (int i = 0; i < kPoints; ++i) {
      const plot_test::Reference r = Elementwise(op, curve->x[i]);
      ref_y[i] = r.f;
      ref_dy[i] = r.df;
    }
  }
  for (int i = 0; i < kPoints; ++i) {
    const double x = curve->x[i];
    EXPECT_NEAR(curve->y[i], ref_y[i], 2e-6 + 2e-5 * std::fabs(ref_y[i])) << op << " at " << x;
    if (NearKink(op, x)) continue;
    EXPECT_NEAR(curve->dy[i], ref_dy[i], 2e-6 + 2e-5 * std::fabs(ref_dy[i])) << op << "' at " << x;
  }
}

INSTANTIATE_TEST_SUITE_P(AllPlottable, SampleActivationTest,
                         ::testing::ValuesIn(PlottableActivations()),
                         [](const auto& info) { return info.param; });

TEST(SampleActivationTest, SoftmaxIsOverTheWholeInput) {
  auto curve = SampleActivation("Softmax", -1, 1, 7, DefaultRegistry());
  ASSERT_TRUE(curve.ok()) << curve.status();
  double sum = 0;
  for (double y : curve->y) sum += y;
  EXPECT_NEAR(sum, 1.0, 1e-6);
  // Monotone in x, so the last sample carries the largest share.
  for (size_t i = 1; i < curve->y.size(); ++i) EXPECT_GT(curve->y[i], curve->y[i - 1]);
}

TEST(SampleActivationTest, RejectsBadArguments) {
  const OpRegistry& registry = DefaultRegistry();
  EXPECT_EQ(SampleActivation("Conv", -5, 5, 11, registry).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SampleActivation("Relu", 5, -5, 11, registry).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SampleActivation("Relu", -5, NAN, 11, registry).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SampleActivation("Relu", -5, 5, 1, registry).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Softmax's Jacobian batch is points^2: the cap keeps it small.
  EXPECT_EQ(SampleActivation("Softmax", -5, 5, 1 << 20, registry).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ActivationFigureTest, OnePanelPerCurveWithFunctionAndDerivative) {
  auto relu = SampleActivation("Relu", -2, 2, 5, DefaultRegistry());
  auto tanh = SampleActivation("Tanh", -2, 2, 5, DefaultRegistry());
  ASSERT_TRUE(relu.ok() && tanh.ok());
  const Figure figure = ActivationFigure({*relu, *tanh}, -2, 2);
  ASSERT_EQ(figure.panels.size(), 2u);
  EXPECT_EQ(figure.panels[0].title, "Relu");
  EXPECT_EQ(figure.panels[1].title, "Tanh");
  for (const Panel& p : figure.panels) {
    ASSERT_EQ(p.series.size(), 2u);
    EXPECT_FALSE(p.series[0].dashed);
    EXPECT_TRUE(p.series[1].dashed);
    ASSERT_TRUE(p.x_range.has_value());
    EXPECT_EQ(p.x_range->first, -2);
    EXPECT_EQ(p.x_range->second, 2);
  }
  EXPECT_EQ(figure.panels[0].series[0].y, relu->y);
  EXPECT_EQ(figure.panels[0].series[1].y, relu->dy);
}

}  // namespace
}  // namespace onyx::plot
