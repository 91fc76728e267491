// FuseGelu, FuseSwish, FuseMish: the op-by-op spellings become one node, ONNX
// when the model's opset has the op, com.onyx otherwise.
#include "runtime/passes/passes.h"
#include "tests/unit/passes/pass_test_util.h"

namespace onyx::pass_test {
namespace {

// x * 0.5 * (1 + erf(x / sqrt 2)) in the association `form`:
// 0: (x * b) * 0.5   1: x * (b * 0.5)   2: (x * 0.5) * b; `use_mul` spells
// x / sqrt2 as x * (1 / sqrt2).
GraphBuilder GeluGraph(int64_t opset, int form, bool use_mul) {
  GraphBuilder b(opset);
  b.Input("x", {3, 7})
      .Init("sqrt2", Scalar(1.4142135f))
      .Init("inv_sqrt2", Scalar(0.70710678f))
      .Init("one", Scalar(1.f))
      .Init("half", Scalar(0.5f))
      .Op("Relu", {"x"}, {"h"});  // the GELU input is an intermediate value
  if (use_mul) {
    b.Op("Mul", {"inv_sqrt2", "h"}, {"a"});
  } else {
    b.Op("Div", {"h", "sqrt2"}, {"a"});
  }
  b.Op("Erf", {"a"}, {"e"}).Op("Add", {"one", "e"}, {"b"});
  if (form == 0) {
    b.Op("Mul", {"h", "b"}, {"m"}).Op("Mul", {"m", "half"}, {"y"});
  } else if (form == 1) {
    b.Op("Mul", {"b", "half"}, {"m"}).Op("Mul", {"h", "m"}, {"y"});
  } else {
    b.Op("Mul", {"h", "half"}, {"m"}).Op("Mul", {"m", "b"}, {"y"});
  }
  b.Output("y");
  return b;
}

TEST(GeluFusionTest, EveryAssociationBecomesOneGelu) {
  for (int64_t opset : {13, 20}) {
    for (int form = 0; form < 3; ++form) {
      for (bool use_mul : {false, true}) {
        SCOPED_TRACE(testing::Message() << "opset " << opset << " form " << form << " mul "
                                        << use_mul);
        GraphBuilder b = GeluGraph(opset, form, use_mul);
        Graph g = b.graph();
        EXPECT_TRUE(passes::FuseGelu(g, Registry()));
        const std::string domain = opset >= 20 ? "" : "com.onyx";
        ASSERT_EQ(g.nodes.size(), 2u);
        const Node* gelu = FindOp(g, "Gelu", domain);
        ASSERT_NE(gelu, nullptr);
        EXPECT_EQ(gelu->inputs[0], "h");
        EXPECT_EQ(gelu->outputs[0], "y");
        if (opset < 20) {
          EXPECT_EQ(g.OpsetFor("com.onyx"), 1);
        }
        ExpectSameOutputs(b.graph(), g, b.feeds());
      }
    }
  }
}

TEST(GeluFusionTest, IntermediateReadElsewhereOrWrongConstantBlocksFusion) {
  GraphBuilder b = GeluGraph(20, 0, false);
  b.Output("e");  // erf result is also a graph output
  Graph g = b.graph();
  EXPECT_FALSE(passes::FuseGelu(g, Registry()));

  GraphBuilder c = GeluGraph(20, 0, false);
  c.Init("half", Scalar(0.4f));
  g = c.graph();
  EXPECT_FALSE(passes::FuseGelu(g, Registry()));
}

TEST(SwishFusionTest, XTimesSigmoidX) {
  for (int64_t opset : {13, 24}) {
    for (bool sigmoid_first : {false, true}) {
      GraphBuilder b(opset);
      b.Input("x", {4, 5}).Op("Sigmoid", {"x"}, {"s"});
      b.Op("Mul", sigmoid_first ? std::vector<std::string>{"s", "x"}
                                : std::vector<std::string>{"x", "s"},
           {"y"});
      b.Op("Relu", {"x"}, {"x_elsewhere"}).Output("y").Output("x_elsewhere");
      Graph g = b.graph();
      EXPECT_TRUE(passes::FuseSwish(g, Registry()));
      const Node* swish = FindOp(g, "Swish", opset >= 24 ? "" : "com.onyx");
      ASSERT_NE(swish, nullptr);
      EXPECT_EQ(CountOps(g, "Sigmoid"), 0);
      ExpectSameOutputs(b.graph(), g, b.feeds());
    }
  }
}

TEST(SwishFusionTest, SigmoidOfAnotherValueIsLeft) {
  GraphBuilder b(13);
  b.Input("x", {4}).Input("z", {4}).Op("Sigmoid", {"z"}, {"s"}).Op("Mul", {"x", "s"}, {"y"});
  b.Output("y");
  Graph g = b.graph();
  EXPECT_FALSE(passes::FuseSwish(g, Registry()));
}

TEST(MishFusionTest, XTimesTanhSoftplusX) {
  for (int64_t opset : {13, 18}) {
    GraphBuilder b(opset);
    b.Input("x", {3, 8})
        .Op("Softplus", {"x"}, {"sp"})
        .Op("Tanh", {"sp"}, {"t"})
        .Op("Mul", {"t", "x"}, {"y"})
        .Output("y");
    Graph g = b.graph();
    EXPECT_TRUE(passes::FuseMish(g, Registry()));
    ASSERT_EQ(g.nodes.size(), 1u);
    EXPECT_EQ(g.nodes[0].op_type, "Mish");
    EXPECT_EQ(g.nodes[0].domain, opset >= 18 ? "" : "com.onyx");
    ExpectSameOutputs(b.graph(), g, b.feeds());
  }
}

}  // namespace
}  // namespace onyx::pass_test
