// Conv forward against the naive double reference of conv_reference.h: 1-D to
// 3-D, strides, pads, dilations, groups (depthwise too), auto_pad, bias; plus
// the kernel's caches (new shapes, weights changed in place) and its errors.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/conv/conv_reference.h"

namespace onyx::conv_test {
namespace {

struct ConvCase {
  std::string name;
  Shape x, w;
  int64_t group = 1;
  std::vector<int64_t> strides, dilations, pads;  // empty: attribute absent
  std::string auto_pad;                           // empty: attribute absent
  bool bias = false;
};

// The ONNX formulas for auto_pad, written here independently of the kernel.
RefParams ResolveRef(const ConvCase& c) {
  const size_t k = c.x.size() - 2;
  RefParams p;
  p.group = c.group;
  p.strides = c.strides.empty() ? std::vector<int64_t>(k, 1) : c.strides;
  p.dilations = c.dilations.empty() ? std::vector<int64_t>(k, 1) : c.dilations;
  p.pads_begin.assign(k, 0);
  p.pads_end.assign(k, 0);
  for (size_t i = 0; i < k; ++i) {
    if (c.auto_pad == "SAME_UPPER" || c.auto_pad == "SAME_LOWER") {
      const int64_t in = c.x[2 + i], s = p.strides[i];
      const int64_t out = (in + s - 1) / s;
      const int64_t need = (out - 1) * s + (c.w[2 + i] - 1) * p.dilations[i] + 1 - in;
      const int64_t total = need > 0 ? need : 0;
      p.pads_begin[i] = c.auto_pad == "SAME_UPPER" ? total / 2 : (total + 1) / 2;
      p.pads_end[i] = total - p.pads_begin[i];
    } else if (c.auto_pad.empty() && !c.pads.empty()) {
      p.pads_begin[i] = c.pads[i];
      p.pads_end[i] = c.pads[k + i];
    }
  }
  return p;
}

std::vector<Attribute> Attrs(const ConvCase& c) {
  std::vector<Attribute> a;
  if (c.group != 1) a.push_back(Int("group", c.group));
  if (!c.strides.empty()) a.push_back(Ints("strides", c.strides));
  if (!c.dilations.empty()) a.push_back(Ints("dilations", c.dilations));
  if (!c.pads.empty()) a.push_back(Ints("pads", c.pads));
  if (!c.auto_pad.empty()) a.push_back(String("auto_pad", c.auto_pad));
  return a;
}

void ExpectNear(const Tensor& got, const Shape& shape, const std::vector<double>& want,
                const std::string& what) {
  ASSERT_EQ(got.shape(), shape) << what;
  ASSERT_EQ(got.dtype(), DataType::kFloat32) << what;
  const float* g = got.data<float>();
  int reported = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double tol = 1e-4 + 1e-4 * std::fabs(want[i]);
    if (std::fabs(g[i] - want[i]) > tol && reported++ < 5) {
      ADD_FAILURE() << what << " element " << i << ": got " << g[i] << ", want " << want[i];
    }
  }
}

class ConvForwardTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvForwardTest, MatchesDoubleReference) {
  const ConvCase& c = GetParam();
  const std::vector<double> x = Random(NumElements(c.x), 1), w = Random(NumElements(c.w), 2),
                            b = Random(c.w[0], 3);
  Shape y_shape;
  const std::vector<double> want =
      RefConv(c.x, x, c.w, w, c.bias ? &b : nullptr, ResolveRef(c), &y_shape);
  std::vector<Tensor> inputs = {ToTensor(c.x, x), ToTensor(c.w, w)};
  if (c.bias) inputs.push_back(ToTensor({c.w[0]}, b));
  ASSERT_OK_AND_ASSIGN(Tensor y, RunNode("Conv", "", Attrs(c), inputs));
  ExpectNear(y, y_shape, want, c.name);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ConvForwardTest,
    ::testing::Values(
        ConvCase{"conv1d", {2, 3, 9}, {4, 3, 3}, 1, {}, {}, {1, 1}, "", true},
        ConvCase{"conv1d_stride_dilation", {1, 2, 11}, {2, 2, 3}, 1, {2}, {2}, {0, 1}, "", false},
        ConvCase{"conv2d", {2, 3, 7, 8}, {5, 3, 3, 3}, 1, {}, {}, {1, 1, 1, 1}, "", true},
        ConvCase{
            "conv2d_asym_pads", {1, 4, 9, 7}, {6, 4, 3, 2}, 1, {2, 3}, {}, {1, 0, 2, 1}, "", false},
        ConvCase{
            "conv2d_dilated", {1, 3, 10, 10}, {4, 3, 3, 3}, 1, {}, {2, 3}, {2, 3, 2, 3}, "", false},
        ConvCase{"conv2d_group2", {2, 4, 6, 6}, {6, 2, 3, 3}, 2, {}, {}, {}, "", true},
        ConvCase{
            "depthwise_stride2", {1, 8, 9, 9}, {8, 1, 3, 3}, 8, {2, 2}, {}, {1, 1, 1, 1}, "", true},
        ConvCase{"depthwise_multiplier2", {1, 4, 6, 6}, {8, 1, 3, 3}, 4, {}, {}, {}, "", false},
        ConvCase{"same_upper", {1, 2, 7, 8}, {3, 2, 4, 3}, 1, {2, 2}, {}, {}, "SAME_UPPER", false},
        ConvCase{"same_lower", {1, 2, 7, 8}, {3, 2, 4, 3}, 1, {2, 2}, {}, {}, "SAME_LOWER", false},
        ConvCase{"same_upper_dilated",
                 {1, 2, 9, 9},
                 {2, 2, 3, 2},
                 1,
                 {},
                 {2, 3},
                 {},
                 "SAME_UPPER",
                 true},
        ConvCase{"valid", {1, 2, 7, 7}, {3, 2, 3, 3}, 1, {2, 2}, {}, {}, "VALID", false},
        ConvCase{"conv3d",
                 {1, 2, 5, 6, 7},
                 {3, 2, 3, 2, 3},
                 1,
                 {1, 2, 1},
                 {},
                 {1, 0, 1, 1, 1, 0},
                 "",
                 true},
        ConvCase{"conv3d_group_dilated",
                 {2, 4, 6, 6, 6},
                 {4, 2, 2, 2, 2},
                 2,
                 {},
                 {2, 1, 2},
                 {},
                 "",
                 false},
        ConvCase{"pointwise_blocked", {1, 32, 14, 14}, {64, 32, 1, 1}, 1, {}, {}, {}, "", true},
        ConvCase{"resnet_3x3", {1, 64, 14, 14}, {64, 64, 3, 3}, 1, {}, {}, {1, 1, 1, 1}, "", true},
        ConvCase{"stem_7x7", {1, 3, 32, 32}, {16, 3, 7, 7}, 1, {2, 2}, {}, {3, 3, 3, 3}, "", true},
        ConvCase{
            "depthwise_32", {2, 32, 28, 28}, {32, 1, 3, 3}, 32, {}, {}, {1, 1, 1, 1}, "", true}),
    [](const ::testing::TestParamInfo<ConvCase>& info) { return info.param.name; });

// One session, two input shapes, then weights changed in place (as a trainer
// does): each run must match the reference for what it was fed.
TEST(ConvKernelCache, NewShapesAndWeightsUpdatedInPlace) {
  const ConvCase c{"cache", {1, 16, 10, 10}, {32, 16, 3, 3}, 1, {}, {}, {1, 1, 1, 1}, "", false};
  const std::vector<double> w = Random(NumElements(c.w), 5);
  Tensor w_tensor = ToTensor(c.w, w);
  Graph graph =
      OneNode("Conv", "", Attrs(c), {ToTensor(c.x, Random(NumElements(c.x), 4)), w_tensor});
  for (Dim& d : graph.inputs[0].dims) d = Dim{-1, ""};  // any X shape
  auto session = Session::Create(std::move(graph), DefaultRegistry());
  ASSERT_OK(session);
  for (int round = 0; round < 3; ++round) {
    std::vector<double> wv(w);
    if (round == 2) {  // update the fed buffer in place
      for (int64_t i = 0; i < w_tensor.num_elements(); ++i) {
        w_tensor.data<float>()[i] *= -0.5f;
        wv[i] = w_tensor.data<float>()[i];
      }
    }
    const Shape xs = round == 1 ? Shape{2, 16, 7, 12} : c.x;
    const std::vector<double> x = Random(NumElements(xs), 10 + round);
    Shape y_shape;
    ConvCase shaped = c;
    shaped.x = xs;
    const std::vector<double> want = RefConv(xs, x, c.w, wv, nullptr, ResolveRef(shaped), &y_shape);
    auto y = (*session)->Run({{"x0", ToTensor(xs, x)}, {"x1", w_tensor}});
    ASSERT_OK(y);
    ExpectNear((*y)[0], y_shape, want, "round " + std::to_string(round));
  }
}

TEST(ConvKernel, EmptyBatchGivesEmptyOutput) {
  ASSERT_OK_AND_ASSIGN(
      Tensor y,
      RunNode("Conv", "", {}, {ToTensor({0, 2, 5, 5}, {}), ToTensor({3, 2, 3, 3}, Random(54, 1))}));
  EXPECT_EQ(y.shape(), (Shape{0, 3, 3, 3}));
}

void ExpectError(const std::vector<Attribute>& attrs, const Shape& x, const Shape& w,
                 const std::string& needle, const Shape& b = {}) {
  std::vector<Tensor> inputs = {ToTensor(x, Random(NumElements(x), 1)),
                                ToTensor(w, Random(NumElements(w), 2))};
  if (!b.empty()) inputs.push_back(ToTensor(b, Random(NumElements(b), 3)));
  const absl::StatusOr<Tensor> y = RunNode("Conv", "", attrs, inputs);
  ASSERT_FALSE(y.ok()) << needle;
  EXPECT_NE(y.status().message().find("conv0"), std::string::npos) << y.status();
  EXPECT_NE(y.status().message().find(needle), std::string::npos) << y.status();
}

TEST(ConvErrors, NameTheNodeAndTheProblem) {
  ExpectError({Int("group", 2)}, {1, 3, 5, 5}, {4, 1, 3, 3}, "not divisible by group 2");
  ExpectError({}, {1, 4, 5, 5}, {4, 2, 3, 3}, "dim 1 must be C / group");
  ExpectError({}, {1, 3, 5, 5}, {4, 3, 3}, "W must have X's rank");
  ExpectError({}, {1, 3, 2, 5}, {4, 3, 3, 3}, "larger than the padded input");
  ExpectError({Ints("dilations", {3, 1})}, {1, 3, 5, 5}, {4, 3, 3, 3},
              "larger than the padded input");
  ExpectError({String("auto_pad", "SAME")}, {1, 3, 5, 5}, {4, 3, 3, 3}, "auto_pad");
  ExpectError({Ints("strides", {1})}, {1, 3, 5, 5}, {4, 3, 3, 3}, "attribute strides");
  ExpectError({Ints("strides", {0, 1})}, {1, 3, 5, 5}, {4, 3, 3, 3}, "attribute strides");
  ExpectError({Ints("pads", {1, -1, 0, 0})}, {1, 3, 5, 5}, {4, 3, 3, 3}, "attribute pads");
  ExpectError({Ints("kernel_shape", {2, 2})}, {1, 3, 5, 5}, {4, 3, 3, 3}, "kernel_shape");
  ExpectError({}, {1, 3, 5, 5}, {4, 3, 3, 3}, "input B has shape [3]", {3});
  ExpectError({}, {1, 3}, {4, 3}, "rank 3, 4 or 5");
  ExpectError({Ints("dilations", {int64_t{1} << 62, 1})}, {1, 3, 5, 5}, {4, 3, 3, 3},
              "attribute dilations");
  ExpectError({Ints("strides", {1, int64_t{1} << 40})}, {1, 3, 5, 5}, {4, 3, 3, 3},
              "attribute strides");
}

TEST(ConvErrors, Float64IsUnimplemented) {
  const Tensor x = Tensor::Zeros(DataType::kFloat64, {1, 1, 3, 3}).value();
  const Tensor w = Tensor::Zeros(DataType::kFloat64, {1, 1, 1, 1}).value();
  const absl::StatusOr<Tensor> y = RunNode("Conv", "", {}, {x, w});
  ASSERT_FALSE(y.ok());
  EXPECT_EQ(y.status().code(), absl::StatusCode::kUnimplemented) << y.status();
  EXPECT_NE(y.status().message().find("float64"), std::string::npos) << y.status();
}

}  // namespace
}  // namespace onyx::conv_test
