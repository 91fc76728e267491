// The CUDA kernels of the transformer ops that compute (Erf and the other
// unary ops with their Grads, LayerNormalization and its Grad) against the CPU
// kernels. Ends with an attention block (Gather, Slice, LayerNorm, MatMul,
// Reshape, Transpose, Softmax, Concat, Erf, Cast) run on both devices. The
// data-movement ops are in data_movement_gpu_test.cc.
#include <cmath>
#include <string>
#include <vector>

#include "tests/unit/gpu/xformer_gpu_util.h"

namespace onyx::gpu_test {
namespace {

// ---- Erf and the other unary ops ----

TEST_F(GpuTest, UnaryOpsAndGradsMatchCpu) {
  const std::vector<std::string> ops = {"Erf",   "Sqrt",       "Exp",  "Log",     "Neg",
                                        "Abs",   "Reciprocal", "Sign", "Floor",   "Ceil",
                                        "Round", "Sin",        "Cos",  "Softsign"};
  Tensor x = RandomFloats({3, 257}, -4.f, 4.f, 11);
  x.data<float>()[0] = 2.5f;  // Round: half to even
  x.data<float>()[1] = -0.f;
  Tensor dy = RandomFloats({3, 257}, -1.f, 1.f, 12);
  for (const std::string& op : ops) {
    SCOPED_TRACE(op);
    ASSERT_OK_AND_ASSIGN(BothRuns r, RunBoth(NodeSpec{op}, {x}));
    EXPECT_TRUE(r.on_device);
    EXPECT_TRUE(AllClose<float>(r.gpu[0], r.cpu[0], 2e-6, 1e-7));
    if (op == "Neg") continue;  // no NegGrad op
    ASSERT_OK_AND_ASSIGN(BothRuns g, RunBoth(NodeSpec{op + "Grad", kOnyxDomain}, {dy, x}));
    EXPECT_TRUE(g.on_device);
    EXPECT_TRUE(AllClose<float>(g.gpu[0], g.cpu[0], 2e-6, 1e-7));
  }
  // float64 Erf.
  Tensor xd = RandomTensor(DataType::kFloat64, {1000}, 13);
  ASSERT_OK_AND_ASSIGN(BothRuns r, RunBoth(NodeSpec{"Erf"}, {xd}));
  EXPECT_TRUE(AllClose<double>(r.gpu[0], r.cpu[0], 1e-14, 1e-16));
}

// ---- LayerNormalization and LayerNormalizationGrad ----

struct LayerNormCase {
  Shape shape;
  int64_t axis;
  bool bias;
};

class LayerNormGpuTest : public GpuParamTest<LayerNormCase> {};

TEST_P(LayerNormGpuTest, ForwardAndGradMatchCpu) {
  const LayerNormCase& c = GetParam();
  const int rank = static_cast<int>(c.shape.size());
  const int axis = static_cast<int>(c.axis < 0 ? c.axis + rank : c.axis);
  const Shape inner(c.shape.begin() + axis, c.shape.end());
  // An offset mean (5) checks the two-pass variance.
  Tensor x = RandomFloats(c.shape, 3.f, 7.f, 1);
  Tensor scale = RandomFloats(inner, 0.5f, 1.5f, 2);
  Tensor bias = RandomFloats(inner, -1.f, 1.f, 3);
  const std::vector<Attribute> attrs = {IntAttr("axis", c.axis), FloatAttr("epsilon", 1e-5f)};
  NodeSpec fwd{"LayerNormalization", "", attrs, 17};
  fwd.outputs = {"y", "mean", "inv_std"};
  std::vector<Tensor> inputs = {x, scale};
  if (c.bias) inputs.push_back(bias);
  ASSERT_OK_AND_ASSIGN(BothRuns r, RunBoth(fwd, inputs));
  EXPECT_TRUE(r.on_device);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(AllClose<float>(r.gpu[i], r.cpu[i], 1e-4, 1e-5)) << i;

  Tensor dy = RandomFloats(c.shape, -1.f, 1.f, 4);
  NodeSpec bwd{"LayerNormalizationGrad", kOnyxDomain, attrs, 17};
  bwd.outputs = {"dx", "dscale", "dbias"};
  std::vector<Tensor> grad_inputs = {dy, x, scale};
  if (c.bias) grad_inputs.push_back(bias);
  ASSERT_OK_AND_ASSIGN(BothRuns g, RunBoth(bwd, grad_inputs));
  EXPECT_TRUE(g.on_device);
  EXPECT_TRUE(AllClose<float>(g.gpu[0], g.cpu[0], 1e-3, 1e-4));
  // Sums over up to thousands of rows: relative to the sum's magnitude.
  const double rows = static_cast<double>(NumElements(c.shape) / NumElements(inner));
  for (int i = 1; i < 3; ++i) {
    EXPECT_TRUE(AllClose<float>(g.gpu[i], g.cpu[i], 1e-4, 1e-5 * rows)) << i;
  }
  // Deterministic: a second run gives the same bits.
  ASSERT_OK_AND_ASSIGN(BothRuns again, RunBoth(bwd, grad_inputs));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(BitsEqual(again.gpu[i], g.gpu[i])) << i;
}

INSTANTIATE_TEST_SUITE_P(All, LayerNormGpuTest,
                         ::testing::ValuesIn(std::vector<LayerNormCase>{
                             {{4, 10}, -1, true},
                             {{2, 8, 64}, -1, true},
                             {{3, 5, 2000}, -1, true},
                             {{2, 3, 4, 5}, 2, false},
                             {{1, 1}, -1, true},
                             {{4000, 32}, -1, true},
                             {{7, 1025}, 1, false},
                             {{2, 3}, 0, true},
                         }));

TEST_F(GpuTest, LayerNormFloat64MatchesCpu) {
  Tensor x = RandomTensor(DataType::kFloat64, {6, 300}, 5);
  Tensor s = RandomTensor(DataType::kFloat64, {300}, 6);
  NodeSpec fwd{"LayerNormalization", "", {IntAttr("axis", -1)}, 17};
  ASSERT_OK_AND_ASSIGN(BothRuns r, RunBoth(fwd, {x, s}));
  EXPECT_TRUE(r.on_device);
  EXPECT_TRUE(AllClose<double>(r.gpu[0], r.cpu[0], 1e-12, 1e-12));
}

TEST_F(GpuTest, LayerNormEmptyRowsStatisticsMatchCpu) {
  // Rows of no elements: Mean and InvStdDev still have one value per row (the
  // CUDA launcher writes none, so the CPU kernel must run them).
  NodeSpec fwd{"LayerNormalization", "", {IntAttr("axis", -1)}, 17};
  fwd.outputs = {"y", "mean", "inv_std"};
  ASSERT_OK_AND_ASSIGN(
      BothRuns r, RunBoth(fwd, {RandomFloats({3, 0}, -1.f, 1.f, 1), RandomFloats({0}, 0, 1, 2)}));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(AllClose<float>(r.gpu[i], r.cpu[i], 0, 0)) << i;
}

TEST_F(GpuTest, LayerNormBroadcastScaleFallsBackToTheCpu) {
  Tensor x = RandomFloats({3, 4, 5}, -1.f, 1.f, 1);
  Tensor s = RandomFloats({1, 5}, 0.5f, 1.5f, 2);  // broadcast over dims[1:]
  NodeSpec fwd{"LayerNormalization", "", {IntAttr("axis", 1)}, 17};
  ASSERT_OK_AND_ASSIGN(BothRuns r, RunBoth(fwd, {x, s}));
  EXPECT_TRUE(AllClose<float>(r.gpu[0], r.cpu[0], 1e-5, 1e-6));
}

// ---- An attention block ----

TEST_F(GpuTest, AttentionBlockMatchesCpu) {
  constexpr int64_t kB = 2, kS = 8, kE = 32, kH = 4, kD = 8, kV = 50;
  Graph g;
  g.name = "attention";
  g.opset_imports[""] = 17;
  ValueInfo tokens;
  tokens.name = "tokens";
  tokens.dtype = DataType::kInt64;
  tokens.has_shape = true;
  tokens.dims = {Dim{kB, ""}, Dim{kS, ""}};
  g.inputs.push_back(tokens);
  g.initializers["emb"] = RandomFloats({kV, kE}, -1.f, 1.f, 1);
  g.initializers["pos"] = RandomFloats({16, kE}, -1.f, 1.f, 2);
  g.initializers["ln_scale"] = RandomFloats({kE}, 0.5f, 1.5f, 3);
  g.initializers["ln_bias"] = RandomFloats({kE}, -0.5f, 0.5f, 4);
  g.initializers["w_qkv"] = RandomFloats({kE, 3 * kE}, -0.3f, 0.3f, 5);
  g.initializers["zero"] = Ints({0});
  g.initializers["seq"] = Ints({kS});
  g.initializers["qkv_shape"] = Ints({kB, kS, 3, kH, kD});
  g.initializers["out_shape"] = Ints({kB, kS, kE});
  g.initializers["inv_sqrt_d"] = *Tensor::FromVector<float>({}, std::vector<float>{0.35355339f});
  for (int i = 0; i < 3; ++i) {
    g.initializers["i" + std::to_string(i)] =
        *Tensor::FromVector<int64_t>({}, std::vector<int64_t>{i});
  }
  auto add = [&](std::string op, std::vector<std::string> in, std::string out,
                 std::vector<Attribute> attrs = {}) {
    Node n;
    n.name = out + "_node";
    n.op_type = std::move(op);
    n.inputs = std::move(in);
    n.outputs = {std::move(out)};
    n.attributes = std::move(attrs);
    g.nodes.push_back(std::move(n));
  };
  add("Gather", {"emb", "tokens"}, "e");
  add("Slice", {"pos", "zero", "seq", "zero"}, "p");
  add("Add", {"e", "p"}, "h");
  add("LayerNormalization", {"h", "ln_scale", "ln_bias"}, "n", {IntAttr("axis", -1)});
  add("MatMul", {"n", "w_qkv"}, "qkv");
  add("Reshape", {"qkv", "qkv_shape"}, "qkv5");
  add("Transpose", {"qkv5"}, "heads", {IntsAttr("perm", {2, 0, 3, 1, 4})});  // [3,B,H,S,D]
  add("Gather", {"heads", "i0"}, "q");
  add("Gather", {"heads", "i1"}, "k");
  add("Gather", {"heads", "i2"}, "v");
  add("Transpose", {"k"}, "kt", {IntsAttr("perm", {0, 1, 3, 2})});
  add("MatMul", {"q", "kt"}, "scores_raw");
  add("Mul", {"scores_raw", "inv_sqrt_d"}, "scores");
  add("Softmax", {"scores"}, "attn", {IntAttr("axis", -1)});
  add("MatMul", {"attn", "v"}, "ctx");
  add("Transpose", {"ctx"}, "ctx_t", {IntsAttr("perm", {0, 2, 1, 3})});
  add("Reshape", {"ctx_t", "out_shape"}, "ctx_e");
  add("Concat", {"ctx_e", "n"}, "cat", {IntAttr("axis", -1)});
  add("Erf", {"cat"}, "act");
  add("Cast", {"act"}, "y", {IntAttr("to", static_cast<int64_t>(DataType::kFloat64))});
  ValueInfo y;
  y.name = "y";
  g.outputs.push_back(y);

  std::vector<int64_t> ids(kB * kS);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int64_t>((i * 17 + 3) % kV);
  const NamedTensors feeds = {{"tokens", *Tensor::FromVector<int64_t>({kB, kS}, ids)}};
  ASSERT_OK_AND_ASSIGN(auto cpu, RunGraph(g, feeds, Device::kCpu));
  ASSERT_OK_AND_ASSIGN(auto gpu, RunGraph(g, feeds, Device::kCuda));
  ASSERT_EQ(gpu[0].shape(), (Shape{kB, kS, 2 * kE}));
  EXPECT_TRUE(AllClose<double>(gpu[0], cpu[0], 1e-4, 1e-5));
}

}  // namespace
}  // namespace onyx::gpu_test
