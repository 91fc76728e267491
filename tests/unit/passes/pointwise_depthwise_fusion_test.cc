// FusePointwiseDepthwise: 1x1 conv -> 3x3 depthwise conv pairs become one
// com.onyx FusedConvDw; the rewritten graph gives the unfused graph's outputs,
// and near misses are left alone.
#include "runtime/passes/passes.h"
#include "runtime/shape_inference.h"
#include "tests/unit/passes/pass_test_util.h"

namespace onyx::pass_test {
namespace {

// How the depthwise conv (and the first conv) of a test graph are set up.
struct PairSpec {
  int64_t c = 16, m = 32;
  Shape x = {1, 16, 11, 10};
  std::vector<Attribute> pw_attrs;  // the first conv's attributes
  int64_t pw_kernel = 1;
  std::vector<Attribute> dw_attrs = {IntsAttr("pads", {1, 1, 1, 1})};
  int64_t dw_group = -1;  // -1: m
  bool bias = true;
  bool relu6 = true;       // Clip(0, 6) after each conv
  bool second_use = false;  // the 1x1 output is also a graph output
};

GraphBuilder PairGraph(const PairSpec& s) {
  const int64_t group = s.dw_group < 0 ? s.m : s.dw_group;
  GraphBuilder b(13);
  b.Input("x", s.x)
      .Init("w1", RandomTensor({s.m, s.c, s.pw_kernel, s.pw_kernel}, 71, -0.5f, 0.5f))
      .Init("w2", RandomTensor({s.m, s.m / group, 3, 3}, 72, -0.5f, 0.5f))
      .Init("lo", Scalar(0.f))
      .Init("hi", Scalar(6.f));
  std::vector<Attribute> dw = s.dw_attrs;
  dw.push_back(IntAttr("group", group));
  std::vector<std::string> pw_in = {"x", "w1"}, dw_in = {"a", "w2"};
  if (s.bias) {
    b.Init("b1", RandomTensor({s.m}, 73)).Init("b2", RandomTensor({s.m}, 74));
    pw_in.push_back("b1");
    dw_in.push_back("b2");
  }
  b.Op("Conv", pw_in, {s.relu6 ? "c1" : "a"}, s.pw_attrs);
  if (s.relu6) b.Op("Clip", {"c1", "lo", "hi"}, {"a"});
  b.Op("Conv", dw_in, {s.relu6 ? "c2" : "y"}, dw);
  if (s.relu6) b.Op("Clip", {"c2", "lo", "hi"}, {"y"});
  b.Output("y");
  if (s.second_use) b.Output("a");
  return b;
}

// Runs FuseActivations then the pass; returns whether the pass fired.
bool Fuse(Graph& g, Device device = Device::kCpu) {
  EXPECT_OK(InferShapes(g, Registry()));
  passes::FuseActivations(g, Registry());
  return passes::FusePointwiseDepthwise(g, Registry(), device);
}

TEST(PointwiseDepthwiseFusionTest, Relu6PairsBecomeOneNode) {
  if (!Registry().Knows("com.onyx", "FusedConvDw")) GTEST_SKIP() << "no FusedConvDw kernel";
  for (int64_t stride : {1, 2}) {
    PairSpec s;
    s.dw_attrs.push_back(IntsAttr("strides", {stride, stride}));
    GraphBuilder b = PairGraph(s);
    Graph g = b.graph();
    ASSERT_TRUE(Fuse(g)) << stride;
    ASSERT_EQ(g.nodes.size(), 1u);
    const Node& n = g.nodes[0];
    EXPECT_EQ(n.op_type, "FusedConvDw");
    EXPECT_EQ(n.domain, "com.onyx");
    EXPECT_EQ(n.inputs, (std::vector<std::string>{"x", "w1", "b1", "w2", "b2"}));
    EXPECT_EQ(n.outputs[0], "y");
    EXPECT_EQ(n.GetInt("dw_stride", 0).value(), stride);
    EXPECT_EQ(n.GetString("activation", "").value(), "Clip");
    EXPECT_EQ(n.GetString("dw_activation", "").value(), "Clip");
    ExpectSameOutputs(b.graph(), g, b.feeds(), 1e-4);
    // The shape function: x [1, 16, 11, 10] -> [1, 32, ceil(11 / s), ceil(10 / s)].
    g.value_info.clear();
    ASSERT_OK(InferShapes(g, Registry()));
    const ValueInfo* y = nullptr;
    for (const ValueInfo& v : g.value_info) {
      if (v.name == "y") y = &v;
    }
    ASSERT_NE(y, nullptr);
    EXPECT_EQ(DimsToString(*y), stride == 1 ? "[1,32,11,10]" : "[1,32,6,5]");
  }
}

TEST(PointwiseDepthwiseFusionTest, PlainConvsWithoutBiasOrActivation) {
  PairSpec s;
  s.bias = false;
  s.relu6 = false;
  s.c = 8;
  s.m = 24;  // not a multiple of the 16-channel block
  s.x = {2, 8, 7, 9};
  GraphBuilder b = PairGraph(s);
  Graph g = b.graph();
  ASSERT_TRUE(Fuse(g));
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(g.nodes[0].inputs, (std::vector<std::string>{"x", "w1", "", "w2", ""}));
  ExpectSameOutputs(b.graph(), g, b.feeds(), 1e-4);
}

TEST(PointwiseDepthwiseFusionTest, SessionAtLevel2MatchesLevel0) {
  PairSpec s;
  s.x = {2, 16, 14, 14};
  s.dw_attrs.push_back(IntsAttr("strides", {2, 2}));
  GraphBuilder b = PairGraph(s);
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> want, RunGraph(b.graph(), b.feeds(), 0));
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> got, RunGraph(b.graph(), b.feeds(), 2));
  ASSERT_EQ(want[0].shape(), got[0].shape());
  for (int64_t i = 0; i < want[0].num_elements(); ++i) {
    const float w = want[0].data<float>()[i];
    ASSERT_NEAR(got[0].data<float>()[i], w, 1e-4 * std::max(1.f, std::abs(w))) << i;
  }
}

TEST(PointwiseDepthwiseFusionTest, NearMissesAreLeftAlone) {
  struct Miss {
    const char* why;
    PairSpec spec;
  };
  std::vector<Miss> misses;
  auto add = [&](const char* why, auto edit) {
    PairSpec s;
    edit(s);
    misses.push_back({why, s});
  };
  add("dw stride 3", [](PairSpec& s) { s.dw_attrs.push_back(IntsAttr("strides", {3, 3})); });
  add("dw strides differ", [](PairSpec& s) { s.dw_attrs.push_back(IntsAttr("strides", {1, 2})); });
  add("dw stride 2, pads 0", [](PairSpec& s) {
    s.dw_attrs = {IntsAttr("strides", {2, 2})};
  });
  add("dw stride 2, asymmetric pads", [](PairSpec& s) {
    s.dw_attrs = {IntsAttr("strides", {2, 2}), IntsAttr("pads", {0, 0, 1, 1})};
  });
  add("dw pads 2", [](PairSpec& s) { s.dw_attrs = {IntsAttr("pads", {2, 2, 2, 2})}; });
  add("dw auto_pad SAME_UPPER", [](PairSpec& s) {
    s.dw_attrs = {StringAttr("auto_pad", "SAME_UPPER")};
  });
  add("dw dilation 2", [](PairSpec& s) { s.dw_attrs.push_back(IntsAttr("dilations", {2, 2})); });
  add("dw group != channels", [](PairSpec& s) { s.dw_group = 16; });
  add("1x1 output read twice", [](PairSpec& s) { s.second_use = true; });
  add("first conv 3x3", [](PairSpec& s) {
    s.pw_kernel = 3;
    s.pw_attrs = {IntsAttr("pads", {1, 1, 1, 1})};
  });
  add("first conv stride 2", [](PairSpec& s) { s.pw_attrs = {IntsAttr("strides", {2, 2})}; });
  add("first conv padded", [](PairSpec& s) { s.pw_attrs = {IntsAttr("pads", {1, 1, 1, 1})}; });
  for (const Miss& miss : misses) {
    GraphBuilder b = PairGraph(miss.spec);
    Graph g = b.graph();
    EXPECT_FALSE(Fuse(g)) << miss.why;
    EXPECT_EQ(CountOps(g, "FusedConvDw", "com.onyx"), 0) << miss.why;
  }
}

TEST(PointwiseDepthwiseFusionTest, OnlyOnTheCpu) {
  GraphBuilder b = PairGraph(PairSpec());
  Graph g = b.graph();
  EXPECT_FALSE(Fuse(g, Device::kCuda));
}

}  // namespace
}  // namespace onyx::pass_test
