// Inferred shapes against the shapes a session produces when it runs the same
// graph (the independent reference), for every family with shape functions:
// exporter-style Shape -> Gather -> Concat -> Reshape chains with a symbolic
// batch, MatMul batch broadcasting, Gemm, the layout and index ops in their
// attribute (old opset) and input (new opset) forms, constants, losses and
// optimizers.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/unit/shapes/shape_test_util.h"

namespace onyx {
namespace {

using namespace shape_testing;  // NOLINT

constexpr DataType kF32 = DataType::kFloat32;
constexpr DataType kI64 = DataType::kInt64;

TEST(ShapeInferenceTest, ExporterReshapeChainKeepsTheSymbolicBatch) {
  // torch.flatten(x, 1) as exporters write it: Shape, Gather(0), Unsqueeze,
  // Concat with [-1], Reshape.
  GraphBuilder b(13);
  b.Input("x", kF32, {"batch", 3, 4, 5})
      .Init("zero", Ints({0}, true))
      .Init("axes0", Ints({0}))
      .Init("minus_one", Ints({-1}))
      .Op("Shape", {"x"}, {"shape"})
      .Op("Gather", {"shape", "zero"}, {"n"})
      .Op("Unsqueeze", {"n", "axes0"}, {"n1"})
      .Op("Concat", {"n1", "minus_one"}, {"target"}, {IntAttr("axis", 0)})
      .Op("Reshape", {"x", "target"}, {"y"})
      .Output("y");
  EXPECT_EQ(InferredDims(b.graph(), "shape"), "[4]");
  EXPECT_EQ(InferredDims(b.graph(), "n"), "[]");
  EXPECT_EQ(InferredDims(b.graph(), "target"), "[2]");
  EXPECT_EQ(InferredDims(b.graph(), "y"), "[batch,60]");
  EXPECT_EQ(ExpectInferenceMatchesRun(b.graph(), {{"x", Filled({2, 3, 4, 5})}}), 5);
}

TEST(ShapeInferenceTest, FixedShapeChainsFoldToConstants) {
  // Shape of a fixed input, arithmetic on it, ConstantOfShape, Range, Expand.
  GraphBuilder b(13);
  b.Input("x", kF32, {2, 6})
      .Init("two", Ints({2}))
      .Init("start", Ints({0}, true))
      .Init("delta", Ints({1}, true))
      .Init("idx", Ints({1}, true))
      .Op("Shape", {"x"}, {"s"})
      .Op("Div", {"s", "two"}, {"half"})
      .Op("ConstantOfShape", {"half"}, {"zeros"})
      .Op("Gather", {"s", "idx"}, {"six"})
      .Op("Range", {"start", "six", "delta"}, {"r"})
      .Op("Expand", {"r", "s"}, {"e"})
      .Output("e");
  EXPECT_EQ(InferredDims(b.graph(), "zeros"), "[1,3]");
  EXPECT_EQ(InferredDims(b.graph(), "r"), "[6]");
  EXPECT_EQ(InferredDims(b.graph(), "e"), "[2,6]");
  EXPECT_EQ(ExpectInferenceMatchesRun(b.graph(), {{"x", Filled({2, 6})}}), 6);
}

TEST(ShapeInferenceTest, SymbolicShapeArithmeticKeepsWhatItCan) {
  // [batch, 12] * [1, 1] keeps batch; Slice of the shape keeps the tail.
  GraphBuilder b(13);
  b.Input("x", kF32, {"batch", 3, 4})
      .Init("ones", Ints({1, 1, 1}))
      .Init("s1", Ints({1}))
      .Init("e1", Ints({3}))
      .Op("Shape", {"x"}, {"s"})
      .Op("Mul", {"s", "ones"}, {"same"})
      .Op("Slice", {"s", "s1", "e1"}, {"tail"})
      .Op("ConstantOfShape", {"same"}, {"c"})
      .Op("ConstantOfShape", {"tail"}, {"t"})
      .Output("c")
      .Output("t");
  EXPECT_EQ(InferredDims(b.graph(), "c"), "[batch,3,4]");
  EXPECT_EQ(InferredDims(b.graph(), "t"), "[3,4]");
  EXPECT_EQ(ExpectInferenceMatchesRun(b.graph(), {{"x", Filled({5, 3, 4})}}), 5);
}

TEST(ShapeInferenceTest, MatMulBroadcastsBatchDimsAndPromotesVectors) {
  GraphBuilder b(13);
  b.Input("a", kF32, {"batch", 1, 4, 3})
      .Input("w", kF32, {5, 3, 2})
      .Input("v", kF32, {2})
      .Input("u", kF32, {5})
      .Op("MatMul", {"a", "w"}, {"y"})
      .Op("MatMul", {"y", "v"}, {"yv"})
      .Op("MatMul", {"u", "yv"}, {"uy"})
      .Output("uy");
  EXPECT_EQ(InferredDims(b.graph(), "y"), "[batch,5,4,2]");
  EXPECT_EQ(InferredDims(b.graph(), "yv"), "[batch,5,4]");
  EXPECT_EQ(InferredDims(b.graph(), "uy"), "[batch,4]");
  EXPECT_EQ(ExpectInferenceMatchesRun(b.graph(), {{"a", Filled({3, 1, 4, 3})},
                                                  {"w", Filled({5, 3, 2})},
                                                  {"v", Filled({2})},
                                                  {"u", Filled({5})}}),
            3);
}

TEST(ShapeInferenceTest, GemmTransposesAndBroadcastsC) {
  GraphBuilder b(13);
  b.Input("a", kF32, {3, "m"})
      .Init("w", Filled({5, 3}))
      .Init("c", Filled({5}))
      .Op("Gemm", {"a", "w", "c"}, {"y"}, {IntAttr("transA", 1), IntAttr("transB", 1)})
      .Output("y");
  EXPECT_EQ(InferredDims(b.graph(), "y"), "[m,5]");
  EXPECT_EQ(ExpectInferenceMatchesRun(b.graph(), {{"a", Filled({3, 7})}}), 1);
}

TEST(ShapeInferenceTest, LayoutOpsInTheirNewForms) {
  GraphBuilder b(13);
  b.Input("x", kF32, {"n", 1, 6, 4})
      .Init("axes1", Ints({1}))
      .Init("axes02", Ints({0, 2}))
      .Init("split", Ints({2, 4}))
      .Op("Squeeze", {"x", "axes1"}, {"sq"})
      .Op("Unsqueeze", {"sq", "axes02"}, {"un"})
      .Op("Transpose", {"x"}, {"tr"}, {IntsAttr("perm", {2, 0, 3, 1})})
      .Op("Transpose", {"x"}, {"rev"})
      .Op("Flatten", {"x"}, {"fl"}, {IntAttr("axis", 2)})
      .Op("Flatten", {"x"}, {"fl0"}, {IntAttr("axis", 0)})
      .Op("Split", {"x", "split"}, {"p0", "p1"}, {IntAttr("axis", 2)})
      .Op("Split", {"x"}, {"h0", "h1"}, {IntAttr("axis", -1)})
      .Op("Concat", {"p1", "p0", "x"}, {"cat"}, {IntAttr("axis", 2)})
      .Op("Size", {"x"}, {"size"})
      .Output("cat");
  EXPECT_EQ(InferredDims(b.graph(), "un"), "[1,n,1,6,4]");
  EXPECT_EQ(InferredDims(b.graph(), "tr"), "[6,n,4,1]");
  EXPECT_EQ(InferredDims(b.graph(), "rev"), "[4,6,1,n]");
  EXPECT_EQ(InferredDims(b.graph(), "fl"), "[n,24]");
  EXPECT_EQ(InferredDims(b.graph(), "fl0"), "[1,?]");
  EXPECT_EQ(InferredDims(b.graph(), "h1"), "[n,1,6,2]");
  EXPECT_EQ(InferredDims(b.graph(), "cat"), "[n,1,12,4]");
  EXPECT_GE(ExpectInferenceMatchesRun(b.graph(), {{"x", Filled({2, 1, 6, 4})}}), 11);
}

TEST(ShapeInferenceTest, LegacyAttributeFormsOfOldOpsets) {
  // Opset 9: Slice, Split, Squeeze/Unsqueeze and Pad take attributes.
  GraphBuilder b(9);
  b.Input("x", kF32, {2, 1, 7, 4})
      .Op("Slice", {"x"}, {"sl"},
          {IntsAttr("starts", {1, -5}), IntsAttr("ends", {1000, -1}), IntsAttr("axes", {2, 3})})
      .Op("Split", {"x"}, {"s0", "s1", "s2"}, {IntAttr("axis", 2), IntsAttr("split", {1, 2, 4})})
      .Op("Squeeze", {"x"}, {"sq"}, {IntsAttr("axes", {1})})
      .Op("Squeeze", {"x"}, {"sq_all"})
      .Op("Unsqueeze", {"sq"}, {"un"}, {IntsAttr("axes", {0, 4})})
      .Op("Pad", {"x"}, {"pad"},
          {IntsAttr("pads", {0, 0, 1, 2, 0, 0, 3, -1}), FloatAttr("value", 1.5f)})
      .Output("pad");
  EXPECT_EQ(InferredDims(b.graph(), "sl"), "[2,1,6,3]");
  EXPECT_EQ(InferredDims(b.graph(), "s2"), "[2,1,4,4]");
  EXPECT_EQ(InferredDims(b.graph(), "sq_all"), "[2,7,4]");
  EXPECT_EQ(InferredDims(b.graph(), "un"), "[1,2,7,4,1]");
  EXPECT_EQ(InferredDims(b.graph(), "pad"), "[2,1,11,5]");
  EXPECT_EQ(ExpectInferenceMatchesRun(b.graph(), {{"x", Filled({2, 1, 7, 4})}}), 8);
}

TEST(ShapeInferenceTest, IndexAndBroadcastOps) {
  GraphBuilder b(18);
  b.Input("x", kF32, {"n", 5, 4})
      .Input("cond", DataType::kBool, {5, 1})
      .Init("starts", Ints({4, 0}))
      .Init("ends", Ints({-100, 1000}))
      .Init("axes", Ints({1, 2}))
      .Init("steps", Ints({-2, 3}))
      .Init("idx", Floats({}, {0.f}))
      .Init("gidx", Ints({0, -1, 2}))
      .Init("reps", Ints({1, 2, 3}))
      .Init("pads", Ints({1, 2, 0, 3}))
      .Init("pad_axes", Ints({-1, 1}))
      .Init("shape", Ints({3, 1, 1, 1}))
      .Op("Slice", {"x", "starts", "ends", "axes", "steps"}, {"sl"})
      .Op("Gather", {"x", "gidx"}, {"g"}, {IntAttr("axis", 1)})
      .Op("Tile", {"x", "reps"}, {"tile"})
      .Op("Pad", {"x", "pads", "", "pad_axes"}, {"pad"})
      .Op("Expand", {"x", "shape"}, {"ex"})
      .Op("Where", {"cond", "x", "idx"}, {"wh"})
      .Op("Cast", {"x"}, {"ci"}, {IntAttr("to", static_cast<int>(kI64))})
      .Op("Dropout", {"x"}, {"d", "mask"})
      .Output("wh");
  EXPECT_EQ(InferredDims(b.graph(), "sl"), "[n,3,2]");
  EXPECT_EQ(InferredDims(b.graph(), "g"), "[n,3,4]");
  EXPECT_EQ(InferredDims(b.graph(), "tile"), "[n,10,12]");
  EXPECT_EQ(InferredDims(b.graph(), "pad"), "[n,10,5]");
  EXPECT_EQ(InferredDims(b.graph(), "ex"), "[3,n,5,4]");
  EXPECT_EQ(InferredDims(b.graph(), "wh"), "[n,5,4]");
  EXPECT_EQ(Inferred(b.graph(), "mask").dtype, DataType::kBool);
  EXPECT_EQ(ExpectInferenceMatchesRun(b.graph(), {{"x", Filled({2, 5, 4})},
                                                  {"cond", Filled({5, 1}, DataType::kBool)}}),
            9);
}

TEST(ShapeInferenceTest, ShapeStartEndAndConstants) {
  GraphBuilder b(15);
  b.Input("x", kF32, {"n", 3, 4, 5})
      .Op("Shape", {"x"}, {"mid"}, {IntAttr("start", 1), IntAttr("end", -1)})
      .Op("Shape", {"x"}, {"last"}, {IntAttr("start", -1)})
      .Op("Constant", {}, {"k"}, {FloatsAttr("value_floats", {1.f, 2.f, 3.f})})
      .Op("Constant", {}, {"t"}, {TensorAttr("value", Filled({2, 3}))})
      .Op("ConstantOfShape", {"mid"}, {"c"}, {TensorAttr("value", Ints({7}))})
      .Output("c");
  EXPECT_EQ(InferredDims(b.graph(), "mid"), "[2]");
  EXPECT_EQ(InferredDims(b.graph(), "last"), "[1]");
  EXPECT_EQ(InferredDims(b.graph(), "k"), "[3]");
  EXPECT_EQ(InferredDims(b.graph(), "t"), "[2,3]");
  EXPECT_EQ(InferredDims(b.graph(), "c"), "[3,4]");
  EXPECT_EQ(Inferred(b.graph(), "c").dtype, kI64);
  EXPECT_EQ(ExpectInferenceMatchesRun(b.graph(), {{"x", Filled({2, 3, 4, 5})}}), 5);
}

TEST(ShapeInferenceTest, ActivationsBinaryOpsAndSoftmax) {
  GraphBuilder b(13);
  b.Input("x", kF32, {"n", 1, 4})
      .Input("y", kF32, {3, 1})
      .Init("slope", Filled({4}))
      .Op("Add", {"x", "y"}, {"sum"})
      .Op("Relu", {"sum"}, {"r"})
      .Op("LeakyRelu", {"r"}, {"lr"})
      .Op("Softmax", {"lr"}, {"sm"}, {IntAttr("axis", 1)})
      .Op("LogSoftmax", {"sm"}, {"lsm"})
      .Op("PRelu", {"lsm", "slope"}, {"pr"})
      .Op("Identity", {"pr"}, {"id"})
      .Op("Div", {"id", "y"}, {"q"})
      .Output("q");
  EXPECT_EQ(InferredDims(b.graph(), "sum"), "[n,3,4]");
  EXPECT_EQ(InferredDims(b.graph(), "q"), "[n,3,4]");
  EXPECT_EQ(ExpectInferenceMatchesRun(b.graph(), {{"x", Filled({2, 1, 4})},
                                                  {"y", Filled({3, 1})}}),
            8);
}

TEST(ShapeInferenceTest, LossesAndTheirReductions) {
  GraphBuilder b(13);
  b.Input("scores", kF32, {"n", 5, 2})
      .Input("labels", kI64, {"n", 2})
      .Input("pred", kF32, {"n", 3})
      .Input("target", kF32, {"n", 3})
      .Op("SoftmaxCrossEntropyLoss", {"scores", "labels"}, {"none", "log_prob"},
          {StrAttr("reduction", "none")})
      .Op("SoftmaxCrossEntropyLoss", {"scores", "labels"}, {"mean"})
      .Op("NegativeLogLikelihoodLoss", {"log_prob", "labels"}, {"nll"},
          {StrAttr("reduction", "sum")})
      .Op("MseLoss", {"pred", "target"}, {"mse"}, {StrAttr("reduction", "none")}, kOnyxDomain)
      .Op("MseLoss", {"pred", "target"}, {"mse_mean"}, {}, kOnyxDomain)
      .Output("mean");
  EXPECT_EQ(InferredDims(b.graph(), "none"), "[n,2]");
  EXPECT_EQ(InferredDims(b.graph(), "log_prob"), "[n,5,2]");
  EXPECT_EQ(InferredDims(b.graph(), "mean"), "[]");
  EXPECT_EQ(InferredDims(b.graph(), "mse"), "[n,3]");
  EXPECT_EQ(ExpectInferenceMatchesRun(b.graph(), {{"scores", Filled({4, 5, 2})},
                                                  {"labels", Filled({4, 2}, kI64)},
                                                  {"pred", Filled({4, 3})},
                                                  {"target", Filled({4, 3})}}),
            6);
}

TEST(ShapeInferenceTest, AdamOutputsMirrorTheirInputs) {
  GraphBuilder b(13);
  b.Init("r", Floats({}, {0.1f}))
      .Init("t", Ints({1}, true))
      .Input("x1", kF32, {3, 2})
      .Input("x2", kF32, {4})
      .Input("g1", kF32, {3, 2})
      .Input("g2", kF32, {4})
      .Input("v1", kF32, {3, 2})
      .Input("v2", kF32, {4})
      .Input("h1", kF32, {3, 2})
      .Input("h2", kF32, {4})
      .Op("Adam", {"r", "t", "x1", "x2", "g1", "g2", "v1", "v2", "h1", "h2"},
          {"nx1", "nx2", "nv1", "nv2", "nh1", "nh2"}, {}, "ai.onnx.preview.training")
      .Output("nx1");
  EXPECT_EQ(InferredDims(b.graph(), "nh2"), "[4]");
  NamedTensors feeds;
  for (const char* name : {"x1", "g1", "v1", "h1"}) feeds.push_back({name, Filled({3, 2})});
  for (const char* name : {"x2", "g2", "v2", "h2"}) feeds.push_back({name, Filled({4})});
  EXPECT_EQ(ExpectInferenceMatchesRun(b.graph(), feeds), 6);
}

TEST(ShapeInferenceTest, DeclaredValueInfoFillsWhatInferenceCannotTell) {
  // The shape comes from a runtime input: the model's declaration is kept.
  GraphBuilder b(13);
  b.Input("x", kF32, {6}).Input("shape", kI64, {2}).Op("Reshape", {"x", "shape"}, {"y"});
  Graph g = b.graph();
  EXPECT_EQ(InferredDims(g, "y"), "[?,?]");
  ValueInfo declared;
  declared.name = "y";
  declared.dtype = kF32;
  declared.has_shape = true;
  declared.dims = {FixedDim(2), FixedDim(3)};
  g.value_info.push_back(declared);
  EXPECT_EQ(InferredDims(g, "y"), "[2,3]");
}

}  // namespace
}  // namespace onyx
