// Which nodes of the training graphs would run on the CPU under --device cuda:
// every node of the tutorial MLP's MseLoss training graph and of a small CNN's
// inference and training graphs must have a CUDA kernel, except the ops other
// branches are adding (the allow-list below). Runs without a GPU: it only asks
// the registry.
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "importers/onnx/onnx_importer.h"
#include "ops/register_all.h"
#include "tests/unit/gpu/training_graphs.h"

namespace onyx::gpu_test {
namespace {

// Ops whose CUDA kernels are being written on other branches; the list
// shrinks as they merge.
const std::set<std::string>& PendingOps() {
  static const auto* pending = new std::set<std::string>{
      // Losses (ops/loss).
      "com.onyx:MseLoss", "com.onyx:MseLossGrad", "com.onyx:CrossEntropyLoss",
      "com.onyx:CrossEntropyLossGrad", "com.onyx:BceLoss", "com.onyx:BceLossGrad",
      "com.onyx:BceWithLogitsLoss", "com.onyx:BceWithLogitsLossGrad",
      // Pool backward ops (ops/pool).
      "com.onyx:MaxPoolGrad", "com.onyx:GlobalAveragePoolGrad", "com.onyx:AveragePoolGrad",
  };
  return *pending;
}

std::string OpName(const Node& node) {
  return node.domain.empty() ? node.op_type : node.domain + ":" + node.op_type;
}

// The graph's ops without a CUDA kernel at the graph's opset, the pending
// ones left out; sorted, each once.
std::set<std::string> MissingCudaOps(const Graph& graph) {
  std::set<std::string> missing;
  for (const Node& node : graph.nodes) {
    auto opset = graph.opset_imports.find(node.domain);
    const int64_t version = opset == graph.opset_imports.end() ? 1 : opset->second;
    if (DefaultRegistry().Find(node.domain, node.op_type, version, Device::kCuda).ok()) continue;
    if (PendingOps().count(OpName(node)) == 0) missing.insert(OpName(node));
  }
  return missing;
}

std::string Join(const std::set<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

TEST(CudaCoverageTest, TutorialMlpTrainingGraphRunsOnCuda) {
  auto model = LoadOnnxModel(std::string(ONYX_SOURCE_DIR) + "/models/tutorial_mlp/model.onnx");
  ASSERT_TRUE(model.ok()) << model.status();
  auto train = BuildTrainingGraph(*model, "MseLoss", DataType::kFloat32);
  ASSERT_TRUE(train.ok()) << train.status();
  // The backward of Gemm, Relu and Softmax, not just the forward, is in it.
  std::set<std::string> ops;
  for (const Node& node : train->grad.graph.nodes) ops.insert(OpName(node));
  EXPECT_TRUE(ops.count("com.onyx:MatMulT")) << Join(ops);
  EXPECT_TRUE(ops.count("com.onyx:ReduceToShape")) << Join(ops);
  const std::set<std::string> missing = MissingCudaOps(train->grad.graph);
  EXPECT_TRUE(missing.empty()) << "ops without a CUDA kernel: " << Join(missing);
}

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
  g.nodes.push_back(testing_util::MakeNode("Floor", {"y"}, {"z"}, {}, kOnnxDomain, g.nodes.size()));
  EXPECT_EQ(MissingCudaOps(g), std::set<std::string>{"Floor"});
}

}  // namespace
}  // namespace onyx::gpu_test
