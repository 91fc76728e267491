// `onyx info` prints the inferred type of every value (symbolic dims kept) and
// says clearly, with exit status 1, when a model does not load.
#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "importers/onnx/onnx_exporter.h"
#include "tests/e2e/cli_runner.h"
#include "tests/status_matchers.h"
#include "tests/unit/shapes/shape_test_util.h"

namespace onyx {
namespace {

using testing::CliResult;
using testing::RunCli;
using InfoShapesTest = testing::TempDirTest;
using namespace shape_testing;  // NOLINT

// The line of the `values:` section of `out` that starts with "  <name> ", or
// "" when there is none.
std::string ValueLine(const std::string& out, const std::string& name) {
  const std::string key = "\n  " + name + " ";
  const size_t section = out.find("\nvalues:\n");
  if (section == std::string::npos) return "";
  const size_t at = out.find(key, section);
  if (at == std::string::npos) return "";
  const size_t end = out.find('\n', at + 1);
  return out.substr(at + 1, end - at - 1);
}

TEST_F(InfoShapesTest, PrintsInferredValuesWithSymbolicDims) {
  GraphBuilder b(13);
  b.Input("x", DataType::kFloat32, {"batch", 3, 8, 8})
      .Init("zero", Ints({0}, true))
      .Init("axes0", Ints({0}))
      .Init("minus_one", Ints({-1}))
      .Init("w", Filled({192, 10}))
      .Op("Relu", {"x"}, {"act"})
      .Op("Shape", {"act"}, {"act_shape"})
      .Op("Gather", {"act_shape", "zero"}, {"n"})
      .Op("Unsqueeze", {"n", "axes0"}, {"n1"})
      .Op("Concat", {"n1", "minus_one"}, {"target"}, {IntAttr("axis", 0)})
      .Op("Reshape", {"act", "target"}, {"flat"})
      .Op("MatMul", {"flat", "w"}, {"logits"})
      .Output("logits");
  const std::string path = (dir_ / "model.onnx").string();
  ASSERT_OK(SaveOnnxModel(b.graph(), path));
  const CliResult r = RunCli("info " + path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("values:"), std::string::npos) << r.out;
  // name, dtype, dims per value, in execution order.
  EXPECT_NE(ValueLine(r.out, "act").find("float32"), std::string::npos) << r.out;
  EXPECT_NE(ValueLine(r.out, "act").find("[batch,3,8,8]"), std::string::npos) << r.out;
  EXPECT_NE(ValueLine(r.out, "act_shape").find("int64"), std::string::npos) << r.out;
  EXPECT_NE(ValueLine(r.out, "act_shape").find("[4]"), std::string::npos) << r.out;
  EXPECT_NE(ValueLine(r.out, "n").find("[]"), std::string::npos) << r.out;
  EXPECT_NE(ValueLine(r.out, "flat").find("[batch,192]"), std::string::npos) << r.out;
  EXPECT_NE(ValueLine(r.out, "logits").find("float32"), std::string::npos) << r.out;
  EXPECT_NE(ValueLine(r.out, "logits").find("[batch,10]"), std::string::npos) << r.out;
  EXPECT_LT(r.out.find("  act ", r.out.find("values:")), r.out.find("  logits ", r.out.find("values:")));
  // The graph output, declared without a type, shows the inferred one.
  EXPECT_NE(r.out.find("outputs:\n  logits                   float32  [batch,10]"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("runnable: yes"), std::string::npos) << r.out;
}

TEST_F(InfoShapesTest, LegacyUpsampleModelShowsItsOutputDims) {
  GraphBuilder b(9);
  b.Input("x", DataType::kFloat32, {"n", 3, 4, 5})
      .Init("scales", Floats({4}, {1, 1, 2, 1.5f}))
      .Op("Upsample", {"x", "scales"}, {"y"}, {StrAttr("mode", "linear")})
      .Op("Pad", {"y"}, {"p"}, {IntsAttr("pads", {0, 0, 1, 1, 0, 0, 1, 1})})
      .Output("p");
  const std::string path = (dir_ / "upsample.onnx").string();
  ASSERT_OK(SaveOnnxModel(b.graph(), path));
  const CliResult r = RunCli("info " + path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(ValueLine(r.out, "y").find("[n,3,8,7]"), std::string::npos) << r.out;
  EXPECT_NE(ValueLine(r.out, "p").find("[n,3,10,9]"), std::string::npos) << r.out;
}

TEST_F(InfoShapesTest, ModelThatCannotLoadIsReportedWithTheNode) {
  GraphBuilder b(13);
  b.Input("x", DataType::kFloat32, {"batch", 6})
      .Init("w1", Filled({6, 4}))
      .Init("w2", Filled({5, 2}))
      .Op("MatMul", {"x", "w1"}, {"h"})
      .Op("MatMul", {"h", "w2"}, {"y"})
      .Output("y");
  const std::string path = (dir_ / "broken.onnx").string();
  ASSERT_OK(SaveOnnxModel(b.graph(), path));
  const CliResult r = RunCli("info " + path);
  EXPECT_EQ(r.exit_code, 1);
  // What was inferred before the failing node is still shown.
  EXPECT_NE(ValueLine(r.out, "h").find("[batch,4]"), std::string::npos) << r.out;
  EXPECT_NE(ValueLine(r.out, "y").find("?"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("runnable: no"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MatMul node \"MatMul_1\""), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("onyx: error:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("inner dims 4 and 5 differ"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace onyx
