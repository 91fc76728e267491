// The cuDNN pooling kernels against the CPU kernels: MaxPool, AveragePool
// (count_include_pad either way), GlobalAveragePool, GlobalMaxPool over 1-D,
// 2-D and 3-D inputs; and what cuDNN cannot compute (ceil_mode adding a
// window, dilations, uneven pads, MaxPool's Indices) falling back to the CPU.
#include <string>
#include <vector>

#include "tests/unit/gpu/gpu_test_util.h"

namespace onyx::gpu_test {
namespace {

using testing_util::IntAttr;
using testing_util::IntsAttr;
using testing_util::StringAttr;

struct PoolCase {
  std::string name;
  std::string op;
  Shape x;
  std::vector<Attribute> attrs;
  bool cudnn = true;  // false: cuDNN cannot express it, the CPU kernel runs
};

class PoolGpuTest : public GpuParamTest<PoolCase> {};

TEST_P(PoolGpuTest, MatchesCpu) {
  const PoolCase& c = GetParam();
  const std::vector<Tensor> inputs = {RandomFloats(c.x, -2.f, 2.f, 21)};
  ASSERT_OK_AND_ASSIGN(Tensor cpu, RunNode(c.op, c.attrs, inputs, 19, Device::kCpu));
  const Graph graph = testing_util::OneNodeGraph(c.op, c.attrs, inputs, 19);
  bool on_device = false;
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> gpu,
                       RunGraphOnCuda(graph, testing_util::InputFeeds(inputs), &on_device));
  EXPECT_EQ(on_device, c.cudnn) << (c.cudnn ? "fell back to the CPU kernel"
                                            : "cuDNN ran a case it cannot express");
  EXPECT_TRUE(AllClose<float>(gpu[0], cpu, 1e-5, 1e-6));
}

std::vector<Attribute> Window(std::vector<int64_t> kernel, std::vector<int64_t> strides,
                              std::vector<int64_t> pads, int64_t include_pad = 0) {
  return {IntsAttr("kernel_shape", std::move(kernel)), IntsAttr("strides", std::move(strides)),
          IntsAttr("pads", std::move(pads)), IntAttr("count_include_pad", include_pad)};
}

std::vector<Attribute> MaxWindow(std::vector<int64_t> kernel, std::vector<int64_t> strides,
                                 std::vector<int64_t> pads) {
  return {IntsAttr("kernel_shape", std::move(kernel)), IntsAttr("strides", std::move(strides)),
          IntsAttr("pads", std::move(pads))};
}

INSTANTIATE_TEST_SUITE_P(
    All, PoolGpuTest,
    ::testing::Values(
        PoolCase{"Max2d", "MaxPool", {2, 3, 9, 10}, MaxWindow({3, 3}, {2, 2}, {1, 1, 1, 1})},
        PoolCase{"Max1d", "MaxPool", {2, 4, 15}, MaxWindow({3}, {1}, {0, 0})},
        PoolCase{"Max3d",
                 "MaxPool",
                 {1, 2, 6, 6, 6},
                 MaxWindow({2, 2, 2}, {2, 2, 2}, {0, 0, 0, 0, 0, 0})},
        PoolCase{"MaxSameUpper",
                 "MaxPool",
                 {1, 2, 9, 9},
                 {IntsAttr("kernel_shape", {3, 3}), IntsAttr("strides", {2, 2}),
                  StringAttr("auto_pad", "SAME_UPPER")}},
        PoolCase{
            "AvgExcludePad", "AveragePool", {2, 3, 8, 8}, Window({3, 3}, {1, 1}, {1, 1, 1, 1})},
        PoolCase{
            "AvgIncludePad", "AveragePool", {2, 3, 8, 8}, Window({3, 3}, {1, 1}, {1, 1, 1, 1}, 1)},
        PoolCase{"Avg1dExcludePad", "AveragePool", {2, 3, 17}, Window({4}, {2}, {2, 2})},
        PoolCase{"Avg1dIncludePad", "AveragePool", {2, 3, 17}, Window({4}, {2}, {2, 2}, 1)},
        PoolCase{"Avg3dIncludePad",
                 "AveragePool",
                 {1, 2, 7, 7, 7},
                 Window({3, 3, 3}, {2, 2, 2}, {1, 1, 1, 1, 1, 1}, 1)},
        PoolCase{"AvgCeilModeSameSize",
                 "AveragePool",
                 {1, 2, 8, 8},
                 {IntsAttr("kernel_shape", {2, 2}), IntsAttr("strides", {2, 2}),
                  IntAttr("ceil_mode", 1)}},
        PoolCase{"GlobalAvg2d", "GlobalAveragePool", {2, 3, 7, 7}, {}},
        PoolCase{"GlobalAvgLarge", "GlobalAveragePool", {2, 64, 56, 56}, {}},
        PoolCase{"GlobalAvg1d", "GlobalAveragePool", {2, 3, 10}, {}},
        PoolCase{"GlobalAvg3d", "GlobalAveragePool", {1, 2, 3, 4, 5}, {}},
        PoolCase{"GlobalMax2d", "GlobalMaxPool", {2, 3, 7, 7}, {}},
        PoolCase{"MaxCeilModeFallsBack",
                 "MaxPool",
                 {1, 1, 7, 7},
                 {IntsAttr("kernel_shape", {2, 2}), IntsAttr("strides", {2, 2}),
                  IntAttr("ceil_mode", 1)},
                 false},
        PoolCase{"MaxDilationFallsBack",
                 "MaxPool",
                 {1, 2, 8, 8},
                 {IntsAttr("kernel_shape", {2, 2}), IntsAttr("dilations", {2, 2})},
                 false},
        PoolCase{"AvgUnevenPadsFallBack",
                 "AveragePool",
                 {1, 2, 8, 8},
                 Window({3, 3}, {1, 1}, {1, 0, 0, 1}),
                 false}),
    [](const ::testing::TestParamInfo<PoolCase>& info) { return info.param.name; });

// cuDNN keeps no argmax: a MaxPool with Indices runs the CPU kernel, both outputs.
TEST_F(GpuTest, MaxPoolIndicesFallBackToCpu) {
  const std::vector<Tensor> inputs = {RandomFloats({1, 2, 6, 6}, -2.f, 2.f, 5)};
  testing_util::NodeSpec spec{
      .op_type = "MaxPool",
      .attrs = {IntsAttr("kernel_shape", {2, 2}), IntAttr("storage_order", 1)},
      .opset = 12,
      .outputs = {"y", "indices"}};
  const Graph graph = testing_util::OneNodeGraph(spec, inputs);
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> cpu,
                       RunGraph(graph, testing_util::InputFeeds(inputs), Device::kCpu));
  bool on_device = true;
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> gpu,
                       RunGraphOnCuda(graph, testing_util::InputFeeds(inputs), &on_device));
  EXPECT_FALSE(on_device);
  ASSERT_EQ(gpu.size(), 2u);
  EXPECT_TRUE(AllClose<float>(gpu[0], cpu[0], 0, 0));
  EXPECT_TRUE(AllClose<int64_t>(gpu[1], cpu[1], 0, 0));
}

}  // namespace
}  // namespace onyx::gpu_test
