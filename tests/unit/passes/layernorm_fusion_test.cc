// FuseLayerNorm: the ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div(/Mul/Add)
// spelling becomes one LayerNormalization.
#include "runtime/passes/passes.h"
#include "tests/unit/passes/pass_test_util.h"

namespace onyx::pass_test {
namespace {

struct LnCase {
  int64_t opset;
  bool axes_input;  // opset 18 ReduceMean takes axes as an input
  std::vector<int64_t> axes;
  bool scale, bias;
};

GraphBuilder LayerNormGraph(const LnCase& c) {
  GraphBuilder b(c.opset);
  b.Input("x", {2, 3, 8})
      .Init("two", Scalar(2.f))
      .Init("eps", Scalar(1e-5f))
      .Init("gamma", RandomTensor({8}, 51, 0.5f, 1.5f))
      .Init("beta", RandomTensor({1, 8}, 52))
      .Init("axes", Ints({static_cast<int64_t>(c.axes.size())}, c.axes));
  auto mean = [&](const std::string& in, const std::string& out) {
    if (c.axes_input) {
      b.Op("ReduceMean", {in, "axes"}, {out});
    } else {
      b.Op("ReduceMean", {in}, {out}, {IntsAttr("axes", c.axes)});
    }
  };
  mean("x", "m");
  b.Op("Sub", {"x", "m"}, {"d"}).Op("Pow", {"d", "two"}, {"p"});
  mean("p", "v");
  b.Op("Add", {"v", "eps"}, {"ve"}).Op("Sqrt", {"ve"}, {"s"}).Op("Div", {"d", "s"}, {"n"});
  std::string last = "n";
  if (c.scale) {
    b.Op("Mul", {last, "gamma"}, {"g"});
    last = "g";
  }
  if (c.bias) {
    b.Op("Add", {"beta", last}, {"y"});
    last = "y";
  }
  b.Op("Relu", {last}, {"out"}).Output("out");
  return b;
}

TEST(LayerNormFusionTest, SubgraphBecomesLayerNormalization) {
  const std::vector<LnCase> cases = {
      {17, false, {-1}, true, true},  {17, false, {2}, true, true},
      {18, true, {-1}, true, true},   {17, false, {-1}, false, false},
      {17, false, {-1}, true, false}, {18, true, {2}, false, true},
  };
  for (const LnCase& c : cases) {
    SCOPED_TRACE(testing::Message() << "opset " << c.opset << " axes " << c.axes[0] << " scale "
                                    << c.scale << " bias " << c.bias);
    GraphBuilder b = LayerNormGraph(c);
    Graph g = b.graph();
    EXPECT_TRUE(passes::FuseLayerNorm(g, Registry()));
    ASSERT_EQ(g.nodes.size(), 2u);
    const Node* ln = FindOp(g, "LayerNormalization");
    ASSERT_NE(ln, nullptr);
    EXPECT_EQ(ln->inputs[0], "x");
    EXPECT_EQ(ln->inputs.size(), c.bias ? 3u : 2u);
    EXPECT_EQ(ln->GetInt("axis", 0).value(), -1);
    EXPECT_FLOAT_EQ(ln->GetFloat("epsilon", 0).value(), 1e-5f);
    ExpectSameOutputs(b.graph(), g, b.feeds());
  }
}

TEST(LayerNormFusionTest, NonTrailingAxesOrSharedIntermediatesAreLeft) {
  GraphBuilder b = LayerNormGraph({17, false, {1}, true, true});
  Graph g = b.graph();
  EXPECT_FALSE(passes::FuseLayerNorm(g, Registry()));

  GraphBuilder c = LayerNormGraph({17, false, {-1}, true, true});
  c.Output("v");  // the variance is read outside the pattern
  g = c.graph();
  EXPECT_FALSE(passes::FuseLayerNorm(g, Registry()));
}

}  // namespace
}  // namespace onyx::pass_test
