// The CUDA pooling-backward kernels (MaxPoolGrad, AveragePoolGrad,
// GlobalAveragePoolGrad) and the cuDNN ConvTranspose kernel against the CPU
// kernels, inside CUDA sessions that must keep every node on the device; and
// hand-worked values for max-pool ties (the first maximum of a window gets
// the gradient). Ties are compared in float64, where the CPU kernel runs its
// loops; float32 cases use continuous values. ConvTranspose with uneven ends
// runs through a scratch buffer; what the mapping refuses must fall back to
// the CPU kernel.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "ops/pool/pool_geometry.h"
#include "tests/unit/gpu/gpu_test_util.h"

namespace onyx::gpu_test {
namespace {

using testing_util::IntAttr;
using testing_util::IntsAttr;
using testing_util::StringAttr;

// Seeded values in [-2, 2]; with `ties`, whole numbers only (many equal maxima).
Tensor Values(DataType dtype, const Shape& shape, bool ties, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(-2, 2);
  std::vector<double> v(NumElements(shape));
  for (double& x : v) x = ties ? std::floor(dist(rng)) : dist(rng);
  if (dtype == DataType::kFloat64) return *Tensor::FromVector<double>(shape, v);
  return *Tensor::FromVector<float>(shape, std::vector<float>(v.begin(), v.end()));
}

struct PoolGradCase {
  std::string name;
  std::string op;  // com.onyx MaxPoolGrad, AveragePoolGrad or GlobalAveragePoolGrad
  Shape x;
  std::vector<Attribute> attrs;
  DataType dtype = DataType::kFloat32;
  bool ties = false;
};

absl::StatusOr<Shape> PooledShape(const PoolGradCase& c) {
  if (c.op == "GlobalAveragePoolGrad") {
    Shape y = c.x;
    for (size_t i = 2; i < y.size(); ++i) y[i] = 1;
    return y;
  }
  Node node;
  node.name = "n0";
  node.op_type = c.op;
  node.attributes = c.attrs;
  auto attrs = pool::ParsePoolAttrs(node);
  if (!attrs.ok()) return attrs.status();
  auto g = pool::MakePoolGeometry(node, *attrs, c.x);
  if (!g.ok()) return g.status();
  return g->output_shape;
}

class PoolGradGpuTest : public GpuParamTest<PoolGradCase> {};

TEST_P(PoolGradGpuTest, MatchesCpu) {
  const PoolGradCase& c = GetParam();
  ASSERT_OK_AND_ASSIGN(Shape y, PooledShape(c));
  const std::vector<Tensor> inputs = {Values(c.dtype, y, false, 31),
                                      Values(c.dtype, c.x, c.ties, 32)};
  ASSERT_OK_AND_ASSIGN(Tensor cpu, RunNode(c.op, c.attrs, inputs, 22, Device::kCpu, kOnyxDomain));
  const Graph graph = testing_util::OneNodeGraph(c.op, c.attrs, inputs, 22, kOnyxDomain);
  bool on_device = false;
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> gpu,
                       RunGraphOnCuda(graph, testing_util::InputFeeds(inputs), &on_device));
  EXPECT_TRUE(on_device) << "fell back to the CPU kernel";
  if (c.dtype == DataType::kFloat64) {
    // The CPU loops and the CUDA gather add the same terms in the same order.
    EXPECT_TRUE(AllClose<double>(gpu[0], cpu, 0, 0));
  } else {
    // float32 on the CPU may run oneDNN's pooling backward (its own rounding).
    EXPECT_TRUE(AllClose<float>(gpu[0], cpu, 1e-5, 1e-6));
  }
}

std::vector<Attribute> Window(std::vector<int64_t> kernel, std::vector<int64_t> strides,
                              std::vector<int64_t> pads, int64_t include_pad = 0) {
  return {IntsAttr("kernel_shape", std::move(kernel)), IntsAttr("strides", std::move(strides)),
          IntsAttr("pads", std::move(pads)), IntAttr("count_include_pad", include_pad)};
}

std::vector<PoolGradCase> AllPoolGradCases() {
  const DataType f64 = DataType::kFloat64;
  std::vector<PoolGradCase> cases = {
      {"MaxResnetStem", "MaxPoolGrad", {2, 8, 28, 28}, Window({3, 3}, {2, 2}, {1, 1, 1, 1})},
      {"MaxOverlapTies",
       "MaxPoolGrad",
       {2, 3, 9, 10},
       Window({3, 3}, {1, 1}, {1, 1, 1, 1}),
       f64,
       true},
      {"MaxStridedTies",
       "MaxPoolGrad",
       {2, 3, 9, 10},
       Window({3, 3}, {2, 2}, {1, 1, 1, 1}),
       f64,
       true},
      {"MaxUnevenPadsTies",
       "MaxPoolGrad",
       {1, 2, 7, 8},
       Window({3, 2}, {1, 1}, {2, 0, 0, 1}),
       f64,
       true},
      {"MaxDilationsTies",
       "MaxPoolGrad",
       {1, 2, 10, 9},
       {IntsAttr("kernel_shape", {3, 2}), IntsAttr("dilations", {2, 3}),
        IntsAttr("strides", {1, 2}), IntsAttr("pads", {1, 1, 2, 2})},
       f64,
       true},
      {"MaxCeilModeTies",
       "MaxPoolGrad",
       {1, 2, 7, 7},
       {IntsAttr("kernel_shape", {2, 2}), IntsAttr("strides", {2, 2}), IntAttr("ceil_mode", 1)},
       f64,
       true},
      {"Max1d", "MaxPoolGrad", {2, 4, 15}, Window({3}, {1}, {1, 1})},
      {"Max1dTies", "MaxPoolGrad", {2, 4, 15}, Window({4}, {2}, {2, 1}), f64, true},
      {"Max3d", "MaxPoolGrad", {1, 2, 6, 6, 6}, Window({2, 2, 2}, {2, 2, 2}, {0, 0, 0, 0, 0, 0})},
      {"Max3dTies",
       "MaxPoolGrad",
       {1, 2, 5, 6, 7},
       Window({3, 2, 3}, {2, 1, 2}, {1, 0, 1, 1, 1, 0}),
       f64,
       true},
      {"MaxSameUpper",
       "MaxPoolGrad",
       {1, 2, 9, 9},
       {IntsAttr("kernel_shape", {3, 3}), IntsAttr("strides", {2, 2}),
        StringAttr("auto_pad", "SAME_UPPER")}},
      {"AvgExcludePad", "AveragePoolGrad", {2, 3, 8, 8}, Window({3, 3}, {1, 1}, {1, 1, 1, 1})},
      {"AvgIncludePad", "AveragePoolGrad", {2, 3, 8, 8}, Window({3, 3}, {1, 1}, {1, 1, 1, 1}, 1)},
      {"AvgIncludePad64",
       "AveragePoolGrad",
       {2, 3, 8, 8},
       Window({3, 3}, {2, 2}, {1, 1, 1, 1}, 1),
       f64},
      {"AvgUnevenPads64",
       "AveragePoolGrad",
       {1, 2, 8, 8},
       Window({3, 3}, {1, 1}, {1, 0, 0, 1}),
       f64},
      {"Avg1dExcludePad", "AveragePoolGrad", {2, 3, 17}, Window({4}, {2}, {2, 2})},
      {"Avg1dIncludePad", "AveragePoolGrad", {2, 3, 17}, Window({4}, {2}, {2, 2}, 1)},
      {"Avg3dIncludePad",
       "AveragePoolGrad",
       {1, 2, 7, 7, 7},
       Window({3, 3, 3}, {2, 2, 2}, {1, 1, 1, 1, 1, 1}, 1)},
      {"AvgCeilMode64",
       "AveragePoolGrad",
       {1, 2, 7, 7},
       {IntsAttr("kernel_shape", {3, 3}), IntsAttr("strides", {2, 2}),
        IntsAttr("pads", {1, 1, 1, 1}), IntAttr("ceil_mode", 1)},
       f64},
      {"AvgDilations64",
       "AveragePoolGrad",
       {1, 2, 9, 9},
       {IntsAttr("kernel_shape", {2, 2}), IntsAttr("dilations", {2, 2})},
       f64},
      {"GlobalAvg2d", "GlobalAveragePoolGrad", {2, 3, 7, 7}, {}},
      {"GlobalAvgResnet", "GlobalAveragePoolGrad", {4, 512, 7, 7}, {}},
      {"GlobalAvg1d", "GlobalAveragePoolGrad", {2, 3, 10}, {}},
      {"GlobalAvg3d64", "GlobalAveragePoolGrad", {1, 2, 3, 4, 5}, {}, f64},
  };
  return cases;
}

INSTANTIATE_TEST_SUITE_P(All, PoolGradGpuTest, ::testing::ValuesIn(AllPoolGradCases()),
                         [](const ::testing::TestParamInfo<PoolGradCase>& info) {
                           return info.param.name;
                         });

// x = [1, 3, 3, 2], window 2, stride 1: windows {1,3} -> x[1], {3,3} -> x[1]
// (the first of the tie), {3,2} -> x[2]; dy = [1, 10, 100].
TEST_F(GpuTest, MaxPoolGradRoutesTiesToTheFirstMaximum) {
  const std::vector<Attribute> attrs = {IntsAttr("kernel_shape", {2})};
  const std::vector<Tensor> inputs = {*Tensor::FromVector<float>({1, 1, 3}, {1, 10, 100}),
                                      *Tensor::FromVector<float>({1, 1, 4}, {1, 3, 3, 2})};
  const Graph graph = testing_util::OneNodeGraph("MaxPoolGrad", attrs, inputs, 22, kOnyxDomain);
  bool on_device = false;
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> gpu,
                       RunGraphOnCuda(graph, testing_util::InputFeeds(inputs), &on_device));
  EXPECT_TRUE(on_device);
  EXPECT_TRUE(
      AllClose<float>(gpu[0], *Tensor::FromVector<float>({1, 1, 4}, {0, 11, 100, 0}), 0, 0));
}

// An integer X has no CUDA kernel: Unimplemented before the output is touched,
// so the CPU kernel answers (with its own error for the dtype).
TEST_F(GpuTest, PoolGradOtherDtypesFallBackToCpu) {
  const std::vector<Attribute> attrs = {IntsAttr("kernel_shape", {2, 2})};
  const std::vector<Tensor> inputs = {*Tensor::FromVector<int32_t>({1, 1, 1, 1}, {1}),
                                      *Tensor::FromVector<int32_t>({1, 1, 2, 2}, {1, 2, 3, 4})};
  const Graph graph = testing_util::OneNodeGraph("MaxPoolGrad", attrs, inputs, 22, kOnyxDomain);
  bool on_device = true;
  auto gpu = RunGraphOnCuda(graph, testing_util::InputFeeds(inputs), &on_device);
  auto cpu = RunGraph(graph, testing_util::InputFeeds(inputs), Device::kCpu);
  ASSERT_FALSE(cpu.ok());
  ASSERT_FALSE(gpu.ok());
  EXPECT_EQ(gpu.status().code(), cpu.status().code()) << gpu.status();
}

struct ConvTransposeCase {
  std::string name;
  Shape x, w;
  std::vector<Attribute> attrs;
  bool bias = true;
  bool cudnn = true;  // false: cuDNN cannot express it, the CPU kernel runs
};

class ConvTransposeGpuTest : public GpuParamTest<ConvTransposeCase> {};

TEST_P(ConvTransposeGpuTest, MatchesCpu) {
  const ConvTransposeCase& c = GetParam();
  std::vector<Tensor> inputs = {RandomFloats(c.x, -1.f, 1.f, 41), RandomFloats(c.w, -1.f, 1.f, 42)};
  const int64_t group = [&] {
    for (const Attribute& a : c.attrs) {
      if (a.name == "group") return a.i;
    }
    return int64_t{1};
  }();
  if (c.bias) inputs.push_back(RandomFloats({c.w[1] * group}, -1.f, 1.f, 43));
  ASSERT_OK_AND_ASSIGN(Tensor cpu, RunNode("ConvTranspose", c.attrs, inputs, 19, Device::kCpu));
  const Graph graph = testing_util::OneNodeGraph("ConvTranspose", c.attrs, inputs, 19);
  bool on_device = false;
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> gpu,
                       RunGraphOnCuda(graph, testing_util::InputFeeds(inputs), &on_device));
  EXPECT_EQ(on_device, c.cudnn) << (c.cudnn ? "fell back to the CPU kernel"
                                            : "cuDNN ran a case it cannot express");
  // FMA math in float: sums of up to a few hundred products.
  EXPECT_TRUE(AllClose<float>(gpu[0], cpu, 1e-4, 1e-4));
}

std::vector<ConvTransposeCase> AllConvTransposeCases() {
  return {
      {"Plain2d", {1, 3, 6, 6}, {3, 4, 3, 3}, {}},
      {"NoBias", {2, 3, 6, 6}, {3, 4, 3, 3}, {}, false},
      {"Stride2Pads1OutputPadding1",
       {2, 4, 5, 5},
       {4, 3, 3, 3},
       {IntsAttr("strides", {2, 2}), IntsAttr("pads", {1, 1, 1, 1}),
        IntsAttr("output_padding", {1, 1})}},
      {"Upsample4x4Stride2",
       {2, 32, 16, 16},
       {32, 16, 4, 4},
       {IntsAttr("strides", {2, 2}), IntsAttr("pads", {1, 1, 1, 1})}},
      {"GroupsDilations",
       {2, 4, 5, 6},
       {4, 3, 3, 3},
       {IntAttr("group", 2), IntsAttr("dilations", {2, 2}), IntsAttr("pads", {1, 1, 1, 1})}},
      {"Depthwise", {1, 8, 7, 7}, {8, 1, 3, 3}, {IntAttr("group", 8), IntsAttr("strides", {2, 2})}},
      {"OneDimensional",
       {2, 3, 9},
       {3, 5, 4},
       {IntsAttr("strides", {3}), IntsAttr("pads", {1, 1})}},
      {"ThreeDimensional",
       {1, 2, 3, 4, 5},
       {2, 3, 3, 3, 3},
       {IntsAttr("strides", {2, 1, 2}), IntsAttr("pads", {1, 0, 1, 1, 0, 1})}},
      {"OutputShapePastTheLastWindow",
       {1, 2, 3, 3},
       {2, 2, 3, 3},
       {IntsAttr("strides", {2, 2}), IntsAttr("output_shape", {8, 8})}},
      {"SameLower",
       {1, 2, 4, 4},
       {2, 2, 3, 3},
       {IntsAttr("strides", {2, 2}), StringAttr("auto_pad", "SAME_LOWER")}},
      {"SameUpperEvenTotal",
       {1, 3, 4, 4},
       {3, 2, 4, 4},
       {IntsAttr("strides", {2, 2}), StringAttr("auto_pad", "SAME_UPPER")}},
      {"UnevenPadsThroughScratch", {1, 2, 4, 4}, {2, 2, 3, 3}, {IntsAttr("pads", {0, 0, 1, 1})}},
      {"SameUpperOddTotal",
       {2, 3, 4, 5},
       {3, 2, 3, 3},
       {IntsAttr("strides", {2, 2}), StringAttr("auto_pad", "SAME_UPPER")}},
      {"SameUpperOddTotalNoBias",
       {2, 3, 4, 5},
       {3, 2, 3, 3},
       {IntsAttr("strides", {2, 2}), StringAttr("auto_pad", "SAME_UPPER")},
       false},
      {"OutputShapeFarPastTheWindows",
       {1, 2, 4, 4},
       {2, 2, 3, 3},
       {IntsAttr("strides", {2, 2}), IntsAttr("output_shape", {12, 11})}},
      {"OneDimensionalUneven",
       {2, 2, 6},
       {2, 3, 4},
       {IntsAttr("strides", {2}), IntsAttr("pads", {0, 3})}},
      {"PadsPastTheMappedRowsFallBack",
       {1, 2, 4, 4},
       {2, 2, 3, 3},
       {IntsAttr("pads", {1, 1, 0, 0})},
       true,
       false},
  };
}

INSTANTIATE_TEST_SUITE_P(All, ConvTransposeGpuTest, ::testing::ValuesIn(AllConvTransposeCases()),
                         [](const ::testing::TestParamInfo<ConvTransposeCase>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace onyx::gpu_test
