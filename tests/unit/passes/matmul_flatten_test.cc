// FlattenMatMulBatch: a batched A times a constant 2-D B becomes Reshape ->
// 2-D MatMul -> Reshape, with the same outputs (checked against the original
// graph, run without optimization).
#include "runtime/passes/passes.h"
#include "tests/unit/passes/pass_test_util.h"

namespace onyx::pass_test {
namespace {

int CountOp(const Graph& g, const std::string& op) {
  int n = 0;
  for (const Node& node : g.nodes) n += node.op_type == op ? 1 : 0;
  return n;
}

TEST(MatMulFlattenTest, BatchedAByConstantBBecomesOneGemm) {
  GraphBuilder b(13);
  b.Input("a", {3, 2, 4, 5})
      .Init("w", RandomTensor({5, 6}, 71))
      .Op("MatMul", {"a", "w"}, {"y"})
      .Output("y");
  Graph g = b.graph();
  EXPECT_TRUE(passes::FlattenMatMulBatch(g, Registry()));
  EXPECT_EQ(CountOp(g, "Reshape"), 2);
  ASSERT_EQ(CountOp(g, "MatMul"), 1);
  ExpectSameOutputs(b.graph(), g, b.feeds());
}

TEST(MatMulFlattenTest, OneSymbolicDimBecomesMinusOne) {
  GraphBuilder b(13);
  b.Input("a", {4, 3, 5}).Init("w", RandomTensor({5, 2}, 72)).Op("MatMul", {"a", "w"}, {"y"});
  b.Output("y");
  Graph before = b.graph();
  before.inputs[0].dims[1] = Dim{-1, "batch"};
  Graph g = before;
  EXPECT_TRUE(passes::FlattenMatMulBatch(g, Registry()));
  ExpectSameOutputs(before, g, b.feeds());
  // Two symbolic dims cannot both be -1: left alone.
  Graph two = before;
  two.inputs[0].dims[0] = Dim{-1, "seq"};
  EXPECT_FALSE(passes::FlattenMatMulBatch(two, Registry()));
}

TEST(MatMulFlattenTest, TwoDimensionalOrComputedBIsLeft) {
  GraphBuilder b(13);
  b.Input("a", {4, 5}).Input("c", {2, 5, 6}).Init("w", RandomTensor({5, 6}, 73));
  b.Op("MatMul", {"a", "w"}, {"y"}).Op("MatMul", {"c", "c2"}, {"z"});
  b.Op("Transpose", {"c"}, {"ct"}, {IntsAttr("perm", {0, 2, 1})});
  Graph g = b.graph();
  g.nodes[1].inputs[1] = "ct";  // B computed at run time
  EXPECT_FALSE(passes::FlattenMatMulBatch(g, Registry()));
}

}  // namespace
}  // namespace onyx::pass_test
