// RemoveIdentityNodes and EliminateDeadNodes.
#include "runtime/passes/passes.h"
#include "tests/unit/passes/pass_test_util.h"

namespace onyx::pass_test {
namespace {

using passes::EliminateDeadNodes;
using passes::RemoveIdentityNodes;

TEST(RemoveIdentityTest, RemovesIdentityAndInferenceDropoutChains) {
  GraphBuilder b(13);
  b.Input("x", {2, 3})
      .Op("Relu", {"x"}, {"r"})
      .Op("Identity", {"r"}, {"i1"})
      .Op("Dropout", {"i1"}, {"d1"})
      .Op("Identity", {"d1"}, {"i2"})
      .Op("Sigmoid", {"i2"}, {"y"})
      .Output("y");
  Graph g = b.graph();
  EXPECT_TRUE(RemoveIdentityNodes(g));
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.nodes[1].op_type, "Sigmoid");
  EXPECT_EQ(g.nodes[1].inputs[0], "r");
  ExpectSameOutputs(b.graph(), g, b.feeds());
}

// An Identity writing a graph output: its producer takes over the output name.
TEST(RemoveIdentityTest, GraphOutputKeepsItsName) {
  GraphBuilder b(13);
  b.Input("x", {4})
      .Op("Tanh", {"x"}, {"t"})
      .Op("Identity", {"t"}, {"y"})
      .Op("Relu", {"t"}, {"z"})
      .Output("y")
      .Output("z");
  Graph g = b.graph();
  EXPECT_TRUE(RemoveIdentityNodes(g));
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.nodes[0].outputs[0], "y");
  EXPECT_EQ(g.nodes[1].inputs[0], "y");
  ExpectSameOutputs(b.graph(), g, b.feeds());
}

TEST(RemoveIdentityTest, KeepsWhatMustStay) {
  GraphBuilder b(13);
  b.Input("x", {4})
      .Init("train", Tensor::FromVector<bool>({}, {true}).value())
      .Op("Identity", {"x"}, {"passthrough"})                 // graph input -> graph output
      .Op("Dropout", {"x"}, {"d", "mask"})                    // its mask is read
      .Op("Dropout", {"x", "", "train"}, {"t"})               // training mode
      .Op("Tanh", {"x"}, {"both"})
      .Op("Identity", {"both"}, {"both_copy"})                // both names are outputs
      .Output("passthrough")
      .Output("d")
      .Output("mask")
      .Output("t")
      .Output("both")
      .Output("both_copy");
  Graph g = b.graph();
  EXPECT_FALSE(RemoveIdentityNodes(g));
  EXPECT_EQ(g.nodes.size(), 5u);
}

TEST(DeadNodeTest, RemovesUnusedBranchesAndInitializers) {
  GraphBuilder b(13);
  b.Input("x", {3})
      .Input("unused_feed", {2})
      .Init("w", Floats({3}, {1, 2, 3}))
      .Init("dead_w", Floats({3}, {4, 5, 6}))
      .Op("Mul", {"x", "w"}, {"y"})
      .Op("Mul", {"x", "dead_w"}, {"dead1"})
      .Op("Relu", {"dead1"}, {"dead2"})
      .Output("y");
  Graph g = b.graph();
  EXPECT_TRUE(EliminateDeadNodes(g));
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_TRUE(g.initializers.contains("w"));
  EXPECT_FALSE(g.initializers.contains("dead_w"));
  // Feeds stay declared: a caller may still pass them.
  EXPECT_EQ(g.inputs.size(), 2u);
  EXPECT_FALSE(EliminateDeadNodes(g));
}

}  // namespace
}  // namespace onyx::pass_test
