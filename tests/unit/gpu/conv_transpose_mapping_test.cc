// What the cuDNN ConvTranspose kernel computes, replayed on the CPU: for each
// mapped geometry, the backward-data pass of the mapped convolution (the CPU
// ConvGrad kernel's dX, with the mapping's symmetric pads, over an input of
// the mapping's extents), cut or zero-extended to Y's extents as the kernel's
// CopyLeadingBlock does, must equal the CPU ConvTranspose kernel. No GPU
// needed: runs in every build.
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ops/conv/conv_cuda_mapping.h"
#include "tests/status_matchers.h"
#include "tests/unit/common/run_node.h"

namespace onyx {
namespace {

using testing_util::IntAttr;
using testing_util::IntsAttr;
using testing_util::StringAttr;

Tensor Random(const Shape& shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  std::vector<float> v(NumElements(shape));
  for (float& x : v) x = dist(rng);
  return *Tensor::FromVector<float>(shape, v);
}

// dst = the leading block of src, zeros past it; both [N, M, D...] of one rank.
Tensor LeadingBlock(const Tensor& src, const Shape& dst_shape) {
  std::vector<int64_t> s(src.shape().begin() + 2, src.shape().end()),
      d(dst_shape.begin() + 2, dst_shape.end());
  s.insert(s.begin(), 3 - s.size(), 1);
  d.insert(d.begin(), 3 - d.size(), 1);
  const int64_t planes = dst_shape[0] * dst_shape[1];
  std::vector<float> out(NumElements(dst_shape), 0.f);
  const float* in = src.data<float>();
  for (int64_t p = 0; p < planes; ++p) {
    for (int64_t i0 = 0; i0 < std::min(s[0], d[0]); ++i0) {
      for (int64_t i1 = 0; i1 < std::min(s[1], d[1]); ++i1) {
        for (int64_t i2 = 0; i2 < std::min(s[2], d[2]); ++i2) {
          out[((p * d[0] + i0) * d[1] + i1) * d[2] + i2] =
              in[((p * s[0] + i0) * s[1] + i1) * s[2] + i2];
        }
      }
    }
  }
  return *Tensor::FromVector<float>(dst_shape, out);
}

struct Case {
  std::string name;
  Shape x, w;
  std::vector<Attribute> attrs;
};

class ConvTransposeMappingReplay : public ::testing::TestWithParam<Case> {};

TEST_P(ConvTransposeMappingReplay, MatchesTheCpuKernel) {
  const Case& c = GetParam();
  Node node;
  node.name = "n0";
  node.op_type = "ConvTranspose";
  node.attributes = c.attrs;
  ASSERT_OK_AND_ASSIGN(conv::ConvAttrs attrs, conv::ParseConvAttrs(node, true));
  ASSERT_OK_AND_ASSIGN(conv::ConvGeometry g, conv::ResolveConvTranspose(node, attrs, c.x, c.w));
  ASSERT_OK_AND_ASSIGN(conv::CudnnConvDims d, conv::MapConvTransposeToCudnn(node, g));
  const Tensor x = Random(c.x, 1), w = Random(c.w, 2);
  ASSERT_OK_AND_ASSIGN(Tensor want, testing_util::RunOneNode("ConvTranspose", c.attrs, {x, w}, 19));

  // The mapped convolution, back in ONNX ranks (1-D drops the unit axis).
  const size_t skip = g.spatial == 1 ? 1 : 0;
  Shape conv_input(d.x.begin(), d.x.end());
  if (skip) conv_input.erase(conv_input.begin() + 2);
  std::vector<int64_t> pads(d.pads.begin() + skip, d.pads.end());
  pads.insert(pads.end(), pads.begin(), pads.end());  // both ends alike
  const std::vector<Attribute> conv_attrs = {
      IntsAttr("pads", pads),
      IntsAttr("strides", std::vector<int64_t>(d.strides.begin() + skip, d.strides.end())),
      IntsAttr("dilations", std::vector<int64_t>(d.dilations.begin() + skip, d.dilations.end())),
      IntAttr("group", d.groups)};
  testing_util::NodeSpec spec{
      .op_type = "ConvGrad", .domain = kOnyxDomain, .attrs = conv_attrs, .outputs = {"dx", "", ""}};
  // ConvGrad(dY = ConvTranspose's X, X = any tensor of the input's shape, W).
  ASSERT_OK_AND_ASSIGN(Tensor dx,
                       testing_util::RunNodeSpecFirst(spec, {x, Random(conv_input, 3), w}));
  ASSERT_EQ(dx.shape(), conv_input);
  const Tensor got = LeadingBlock(dx, want.shape());
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    ASSERT_NEAR(got.data<float>()[i], want.data<float>()[i], 1e-5) << "at " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    All, ConvTransposeMappingReplay,
    ::testing::Values(
        Case{"Stride2Pads1OutputPadding1",
             {2, 4, 5, 5},
             {4, 3, 3, 3},
             {IntsAttr("strides", {2, 2}), IntsAttr("pads", {1, 1, 1, 1}),
              IntsAttr("output_padding", {1, 1})}},
        Case{"GroupsDilations",
             {2, 4, 5, 6},
             {4, 3, 3, 3},
             {IntAttr("group", 2), IntsAttr("dilations", {2, 2}), IntsAttr("pads", {1, 1, 1, 1})}},
        Case{"UnevenPads", {1, 2, 4, 4}, {2, 2, 3, 3}, {IntsAttr("pads", {0, 0, 1, 1})}},
        Case{"SameUpperOddTotal",
             {2, 3, 4, 5},
             {3, 2, 3, 3},
             {IntsAttr("strides", {2, 2}), StringAttr("auto_pad", "SAME_UPPER")}},
        Case{"SameLower",
             {1, 2, 4, 4},
             {2, 2, 3, 3},
             {IntsAttr("strides", {2, 2}), StringAttr("auto_pad", "SAME_LOWER")}},
        Case{"OutputShapeFarPastTheWindows",
             {1, 2, 4, 4},
             {2, 2, 3, 3},
             {IntsAttr("strides", {2, 2}), IntsAttr("output_shape", {12, 11})}},
        Case{"OneDimensionalUneven",
             {2, 2, 6},
             {2, 3, 4},
             {IntsAttr("strides", {2}), IntsAttr("pads", {0, 3})}},
        Case{"ThreeDimensional",
             {1, 2, 3, 4, 5},
             {2, 3, 3, 3, 3},
             {IntsAttr("strides", {2, 1, 2}), IntsAttr("pads", {1, 0, 1, 1, 0, 2})}}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

}  // namespace
}  // namespace onyx
