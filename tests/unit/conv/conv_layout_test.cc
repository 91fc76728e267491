// Layout propagation (runtime/tensor_layout.h) through a conv chain: convs,
// a depthwise conv, MaxPool and a residual FusedConv pass blocked tensors to
// each other, while a kernel that does not opt in and the graph outputs get
// plain data. Checked against a double-precision reference of the chain, and
// the blocked session against the same graph run at -O0 (all plain).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/status_macros.h"
#include "runtime/tensor_layout.h"
#include "runtime/tensor_pool.h"
#include "tests/status_matchers.h"
#include "tests/unit/conv/conv_reference.h"

namespace onyx::conv_test {
namespace {

constexpr int64_t kN = 2, kC = 16, kM = 24, kH = 10;  // kM: not a multiple of 16 (padded block)

// Copies its input; refuses a blocked one, so a layout leaking to a kernel
// that did not opt in fails the run.
class PlainProbeKernel final : public Kernel {
 public:
  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (!x->is_plain()) return absl::InternalError("PlainProbe got a blocked input");
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    std::copy(x->data<float>(), x->data<float>() + x->num_elements(), y->data<float>());
    return absl::OkStatus();
  }
};

OpRegistry RegistryWithProbe() {
  OpRegistry registry;
  RegisterAllOps(registry);
  registry.Register("com.test", "PlainProbe", 1, Device::kCpu,
                    [](const Node&, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
                      return std::make_unique<PlainProbeKernel>();
                    });
  return registry;
}

Node MakeNode(std::string op, std::vector<std::string> in, std::string out,
              std::vector<Attribute> attrs = {}, std::string domain = "") {
  Node n;
  n.op_type = std::move(op);
  n.domain = std::move(domain);
  n.name = out + "_node";
  n.inputs = std::move(in);
  n.outputs = {std::move(out)};
  n.attributes = std::move(attrs);
  return n;
}

struct Weights {
  std::vector<double> w1, b1, wd, w3;
};

Weights MakeWeights() {
  return {Random(kM * kC * 9, 11), Random(kM, 12), Random(kM * 9, 13), Random(kM * kM, 14)};
}

// x -> c1 = Conv3x3(x) + b1 -> r1 = Relu(c1) -> d = DepthwiseConv3x3(r1) -> p = MaxPool2x2(d)
//   -> y = Conv1x1(p) + p (residual: fused into FusedConv with Z at -O2)
// Outputs: y, d (an intermediate that is also read by MaxPool) and probe = PlainProbe(c1)
// (c1 is read by both a conv-family kernel and a kernel that needs plain data).
Graph ChainGraph(const Weights& wt) {
  Graph g;
  g.opset_imports[""] = 13;
  g.opset_imports["com.onyx"] = 1;
  g.opset_imports["com.test"] = 1;
  ValueInfo in;
  in.name = "x";
  in.dtype = DataType::kFloat32;
  in.has_shape = true;
  for (int64_t d : {kN, kC, kH, kH}) in.dims.push_back(Dim{d, ""});
  g.inputs.push_back(in);
  g.initializers["w1"] = ToTensor({kM, kC, 3, 3}, wt.w1);
  g.initializers["b1"] = ToTensor({kM}, wt.b1);
  g.initializers["wd"] = ToTensor({kM, 1, 3, 3}, wt.wd);
  g.initializers["w3"] = ToTensor({kM, kM, 1, 1}, wt.w3);
  g.nodes.push_back(MakeNode("Conv", {"x", "w1", "b1"}, "c1", {Ints("pads", {1, 1, 1, 1})}));
  g.nodes.push_back(MakeNode("Relu", {"c1"}, "r1"));
  g.nodes.push_back(MakeNode("Conv", {"r1", "wd"}, "d",
                             {Ints("pads", {1, 1, 1, 1}), Int("group", kM)}));
  g.nodes.push_back(MakeNode("MaxPool", {"d"}, "p",
                             {Ints("kernel_shape", {2, 2}), Ints("strides", {2, 2})}));
  g.nodes.push_back(MakeNode("Conv", {"p", "w3"}, "c3"));
  g.nodes.push_back(MakeNode("Add", {"c3", "p"}, "y"));
  g.nodes.push_back(MakeNode("PlainProbe", {"c1"}, "probe", {}, "com.test"));
  for (const char* name : {"y", "d", "probe"}) {
    ValueInfo out;
    out.name = name;
    out.dtype = DataType::kFloat32;
    g.outputs.push_back(out);
  }
  return g;
}

// The same chain in double: {y, d, c1}.
std::vector<std::vector<double>> Reference(const Weights& wt, const std::vector<double>& x) {
  RefParams same;
  same.strides = {1, 1};
  same.dilations = {1, 1};
  same.pads_begin = {1, 1};
  same.pads_end = {1, 1};
  Shape c1_shape, d_shape, c3_shape;
  std::vector<double> c1 = RefConv({kN, kC, kH, kH}, x, {kM, kC, 3, 3}, wt.w1, &wt.b1, same,
                                   &c1_shape);
  std::vector<double> r1 = c1;
  for (double& v : r1) v = v > 0 ? v : 0;
  RefParams dw = same;
  dw.group = kM;
  std::vector<double> d = RefConv(c1_shape, r1, {kM, 1, 3, 3}, wt.wd, nullptr, dw, &d_shape);
  const int64_t hp = kH / 2;
  std::vector<double> p(kN * kM * hp * hp);
  for (int64_t nc = 0; nc < kN * kM; ++nc)
    for (int64_t i = 0; i < hp; ++i)
      for (int64_t j = 0; j < hp; ++j) {
        double best = -INFINITY;
        for (int64_t a = 0; a < 2; ++a)
          for (int64_t b = 0; b < 2; ++b)
            best = std::fmax(best, d[(nc * kH + 2 * i + a) * kH + 2 * j + b]);
        p[(nc * hp + i) * hp + j] = best;
      }
  RefParams one;
  one.strides = {1, 1};
  one.dilations = {1, 1};
  one.pads_begin = {0, 0};
  one.pads_end = {0, 0};
  std::vector<double> y = RefConv({kN, kM, hp, hp}, p, {kM, kM, 1, 1}, wt.w3, nullptr, one,
                                  &c3_shape);
  for (size_t i = 0; i < y.size(); ++i) y[i] += p[i];
  return {y, d, c1};
}

// Counts node outputs left blocked during a run.
class BlockedCounter : public RunObserver {
 public:
  void OnNode(const Node&, absl::Span<const Tensor* const>, absl::Span<const Tensor> outputs,
              std::chrono::steady_clock::time_point, std::chrono::steady_clock::time_point) override {
    for (const Tensor& t : outputs) blocked += t.is_plain() ? 0 : 1;
  }
  int blocked = 0;
};

void ExpectNear(const Tensor& got, const std::vector<double>& want, const std::string& what) {
  ASSERT_EQ(static_cast<size_t>(got.num_elements()), want.size()) << what;
  int reported = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double tol = 1e-4 + 1e-4 * std::fabs(want[i]);
    if (std::fabs(got.data<float>()[i] - want[i]) > tol && reported++ < 5) {
      ADD_FAILURE() << what << " element " << i << ": got " << got.data<float>()[i] << ", want "
                    << want[i];
    }
  }
}

TEST(ConvLayout, BlockedChainMatchesReferenceAndPlainSession) {
  const Weights wt = MakeWeights();
  const std::vector<double> x = Random(kN * kC * kH * kH, 10);
  const std::vector<std::vector<double>> want = Reference(wt, x);
  const OpRegistry registry = RegistryWithProbe();
  const NamedTensors feeds = {{"x", ToTensor({kN, kC, kH, kH}, x)}};

  SessionOptions plain_options;
  plain_options.opt_level = 0;  // no passes, no blocked layouts
  ASSERT_OK_AND_ASSIGN(auto plain, Session::Create(ChainGraph(wt), registry, plain_options));
  ASSERT_OK_AND_ASSIGN(auto blocked, Session::Create(ChainGraph(wt), registry));

  BlockedCounter plain_count;
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> plain_out, plain->Run(feeds, &plain_count));
  EXPECT_EQ(plain_count.blocked, 0);
  // Twice: the second run recycles blocked buffers through the pool.
  for (int run = 0; run < 2; ++run) {
    BlockedCounter count;
    ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out, blocked->Run(feeds, &count));
    // oneDNN picks blocked layouts for these convs on any AVX2/AVX-512 CPU;
    // without any, this test would not exercise the propagation at all.
    EXPECT_GT(count.blocked, 0) << "no intermediate was left in a blocked layout";
    ASSERT_EQ(out.size(), 3u);
    for (const Tensor& t : out) EXPECT_TRUE(t.is_plain()) << "graph outputs must be plain";
    ExpectNear(out[0], want[0], "y");
    ExpectNear(out[1], want[1], "d");
    ExpectNear(out[2], want[2], "probe(c1)");
    for (size_t o = 0; o < out.size(); ++o) {
      ASSERT_EQ(out[o].shape(), plain_out[o].shape());
      for (int64_t i = 0; i < out[o].num_elements(); ++i) {
        ASSERT_NEAR(out[o].data<float>()[i], plain_out[o].data<float>()[i],
                    1e-5 + 1e-5 * std::fabs(plain_out[o].data<float>()[i]))
            << "output " << o << " element " << i;
      }
    }
  }
}

TEST(ConvLayout, SessionOptionTurnsPropagationOff) {
  const Weights wt = MakeWeights();
  const std::vector<double> x = Random(kN * kC * kH * kH, 10);
  SessionOptions options;
  options.blocked_layouts = false;
  ASSERT_OK_AND_ASSIGN(auto session, Session::Create(ChainGraph(wt), RegistryWithProbe(), options));
  BlockedCounter count;
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out,
                       session->Run({{"x", ToTensor({kN, kC, kH, kH}, x)}}, &count));
  EXPECT_EQ(count.blocked, 0);
  ExpectNear(out[0], Reference(wt, x)[0], "y");
}

TEST(ConvLayout, EnsurePlainReordersAndPoolSizesBlockedBuffers) {
  // A [1, 24, 3, 3] tensor in nChw16c: 32 padded channels, so its buffer is
  // larger than the plain bytes.
  const Shape shape = {1, kM, 3, 3};
  auto layout = std::make_shared<const TensorLayout>(TensorLayout{dnnl::memory::desc(
      {1, kM, 3, 3}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::nChw16c)});
  ASSERT_OK_AND_ASSIGN(Tensor blocked, Tensor::UninitializedWithLayout(DataType::kFloat32, shape,
                                                                       layout));
  EXPECT_EQ(blocked.storage_bytes(), size_t{32 * 9 * 4});
  EXPECT_EQ(blocked.byte_size(), size_t{kM * 9 * 4});
  // Element (c, h, w) of nChw16c lives at ((c / 16) * 9 + h * 3 + w) * 16 + c % 16.
  float* p = blocked.data<float>();
  for (int64_t c = 0; c < kM; ++c)
    for (int64_t s = 0; s < 9; ++s) p[((c / 16) * 9 + s) * 16 + c % 16] = float(c * 100 + s);
  ASSERT_OK_AND_ASSIGN(Tensor plain, EnsurePlain(blocked));
  ASSERT_TRUE(plain.is_plain());
  for (int64_t c = 0; c < kM; ++c)
    for (int64_t s = 0; s < 9; ++s) ASSERT_EQ(plain.data<float>()[c * 9 + s], float(c * 100 + s));
  EXPECT_FALSE(blocked.Reshaped({kM, 9}).ok());

  TensorPool pool;
  const void* buffer = blocked.raw_data();
  pool.Give(blocked);
  // A request for the same layout gets the padded buffer ...
  ASSERT_OK_AND_ASSIGN(Tensor again, pool.TakeWithLayout(DataType::kFloat32, shape, layout,
                                                          kDefaultMaxTensorBytes));
  EXPECT_EQ(again.raw_data(), buffer);
  EXPECT_FALSE(again.is_plain());
  EXPECT_EQ(again.storage_bytes(), size_t{32 * 9 * 4});
  pool.Give(again);
  // ... and so does a plain one of fewer bytes (best fit), viewed as plain.
  ASSERT_OK_AND_ASSIGN(Tensor other, pool.Take(DataType::kFloat32, shape, kDefaultMaxTensorBytes));
  EXPECT_EQ(other.raw_data(), buffer);
  EXPECT_TRUE(other.is_plain());
  EXPECT_EQ(pool.fresh_allocations(), 0);
  // A blocked tensor on a larger pooled buffer clones into a buffer of its
  // layout's size (copying the pooled buffer's bytes would overrun it).
  ASSERT_OK_AND_ASSIGN(Tensor roomy, Tensor::Uninitialized(DataType::kFloat32, {16, 32, 3}));
  ASSERT_OK_AND_ASSIGN(Tensor padded, roomy.Reinterpreted(DataType::kFloat32, shape, layout));
  std::fill(padded.data<float>(), padded.data<float>() + 32 * 9, 7.f);
  ASSERT_OK_AND_ASSIGN(Tensor copy, padded.Clone());
  EXPECT_EQ(copy.storage_bytes(), size_t{32 * 9 * 4});
  ASSERT_OK_AND_ASSIGN(Tensor copy_plain, EnsurePlain(copy));
  for (int64_t i = 0; i < kM * 9; ++i) ASSERT_EQ(copy_plain.data<float>()[i], 7.f);
}

}  // namespace
}  // namespace onyx::conv_test
