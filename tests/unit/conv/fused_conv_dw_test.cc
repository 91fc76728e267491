// com.onyx FusedConvDw = act2(dwconv3x3(act1(conv1x1(X, W1) + B1), W2) + B2)
// against the double conv reference with the activations written here.
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ops/conv/conv_kernels.h"
#include "tests/status_matchers.h"
#include "tests/unit/conv/conv_reference.h"

namespace onyx::conv_test {
namespace {

using Act = std::function<double(double)>;

double Relu6(double v) { return std::fmin(6.0, std::fmax(0.0, v)); }

struct DwCase {
  Shape xs;
  int64_t m;
  int64_t stride;
  std::vector<Attribute> act_attrs;  // activation* and dw_activation*
  Act act1, act2;
};

void Check(const DwCase& c) {
  const Shape w1s = {c.m, c.xs[1], 1, 1}, w2s = {c.m, 1, 3, 3};
  const std::vector<double> x = Random(NumElements(c.xs), 1), w1 = Random(NumElements(w1s), 2),
                            b1 = Random(c.m, 3), w2 = Random(NumElements(w2s), 4),
                            b2 = Random(c.m, 5);
  RefParams pw;
  pw.strides = pw.dilations = {1, 1};
  pw.pads_begin = pw.pads_end = {0, 0};
  Shape mid_shape, y_shape;
  std::vector<double> mid = RefConv(c.xs, x, w1s, w1, &b1, pw, &mid_shape);
  for (double& v : mid) v = c.act1(v);
  RefParams dw;
  dw.group = c.m;
  dw.strides = {c.stride, c.stride};
  dw.dilations = {1, 1};
  dw.pads_begin = dw.pads_end = {1, 1};
  std::vector<double> want = RefConv(mid_shape, mid, w2s, w2, &b2, dw, &y_shape);
  for (double& v : want) v = c.act2(v);

  std::vector<Attribute> attrs = c.act_attrs;
  attrs.push_back(Int("dw_stride", c.stride));
  ASSERT_OK_AND_ASSIGN(Tensor y, RunNode("FusedConvDw", "com.onyx", attrs,
                                         {ToTensor(c.xs, x), ToTensor(w1s, w1),
                                          ToTensor({c.m}, b1), ToTensor(w2s, w2),
                                          ToTensor({c.m}, b2)}));
  ASSERT_EQ(y.shape(), y_shape);
  int reported = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double tol = 2e-4 + 2e-4 * std::fabs(want[i]);
    if (std::fabs(y.data<float>()[i] - want[i]) > tol && reported++ < 5) {
      ADD_FAILURE() << "element " << i << ": got " << y.data<float>()[i] << ", want " << want[i];
    }
  }
}

std::vector<Attribute> Relu6Both() {
  return {String("activation", "Clip"), Float("activation_alpha", 0.f),
          Float("activation_beta", 6.f), String("dw_activation", "Clip"),
          Float("dw_activation_alpha", 0.f), Float("dw_activation_beta", 6.f)};
}

TEST(FusedConvDw, Relu6BothStagesStride1And2) {
  for (int64_t stride : {1, 2}) {
    SCOPED_TRACE(stride);
    // Blocked layouts (channels >= 16), odd sizes for stride 2, and a channel
    // count that is not a multiple of the 16-channel block.
    Check({{1, 16, 12, 12}, 32, stride, Relu6Both(), Relu6, Relu6});
    Check({{2, 24, 9, 7}, 40, stride, Relu6Both(), Relu6, Relu6});
    Check({{1, 3, 5, 6}, 8, stride, Relu6Both(), Relu6, Relu6});  // few channels
  }
}

// The fallback where oneDNN has no fused primitive: the two convs in turn.
TEST(FusedConvDw, UnfusedFallbackGivesTheSameResult) {
  conv::ForceUnfusedConvDwForTesting(true);
  for (int64_t stride : {1, 2}) {
    SCOPED_TRACE(stride);
    Check({{2, 24, 9, 7}, 40, stride, Relu6Both(), Relu6, Relu6});
    Check({{1, 16, 8, 8}, 32, stride, {}, [](double v) { return v; }, [](double v) { return v; }});
  }
  conv::ForceUnfusedConvDwForTesting(false);
}

TEST(FusedConvDw, OtherAndMissingActivations) {
  const Act id = [](double v) { return v; };
  const Act leaky = [](double v) { return v > 0 ? v : double(0.2f) * v; };
  Check({{1, 16, 8, 8}, 32, 1, {}, id, id});
  const Act relu = [](double v) { return std::fmax(v, 0.0); };
  const Act clip = [](double v) { return std::fmin(0.5, std::fmax(-0.5, v)); };
  Check({{1, 16, 8, 8}, 32, 2, {String("activation", "Relu")}, relu, id});
  Check({{1, 16, 8, 8},
         32,
         1,
         {String("dw_activation", "LeakyRelu"), Float("dw_activation_alpha", 0.2f)},
         id,
         leaky});
  // ONNX Runtime's spelling of Clip's bounds as one list.
  const Attribute bounds = testing_util::FloatsAttr("dw_activation_params", {-0.5f, 0.5f});
  Check({{1, 16, 8, 8}, 32, 1, {String("dw_activation", "Clip"), bounds}, id, clip});
}

TEST(FusedConvDw, ShapeErrorsNameTheNode) {
  const Shape xs = {1, 16, 6, 6};
  std::vector<Tensor> in = {
      ToTensor(xs, Random(NumElements(xs), 1)), ToTensor({32, 16, 1, 1}, Random(512, 2)),
      ToTensor({32}, Random(32, 3)), ToTensor({32, 1, 3, 3}, Random(288, 4)),
      ToTensor({32}, Random(32, 5))};
  auto bad_w2 = in;
  bad_w2[3] = ToTensor({16, 1, 3, 3}, Random(144, 4));
  EXPECT_FALSE(RunNode("FusedConvDw", "com.onyx", {}, bad_w2).ok());
  auto bad_w1 = in;
  bad_w1[1] = ToTensor({32, 8, 1, 1}, Random(256, 2));
  EXPECT_FALSE(RunNode("FusedConvDw", "com.onyx", {}, bad_w1).ok());
  auto st = RunNode("FusedConvDw", "com.onyx", {Int("dw_stride", 3)}, in);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("dw_stride"), std::string::npos) << st.status();
}

}  // namespace
}  // namespace onyx::conv_test
