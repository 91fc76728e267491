// com.onyx FusedConv = act(Conv(X, W, B) + Z) against the double conv
// reference followed by each activation's formula written here in double.
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/conv/conv_reference.h"

namespace onyx::conv_test {
namespace {

struct ActCase {
  std::string name;                   // FusedConv's activation attribute
  std::vector<Attribute> attrs;       // activation_alpha / activation_beta
  std::function<double(double)> act;  // the reference
};

double Sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

std::vector<ActCase> Cases() {
  const double kSqrt2OverPi = std::sqrt(2.0 / M_PI);
  return {
      {"Relu", {}, [](double v) { return v > 0 ? v : 0.0; }},
      {"LeakyRelu", {}, [](double v) { return v > 0 ? v : 0.01 * v; }},
      {"LeakyRelu",
       {Float("activation_alpha", 0.2f)},
       [](double v) { return v > 0 ? v : double(0.2f) * v; }},
      {"Sigmoid", {}, Sigmoid},
      {"Tanh", {}, [](double v) { return std::tanh(v); }},
      {"Elu",
       {Float("activation_alpha", 0.5f)},
       [](double v) { return v > 0 ? v : 0.5 * (std::exp(v) - 1); }},
      {"Gelu", {}, [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }},
      {"GeluTanh",
       {},
       [=](double v) {
         return 0.5 * v * (1 + std::tanh(kSqrt2OverPi * (v + 0.044715 * v * v * v)));
       }},
      {"Mish", {}, [](double v) { return v * std::tanh(std::log1p(std::exp(v))); }},
      {"Swish", {}, [](double v) { return v * Sigmoid(v); }},
      {"HardSwish", {}, [](double v) { return v * std::fmax(0.0, std::fmin(1.0, (v + 3) / 6)); }},
      {"Clip",
       {Float("activation_alpha", -0.5f), Float("activation_beta", 0.75f)},
       [](double v) { return std::fmin(0.75, std::fmax(-0.5, v)); }},
  };
}

void CheckFused(const ActCase& a, bool with_z, const Shape& xs, const Shape& ws, int64_t group) {
  const std::vector<double> x = Random(NumElements(xs), 1), w = Random(NumElements(ws), 2),
                            b = Random(ws[0], 3);
  RefParams p;
  p.group = group;
  p.strides = {1, 1};
  p.dilations = {1, 1};
  p.pads_begin = {1, 1};
  p.pads_end = {1, 1};
  Shape y_shape;
  std::vector<double> want = RefConv(xs, x, ws, w, &b, p, &y_shape);
  const std::vector<double> z = Random(NumElements(y_shape), 4);
  for (size_t i = 0; i < want.size(); ++i) want[i] = a.act(want[i] + (with_z ? z[i] : 0.0));

  std::vector<Attribute> attrs = a.attrs;
  attrs.push_back(String("activation", a.name));
  attrs.push_back(Ints("pads", {1, 1, 1, 1}));
  if (group != 1) attrs.push_back(Int("group", group));
  std::vector<Tensor> inputs = {ToTensor(xs, x), ToTensor(ws, w), ToTensor({ws[0]}, b)};
  if (with_z) inputs.push_back(ToTensor(y_shape, z));
  ASSERT_OK_AND_ASSIGN(Tensor y, RunNode("FusedConv", "com.onyx", attrs, inputs));
  ASSERT_EQ(y.shape(), y_shape);
  int reported = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double tol = 2e-4 + 2e-4 * std::fabs(want[i]);
    if (std::fabs(y.data<float>()[i] - want[i]) > tol && reported++ < 5) {
      ADD_FAILURE() << a.name << (with_z ? " +Z" : "") << " element " << i << ": got "
                    << y.data<float>()[i] << ", want " << want[i];
    }
  }
}

TEST(FusedConv, EachActivationMatchesConvThenActivation) {
  for (const ActCase& a : Cases()) {
    SCOPED_TRACE(a.name);
    CheckFused(a, /*with_z=*/false, {1, 3, 6, 7}, {4, 3, 3, 3}, 1);
  }
}

TEST(FusedConv, ResidualIsAddedBeforeTheActivation) {
  for (const ActCase& a : Cases()) {
    SCOPED_TRACE(a.name);
    CheckFused(a, /*with_z=*/true, {2, 16, 8, 8}, {32, 16, 3, 3}, 1);  // blocked layouts
    CheckFused(a, /*with_z=*/true, {1, 4, 5, 5}, {4, 2, 3, 3}, 2);
  }
}

TEST(FusedConv, NoActivationIsPlainConvPlusResidual) {
  CheckFused({"", {}, [](double v) { return v; }}, true, {1, 16, 9, 9}, {16, 1, 3, 3}, 16);
}

// Z produced by an earlier node dies at FusedConv, so Y may reuse its buffer;
// and Z may be the very value read as X. Both must give act(conv + Z).
TEST(FusedConv, ResidualBufferReuseAndResidualEqualToX) {
  const Shape xs = {1, 16, 6, 6}, ws = {16, 16, 3, 3};
  const std::vector<double> x = Random(NumElements(xs), 1), w = Random(NumElements(ws), 2),
                            b = Random(16, 3), z = Random(NumElements(xs), 4);
  RefParams p;
  p.strides = p.dilations = {1, 1};
  p.pads_begin = p.pads_end = {1, 1};
  Shape y_shape;
  const std::vector<double> conv = RefConv(xs, x, ws, w, &b, p, &y_shape);
  for (bool z_is_x : {false, true}) {
    Graph g =
        OneNode("FusedConv", "com.onyx", {String("activation", "Relu"), Ints("pads", {1, 1, 1, 1})},
                {ToTensor(xs, x), ToTensor(ws, w), ToTensor({16}, b), ToTensor(xs, z)});
    Node relu;  // z = Relu(x3): a fresh tensor that dies at the FusedConv
    relu.name = "relu0";
    relu.op_type = "Relu";
    relu.inputs = {"x3"};
    relu.outputs = {"z"};
    g.nodes[0].inputs[3] = z_is_x ? "x0" : "z";
    g.nodes.insert(g.nodes.begin(), relu);
    auto session = Session::Create(std::move(g), DefaultRegistry());
    ASSERT_OK(session);
    auto y = (*session)->Run({{"x0", ToTensor(xs, x)},
                              {"x1", ToTensor(ws, w)},
                              {"x2", ToTensor({16}, b)},
                              {"x3", ToTensor(xs, z)}});
    ASSERT_OK(y);
    const Tensor& out = (*y)[0];
    ASSERT_EQ(out.shape(), y_shape);
    for (size_t i = 0; i < conv.size(); ++i) {
      const double residual = z_is_x ? x[i] : std::fmax(z[i], 0.0);
      const double want = std::fmax(conv[i] + residual, 0.0);
      ASSERT_NEAR(out.data<float>()[i], want, 1e-4 + 1e-4 * std::fabs(want)) << z_is_x << " " << i;
    }
  }
}

TEST(FusedConv, UnknownActivationNamesNode) {
  const absl::StatusOr<Tensor> y =
      RunNode("FusedConv", "com.onyx", {String("activation", "Softsign")},
              {ToTensor({1, 1, 3, 3}, Random(9, 1)), ToTensor({1, 1, 1, 1}, {1.0})});
  ASSERT_FALSE(y.ok());
  EXPECT_NE(y.status().message().find("conv0"), std::string::npos) << y.status();
  EXPECT_NE(y.status().message().find("Softsign"), std::string::npos) << y.status();
}

TEST(FusedConv, ResidualShapeMismatchNamesNode) {
  const absl::StatusOr<Tensor> y =
      RunNode("FusedConv", "com.onyx", {},
              {ToTensor({1, 1, 3, 3}, Random(9, 1)), ToTensor({1, 1, 1, 1}, {1.0}), Tensor(),
               ToTensor({1, 1, 3, 2}, Random(6, 2))});
  ASSERT_FALSE(y.ok());
  EXPECT_NE(y.status().message().find("conv0"), std::string::npos) << y.status();
  EXPECT_NE(y.status().message().find("input Z"), std::string::npos) << y.status();
}

}  // namespace
}  // namespace onyx::conv_test
