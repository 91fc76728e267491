// ConvTranspose against the naive double scatter reference: strides, pads,
// output_padding, output_shape, dilations, groups, auto_pad, 1-D to 3-D.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/conv/conv_reference.h"

namespace onyx::conv_test {
namespace {

struct TransposeCase {
  std::string name;
  Shape x, w;  // W is [C, M/group, k...]
  int64_t group = 1;
  std::vector<int64_t> strides, dilations, pads, output_padding, output_shape;
  std::string auto_pad;
  bool bias = false;
};

// Pads and output size from the ONNX ConvTranspose formulas, written here.
void ResolveRef(const TransposeCase& c, RefParams* p, std::vector<int64_t>* out) {
  const size_t k = c.x.size() - 2;
  p->group = c.group;
  p->strides = c.strides.empty() ? std::vector<int64_t>(k, 1) : c.strides;
  p->dilations = c.dilations.empty() ? std::vector<int64_t>(k, 1) : c.dilations;
  p->pads_begin.assign(k, 0);
  p->pads_end.assign(k, 0);
  out->assign(k, 0);
  for (size_t i = 0; i < k; ++i) {
    const int64_t op = c.output_padding.empty() ? 0 : c.output_padding[i];
    const int64_t full =
        p->strides[i] * (c.x[2 + i] - 1) + op + (c.w[2 + i] - 1) * p->dilations[i] + 1;
    const bool same = c.auto_pad == "SAME_UPPER" || c.auto_pad == "SAME_LOWER";
    if (!c.output_shape.empty() || same) {
      (*out)[i] = !c.output_shape.empty() ? c.output_shape[i] : c.x[2 + i] * p->strides[i];
      // A larger output than the input reaches gets the extra rows at the end.
      const int64_t total = std::max<int64_t>(0, full - (*out)[i]);
      p->pads_begin[i] = c.auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      continue;
    }
    if (!c.pads.empty()) {
      p->pads_begin[i] = c.pads[i];
      p->pads_end[i] = c.pads[k + i];
    }
    (*out)[i] = full - p->pads_begin[i] - p->pads_end[i];
  }
}

class ConvTransposeTest : public ::testing::TestWithParam<TransposeCase> {};

TEST_P(ConvTransposeTest, MatchesDoubleReference) {
  const TransposeCase& c = GetParam();
  const int64_t m = c.w[1] * c.group;
  const std::vector<double> x = Random(NumElements(c.x), 1), w = Random(NumElements(c.w), 2),
                            b = Random(m, 3);
  RefParams p;
  std::vector<int64_t> out;
  ResolveRef(c, &p, &out);
  Shape y_shape;
  const std::vector<double> want =
      RefConvTranspose(c.x, x, c.w, w, c.bias ? &b : nullptr, p, out, &y_shape);
  std::vector<Attribute> attrs;
  if (c.group != 1) attrs.push_back(Int("group", c.group));
  if (!c.strides.empty()) attrs.push_back(Ints("strides", c.strides));
  if (!c.dilations.empty()) attrs.push_back(Ints("dilations", c.dilations));
  if (!c.pads.empty()) attrs.push_back(Ints("pads", c.pads));
  if (!c.output_padding.empty()) attrs.push_back(Ints("output_padding", c.output_padding));
  if (!c.output_shape.empty()) attrs.push_back(Ints("output_shape", c.output_shape));
  if (!c.auto_pad.empty()) attrs.push_back(String("auto_pad", c.auto_pad));
  std::vector<Tensor> inputs = {ToTensor(c.x, x), ToTensor(c.w, w)};
  if (c.bias) inputs.push_back(ToTensor({m}, b));
  ASSERT_OK_AND_ASSIGN(Tensor y, RunNode("ConvTranspose", "", attrs, inputs));
  ASSERT_EQ(y.shape(), y_shape);
  int reported = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double tol = 1e-4 + 1e-4 * std::fabs(want[i]);
    if (std::fabs(y.data<float>()[i] - want[i]) > tol && reported++ < 5) {
      ADD_FAILURE() << "element " << i << ": got " << y.data<float>()[i] << ", want " << want[i];
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ConvTransposeTest,
    ::testing::Values(
        TransposeCase{"basic2d", {1, 2, 4, 5}, {2, 3, 3, 3}, 1, {}, {}, {}, {}, {}, "", true},
        TransposeCase{"strided_pads",
                      {2, 3, 4, 4},
                      {3, 2, 3, 3},
                      1,
                      {2, 2},
                      {},
                      {1, 0, 1, 1},
                      {},
                      {},
                      "",
                      false},
        TransposeCase{"output_padding",
                      {1, 2, 3, 3},
                      {2, 2, 3, 3},
                      1,
                      {3, 2},
                      {},
                      {1, 1, 1, 1},
                      {2, 1},
                      {},
                      "",
                      true},
        TransposeCase{
            "output_shape", {1, 1, 3, 3}, {1, 2, 3, 3}, 1, {3, 2}, {}, {}, {}, {10, 8}, "", false},
        TransposeCase{"output_shape_beyond",
                      {1, 1, 3, 3},
                      {1, 2, 3, 3},
                      1,
                      {2, 2},
                      {},
                      {},
                      {},
                      {8, 9},
                      "",
                      true},
        TransposeCase{"dilated", {1, 2, 4, 4}, {2, 2, 2, 3}, 1, {}, {2, 2}, {}, {}, {}, "", false},
        TransposeCase{
            "group2", {1, 4, 3, 3}, {4, 3, 3, 3}, 2, {2, 1}, {}, {0, 1, 1, 0}, {}, {}, "", true},
        TransposeCase{"same_upper",
                      {1, 2, 3, 4},
                      {2, 2, 3, 3},
                      1,
                      {2, 2},
                      {},
                      {},
                      {},
                      {},
                      "SAME_UPPER",
                      false},
        TransposeCase{"same_lower",
                      {1, 2, 3, 4},
                      {2, 2, 3, 3},
                      1,
                      {2, 2},
                      {},
                      {},
                      {},
                      {},
                      "SAME_LOWER",
                      false},
        TransposeCase{"conv1d", {2, 3, 5}, {3, 2, 4}, 1, {3}, {}, {1, 2}, {}, {}, "", true},
        TransposeCase{"conv3d",
                      {1, 2, 3, 4, 3},
                      {2, 2, 3, 2, 3},
                      1,
                      {2, 1, 2},
                      {},
                      {},
                      {1, 0, 1},
                      {},
                      "",
                      false},
        TransposeCase{"blocked_channels",
                      {1, 32, 6, 6},
                      {32, 16, 4, 4},
                      1,
                      {2, 2},
                      {},
                      {1, 1, 1, 1},
                      {},
                      {},
                      "",
                      true}),
    [](const ::testing::TestParamInfo<TransposeCase>& info) { return info.param.name; });

TEST(ConvTransposeErrors, NameTheNode) {
  const absl::StatusOr<Tensor> y =
      RunNode("ConvTranspose", "", {},
              {ToTensor({1, 3, 4, 4}, Random(48, 1)), ToTensor({2, 2, 3, 3}, Random(36, 2))});
  ASSERT_FALSE(y.ok());
  EXPECT_NE(y.status().message().find("conv0"), std::string::npos) << y.status();
  EXPECT_NE(y.status().message().find("dim 0 must equal X's 3 channels"), std::string::npos)
      << y.status();
  const absl::StatusOr<Tensor> op =
      RunNode("ConvTranspose", "", {Ints("output_padding", {1, 1})},
              {ToTensor({1, 2, 4, 4}, Random(32, 1)), ToTensor({2, 2, 3, 3}, Random(36, 2))});
  ASSERT_FALSE(op.ok());
  EXPECT_NE(op.status().message().find("output_padding"), std::string::npos) << op.status();
}

}  // namespace
}  // namespace onyx::conv_test
