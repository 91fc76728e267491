// Models exported by torch.onnx.export with a dynamic batch (made by
// make_torch_models.py): inference alone, with the exporter's value_info
// removed, must resolve every value to fixed dims or the "batch" symbol
// through the exporter's Shape/Gather/Concat/Reshape and Resize-sizes
// plumbing; the run must match PyTorch's output and the inferred shapes.
#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "importers/npy/npy.h"
#include "importers/onnx/onnx_importer.h"
#include "tests/unit/shapes/shape_test_util.h"

namespace onyx {
namespace {

using namespace shape_testing;  // NOLINT

const std::filesystem::path kModels =
    std::filesystem::path(ONYX_SOURCE_DIR) / "tests" / "unit" / "shapes" / "torch_models";

class TorchModelTest : public ::testing::TestWithParam<std::string> {};

TEST_P(TorchModelTest, InfersEveryValueAndMatchesPyTorch) {
  const std::string name = GetParam();
  ASSERT_OK_AND_ASSIGN(Graph graph, LoadOnnxModel((kModels / (name + ".onnx")).string()));
  ASSERT_OK_AND_ASSIGN(Tensor x, ReadNpy((kModels / (name + "_x.npy")).string()));
  ASSERT_OK_AND_ASSIGN(Tensor expected, ReadNpy((kModels / (name + "_y.npy")).string()));
  graph.value_info.clear();  // what follows is Onyx's inference only
  for (ValueInfo& out : graph.outputs) {
    out.has_shape = false;
    out.dims.clear();
  }

  Graph inferred = graph;
  ASSERT_OK(InferShapes(inferred, DefaultRegistry()));
  int values = 0;
  for (const ValueInfo& v : inferred.value_info) {
    SCOPED_TRACE(v.name + " " + DimsToString(v));
    EXPECT_NE(v.dtype, DataType::kUndefined);
    ASSERT_TRUE(v.has_shape);
    for (const Dim& d : v.dims) EXPECT_TRUE(d.is_fixed() || d.param == "batch");
    ++values;
  }
  EXPECT_EQ(values, static_cast<int>(graph.nodes.size()));  // one output per node here
  EXPECT_EQ(InferredDims(graph, "y"), "[batch,5]");

  const int known = ExpectInferenceMatchesRun(graph, {{"x", x}});
  EXPECT_EQ(known, values);
  ASSERT_OK_AND_ASSIGN(auto session, Session::Create(graph, DefaultRegistry()));
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out, session->Run({{"x", x}}));
  ASSERT_EQ(out[0].shape(), expected.shape());
  for (int64_t i = 0; i < expected.num_elements(); ++i) {
    EXPECT_NEAR(out[0].data<float>()[i], expected.data<float>()[i], 1e-5) << "element " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Exported, TorchModelTest,
                         ::testing::Values("upsample_opset9", "resize_opset13"));

}  // namespace
}  // namespace onyx
