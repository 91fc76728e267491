// Which nodes of the training graphs would run on the CPU under --device cuda:
// every node of the tutorial MLP's training graph (each loss) and of a small
// CNN's inference and training graphs must have a CUDA kernel. Runs without a
// GPU: it only asks the registry.
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "importers/onnx/onnx_importer.h"
#include "ops/register_all.h"
#include "tests/unit/gpu/training_graphs.h"

namespace onyx::gpu_test {
namespace {

std::string OpName(const Node& node) {
  return node.domain.empty() ? node.op_type : node.domain + ":" + node.op_type;
}

// The graph's ops without a CUDA kernel at the graph's opset; sorted, each once.
std::set<std::string> MissingCudaOps(const Graph& graph) {
  std::set<std::string> missing;
  for (const Node& node : graph.nodes) {
    auto opset = graph.opset_imports.find(node.domain);
    const int64_t version = opset == graph.opset_imports.end() ? 1 : opset->second;
    if (DefaultRegistry().Find(node.domain, node.op_type, version, Device::kCuda).ok()) continue;
    missing.insert(OpName(node));
  }
  return missing;
}

std::string Join(const std::set<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

struct LossCase {
  const char* op;
  DataType target;
};

class CudaCoverageLossTest : public ::testing::TestWithParam<LossCase> {};

TEST_P(CudaCoverageLossTest, TutorialMlpTrainingGraphRunsOnCuda) {
  auto model = LoadOnnxModel(std::string(ONYX_SOURCE_DIR) + "/models/tutorial_mlp/model.onnx");
  ASSERT_TRUE(model.ok()) << model.status();
  auto train = BuildTrainingGraph(*model, GetParam().op, GetParam().target);
  ASSERT_TRUE(train.ok()) << train.status();
  // The backward of Gemm, Relu and Softmax, not just the forward, is in it.
  std::set<std::string> ops;
  for (const Node& node : train->grad.graph.nodes) ops.insert(OpName(node));
  EXPECT_TRUE(ops.count("com.onyx:MatMulT")) << Join(ops);
  EXPECT_TRUE(ops.count("com.onyx:ReduceToShape")) << Join(ops);
  EXPECT_TRUE(ops.count(std::string("com.onyx:") + GetParam().op + "Grad")) << Join(ops);
  const std::set<std::string> missing = MissingCudaOps(train->grad.graph);
  EXPECT_TRUE(missing.empty()) << "ops without a CUDA kernel: " << Join(missing);
}

INSTANTIATE_TEST_SUITE_P(Losses, CudaCoverageLossTest,
                         ::testing::Values(LossCase{"MseLoss", DataType::kFloat32},
                                           LossCase{"CrossEntropyLoss", DataType::kInt64},
                                           LossCase{"BceLoss", DataType::kFloat32},
                                           LossCase{"BceWithLogitsLoss", DataType::kFloat32}),
                         [](const auto& info) { return std::string(info.param.op); });

TEST(CudaCoverageTest, SmallCnnInferenceAndTrainingGraphsRunOnCuda) {
  const Graph cnn = SmallCnn();
  std::set<std::string> missing = MissingCudaOps(cnn);
  EXPECT_TRUE(missing.empty()) << "inference ops without a CUDA kernel: " << Join(missing);
  auto train = BuildTrainingGraph(cnn, "MseLoss", DataType::kFloat32);
  ASSERT_TRUE(train.ok()) << train.status();
  missing = MissingCudaOps(train->grad.graph);
  EXPECT_TRUE(missing.empty()) << "training ops without a CUDA kernel: " << Join(missing);
  std::set<std::string> ops;
  for (const Node& node : train->grad.graph.nodes) ops.insert(OpName(node));
  EXPECT_TRUE(ops.count("com.onyx:ClipGrad")) << Join(ops);
}

TEST(CudaCoverageTest, ReportsAnOpWithoutACudaKernel) {
  // The check itself: an op with only a CPU kernel is named.
  Graph g = SmallCnn();
  g.nodes.push_back(
      testing_util::MakeNode("GlobalLpPool", {"y"}, {"z"}, {}, kOnnxDomain, g.nodes.size()));
  EXPECT_EQ(MissingCudaOps(g), std::set<std::string>{"GlobalLpPool"});
}

}  // namespace
}  // namespace onyx::gpu_test
