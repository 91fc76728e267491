// OptimizeGraph levels and the session wiring: what each level rewrites, that
// graph output names survive every level, and bad levels are refused.
#include "runtime/passes/optimize_graph.h"

#include "tests/unit/passes/pass_test_util.h"

namespace onyx::pass_test {
namespace {

// Constants to fold, an Identity, a dead branch, Gemm + Relu, and a Swish
// spelled out, with an intermediate value that is also a graph output.
GraphBuilder MixedGraph() {
  GraphBuilder b(13);
  b.Input("x", {4, 6})
      .Init("w", RandomTensor({6, 5}, 131))
      .Init("w_scale", Scalar(0.5f))
      .Init("c", RandomTensor({5}, 132))
      .Init("unused", RandomTensor({3}, 133))
      .Op("Mul", {"w", "w_scale"}, {"w_half"})
      .Op("Identity", {"x"}, {"xi"})
      .Op("Gemm", {"xi", "w_half", "c"}, {"g"})
      .Op("Relu", {"g"}, {"r"})
      .Op("Sigmoid", {"r"}, {"s"})
      .Op("Mul", {"r", "s"}, {"swish"})
      .Op("Tanh", {"unused"}, {"dead"})
      .Op("Identity", {"swish"}, {"y"})
      .Output("y")
      .Output("r");
  return b;
}

TEST(OptimizeGraphTest, LevelsRewriteProgressively) {
  GraphBuilder b = MixedGraph();
  Graph g0 = b.graph();
  ASSERT_OK(OptimizeGraph(g0, Registry(), 0));
  EXPECT_EQ(g0.nodes.size(), b.graph().nodes.size());

  Graph g1 = b.graph();
  ASSERT_OK(OptimizeGraph(g1, Registry(), 1));
  EXPECT_EQ(CountOps(g1, "Identity"), 0);
  EXPECT_EQ(CountOps(g1, "Tanh"), 0);
  EXPECT_FALSE(g1.initializers.contains("unused"));
  EXPECT_FALSE(g1.initializers.contains("w"));  // folded into w_half
  EXPECT_EQ(CountOps(g1, "Gemm"), 1);
  EXPECT_EQ(CountOps(g1, "Sigmoid"), 1);
  ExpectSameOutputs(b.graph(), g1, b.feeds());

  Graph g2 = b.graph();
  ASSERT_OK(OptimizeGraph(g2, Registry(), 2));
  // Gemm + Relu fuse; the fused node writes the graph output "r" itself.
  EXPECT_EQ(CountOps(g2, "FusedGemm", "com.onyx"), 1);
  EXPECT_EQ(CountOps(g2, "Relu"), 0);
  EXPECT_EQ(CountOps(g2, "Swish", "com.onyx"), 1);
  ExpectSameOutputs(b.graph(), g2, b.feeds());
}

TEST(OptimizeGraphTest, GraphOutputNamesSurviveEveryLevel) {
  GraphBuilder b = MixedGraph();
  b.mutable_graph().outputs.pop_back();  // only "y" is an output now
  for (int level = 0; level <= kMaxOptLevel; ++level) {
    Graph g = b.graph();
    ASSERT_OK(OptimizeGraph(g, Registry(), level));
    ASSERT_EQ(g.outputs.size(), 1u);
    EXPECT_EQ(g.outputs[0].name, "y");
    bool produced = false;
    for (const Node& n : g.nodes) produced |= n.outputs[0] == "y";
    EXPECT_TRUE(produced) << "level " << level;
    if (level == 2) {
      EXPECT_EQ(CountOps(g, "FusedGemm", "com.onyx"), 1);
      EXPECT_EQ(g.nodes.size(), 2u);  // FusedGemm(Relu) -> Swish
    }
    ExpectSameOutputs(b.graph(), g, b.feeds());
  }
}

TEST(OptimizeGraphTest, RefusesBadLevelsAndBrokenGraphs) {
  GraphBuilder b = MixedGraph();
  Graph g = b.graph();
  EXPECT_EQ(OptimizeGraph(g, Registry(), 3).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OptimizeGraph(g, Registry(), -1).code(), absl::StatusCode::kInvalidArgument);
  g.nodes[0].inputs[0] = "nowhere";
  absl::Status s = OptimizeGraph(g, Registry(), 2);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("nowhere"), std::string::npos) << s;
}

TEST(OptimizeGraphTest, SessionOptimizesByDefaultAndLevelZeroKeepsTheGraph) {
  GraphBuilder b = MixedGraph();
  ASSERT_OK_AND_ASSIGN(auto optimized, Session::Create(b.graph(), Registry()));
  EXPECT_LT(optimized->graph().nodes.size(), b.graph().nodes.size());
  ASSERT_OK_AND_ASSIGN(auto plain, Session::Create(b.graph(), Registry(), AtLevel(0)));
  EXPECT_EQ(plain->graph().nodes.size(), b.graph().nodes.size());
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> got, optimized->Run(b.feeds()));
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> want, plain->Run(b.feeds()));
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    for (int64_t k = 0; k < got[i].num_elements(); ++k) {
      EXPECT_NEAR(got[i].data<float>()[k], want[i].data<float>()[k], 1e-5);
    }
  }
}

}  // namespace
}  // namespace onyx::pass_test
