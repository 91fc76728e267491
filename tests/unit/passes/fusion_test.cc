// FuseMatMulBias and FuseActivations: rewritten graphs and equal outputs.
#include "runtime/passes/passes.h"
#include "runtime/shape_inference.h"
#include "tests/unit/passes/pass_test_util.h"

namespace onyx::pass_test {
namespace {

TEST(MatMulBiasFusionTest, BiasPerColumnFolds) {
  for (const Shape& bias_shape : {Shape{6}, Shape{1, 6}, Shape{1, 1, 6}}) {
    GraphBuilder b(13);
    b.Input("a", {2, 4, 5})
        .Init("w", RandomTensor({5, 6}, 61))
        .Init("bias", RandomTensor(bias_shape, 62))
        .Op("MatMul", {"a", "w"}, {"mm"})
        .Op("Add", {"bias", "mm"}, {"y"})
        .Output("y");
    Graph g = b.graph();
    EXPECT_TRUE(passes::FuseMatMulBias(g, Registry()));
    ASSERT_EQ(g.nodes.size(), 1u);
    EXPECT_EQ(g.nodes[0].op_type, "FusedMatMul");
    EXPECT_EQ(g.nodes[0].domain, "com.onyx");
    ExpectSameOutputs(b.graph(), g, b.feeds());
  }
}

TEST(MatMulBiasFusionTest, BiasThatBroadcastsOtherwiseIsLeft) {
  for (const Shape& bias_shape : {Shape{4, 1}, Shape{4, 6}, Shape{1, 1, 1, 6}}) {
    GraphBuilder b(13);
    b.Input("a", {4, 5})
        .Init("w", RandomTensor({5, 6}, 63))
        .Init("bias", RandomTensor(bias_shape, 64))
        .Op("MatMul", {"a", "w"}, {"mm"})
        .Op("Add", {"mm", "bias"}, {"y"})
        .Output("y");
    Graph g = b.graph();
    EXPECT_FALSE(passes::FuseMatMulBias(g, Registry())) << ShapeToString(bias_shape);
  }
}

struct ActCase {
  const char* op;
  std::vector<Attribute> attrs;
  std::vector<std::string> extra_inputs;  // Clip bounds
  int64_t opset;
  const char* domain;
  const char* fused_name;
};

std::vector<ActCase> ActCases() {
  return {
      {"Relu", {}, {}, 13, "", "Relu"},
      {"LeakyRelu", {FloatAttr("alpha", 0.2f)}, {}, 13, "", "LeakyRelu"},
      {"Sigmoid", {}, {}, 13, "", "Sigmoid"},
      {"Tanh", {}, {}, 13, "", "Tanh"},
      {"Elu", {FloatAttr("alpha", 0.7f)}, {}, 13, "", "Elu"},
      {"Gelu", {}, {}, 20, "", "Gelu"},
      {"Gelu", {StringAttr("approximate", "tanh")}, {}, 20, "", "GeluTanh"},
      {"Gelu", {}, {}, 13, "com.onyx", "Gelu"},
      {"Mish", {}, {}, 18, "", "Mish"},
      {"Swish", {}, {}, 13, "com.onyx", "Swish"},
      {"HardSwish", {}, {}, 14, "", "HardSwish"},
      {"Clip", {}, {"lo", "hi"}, 13, "", "Clip"},
      {"Clip", {}, {"", "hi"}, 13, "", "Clip"},
  };
}

TEST(ActivationFusionTest, GemmAndMatMulTakeEachActivation) {
  for (const ActCase& c : ActCases()) {
    for (const char* producer : {"Gemm", "MatMul", "MatMul+bias"}) {
      SCOPED_TRACE(testing::Message() << producer << " + " << c.op << " (" << c.fused_name << ")");
      GraphBuilder b(c.opset);
      if (std::string(c.domain) == "com.onyx") b.mutable_graph().opset_imports["com.onyx"] = 1;
      b.Input("a", {6, 5})
          .Init("w", RandomTensor({4, 5}, 71))
          .Init("wt", RandomTensor({5, 4}, 72))
          .Init("c", RandomTensor({4}, 73))
          .Init("lo", Scalar(-0.5f))
          .Init("hi", Scalar(0.8f));
      if (std::string(producer) == "Gemm") {
        b.Op("Gemm", {"a", "w", "c"}, {"z"},
             {IntAttr("transB", 1), FloatAttr("alpha", 0.6f), FloatAttr("beta", 1.7f)});
      } else if (std::string(producer) == "MatMul") {
        b.Op("MatMul", {"a", "wt"}, {"z"});
      } else {
        b.Op("MatMul", {"a", "wt"}, {"mm"}).Op("Add", {"mm", "c"}, {"z"});
      }
      std::vector<std::string> act_in = {"z"};
      act_in.insert(act_in.end(), c.extra_inputs.begin(), c.extra_inputs.end());
      b.Op(c.op, act_in, {"y"}, c.attrs, c.domain).Output("y");
      Graph g = b.graph();
      passes::FuseMatMulBias(g, Registry());
      EXPECT_TRUE(passes::FuseActivations(g, Registry()));
      ASSERT_EQ(g.nodes.size(), 1u);
      const Node& fused = g.nodes[0];
      EXPECT_EQ(fused.domain, "com.onyx");
      EXPECT_EQ(fused.op_type, std::string(producer) == "Gemm" ? "FusedGemm" : "FusedMatMul");
      EXPECT_EQ(fused.GetString("activation", "").value(), c.fused_name);
      EXPECT_EQ(fused.outputs[0], "y");
      ExpectSameOutputs(b.graph(), g, b.feeds());
    }
  }
}

TEST(ActivationFusionTest, SharedProducerOutputOrOtherDtypeIsLeft) {
  GraphBuilder b(13);
  b.Input("a", {3, 4})
      .Init("w", RandomTensor({4, 2}, 81))
      .Op("MatMul", {"a", "w"}, {"z"})
      .Op("Relu", {"z"}, {"y"})
      .Output("y")
      .Output("z");
  Graph g = b.graph();
  EXPECT_FALSE(passes::FuseActivations(g, Registry()));

  GraphBuilder d(13);
  d.Op("MatMul", {"a", "b"}, {"z"}).Op("Relu", {"z"}, {"y"}).Output("y");
  d.mutable_graph().inputs.push_back(Declared("a", DataType::kFloat64, {2, 2}));
  d.mutable_graph().inputs.push_back(Declared("b", DataType::kFloat64, {2, 2}));
  Graph dg = d.graph();
  EXPECT_FALSE(passes::FuseActivations(dg, Registry()));
}

// Conv fusions need the conv family's FusedConv kernel.
TEST(ConvFusionTest, ConvAddReluBecomesFusedConv) {
  if (!Registry().Knows("com.onyx", "FusedConv")) GTEST_SKIP() << "no FusedConv kernel yet";
  GraphBuilder b(13);
  b.Input("x", {1, 3, 6, 6})
      .Input("res", {1, 4, 6, 6})
      .Init("w", RandomTensor({4, 3, 3, 3}, 91))
      .Init("bias", RandomTensor({4}, 92))
      .Op("Conv", {"x", "w", "bias"}, {"c"}, {IntsAttr("pads", {1, 1, 1, 1})})
      .Op("Add", {"res", "c"}, {"s"})
      .Op("Relu", {"s"}, {"y"})
      .Op("Conv", {"x", "w"}, {"c2"})
      .Op("LeakyRelu", {"c2"}, {"y2"}, {FloatAttr("alpha", 0.3f)})
      .Output("y")
      .Output("y2");
  Graph g = b.graph();
  ASSERT_OK(InferShapes(g, Registry()));
  EXPECT_TRUE(passes::FuseActivations(g, Registry()));
  EXPECT_EQ(CountOps(g, "FusedConv", "com.onyx"), 2);
  EXPECT_EQ(g.nodes.size(), 2u);
  ExpectSameOutputs(b.graph(), g, b.feeds());
}

}  // namespace
}  // namespace onyx::pass_test
