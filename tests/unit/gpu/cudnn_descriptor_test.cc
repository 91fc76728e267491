// cuDNN's own descriptor arithmetic against the ONNX geometry: for each mapped
// convolution and pooling, the output dims cuDNN derives (host-side, no GPU
// needed) must equal the ONNX output shape the mapping carries. Runs wherever
// libcudnn loads; skips naming the loader's reason where it does not.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ops/conv/conv_cuda.h"
#include "ops/pool/pool_cuda_mapping.h"
#include "tests/status_matchers.h"
#include "tests/unit/common/run_node.h"

namespace onyx {
namespace {

using testing_util::IntAttr;
using testing_util::IntsAttr;
using testing_util::StringAttr;

class CudnnDescriptorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto api = cuda::LoadCudnn();
    if (!api.ok()) GTEST_SKIP() << "skipped: " << api.status();
  }
};

Node MakeNode(const std::string& op, std::vector<Attribute> attrs) {
  Node node;
  node.name = "n0";
  node.op_type = op;
  node.attributes = std::move(attrs);
  return node;
}

struct ConvCase {
  Shape x, w;
  std::vector<Attribute> attrs;
};

TEST_F(CudnnDescriptorTest, ConvOutputDimsMatchOnnx) {
  const std::vector<ConvCase> cases = {
      {{2, 4, 9, 10},
       {6, 2, 3, 3},
       {IntAttr("group", 2), IntsAttr("pads", {1, 1, 1, 1}), IntsAttr("strides", {2, 1}),
        IntsAttr("dilations", {1, 2})}},
      {{1, 3, 11}, {5, 3, 5}, {IntsAttr("pads", {2, 2}), IntsAttr("strides", {3})}},
      {{2, 3, 20}, {5, 3, 4}, {IntsAttr("dilations", {2}), IntsAttr("strides", {2})}},
      {{1, 4, 5, 6, 7}, {4, 1, 2, 3, 3}, {IntAttr("group", 4)}},
      {{1, 2, 6, 7, 8},
       {4, 2, 3, 3, 3},
       {IntsAttr("pads", {1, 1, 1, 1, 1, 1}), IntsAttr("strides", {1, 2, 2})}},
      {{1, 3, 9, 9},
       {4, 3, 3, 3},
       {StringAttr("auto_pad", "SAME_UPPER"), IntsAttr("strides", {2, 2})}},
      {{4, 32, 28, 28}, {64, 32, 3, 3}, {IntsAttr("pads", {1, 1, 1, 1})}},
  };
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(ShapeToString(c.x) + " " + ShapeToString(c.w));
    const Node node = MakeNode("Conv", c.attrs);
    ASSERT_OK_AND_ASSIGN(conv::ConvAttrs attrs, conv::ParseConvAttrs(node, false));
    ASSERT_OK_AND_ASSIGN(conv::ConvGeometry g, conv::ResolveConv(node, attrs, c.x, c.w));
    ASSERT_OK_AND_ASSIGN(conv::CudnnConvDims d, conv::MapConvToCudnn(node, g));
    cuda::ConvTensorDescs descs;
    ASSERT_OK(cuda::MakeConvTensorDescs(d, descs));
    ASSERT_OK_AND_ASSIGN(cuda::ConvDesc conv,
                         cuda::MakeConvDesc(d.pads, d.strides, d.dilations, d.groups));
    ASSERT_OK_AND_ASSIGN(std::vector<int> out,
                         cuda::ConvOutputDims(conv, descs.x, descs.w, d.y.size()));
    EXPECT_EQ(out, d.y);
    EXPECT_OK(cuda::MakeCheckedConvDesc(d, descs).status());
  }
}

// ConvTranspose runs as the backward-data pass of a convolution over its
// output: cuDNN must map that output back to exactly X's dims.
TEST_F(CudnnDescriptorTest, ConvTransposeMirroredConvolutionGivesBackX) {
  const std::vector<ConvCase> cases = {
      {{1, 2, 5, 5},
       {2, 3, 3, 3},
       {IntsAttr("strides", {2, 2}), IntsAttr("pads", {1, 1, 1, 1}),
        IntsAttr("output_padding", {1, 1})}},
      {{2, 4, 3, 4}, {4, 3, 2, 2}, {IntAttr("group", 2), IntsAttr("dilations", {2, 2})}},
      {{1, 2, 7}, {2, 5, 4}, {IntsAttr("strides", {3})}},
      {{1, 1, 3, 3}, {1, 1, 3, 3}, {IntsAttr("strides", {2, 2}), IntsAttr("output_shape", {8, 8})}},
      {{1, 1, 4, 4},
       {1, 1, 3, 3},
       {IntsAttr("strides", {2, 2}), StringAttr("auto_pad", "SAME_LOWER")}},
      {{1, 3, 4, 4},
       {3, 2, 4, 4},
       {IntsAttr("strides", {2, 2}), StringAttr("auto_pad", "SAME_UPPER")}},
      {{1, 2, 3, 4, 5},
       {2, 2, 3, 3, 3},
       {IntsAttr("strides", {2, 1, 2}), IntsAttr("pads", {1, 0, 1, 1, 0, 1})}},
  };
  // Ends cuDNN cannot pad alike: its input (a scratch) has other extents than Y.
  const std::vector<ConvCase> scratch_cases = {
      {{1, 1, 4, 4}, {1, 1, 3, 3}, {IntsAttr("pads", {0, 0, 1, 1})}},
      {{1, 1, 4, 4},
       {1, 1, 3, 3},
       {IntsAttr("strides", {2, 2}), StringAttr("auto_pad", "SAME_UPPER")}},
      {{1, 1, 4, 4},
       {1, 1, 3, 3},
       {IntsAttr("strides", {2, 2}), IntsAttr("output_shape", {12, 12})}},
      {{1, 2, 6}, {2, 3, 4}, {IntsAttr("strides", {2}), IntsAttr("pads", {0, 3})}},
  };
  for (const ConvCase& c : scratch_cases) {
    SCOPED_TRACE(ShapeToString(c.x) + " " + ShapeToString(c.w));
    const Node node = MakeNode("ConvTranspose", c.attrs);
    ASSERT_OK_AND_ASSIGN(conv::ConvAttrs attrs, conv::ParseConvAttrs(node, true));
    ASSERT_OK_AND_ASSIGN(conv::ConvGeometry g, conv::ResolveConvTranspose(node, attrs, c.x, c.w));
    ASSERT_OK_AND_ASSIGN(conv::CudnnConvDims d, conv::MapConvTransposeToCudnn(node, g));
    cuda::ConvTensorDescs descs;
    ASSERT_OK(cuda::MakeConvTensorDescs(d, descs));
    EXPECT_OK(cuda::MakeCheckedConvDesc(d, descs).status());
  }
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(ShapeToString(c.x) + " " + ShapeToString(c.w));
    const Node node = MakeNode("ConvTranspose", c.attrs);
    ASSERT_OK_AND_ASSIGN(conv::ConvAttrs attrs, conv::ParseConvAttrs(node, true));
    ASSERT_OK_AND_ASSIGN(conv::ConvGeometry g, conv::ResolveConvTranspose(node, attrs, c.x, c.w));
    ASSERT_OK_AND_ASSIGN(conv::CudnnConvDims d, conv::MapConvTransposeToCudnn(node, g));
    const Shape y = g.OutputShape();
    Shape cudnn_input(d.x.begin(), d.x.end());
    if (g.spatial == 1) cudnn_input.erase(cudnn_input.begin() + 2);
    EXPECT_EQ(cudnn_input, y);
    cuda::ConvTensorDescs descs;
    ASSERT_OK(cuda::MakeConvTensorDescs(d, descs));
    EXPECT_OK(cuda::MakeCheckedConvDesc(d, descs).status());
  }
}

struct PoolCase {
  std::string op;
  Shape x;
  std::vector<Attribute> attrs;
};

TEST_F(CudnnDescriptorTest, PoolOutputDimsMatchOnnx) {
  const std::vector<PoolCase> cases = {
      {"MaxPool",
       {2, 3, 9, 10},
       {IntsAttr("kernel_shape", {3, 3}), IntsAttr("strides", {2, 2}),
        IntsAttr("pads", {1, 1, 1, 1})}},
      {"MaxPool", {2, 4, 15}, {IntsAttr("kernel_shape", {3})}},
      {"AveragePool",
       {2, 3, 17},
       {IntsAttr("kernel_shape", {4}), IntsAttr("strides", {2}), IntsAttr("pads", {2, 2})}},
      {"AveragePool",
       {1, 2, 7, 7, 7},
       {IntsAttr("kernel_shape", {3, 3, 3}), IntsAttr("strides", {2, 2, 2}),
        IntsAttr("pads", {1, 1, 1, 1, 1, 1})}},
      {"MaxPool",
       {1, 2, 9, 9},
       {IntsAttr("kernel_shape", {3, 3}), IntsAttr("strides", {2, 2}),
        StringAttr("auto_pad", "SAME_UPPER")}},
      {"AveragePool",
       {1, 2, 8, 8},
       {IntsAttr("kernel_shape", {2, 2}), IntsAttr("strides", {2, 2}), IntAttr("ceil_mode", 1)}},
      {"GlobalAveragePool", {2, 64, 56, 56}, {}},
      {"GlobalMaxPool", {2, 3, 10}, {}},
      {"GlobalAveragePool", {1, 2, 3, 4, 5}, {}},
  };
  for (const PoolCase& c : cases) {
    SCOPED_TRACE(c.op + " " + ShapeToString(c.x));
    const Node node = MakeNode(c.op, c.attrs);
    pool::CudnnPoolDims d;
    if (c.op.rfind("Global", 0) == 0) {
      ASSERT_OK_AND_ASSIGN(d, pool::MapGlobalPoolToCudnn(node, c.x));
    } else {
      ASSERT_OK_AND_ASSIGN(pool::PoolAttrs attrs, pool::ParsePoolAttrs(node));
      ASSERT_OK_AND_ASSIGN(pool::PoolGeometry g, pool::MakePoolGeometry(node, attrs, c.x));
      ASSERT_OK_AND_ASSIGN(d, pool::MapPoolToCudnn(node, c.x, g));
    }
    ASSERT_OK_AND_ASSIGN(cuda::TensorDesc x, cuda::MakeTensorDesc(d.x));
    for (cudnnPoolingMode_t mode : {CUDNN_POOLING_MAX, CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING,
                                    CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING}) {
      ASSERT_OK_AND_ASSIGN(cuda::PoolDesc desc,
                           cuda::MakePoolDesc(mode, d.window, d.pads, d.strides));
      ASSERT_OK_AND_ASSIGN(std::vector<int> out, cuda::PoolOutputDims(desc, x, d.y.size()));
      EXPECT_EQ(out, d.y);
    }
  }
}

TEST_F(CudnnDescriptorTest, TensorsPastIntStridesFallBack) {
  EXPECT_OK(cuda::MakeTensorDesc({1, 1, 32768, 32768}).status());  // 2^30 elements
  const auto big = cuda::MakeTensorDesc({2, 1, 65536, 65536});     // strides past INT_MAX
  EXPECT_EQ(big.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(big.status().message(), ::testing::HasSubstr("[2,1,65536,65536]"));
}

TEST(CudnnOutputDims, MismatchFallsBackToTheCpu) {
  EXPECT_OK(cuda::CheckOutputDims({1, 2, 3, 3}, {1, 2, 3, 3}));
  const absl::Status differ = cuda::CheckOutputDims({1, 2, 3, 3}, {1, 2, 4, 4});
  EXPECT_EQ(differ.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(differ.message(), ::testing::HasSubstr("[1,2,3,3], ONNX [1,2,4,4]"));
}

}  // namespace
}  // namespace onyx
