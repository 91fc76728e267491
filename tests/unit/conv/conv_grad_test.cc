// Conv's gradient builder and ConvGrad kernel: autograd's dX, dW, dB of
// L = sum(Conv(X, W, B) * R) against central finite differences of the naive
// double reference (tiny shapes; the loss is linear in each input, so the
// differences are exact up to rounding).
#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/conv/conv_reference.h"
#include "tests/unit/mathgrad/grad_check.h"

namespace onyx::conv_test {
namespace {

struct GradCase {
  std::string name;
  Shape x, w;
  int64_t group = 1;
  std::vector<int64_t> strides, dilations, pads;  // pads resolved (no auto_pad)
  bool bias = true;
};

RefParams Params(const GradCase& c) {
  const size_t k = c.x.size() - 2;
  RefParams p;
  p.group = c.group;
  p.strides = c.strides.empty() ? std::vector<int64_t>(k, 1) : c.strides;
  p.dilations = c.dilations.empty() ? std::vector<int64_t>(k, 1) : c.dilations;
  p.pads_begin.assign(k, 0);
  p.pads_end.assign(k, 0);
  if (!c.pads.empty()) {
    p.pads_begin.assign(c.pads.begin(), c.pads.begin() + k);
    p.pads_end.assign(c.pads.begin() + k, c.pads.end());
  }
  return p;
}

// sum(RefConv(x, w, b) * r) in double.
double Loss(const GradCase& c, const std::vector<double>& x, const std::vector<double>& w,
            const std::vector<double>& b, const std::vector<double>& r) {
  Shape ys;
  const std::vector<double> y = RefConv(c.x, x, c.w, w, c.bias ? &b : nullptr, Params(c), &ys);
  double sum = 0;
  for (size_t i = 0; i < y.size(); ++i) sum += y[i] * r[i];
  return sum;
}

// Central differences of Loss with respect to every element of inputs[which].
std::vector<double> Fd(const GradCase& c, std::vector<std::vector<double>> inputs, int which,
                       const std::vector<double>& r) {
  const double h = 1e-3;
  std::vector<double> g(inputs[which].size());
  for (size_t j = 0; j < g.size(); ++j) {
    const double v = inputs[which][j];
    inputs[which][j] = v + h;
    const double up = Loss(c, inputs[0], inputs[1], inputs[2], r);
    inputs[which][j] = v - h;
    const double down = Loss(c, inputs[0], inputs[1], inputs[2], r);
    inputs[which][j] = v;
    g[j] = (up - down) / (2 * h);
  }
  return g;
}

class ConvGradTest : public ::testing::TestWithParam<GradCase> {};

TEST_P(ConvGradTest, MatchesFiniteDifferencesOfDoubleReference) {
  const GradCase& c = GetParam();
  const std::vector<double> x = Random(NumElements(c.x), 1), w = Random(NumElements(c.w), 2),
                            b = Random(c.w[0], 3);
  Shape ys;
  RefConv(c.x, x, c.w, w, nullptr, Params(c), &ys);
  const std::vector<double> r = Random(NumElements(ys), 4);

  mathgrad_test::ForwardSpec spec;
  spec.op = "Conv";
  spec.inputs = {ToTensor(c.x, x), ToTensor(c.w, w)};
  if (c.bias) spec.inputs.push_back(ToTensor({c.w[0]}, b));
  if (c.group != 1) spec.attrs.push_back(Int("group", c.group));
  if (!c.strides.empty()) spec.attrs.push_back(Ints("strides", c.strides));
  if (!c.dilations.empty()) spec.attrs.push_back(Ints("dilations", c.dilations));
  if (!c.pads.empty()) spec.attrs.push_back(Ints("pads", c.pads));
  std::vector<size_t> wrt = {0, 1};
  if (c.bias) wrt.push_back(2);
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> grads,
                       mathgrad_test::AutogradGrads(spec, ToTensor(ys, r), wrt));
  ASSERT_EQ(grads.size(), wrt.size());
  const char* names[] = {"dX", "dW", "dB"};
  for (size_t i = 0; i < wrt.size(); ++i) {
    const std::vector<double> want = Fd(c, {x, w, b}, static_cast<int>(i), r);
    ASSERT_EQ(grads[i].shape(), spec.inputs[i].shape()) << names[i];
    int reported = 0;
    for (size_t j = 0; j < want.size(); ++j) {
      const double got = grads[i].data<float>()[j];
      if (std::fabs(got - want[j]) > 1e-4 + 1e-4 * std::fabs(want[j]) && reported++ < 5) {
        ADD_FAILURE() << names[i] << "[" << j << "]: got " << got << ", want " << want[j];
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ConvGradTest,
    ::testing::Values(
        GradCase{"conv1d", {2, 2, 7}, {3, 2, 3}, 1, {2}, {}, {1, 0}, true},
        GradCase{"conv2d", {2, 3, 5, 6}, {4, 3, 3, 2}, 1, {}, {}, {1, 1, 1, 0}, true},
        GradCase{"conv2d_strided_dilated",
                 {1, 2, 7, 7},
                 {2, 2, 3, 3},
                 1,
                 {2, 1},
                 {1, 2},
                 {1, 2, 0, 1},
                 true},
        GradCase{"group2_no_bias", {1, 4, 5, 5}, {6, 2, 2, 3}, 2, {}, {}, {}, false},
        GradCase{"depthwise", {2, 3, 5, 5}, {3, 1, 3, 3}, 3, {2, 2}, {}, {1, 1, 1, 1}, true},
        GradCase{"conv3d", {1, 2, 4, 3, 4}, {2, 2, 2, 2, 3}, 1, {}, {}, {0, 1, 1, 1, 0, 0}, true}),
    [](const ::testing::TestParamInfo<GradCase>& info) { return info.param.name; });

// Only dX wanted: the ConvGrad node omits dW and dB.
TEST(ConvGrad, OnlyInputGradient) {
  const GradCase c{"x_only", {1, 2, 5, 5}, {3, 2, 3, 3}, 1, {}, {}, {1, 1, 1, 1}, false};
  const std::vector<double> x = Random(50, 1), w = Random(54, 2);
  Shape ys;
  RefConv(c.x, x, c.w, w, nullptr, Params(c), &ys);
  const std::vector<double> r = Random(NumElements(ys), 4);
  mathgrad_test::ForwardSpec spec;
  spec.op = "Conv";
  spec.inputs = {ToTensor(c.x, x), ToTensor(c.w, w)};
  spec.attrs = {Ints("pads", c.pads)};
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> grads,
                       mathgrad_test::AutogradGrads(spec, ToTensor(ys, r), {0}));
  ASSERT_EQ(grads.size(), 1u);
  const std::vector<double> want = Fd(c, {x, w, {}}, 0, r);
  for (size_t j = 0; j < want.size(); ++j) {
    EXPECT_NEAR(grads[0].data<float>()[j], want[j], 1e-4 + 1e-4 * std::fabs(want[j])) << j;
  }
}

}  // namespace
}  // namespace onyx::conv_test

namespace onyx::conv_test {
namespace {

// ConvGrad re-resolves auto_pad from the forward attributes it carries:
// SAME_LOWER with stride 2 on an odd size pads 1 before, 0 after per axis.
TEST(ConvGrad, AutoPadSameLowerMatchesExplicitPads) {
  const GradCase c{"same_lower", {1, 2, 5, 6}, {3, 2, 2, 3}, 1, {2, 2}, {}, {1, 1, 0, 0}, true};
  const std::vector<double> x = Random(60, 1), w = Random(36, 2), b = Random(3, 3);
  Shape ys;
  RefConv(c.x, x, c.w, w, nullptr, Params(c), &ys);
  ASSERT_EQ(ys, (Shape{1, 3, 3, 3}));
  const std::vector<double> r = Random(NumElements(ys), 4);
  mathgrad_test::ForwardSpec spec;
  spec.op = "Conv";
  spec.inputs = {ToTensor(c.x, x), ToTensor(c.w, w), ToTensor({3}, b)};
  spec.attrs = {Ints("strides", c.strides), String("auto_pad", "SAME_LOWER")};
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> grads,
                       mathgrad_test::AutogradGrads(spec, ToTensor(ys, r), {0, 1, 2}));
  ASSERT_EQ(grads.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const std::vector<double> want = Fd(c, {x, w, b}, i, r);
    for (size_t j = 0; j < want.size(); ++j) {
      EXPECT_NEAR(grads[i].data<float>()[j], want[j], 1e-4 + 1e-4 * std::fabs(want[j]))
          << "input " << i << " element " << j;
    }
  }
}

}  // namespace
}  // namespace onyx::conv_test
