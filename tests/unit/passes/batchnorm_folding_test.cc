// FoldBatchNormalization into Conv and Gemm.
#include "runtime/passes/passes.h"
#include "tests/unit/passes/pass_test_util.h"

namespace onyx::pass_test {
namespace {

using passes::FoldBatchNormalization;

// BN parameters for `c` channels; variance kept positive.
GraphBuilder& AddBnParams(GraphBuilder& b, int64_t c) {
  return b.Init("bn_scale", RandomTensor({c}, 11, 0.5f, 2.f))
      .Init("bn_bias", RandomTensor({c}, 12))
      .Init("bn_mean", RandomTensor({c}, 13))
      .Init("bn_var", RandomTensor({c}, 14, 0.1f, 3.f));
}

TEST(BatchNormFoldingTest, FoldsIntoConvWithAndWithoutBias) {
  for (bool with_bias : {true, false}) {
    GraphBuilder b(13);
    b.Input("x", {2, 3, 6, 5}).Init("w", RandomTensor({4, 3, 3, 3}, 21));
    std::vector<std::string> conv_in = {"x", "w"};
    if (with_bias) {
      b.Init("b", RandomTensor({4}, 22));
      conv_in.push_back("b");
    }
    AddBnParams(b, 4)
        .Op("Conv", conv_in, {"c"}, {IntsAttr("pads", {1, 1, 1, 1}), IntsAttr("strides", {1, 2})})
        .Op("BatchNormalization", {"c", "bn_scale", "bn_bias", "bn_mean", "bn_var"}, {"y"},
            {FloatAttr("epsilon", 1e-3f)})
        .Output("y");
    Graph g = b.graph();
    EXPECT_TRUE(FoldBatchNormalization(g));
    ASSERT_EQ(g.nodes.size(), 1u);
    EXPECT_EQ(g.nodes[0].op_type, "Conv");
    EXPECT_EQ(g.nodes[0].outputs[0], "y");
    ASSERT_EQ(g.nodes[0].inputs.size(), 3u);
    EXPECT_NE(g.nodes[0].inputs[1], "w");  // new weights; the original is not touched
    ExpectSameOutputs(b.graph(), g, b.feeds());
  }
}

TEST(BatchNormFoldingTest, FoldsIntoGemmForEveryTransBAndC) {
  for (int trans_b : {0, 1}) {
    for (int c_rank : {-1, 0, 1, 2}) {  // -1: no C
      SCOPED_TRACE(testing::Message() << "transB " << trans_b << " C rank " << c_rank);
      GraphBuilder b(13);
      b.Input("a", {5, 3}).Init("w", RandomTensor(trans_b ? Shape{4, 3} : Shape{3, 4}, 31));
      std::vector<std::string> in = {"a", "w"};
      if (c_rank >= 0) {
        b.Init("c", RandomTensor(c_rank == 0 ? Shape{} : c_rank == 1 ? Shape{4} : Shape{1, 4}, 32));
        in.push_back("c");
      }
      AddBnParams(b, 4)
          .Op("Gemm", in, {"g"},
              {IntAttr("transB", trans_b), FloatAttr("alpha", 0.7f), FloatAttr("beta", 1.5f)})
          .Op("BatchNormalization", {"g", "bn_scale", "bn_bias", "bn_mean", "bn_var"}, {"y"})
          .Output("y");
      Graph g = b.graph();
      EXPECT_TRUE(FoldBatchNormalization(g));
      ASSERT_EQ(g.nodes.size(), 1u);
      EXPECT_EQ(g.nodes[0].op_type, "Gemm");
      ExpectSameOutputs(b.graph(), g, b.feeds());
    }
  }
}

TEST(BatchNormFoldingTest, LeavesSharedOrNonConstantCases) {
  GraphBuilder b(13);
  b.Input("x", {1, 2, 4, 4}).Input("var", {2}).Init("w", RandomTensor({2, 2, 1, 1}, 41));
  AddBnParams(b, 2)
      .Op("Conv", {"x", "w"}, {"c"})
      .Op("BatchNormalization", {"c", "bn_scale", "bn_bias", "bn_mean", "var"}, {"y1"})
      .Op("Conv", {"x", "w"}, {"c2"})
      .Op("BatchNormalization", {"c2", "bn_scale", "bn_bias", "bn_mean", "bn_var"}, {"y2"})
      .Output("y1")
      .Output("y2")
      .Output("c2");  // the conv result is itself an output
  Graph g = b.graph();
  EXPECT_FALSE(FoldBatchNormalization(g));
  EXPECT_EQ(CountOps(g, "BatchNormalization"), 2);
}

}  // namespace
}  // namespace onyx::pass_test
