// PretransposeGemmWeights: a constant B read with transB=1 is stored transposed
// once (transB=0), with the same outputs; a computed B is left alone.
#include "runtime/passes/passes.h"
#include "tests/unit/passes/pass_test_util.h"

namespace onyx::pass_test {
namespace {

TEST(GemmWeightLayoutTest, ConstantTransposedBIsStoredPlain) {
  GraphBuilder b(13);
  b.Input("a", {3, 5}).Init("w", RandomTensor({4, 5}, 81)).Init("c", RandomTensor({4}, 82));
  b.Op("Gemm", {"a", "w", "c"}, {"y"},
       {IntAttr("transB", 1), FloatAttr("alpha", 0.5f), FloatAttr("beta", 2.f)});
  b.Output("y");
  Graph g = b.graph();
  EXPECT_TRUE(passes::PretransposeGemmWeights(g));
  const Node* gemm = FindOp(g, "Gemm");
  ASSERT_NE(gemm, nullptr);
  EXPECT_EQ(gemm->GetInt("transB", 1).value(), 0);
  EXPECT_EQ(gemm->GetFloat("alpha", 1).value(), 0.5f);
  ASSERT_TRUE(g.initializers.contains(gemm->inputs[1]));
  const Tensor& wt = g.initializers.at(gemm->inputs[1]);
  EXPECT_EQ(wt.shape(), (Shape{5, 4}));
  const Tensor& w = g.initializers.at("w");
  EXPECT_EQ(wt.data<float>()[1 * 4 + 2], w.data<float>()[2 * 5 + 1]);  // W^T[1, 2] = W[2, 1]
  ExpectSameOutputs(b.graph(), g, b.feeds());
  EXPECT_FALSE(passes::PretransposeGemmWeights(g));  // nothing transposed is left
}

TEST(GemmWeightLayoutTest, ComputedOrPlainBIsLeft) {
  GraphBuilder b(13);
  b.Input("a", {3, 5}).Input("w", {4, 5}).Init("v", RandomTensor({5, 4}, 83));
  b.Op("Gemm", {"a", "w"}, {"y"}, {IntAttr("transB", 1)});
  b.Op("Gemm", {"a", "v"}, {"z"});
  b.Output("y").Output("z");
  Graph g = b.graph();
  EXPECT_FALSE(passes::PretransposeGemmWeights(g));
}

}  // namespace
}  // namespace onyx::pass_test
