// FoldConstants: Shape/Gather/Concat chains, Constant nodes, folded graph
// outputs, and what must not fold.
#include "runtime/passes/passes.h"
#include "tests/unit/passes/pass_test_util.h"

namespace onyx::pass_test {
namespace {

using passes::FoldConstants;

// Reshape(X, Concat(Unsqueeze(Gather(Shape(X), 0)), [-1])): the shape an
// exporter computes at run time, which static dims make constant.
TEST(ConstantFoldingTest, FoldsShapeGatherConcatChainIntoReshapeConstant) {
  GraphBuilder b(13);
  b.Input("x", {2, 3, 4})
      .Init("zero", Ints({}, {0}))
      .Init("axes0", Ints({1}, {0}))
      .Init("minus_one", Ints({1}, {-1}))
      .Op("Shape", {"x"}, {"shape"})
      .Op("Gather", {"shape", "zero"}, {"batch"}, {IntAttr("axis", 0)})
      .Op("Unsqueeze", {"batch", "axes0"}, {"batch1"})
      .Op("Concat", {"batch1", "minus_one"}, {"target"}, {IntAttr("axis", 0)})
      .Op("Reshape", {"x", "target"}, {"y"})
      .Output("y");
  Graph g = b.graph();
  ASSERT_OK_AND_ASSIGN(bool changed, FoldConstants(g, Registry()));
  EXPECT_TRUE(changed);
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].op_type, "Reshape");
  const Tensor& target = g.initializers.at(g.nodes[0].inputs[1]);
  ASSERT_EQ(target.num_elements(), 2);
  EXPECT_EQ(target.data<int64_t>()[0], 2);
  EXPECT_EQ(target.data<int64_t>()[1], -1);
  ExpectSameOutputs(b.graph(), g, b.feeds());
}

TEST(ConstantFoldingTest, ShapeWithStartEndAndSizeFold) {
  GraphBuilder b(15);
  b.Input("x", {2, 3, 5})
      .Op("Shape", {"x"}, {"tail"}, {IntAttr("start", -2)})
      .Op("Size", {"x"}, {"count"})
      .Output("tail")
      .Output("count");
  Graph g = b.graph();
  ASSERT_OK_AND_ASSIGN(bool changed, FoldConstants(g, Registry()));
  EXPECT_TRUE(changed);
  EXPECT_TRUE(g.nodes.empty());
  const Tensor& tail = g.initializers.at("tail");
  ASSERT_EQ(tail.shape(), Shape({2}));
  EXPECT_EQ(tail.data<int64_t>()[0], 3);
  EXPECT_EQ(tail.data<int64_t>()[1], 5);
  EXPECT_EQ(g.initializers.at("count").data<int64_t>()[0], 30);
  ExpectSameOutputs(b.graph(), g, b.feeds());
}

TEST(ConstantFoldingTest, SymbolicDimsKeepShapeNode) {
  GraphBuilder b(13);
  b.Input("x", {2, 3});
  b.mutable_graph().inputs[0].dims[0] = Dim();
  b.mutable_graph().inputs[0].dims[0].param = "batch";
  b.Op("Shape", {"x"}, {"s"}).Output("s");
  Graph g = b.graph();
  ASSERT_OK_AND_ASSIGN(bool changed, FoldConstants(g, Registry()));
  EXPECT_FALSE(changed);
  EXPECT_EQ(CountOps(g, "Shape"), 1);
}

// Constant nodes and arithmetic on constants fold; the result feeding a graph
// output keeps the output's name.
TEST(ConstantFoldingTest, FoldsConstantArithmeticIncludingGraphOutput) {
  Attribute value = TensorAttr("value", Floats({3}, {1, 2, 3}));
  GraphBuilder b(13);
  b.Input("x", {3})
      .Init("w", Floats({3}, {0.5f, -1.f, 4.f}))
      .Op("Constant", {}, {"c"}, {value})
      .Op("Mul", {"c", "w"}, {"cw"})
      .Op("Add", {"x", "cw"}, {"y"})
      .Op("Sub", {"cw", "c"}, {"const_out"})
      .Output("y")
      .Output("const_out");
  Graph g = b.graph();
  ASSERT_OK_AND_ASSIGN(bool changed, FoldConstants(g, Registry()));
  EXPECT_TRUE(changed);
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].op_type, "Add");
  const Tensor& out = g.initializers.at("const_out");
  EXPECT_FLOAT_EQ(out.data<float>()[0], 1 * 0.5f - 1);
  EXPECT_FLOAT_EQ(out.data<float>()[1], 2 * -1.f - 2);
  EXPECT_FLOAT_EQ(out.data<float>()[2], 3 * 4.f - 3);
  ExpectSameOutputs(b.graph(), g, b.feeds());
}

TEST(ConstantFoldingTest, LeavesResultsAboveTheByteCapAndDropout) {
  GraphBuilder b(13);
  b.Input("x", {4})
      .Init("shape", Ints({1}, {1 << 20}))
      .Init("c", Floats({4}, {1, 2, 3, 4}))
      .Op("ConstantOfShape", {"shape"}, {"big"})
      .Op("Dropout", {"c"}, {"d"})
      .Op("Add", {"x", "d"}, {"y"})
      .Output("big")
      .Output("y");
  Graph g = b.graph();
  ASSERT_OK_AND_ASSIGN(bool changed, FoldConstants(g, Registry(), Device::kCpu, 1 << 16));
  EXPECT_FALSE(changed);
  EXPECT_EQ(CountOps(g, "ConstantOfShape"), 1);
  EXPECT_EQ(CountOps(g, "Dropout"), 1);
}

// Shape inference sees the constant index and rejects the model at load, naming
// the node, before folding would try the kernel.
TEST(ConstantFoldingTest, InvalidConstantSubgraphIsRejectedWithTheNodeNamed) {
  GraphBuilder b(13);
  b.Input("x", {2})
      .Init("a", Floats({2}, {1, 2}))
      .Init("bad", Ints({1}, {5}))  // out of range: only the kernel can tell
      .Op("Gather", {"a", "bad"}, {"broken"})
      .Op("Add", {"x", "broken"}, {"y"})
      .Output("y");
  Graph g = b.graph();
  const auto folded = FoldConstants(g, Registry());
  ASSERT_FALSE(folded.ok());
  EXPECT_EQ(folded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(folded.status().message()).find("Gather node"), std::string::npos)
      << folded.status();
}

}  // namespace
}  // namespace onyx::pass_test
