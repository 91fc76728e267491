// FuseAttention (runtime/passes/attention_fusion.cc) and the com.onyx
// PackedAttention kernel it emits: the pass on the nn.MultiheadAttention export
// pattern (graph before/after, same outputs), near misses left alone, and the
// kernel against a double-precision reference.
#include <array>
#include <cmath>
#include <vector>

#include "runtime/passes/passes.h"
#include "runtime/shape_inference.h"
#include "tests/unit/passes/pass_test_util.h"

namespace onyx::pass_test {
namespace {

constexpr int64_t kL = 5, kN = 2, kE = 8, kH = 2, kD = kE / kH;

// One projection P [L, N, 3E] as input; q, k, v sliced from it as torch exports
// them. q's Reshape target is a constant, k's and v's a Concat with a run-time
// middle part (Shape -> Gather -> Mul -> Unsqueeze), as in the exported model.
// `k_start` moves k's slice (E for the real pattern), `softmax_axis` the softmax.
GraphBuilder AttentionGraph(int64_t k_start = kE, int64_t softmax_axis = -1) {
  GraphBuilder b(17);
  b.Input("p", {kL, kN, 3 * kE});
  b.Init("axes", Ints({1}, {2})).Init("zero", Ints({1}, {0}));
  b.Init("e1", Ints({1}, {kE})).Init("e2", Ints({1}, {2 * kE})).Init("e3", Ints({1}, {3 * kE}));
  b.Init("ks", Ints({1}, {k_start})).Init("ke", Ints({1}, {k_start + kE}));
  b.Init("q_shape", Ints({3}, {kL, -1, kD}));
  b.Init("l1", Ints({1}, {kL})).Init("d1", Ints({1}, {kD})).Init("one", Ints({}, {1}));
  b.Init("heads", Ints({}, {kH})).Init("ax0", Ints({1}, {0}));
  b.Init("sqrt_d", Scalar(std::sqrt(float(kD))));
  b.Op("Slice", {"p", "zero", "e1", "axes"}, {"qs"});
  b.Op("Slice", {"p", "ks", "ke", "axes"}, {"ks_"});
  b.Op("Slice", {"p", "e2", "e3", "axes"}, {"vs"});
  b.Op("Shape", {"p"}, {"p_shape"});
  b.Op("Gather", {"p_shape", "one"}, {"n"}, {IntAttr("axis", 0)});
  b.Op("Mul", {"n", "heads"}, {"nh"});
  b.Op("Unsqueeze", {"nh", "ax0"}, {"nh1"});
  b.Op("Concat", {"l1", "nh1", "d1"}, {"kv_shape"}, {IntAttr("axis", 0)});
  b.Op("Reshape", {"qs", "q_shape"}, {"qr"});
  b.Op("Reshape", {"ks_", "kv_shape"}, {"kr"});
  b.Op("Reshape", {"vs", "kv_shape"}, {"vr"});
  b.Op("Transpose", {"qr"}, {"qt"}, {IntsAttr("perm", {1, 0, 2})});
  b.Op("Transpose", {"kr"}, {"kt"}, {IntsAttr("perm", {1, 2, 0})});
  b.Op("Transpose", {"vr"}, {"vt"}, {IntsAttr("perm", {1, 0, 2})});
  b.Op("Div", {"qt", "sqrt_d"}, {"qd"});
  b.Op("MatMul", {"qd", "kt"}, {"scores"});
  b.Op("Softmax", {"scores"}, {"probs"}, {IntAttr("axis", softmax_axis)});
  b.Op("MatMul", {"probs", "vt"}, {"mixed"});
  b.Op("Transpose", {"mixed"}, {"y"}, {IntsAttr("perm", {1, 0, 2})});
  b.Output("y");
  return b;
}

TEST(AttentionFusionTest, ExportedPatternBecomesOnePackedAttention) {
  GraphBuilder b = AttentionGraph();
  Graph g = b.graph();
  ASSERT_OK(InferShapes(g, Registry()));
  EXPECT_TRUE(passes::FuseAttention(g, Registry()));
  passes::EliminateDeadNodes(g);
  ASSERT_EQ(g.nodes.size(), 1u);
  const Node* fused = FindOp(g, "PackedAttention", kOnyxDomain);
  ASSERT_NE(fused, nullptr);
  EXPECT_EQ(fused->GetInt("num_heads", 0).value(), kH);
  EXPECT_NEAR(fused->GetFloat("scale", 0).value(), 1 / std::sqrt(double(kD)), 1e-7);
  ExpectSameOutputs(b.graph(), g, b.feeds());
}

TEST(AttentionFusionTest, NearMissesAreLeftAlone) {
  for (const GraphBuilder& b : {AttentionGraph(/*k_start=*/0), AttentionGraph(kE, /*softmax_axis=*/1)}) {
    Graph g = b.graph();
    ASSERT_OK(InferShapes(g, Registry()));
    EXPECT_FALSE(passes::FuseAttention(g, Registry()));
  }
  // The scores are also a graph output: they cannot disappear into the fused op.
  GraphBuilder b = AttentionGraph();
  b.Output("scores");
  Graph g = b.graph();
  ASSERT_OK(InferShapes(g, Registry()));
  EXPECT_FALSE(passes::FuseAttention(g, Registry()));
}

// Y[l, n*H + h, j] = sum_m softmax_m(scale * q . k) v[m, n, 2E + h*d + j].
std::vector<double> AttentionRef(const Tensor& p, int64_t l, int64_t n, int64_t e, int64_t h,
                                 double scale) {
  const int64_t d = e / h;
  const float* x = p.data<float>();
  auto at = [&](int64_t row, int64_t b, int64_t col) {
    return double{x[(row * n + b) * 3 * e + col]};
  };
  std::vector<double> y(l * n * e);
  for (int64_t b = 0; b < n; ++b) {
    for (int64_t head = 0; head < h; ++head) {
      for (int64_t i = 0; i < l; ++i) {
        std::vector<double> s(l);
        double mx = -INFINITY, sum = 0;
        for (int64_t m = 0; m < l; ++m) {
          double dot = 0;
          for (int64_t j = 0; j < d; ++j) dot += at(i, b, head * d + j) * at(m, b, e + head * d + j);
          s[m] = scale * dot;
          mx = std::max(mx, s[m]);
        }
        for (double& v : s) sum += (v = std::exp(v - mx));
        for (int64_t j = 0; j < d; ++j) {
          double acc = 0;
          for (int64_t m = 0; m < l; ++m) acc += s[m] / sum * at(m, b, 2 * e + head * d + j);
          y[(i * n + b) * e + head * d + j] = acc;
        }
      }
    }
  }
  return y;
}

TEST(PackedAttentionTest, MatchesDoubleReference) {
  for (const auto& [l, n, e, h] : std::vector<std::array<int64_t, 4>>{
           {5, 2, 8, 2}, {17, 3, 12, 3}, {64, 1, 64, 4}}) {
    SCOPED_TRACE(::testing::Message() << "L " << l << " N " << n << " E " << e << " H " << h);
    const double scale = 0.3;
    GraphBuilder b(17);
    b.Input("p", {l, n, 3 * e});
    b.Op("PackedAttention", {"p"}, {"y"},
         {IntAttr("num_heads", h), FloatAttr("scale", float(scale))}, kOnyxDomain);
    b.Output("y");
    b.mutable_graph().opset_imports[kOnyxDomain] = 1;
    ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out, RunGraph(b.graph(), b.feeds()));
    ASSERT_EQ(out[0].shape(), (Shape{l, n * h, e / h}));
    const std::vector<double> want = AttentionRef(b.feeds()[0].second, l, n, e, h, scale);
    const float* got = out[0].data<float>();
    for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(got[i], want[i], 1e-5) << "at " << i;
  }
}

TEST(PackedAttentionTest, BadInputsAreErrors) {
  GraphBuilder b(17);
  b.Input("p", {4, 1, 10});  // 10 is not 3 * E with E a multiple of 2 heads
  b.Op("PackedAttention", {"p"}, {"y"}, {IntAttr("num_heads", 2)}, kOnyxDomain);
  b.Output("y");
  b.mutable_graph().opset_imports[kOnyxDomain] = 1;
  EXPECT_FALSE(RunGraph(b.graph(), b.feeds()).ok());
  // 70000 positions: the [L, L] scores would need 19.6 GB, over the tensor limit.
  GraphBuilder big(17);
  big.Input("p", {70000, 1, 3});
  big.Op("PackedAttention", {"p"}, {"y"}, {IntAttr("num_heads", 1)}, kOnyxDomain);
  big.Output("y");
  big.mutable_graph().opset_imports[kOnyxDomain] = 1;
  auto result = RunGraph(big.graph(), big.feeds());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("tensor limit"), std::string::npos)
      << result.status();
}

}  // namespace
}  // namespace onyx::pass_test
