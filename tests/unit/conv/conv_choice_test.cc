// Conv primitive choice (ops/conv/conv_choice.h): the Winograd path for 3x3
// stride-1 convs and the nChw16c direct path, checked against the naive
// double-precision reference; and a conv's blocked output pooled by
// GlobalAveragePool / GlobalMaxPool without a reorder (ops/pool/global_pool_blocked).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "ops/conv/conv_choice.h"
#include "ops/conv/conv_params.h"
#include "runtime/dnnl_context.h"
#include "tests/status_matchers.h"
#include "tests/unit/conv/conv_reference.h"

namespace onyx::conv_test {
namespace {

RefParams Same3x3() {
  RefParams p;
  p.strides = {1, 1};
  p.dilations = {1, 1};
  p.pads_begin = {1, 1};
  p.pads_end = {1, 1};
  return p;
}

void ExpectNear(const Tensor& got, const std::vector<double>& want, const std::string& what) {
  ASSERT_EQ(static_cast<size_t>(got.num_elements()), want.size()) << what;
  int reported = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    // Winograd's transforms round differently from the direct sum: 1e-4
    // relative to sums of ~144 products in [-1, 1].
    const double tol = 2e-4 + 1e-4 * std::fabs(want[i]);
    if (std::fabs(got.data<float>()[i] - want[i]) > tol && reported++ < 5) {
      ADD_FAILURE() << what << " element " << i << ": got " << got.data<float>()[i] << ", want "
                    << want[i];
    }
  }
}

bool HasAvx512() { return dnnl::get_effective_cpu_isa() >= dnnl::cpu_isa::avx512_core; }

// The implementation oneDNN runs for Conv(x [n, c, h, h], W [m, c/group, k, k]).
std::string ChosenImpl(int64_t n, int64_t c, int64_t m, int64_t h, int64_t k, int64_t stride,
                       int64_t group = 1) {
  Node node;
  node.op_type = "Conv";
  node.name = "conv0";
  const int64_t pad = k / 2;
  node.attributes = {Ints("strides", {stride, stride}), Ints("pads", {pad, pad, pad, pad}),
                     Int("group", group)};
  auto attrs = conv::ParseConvAttrs(node, false);
  EXPECT_TRUE(attrs.ok());
  auto g = conv::ResolveConv(node, *attrs, {n, c, h, h}, {m, c / group, k, k});
  EXPECT_TRUE(g.ok()) << g.status();
  dnnl::primitive_attr attr;
  return conv::ChooseConvPd(*g, {n, c, h, h}, attr, dnnl::memory::desc()).impl_info_str();
}

TEST(ConvChoice, PicksWinogradOnlyForLarge3x3Stride1) {
  if (!HasAvx512()) GTEST_SKIP() << "oneDNN's f32 Winograd needs AVX-512";
  EXPECT_NE(ChosenImpl(1, 64, 64, 56, 3, 1).find("wino"), std::string::npos);
  EXPECT_EQ(ChosenImpl(1, 512, 512, 7, 3, 1).find("wino"), std::string::npos);  // 7x7 output
  EXPECT_EQ(ChosenImpl(1, 64, 128, 56, 3, 2).find("wino"), std::string::npos);  // stride 2
  // Never oneDNN's reference loop: first layer (3 channels), depthwise, 1x1.
  for (const std::string& impl : {ChosenImpl(1, 3, 32, 224, 3, 2),
                                  ChosenImpl(2, 96, 96, 28, 3, 1, 96),
                                  ChosenImpl(1, 24, 144, 28, 1, 1)}) {
    EXPECT_NE(impl.rfind("ref", 0), 0u) << impl;
  }
}

TEST(ConvChoice, WinogradConvMatchesReference) {
  // [2, 16, 16, 16] * [24, 16, 3, 3]: Winograd on AVX-512 machines, 24 output
  // channels pad the last nChw16c block.
  const Shape xs = {2, 16, 16, 16}, ws = {24, 16, 3, 3};
  const std::vector<double> x = Random(2 * 16 * 256, 1), w = Random(24 * 16 * 9, 2),
                            b = Random(24, 3);
  Shape ys;
  const std::vector<double> want = RefConv(xs, x, ws, w, &b, Same3x3(), &ys);
  ASSERT_OK_AND_ASSIGN(Tensor y, RunNode("Conv", "", {Ints("pads", {1, 1, 1, 1})},
                                         {ToTensor(xs, x), ToTensor(ws, w), ToTensor({24}, b)}));
  EXPECT_EQ(y.shape(), ys);
  ExpectNear(y, want, "y");
}

// x -> Conv3x3 (blocked output) -> Global{Average,Max}Pool -> y [N, M, 1, 1].
Graph ConvThenGlobalPool(const std::string& pool, const Shape& xs, const std::vector<double>& w,
                         int64_t m) {
  Graph g;
  g.opset_imports[""] = 13;
  ValueInfo in;
  in.name = "x";
  in.dtype = DataType::kFloat32;
  in.has_shape = true;
  for (int64_t d : xs) in.dims.push_back(Dim{d, ""});
  g.inputs.push_back(in);
  g.initializers["w"] = ToTensor({m, xs[1], 3, 3}, w);
  Node conv;
  conv.op_type = "Conv";
  conv.name = "conv";
  conv.inputs = {"x", "w"};
  conv.outputs = {"c"};
  conv.attributes = {Ints("pads", {1, 1, 1, 1})};
  Node gp;
  gp.op_type = pool;
  gp.name = "pool";
  gp.inputs = {"c"};
  gp.outputs = {"y"};
  g.nodes = {conv, gp};
  ValueInfo out;
  out.name = "y";
  out.dtype = DataType::kFloat32;
  g.outputs.push_back(out);
  return g;
}

class BlockedInputs : public RunObserver {
 public:
  void OnNode(const Node& node, absl::Span<const Tensor* const> inputs, absl::Span<const Tensor>,
              std::chrono::steady_clock::time_point,
              std::chrono::steady_clock::time_point) override {
    if (node.name == "pool") pool_input_blocked = !inputs[0]->is_plain();
  }
  bool pool_input_blocked = false;
};

TEST(ConvChoice, GlobalPoolsReadBlockedConvOutput) {
  constexpr int64_t kM = 40;  // 3 blocks of 16, the last one padded
  const Shape xs = {3, 16, 9, 9};
  const std::vector<double> x = Random(3 * 16 * 81, 4), w = Random(kM * 16 * 9, 5);
  Shape cs;
  const std::vector<double> c = RefConv(xs, x, {kM, 16, 3, 3}, w, nullptr, Same3x3(), &cs);
  OpRegistry registry;
  RegisterAllOps(registry);
  for (const std::string& pool : std::vector<std::string>{"GlobalAveragePool", "GlobalMaxPool"}) {
    std::vector<double> want(3 * kM);
    for (int64_t p = 0; p < 3 * kM; ++p) {
      const double* plane = c.data() + p * 81;
      want[p] = pool == "GlobalMaxPool" ? *std::max_element(plane, plane + 81)
                                        : std::accumulate(plane, plane + 81, 0.0) / 81;
    }
    ASSERT_OK_AND_ASSIGN(auto session,
                         Session::Create(ConvThenGlobalPool(pool, xs, w, kM), registry));
    BlockedInputs seen;
    ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out, session->Run({{"x", ToTensor(xs, x)}}, &seen));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].shape(), (Shape{3, kM, 1, 1}));
    EXPECT_TRUE(out[0].is_plain());
    if (HasAvx512()) {
      EXPECT_TRUE(seen.pool_input_blocked) << pool << " got a plain input";
    }
    ExpectNear(out[0], want, pool);
  }
}

}  // namespace
}  // namespace onyx::conv_test
