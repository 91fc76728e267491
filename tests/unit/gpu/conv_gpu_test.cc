// The cuDNN Conv kernel against the CPU kernel: 1-D, 2-D and 3-D, pads,
// strides, dilations, groups, bias, auto_pad; and the cases cuDNN cannot
// express (uneven pads) falling back to the CPU kernel inside a CUDA session.
#include <string>
#include <vector>

#include "runtime/gradient.h"
#include "tests/unit/gpu/gpu_test_util.h"

namespace onyx::gpu_test {
namespace {

using testing_util::IntAttr;
using testing_util::IntsAttr;
using testing_util::StringAttr;

struct ConvCase {
  std::string name;
  Shape x, w;
  std::vector<Attribute> attrs;
  bool bias = true;
  bool cudnn = true;  // false: cuDNN cannot express it, the CPU kernel runs
};

class ConvGpuTest : public GpuParamTest<ConvCase> {};

TEST_P(ConvGpuTest, MatchesCpu) {
  const ConvCase& c = GetParam();
  std::vector<Tensor> inputs = {RandomFloats(c.x, -1.f, 1.f, 11), RandomFloats(c.w, -1.f, 1.f, 12)};
  if (c.bias) inputs.push_back(RandomFloats({c.w[0]}, -1.f, 1.f, 13));
  ASSERT_OK_AND_ASSIGN(Tensor cpu, RunNode("Conv", c.attrs, inputs, 19, Device::kCpu));
  const Graph graph = testing_util::OneNodeGraph("Conv", c.attrs, inputs, 19);
  bool on_device = false;
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> gpu,
                       RunGraphOnCuda(graph, testing_util::InputFeeds(inputs), &on_device));
  EXPECT_EQ(on_device, c.cudnn) << (c.cudnn ? "fell back to the CPU kernel"
                                            : "cuDNN ran a case it cannot express");
  // FMA math in float: sums of up to a few hundred products.
  EXPECT_TRUE(AllClose<float>(gpu[0], cpu, 1e-4, 1e-4));
}

std::vector<ConvCase> AllConvCases() {
  return {
      ConvCase{"Plain2d", {1, 3, 8, 8}, {4, 3, 3, 3}, {}},
      ConvCase{"NoBias", {2, 3, 8, 8}, {4, 3, 3, 3}, {}, false},
      ConvCase{"PadsStrides",
               {2, 4, 9, 10},
               {6, 4, 3, 3},
               {IntsAttr("pads", {1, 1, 1, 1}), IntsAttr("strides", {2, 2})}},
      ConvCase{
          "GroupsDilations",
          {2, 4, 10, 10},
          {6, 2, 3, 3},
          {IntAttr("group", 2), IntsAttr("dilations", {2, 2}), IntsAttr("pads", {2, 2, 2, 2})}},
      ConvCase{"Depthwise",
               {1, 8, 12, 12},
               {8, 1, 3, 3},
               {IntAttr("group", 8), IntsAttr("pads", {1, 1, 1, 1})}},
      ConvCase{"Pointwise", {2, 16, 7, 7}, {32, 16, 1, 1}, {}},
      ConvCase{"Larger", {4, 32, 28, 28}, {64, 32, 3, 3}, {IntsAttr("pads", {1, 1, 1, 1})}},
      ConvCase{"OneD",
               {2, 3, 20},
               {5, 3, 4},
               {IntsAttr("strides", {2}), IntsAttr("pads", {1, 1}), IntsAttr("dilations", {2})}},
      ConvCase{"ThreeD",
               {1, 2, 6, 7, 8},
               {4, 2, 3, 3, 3},
               {IntsAttr("pads", {1, 1, 1, 1, 1, 1}), IntsAttr("strides", {1, 2, 2})}},
      ConvCase{"ThreeDGrouped", {1, 4, 5, 5, 5}, {4, 2, 2, 2, 2}, {IntAttr("group", 2)}},
      ConvCase{"SameUpperOddKernel",
               {1, 3, 9, 9},
               {4, 3, 3, 3},
               {StringAttr("auto_pad", "SAME_UPPER"), IntsAttr("strides", {2, 2})}},
      ConvCase{"SameLowerEvenKernelFallsBack",
               {1, 3, 8, 8},
               {4, 3, 2, 2},
               {StringAttr("auto_pad", "SAME_LOWER")},
               true,
               false},
      ConvCase{"UnevenPadsFallBack",
               {1, 3, 8, 8},
               {4, 3, 3, 3},
               {IntsAttr("pads", {0, 1, 1, 0})},
               true,
               false}};
}

std::string CaseName(const ::testing::TestParamInfo<ConvCase>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(All, ConvGpuTest, ::testing::ValuesIn(AllConvCases()), CaseName);

// com.onyx ConvGrad(dY, X, W) -> (dX, dW, dB) on cuDNN against the CPU kernel.
class ConvGradGpuTest : public GpuParamTest<ConvCase> {};

TEST_P(ConvGradGpuTest, MatchesCpu) {
  const ConvCase& c = GetParam();
  const Tensor x = RandomFloats(c.x, -1.f, 1.f, 31), w = RandomFloats(c.w, -1.f, 1.f, 32);
  // dY takes the forward output's shape, from the CPU forward.
  ASSERT_OK_AND_ASSIGN(Tensor y, RunNode("Conv", c.attrs, {x, w}, 19, Device::kCpu));
  const std::vector<Tensor> inputs = {RandomFloats(y.shape(), -1.f, 1.f, 33), x, w};
  testing_util::NodeSpec spec{.op_type = "ConvGrad",
                              .domain = std::string(kOnyxDomain),
                              .attrs = c.attrs,
                              .opset = 19,
                              .outputs = {"dx", "dw", "db"}};
  const Graph graph = testing_util::OneNodeGraph(spec, inputs);
  const NamedTensors feeds = testing_util::InputFeeds(inputs);
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> cpu, RunGraph(graph, feeds, Device::kCpu));
  bool on_device = false;
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> gpu, RunGraphOnCuda(graph, feeds, &on_device));
  EXPECT_EQ(on_device, c.cudnn);
  ASSERT_EQ(gpu.size(), 3u);
  // dW and dB sum over the batch and every output position: looser.
  EXPECT_TRUE(AllClose<float>(gpu[0], cpu[0], 1e-4, 1e-4)) << "dX";
  EXPECT_TRUE(AllClose<float>(gpu[1], cpu[1], 1e-3, 1e-3)) << "dW";
  EXPECT_TRUE(AllClose<float>(gpu[2], cpu[2], 1e-3, 1e-3)) << "dB";
}

INSTANTIATE_TEST_SUITE_P(All, ConvGradGpuTest, ::testing::ValuesIn(AllConvCases()), CaseName);

// Training graphs often want dX only (or dW and dB only): omitted outputs stay omitted.
TEST_F(GpuTest, ConvGradWithOmittedOutputs) {
  const Tensor x = RandomFloats({2, 4, 9, 9}, -1.f, 1.f, 41);
  const Tensor w = RandomFloats({6, 2, 3, 3}, -1.f, 1.f, 42);
  const std::vector<Attribute> attrs = {IntAttr("group", 2), IntsAttr("pads", {1, 1, 1, 1})};
  const std::vector<Tensor> inputs = {RandomFloats({2, 6, 9, 9}, -1.f, 1.f, 43), x, w};
  for (const std::vector<std::string>& outputs :
       {std::vector<std::string>{"dx", "", ""}, std::vector<std::string>{"", "dw", "db"}}) {
    testing_util::NodeSpec spec{.op_type = "ConvGrad",
                                .domain = std::string(kOnyxDomain),
                                .attrs = attrs,
                                .opset = 19,
                                .outputs = outputs};
    const Graph graph = testing_util::OneNodeGraph(spec, inputs);
    const NamedTensors feeds = testing_util::InputFeeds(inputs);
    ASSERT_OK_AND_ASSIGN(std::vector<Tensor> cpu, RunGraph(graph, feeds, Device::kCpu));
    bool on_device = false;
    ASSERT_OK_AND_ASSIGN(std::vector<Tensor> gpu, RunGraphOnCuda(graph, feeds, &on_device));
    ASSERT_EQ(gpu.size(), cpu.size());
    for (size_t i = 0; i < gpu.size(); ++i) {
      EXPECT_TRUE(AllClose<float>(gpu[i], cpu[i], 1e-3, 1e-3)) << "output " << i;
    }
  }
}

TEST_F(GpuTest, ConvBadBiasNamesTheNode) {
  std::vector<Tensor> inputs = {RandomFloats({1, 3, 5, 5}, -1.f, 1.f, 1),
                                RandomFloats({4, 3, 3, 3}, -1.f, 1.f, 2),
                                RandomFloats({3}, -1.f, 1.f, 3)};
  auto y = RunNode("Conv", {}, inputs, 19, Device::kCuda);
  ASSERT_FALSE(y.ok());
  EXPECT_NE(std::string(y.status().message()).find("n0"), std::string::npos) << y.status();
}

}  // namespace
}  // namespace onyx::gpu_test
