// The pure ConvGeometry (Conv, ConvTranspose) / PoolGeometry -> cuDNN
// descriptor mappings and their fallback decisions. No GPU or CUDA needed:
// runs in every build. Expected arrays follow from the ONNX output-size
// formulas, worked out by hand below.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ops/conv/conv_cuda_mapping.h"
#include "ops/pool/pool_cuda_mapping.h"
#include "tests/status_matchers.h"
#include "tests/unit/common/run_node.h"

namespace onyx {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing_util::IntAttr;
using testing_util::IntsAttr;
using testing_util::StringAttr;

Node MakeNode(const std::string& op, std::vector<Attribute> attrs) {
  Node node;
  node.name = "n0";
  node.op_type = op;
  node.inputs = {"x", "w"};
  node.outputs = {"y"};
  node.attributes = std::move(attrs);
  return node;
}

absl::StatusOr<conv::CudnnConvDims> MapConv(std::vector<Attribute> attrs, const Shape& x,
                                            const Shape& w) {
  const Node node = MakeNode("Conv", std::move(attrs));
  auto parsed = conv::ParseConvAttrs(node, false);
  if (!parsed.ok()) return parsed.status();
  auto g = conv::ResolveConv(node, *parsed, x, w);
  if (!g.ok()) return g.status();
  return conv::MapConvToCudnn(node, *g);
}

TEST(CudnnConvMapping, TwoDimensionalWithPadsStridesDilations) {
  // X [2,4,9,10], W [6,2,3,3], group 2, pads 1, strides 2x1, dilations 1x2:
  // H: (9 + 2 - 3) / 2 + 1 = 5; W: (10 + 2 - 5) / 1 + 1 = 8.
  ASSERT_OK_AND_ASSIGN(conv::CudnnConvDims d,
                       MapConv({IntAttr("group", 2), IntsAttr("pads", {1, 1, 1, 1}),
                                IntsAttr("strides", {2, 1}), IntsAttr("dilations", {1, 2})},
                               {2, 4, 9, 10}, {6, 2, 3, 3}));
  EXPECT_THAT(d.x, ElementsAre(2, 4, 9, 10));
  EXPECT_THAT(d.w, ElementsAre(6, 2, 3, 3));
  EXPECT_THAT(d.y, ElementsAre(2, 6, 5, 8));
  EXPECT_THAT(d.bias, ElementsAre(1, 6, 1, 1));
  EXPECT_THAT(d.pads, ElementsAre(1, 1));
  EXPECT_THAT(d.strides, ElementsAre(2, 1));
  EXPECT_THAT(d.dilations, ElementsAre(1, 2));
  EXPECT_EQ(d.groups, 2);
}

TEST(CudnnConvMapping, OneDimensionalGetsALeadingUnitAxis) {
  // L: (11 + 4 - 5) / 3 + 1 = 4.
  ASSERT_OK_AND_ASSIGN(
      conv::CudnnConvDims d,
      MapConv({IntsAttr("pads", {2, 2}), IntsAttr("strides", {3})}, {1, 3, 11}, {5, 3, 5}));
  EXPECT_THAT(d.x, ElementsAre(1, 3, 1, 11));
  EXPECT_THAT(d.w, ElementsAre(5, 3, 1, 5));
  EXPECT_THAT(d.y, ElementsAre(1, 5, 1, 4));
  EXPECT_THAT(d.bias, ElementsAre(1, 5, 1, 1));
  EXPECT_THAT(d.pads, ElementsAre(0, 2));
  EXPECT_THAT(d.strides, ElementsAre(1, 3));
  EXPECT_THAT(d.dilations, ElementsAre(1, 1));
}

TEST(CudnnConvMapping, ThreeDimensionalDepthwise) {
  ASSERT_OK_AND_ASSIGN(conv::CudnnConvDims d,
                       MapConv({IntAttr("group", 4)}, {1, 4, 5, 6, 7}, {4, 1, 2, 3, 3}));
  EXPECT_THAT(d.y, ElementsAre(1, 4, 4, 4, 5));
  EXPECT_THAT(d.bias, ElementsAre(1, 4, 1, 1, 1));
  EXPECT_THAT(d.pads, ElementsAre(0, 0, 0));
  EXPECT_EQ(d.groups, 4);
}

TEST(CudnnConvMapping, SameUpperWithOddKernelIsSymmetric) {
  // Kernel 3, stride 1: total pad 2 -> 1 at each end; output keeps the size.
  ASSERT_OK_AND_ASSIGN(conv::CudnnConvDims d,
                       MapConv({StringAttr("auto_pad", "SAME_UPPER")}, {1, 2, 6, 6}, {3, 2, 3, 3}));
  EXPECT_THAT(d.pads, ElementsAre(1, 1));
  EXPECT_THAT(d.y, ElementsAre(1, 3, 6, 6));
}

TEST(CudnnConvMapping, UnevenPadsFallBack) {
  // Kernel 2, SAME_LOWER: total pad 1 goes to the beginning only.
  auto same = MapConv({StringAttr("auto_pad", "SAME_LOWER")}, {1, 2, 6, 6}, {3, 2, 2, 2});
  EXPECT_EQ(same.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(same.status().message(), HasSubstr("Conv node \"n0\""));
  EXPECT_THAT(same.status().message(), HasSubstr("pads begin [1,1] and end [0,0]"));
  auto explicit_pads = MapConv({IntsAttr("pads", {0, 1, 1, 1})}, {1, 2, 6, 6}, {3, 2, 3, 3});
  EXPECT_EQ(explicit_pads.status().code(), absl::StatusCode::kUnimplemented);
}

TEST(CudnnConvMapping, EmptyBatchFallsBackAndBadShapesStayInvalid) {
  auto empty = MapConv({}, {0, 2, 6, 6}, {3, 2, 3, 3});
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kUnimplemented);
  // Errors of the geometry itself are not fallbacks.
  auto bad = MapConv({}, {1, 3, 6, 6}, {3, 2, 3, 3});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

absl::StatusOr<conv::CudnnConvDims> MapConvTranspose(std::vector<Attribute> attrs, const Shape& x,
                                                     const Shape& w) {
  const Node node = MakeNode("ConvTranspose", std::move(attrs));
  auto parsed = conv::ParseConvAttrs(node, true);
  if (!parsed.ok()) return parsed.status();
  auto g = conv::ResolveConvTranspose(node, *parsed, x, w);
  if (!g.ok()) return g.status();
  return conv::MapConvTransposeToCudnn(node, *g);
}

TEST(CudnnConvTransposeMapping, OutputPaddingRunsAsTheMirroredConvolution) {
  // X [1,2,5,5], W [2,3,3,3], stride 2, pads 1, output_padding 1:
  // Y = 2 * (5 - 1) + 1 + 3 - 2 = 10 per axis. cuDNN's convolution maps Y
  // [1,3,10,10] back to X: (10 + 2 - 3) / 2 + 1 = 5.
  ASSERT_OK_AND_ASSIGN(conv::CudnnConvDims d, MapConvTranspose({IntsAttr("strides", {2, 2}),
                                                                IntsAttr("pads", {1, 1, 1, 1}),
                                                                IntsAttr("output_padding", {1, 1})},
                                                               {1, 2, 5, 5}, {2, 3, 3, 3}));
  EXPECT_THAT(d.x, ElementsAre(1, 3, 10, 10));
  EXPECT_THAT(d.w, ElementsAre(2, 3, 3, 3));
  EXPECT_THAT(d.y, ElementsAre(1, 2, 5, 5));
  EXPECT_THAT(d.bias, ElementsAre(1, 3, 1, 1));
  EXPECT_THAT(d.pads, ElementsAre(1, 1));
  EXPECT_THAT(d.strides, ElementsAre(2, 2));
  EXPECT_EQ(d.groups, 1);
}

TEST(CudnnConvTransposeMapping, GroupsDilationsAndOneDimensional) {
  // X [2,4,3,4], W [4,3,2,2], group 2 -> M = 6; dilations 2:
  // Y = (3 - 1) + 2 + 1 = 5, (4 - 1) + 2 + 1 = 6.
  ASSERT_OK_AND_ASSIGN(conv::CudnnConvDims d,
                       MapConvTranspose({IntAttr("group", 2), IntsAttr("dilations", {2, 2})},
                                        {2, 4, 3, 4}, {4, 3, 2, 2}));
  EXPECT_THAT(d.x, ElementsAre(2, 6, 5, 6));
  EXPECT_THAT(d.w, ElementsAre(4, 3, 2, 2));
  EXPECT_THAT(d.y, ElementsAre(2, 4, 3, 4));
  EXPECT_THAT(d.bias, ElementsAre(1, 6, 1, 1));
  EXPECT_THAT(d.dilations, ElementsAre(2, 2));
  EXPECT_EQ(d.groups, 2);
  // 1-D, stride 3, kernel 4: Y = 3 * (7 - 1) + 4 = 22.
  ASSERT_OK_AND_ASSIGN(conv::CudnnConvDims one,
                       MapConvTranspose({IntsAttr("strides", {3})}, {1, 2, 7}, {2, 5, 4}));
  EXPECT_THAT(one.x, ElementsAre(1, 5, 1, 22));
  EXPECT_THAT(one.w, ElementsAre(2, 5, 1, 4));
  EXPECT_THAT(one.y, ElementsAre(1, 2, 1, 7));
  EXPECT_THAT(one.pads, ElementsAre(0, 0));
  EXPECT_THAT(one.strides, ElementsAre(1, 3));
}

TEST(CudnnConvTransposeMapping, OutputShapeAndSameLowerWithinAStride) {
  // Natural size 2 * 2 + 3 = 7; output_shape 8 adds one row past the last
  // window (pads 0 and -1): still (8 - 3) / 2 + 1 = 3.
  ASSERT_OK_AND_ASSIGN(conv::CudnnConvDims d, MapConvTranspose({IntsAttr("strides", {2, 2}),
                                                                IntsAttr("output_shape", {8, 8})},
                                                               {1, 1, 3, 3}, {1, 1, 3, 3}));
  EXPECT_THAT(d.x, ElementsAre(1, 1, 8, 8));
  EXPECT_THAT(d.pads, ElementsAre(0, 0));
  // SAME_LOWER, kernel 3, stride 2, X 4: natural 9, wanted 8, pad 1 at the
  // beginning: (8 + 2 - 3) / 2 + 1 = 4.
  ASSERT_OK_AND_ASSIGN(
      conv::CudnnConvDims same,
      MapConvTranspose({IntsAttr("strides", {2, 2}), StringAttr("auto_pad", "SAME_LOWER")},
                       {1, 1, 4, 4}, {1, 1, 3, 3}));
  EXPECT_THAT(same.x, ElementsAre(1, 1, 8, 8));
  EXPECT_THAT(same.pads, ElementsAre(1, 1));
}

TEST(CudnnConvTransposeMapping, UnevenEndsRunThroughAScratch) {
  // X 4, kernel 3, stride 1, pads 0 and 1: Y has 6 - 1 = 5 rows; cuDNN's
  // input needs 4 - 1 + 3 = 6 (the scratch), Y is its leading 5.
  ASSERT_OK_AND_ASSIGN(conv::CudnnConvDims crop, MapConvTranspose({IntsAttr("pads", {0, 0, 1, 1})},
                                                                  {1, 1, 4, 4}, {1, 1, 3, 3}));
  EXPECT_THAT(crop.x, ElementsAre(1, 1, 6, 6));
  EXPECT_THAT(crop.pads, ElementsAre(0, 0));
  // SAME_UPPER, stride 2: natural 9, wanted 8, the odd pad at the end.
  ASSERT_OK_AND_ASSIGN(
      conv::CudnnConvDims same,
      MapConvTranspose({IntsAttr("strides", {2, 2}), StringAttr("auto_pad", "SAME_UPPER")},
                       {1, 1, 4, 4}, {1, 1, 3, 3}));
  EXPECT_THAT(same.x, ElementsAre(1, 1, 9, 9));
  EXPECT_THAT(same.pads, ElementsAre(0, 0));
  // output_shape 12, natural 9: cuDNN maps at most 9 + 1 rows back to X; Y's
  // rows past them get no window (zeros, then the bias).
  ASSERT_OK_AND_ASSIGN(
      conv::CudnnConvDims wide,
      MapConvTranspose({IntsAttr("strides", {2, 2}), IntsAttr("output_shape", {12, 12})},
                       {1, 1, 4, 4}, {1, 1, 3, 3}));
  EXPECT_THAT(wide.x, ElementsAre(1, 1, 10, 10));
}

TEST(CudnnConvTransposeMapping, WhatCudnnCannotExpressFallsBack) {
  // Stride 1, pads 1 and 0: Y's last row gets a window past what cuDNN maps back.
  auto past = MapConvTranspose({IntsAttr("pads", {1, 1, 0, 0})}, {1, 1, 4, 4}, {1, 1, 3, 3});
  EXPECT_EQ(past.status().code(), absl::StatusCode::kUnimplemented) << past.status();
  EXPECT_THAT(past.status().message(), HasSubstr("ConvTranspose node \"n0\""));
  // Pads 2 of a 3-tap window over a single input row: no row of cuDNN's input.
  auto reach = MapConvTranspose({IntsAttr("pads", {2, 2, 0, 0})}, {1, 1, 1, 1}, {1, 1, 3, 3});
  EXPECT_EQ(reach.status().code(), absl::StatusCode::kUnimplemented) << reach.status();
  EXPECT_EQ(MapConvTranspose({}, {0, 1, 4, 4}, {1, 1, 3, 3}).status().code(),
            absl::StatusCode::kUnimplemented);
  // Errors of the geometry itself are not fallbacks.
  EXPECT_EQ(MapConvTranspose({}, {1, 2, 4, 4}, {1, 1, 3, 3}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

absl::StatusOr<pool::CudnnPoolDims> MapPool(std::vector<Attribute> attrs, const Shape& x) {
  const Node node = MakeNode("MaxPool", std::move(attrs));
  auto parsed = pool::ParsePoolAttrs(node);
  if (!parsed.ok()) return parsed.status();
  auto g = pool::MakePoolGeometry(node, *parsed, x);
  if (!g.ok()) return g.status();
  return pool::MapPoolToCudnn(node, x, *g);
}

TEST(CudnnPoolMapping, TwoDimensionalWithPadsAndStrides) {
  // H: (7 + 2 - 3) / 2 + 1 = 4; W: (8 + 2 - 3) / 2 + 1 = 4.
  ASSERT_OK_AND_ASSIGN(pool::CudnnPoolDims d,
                       MapPool({IntsAttr("kernel_shape", {3, 3}), IntsAttr("pads", {1, 1, 1, 1}),
                                IntsAttr("strides", {2, 2})},
                               {2, 3, 7, 8}));
  EXPECT_THAT(d.x, ElementsAre(2, 3, 7, 8));
  EXPECT_THAT(d.y, ElementsAre(2, 3, 4, 4));
  EXPECT_THAT(d.window, ElementsAre(3, 3));
  EXPECT_THAT(d.pads, ElementsAre(1, 1));
  EXPECT_THAT(d.strides, ElementsAre(2, 2));
}

TEST(CudnnPoolMapping, OneAndThreeDimensional) {
  ASSERT_OK_AND_ASSIGN(
      pool::CudnnPoolDims one,
      MapPool({IntsAttr("kernel_shape", {4}), IntsAttr("strides", {2})}, {1, 2, 10}));
  EXPECT_THAT(one.x, ElementsAre(1, 2, 1, 10));
  EXPECT_THAT(one.y, ElementsAre(1, 2, 1, 4));  // (10 - 4) / 2 + 1
  EXPECT_THAT(one.window, ElementsAre(1, 4));
  EXPECT_THAT(one.pads, ElementsAre(0, 0));
  EXPECT_THAT(one.strides, ElementsAre(1, 2));
  ASSERT_OK_AND_ASSIGN(pool::CudnnPoolDims three,
                       MapPool({IntsAttr("kernel_shape", {2, 2, 2})}, {1, 1, 3, 4, 5}));
  EXPECT_THAT(three.y, ElementsAre(1, 1, 2, 3, 4));
  EXPECT_THAT(three.window, ElementsAre(2, 2, 2));
}

TEST(CudnnPoolMapping, CeilModeOnlyFallsBackWhenItAddsAWindow) {
  // 7 wide, window 2, stride 2: floor 3 outputs, ceil 4 -> CPU.
  auto longer = MapPool(
      {IntsAttr("kernel_shape", {2, 2}), IntsAttr("strides", {2, 2}), IntAttr("ceil_mode", 1)},
      {1, 1, 7, 7});
  EXPECT_EQ(longer.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(longer.status().message(), HasSubstr("ceil_mode"));
  // 8 wide: floor and ceil agree, so cuDNN computes the same.
  ASSERT_OK_AND_ASSIGN(pool::CudnnPoolDims same,
                       MapPool({IntsAttr("kernel_shape", {2, 2}), IntsAttr("strides", {2, 2}),
                                IntAttr("ceil_mode", 1)},
                               {1, 1, 8, 8}));
  EXPECT_THAT(same.y, ElementsAre(1, 1, 4, 4));
}

TEST(CudnnPoolMapping, WhatCudnnCannotExpressFallsBack) {
  for (const auto& attrs : std::vector<std::vector<Attribute>>{
           {IntsAttr("kernel_shape", {2, 2}), IntsAttr("dilations", {2, 1})},
           {IntsAttr("kernel_shape", {2, 2}), StringAttr("auto_pad", "SAME_UPPER")},
           {IntsAttr("kernel_shape", {3, 3}), IntsAttr("pads", {1, 0, 0, 1})},
           {IntsAttr("kernel_shape", {2, 2}), IntsAttr("pads", {2, 2, 2, 2})}}) {
    auto d = MapPool(attrs, {1, 1, 6, 6});
    EXPECT_EQ(d.status().code(), absl::StatusCode::kUnimplemented) << d.status();
    EXPECT_THAT(d.status().message(), HasSubstr("MaxPool node \"n0\""));
  }
  EXPECT_EQ(MapPool({IntsAttr("kernel_shape", {2})}, {0, 1, 6}).status().code(),
            absl::StatusCode::kUnimplemented);
}

TEST(CudnnPoolMapping, GlobalPoolCoversTheSpatialDims) {
  const Node node = MakeNode("GlobalAveragePool", {});
  ASSERT_OK_AND_ASSIGN(pool::CudnnPoolDims d, pool::MapGlobalPoolToCudnn(node, {2, 3, 5, 6, 7}));
  EXPECT_THAT(d.y, ElementsAre(2, 3, 1, 1, 1));
  EXPECT_THAT(d.window, ElementsAre(5, 6, 7));
  EXPECT_THAT(d.pads, ElementsAre(0, 0, 0));
  ASSERT_OK_AND_ASSIGN(pool::CudnnPoolDims one, pool::MapGlobalPoolToCudnn(node, {2, 3, 9}));
  EXPECT_THAT(one.x, ElementsAre(2, 3, 1, 9));
  EXPECT_THAT(one.y, ElementsAre(2, 3, 1, 1));
  EXPECT_THAT(one.window, ElementsAre(1, 9));
  EXPECT_EQ(pool::MapGlobalPoolToCudnn(node, {2, 3}).status().code(),
            absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace onyx
