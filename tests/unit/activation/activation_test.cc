// Elementwise activations (float32 on oneDNN, float64 on the functor loop) against
// double-precision references written from the ONNX formulas, over shapes from
// rank 0 to empty to large, with +-0, large, +-inf and NaN inputs.
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/session.h"
#include "tests/status_matchers.h"
#include "tests/unit/common/run_node.h"
#include "tests/unit/activation/reference.h"

namespace onyx {
namespace {

using testing_util::FloatAttr;
using testing_util::OneNodeGraph;
using testing_util::RunOneNode;
using testing_util::StringAttr;
using testing_util::Cases;
using testing_util::EltwiseCase;
using testing_util::Sigmoid;

constexpr double kInf = std::numeric_limits<double>::infinity();

// Special values first, then pseudo-random values in [-12, 12].
std::vector<double> Inputs(int64_t n) {
  const std::vector<double> special = {
      0.0,  -0.0, 1.0,  -1.0,  0.5,   -0.5, 2.0,  -2.0,  3.0,  -3.0,  6.0,   -6.0,
      100,  -100, 1e4,  -1e4,  kInf,  -kInf, std::nan(""), 1e-3, -1e-3, 1e-7, -1e-7, 20,
      -20,  2.5,  -2.5, 1e-30, -1e-30, 40, -40, 88, -88, 0.25, -0.25, 12.5, -12.5};
  std::vector<double> values;
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> dist(-12, 12);
  for (int64_t i = 0; i < n; ++i) {
    values.push_back(i < int64_t(special.size()) ? special[i] : dist(rng));
  }
  if (n == 1) values[0] = -1.75;  // rank 0: a value on the interesting side
  return values;
}

struct Param {
  EltwiseCase c;
  Shape shape;
  DataType dtype;
};

void PrintTo(const Param& p, std::ostream* os) {
  *os << p.c.name << " " << ShapeToString(p.shape) << " " << DataTypeName(p.dtype);
}

class EltwiseTest : public ::testing::TestWithParam<Param> {};

template <typename T>
Tensor MakeTensor(const Shape& shape, const std::vector<double>& values) {
  std::vector<T> v(values.begin(), values.end());
  return Tensor::FromVector<T>(shape, v).value();
}

TEST_P(EltwiseTest, MatchesDoubleReference) {
  const Param& p = GetParam();
  const int64_t n = NumElements(p.shape);
  const std::vector<double> values = Inputs(n);
  const Tensor x = p.dtype == DataType::kFloat32 ? MakeTensor<float>(p.shape, values)
                                                 : MakeTensor<double>(p.shape, values);
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode(p.c.op, p.c.attrs, {x}, p.c.opset));
  ASSERT_EQ(y.dtype(), p.dtype);
  ASSERT_EQ(y.shape(), p.shape);
  const bool f32 = p.dtype == DataType::kFloat32;
  const double rtol = f32 ? p.c.rtol : 1e-9;
  const double atol = f32 ? p.c.atol : 1e-12;
  for (int64_t i = 0; i < n; ++i) {
    // The reference sees the value the kernel saw (rounded to the dtype).
    const double xi = f32 ? double(x.data<float>()[i]) : x.data<double>()[i];
    const double got = f32 ? double(y.data<float>()[i]) : y.data<double>()[i];
    const double want = std::isnan(xi) ? xi : p.c.ref(xi);
    if (std::isnan(want)) {
      // NaN in gives NaN out; -inf in gives NaN for x * f(x) forms (-inf * 0), as
      // the ONNX reference formulas do.
      EXPECT_TRUE(std::isnan(got)) << "x=" << xi << " got " << got;
    } else if (std::isinf(want)) {
      EXPECT_EQ(got, want) << "x=" << xi;
    } else {
      EXPECT_NEAR(got, want, atol + rtol * std::fabs(want)) << "x=" << xi << " i=" << i;
    }
  }
}

std::vector<Param> Params() {
  const std::vector<Shape> shapes = {{}, {0}, {3, 0, 2}, {7}, {2, 3, 7}, {4, 1, 3, 17},
                                     {70001}};
  std::vector<Param> params;
  for (const EltwiseCase& c : Cases()) {
    for (const Shape& s : shapes) {
      for (DataType t : {DataType::kFloat32, DataType::kFloat64}) params.push_back({c, s, t});
    }
  }
  return params;
}

std::string ParamName(const ::testing::TestParamInfo<Param>& info) {
  std::string name = info.param.c.name + "_";
  if (info.param.shape.empty()) name += "scalar";
  for (int64_t d : info.param.shape) name += "x" + std::to_string(d);
  name += info.param.dtype == DataType::kFloat32 ? "_f32" : "_f64";
  return name;
}

INSTANTIATE_TEST_SUITE_P(Ops, EltwiseTest, ::testing::ValuesIn(Params()), ParamName);

TEST(EltwiseErrors, GeluRejectsUnknownApproximation) {
  const Tensor x = MakeTensor<float>({2}, {1, 2});
  const auto y = RunOneNode("Gelu", {StringAttr("approximate", "fast")}, {x}, 20);
  ASSERT_FALSE(y.ok());
  EXPECT_EQ(y.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(y.status().message().find("approximate"), absl::string_view::npos) << y.status();
}

TEST(EltwiseErrors, CeluRejectsZeroAlpha) {
  const Tensor x = MakeTensor<float>({2}, {1, 2});
  const auto y = RunOneNode("Celu", {FloatAttr("alpha", 0.f)}, {x}, 12);
  ASSERT_FALSE(y.ok());
  EXPECT_EQ(y.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(EltwiseErrors, WrongAttributeTypeIsInvalidArgument) {
  const Tensor x = MakeTensor<float>({2}, {1, 2});
  const auto y = RunOneNode("LeakyRelu", {StringAttr("alpha", "big")}, {x}, 16);
  ASSERT_FALSE(y.ok());
  EXPECT_EQ(y.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(EltwiseErrors, IntegerInputIsUnimplementedNamingOpAndDtype) {
  const Tensor x = Tensor::FromVector<int32_t>({2}, std::vector<int32_t>{1, -2}).value();
  const auto y = RunOneNode("Relu", {}, {x}, 14);
  ASSERT_FALSE(y.ok());
  EXPECT_EQ(y.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(y.status().message().find("Relu"), absl::string_view::npos) << y.status();
  EXPECT_NE(y.status().message().find("int32"), absl::string_view::npos) << y.status();
}

TEST(EltwiseRegistry, EveryOpsetFromFirstVersionTo28Resolves) {
  const std::vector<std::pair<std::string, int>> first = {
      {"Relu", 6},      {"LeakyRelu", 6}, {"Sigmoid", 6},     {"Tanh", 6},
      {"Softplus", 1},  {"Elu", 6},       {"Selu", 6},        {"Celu", 12},
      {"Gelu", 20},     {"Mish", 18},     {"HardSigmoid", 6}, {"HardSwish", 14},
      {"Swish", 24},    {"Softmax", 1},   {"LogSoftmax", 1},  {"PRelu", 7},
      {"Identity", 1},  {"ThresholdedRelu", 10}};
  for (const auto& [op, since] : first) {
    for (int opset = 1; opset <= 28; ++opset) {
      const auto found = DefaultRegistry().Find("", op, opset, Device::kCpu);
      EXPECT_EQ(found.ok(), opset >= since) << op << " opset " << opset << ": "
                                            << found.status();
    }
  }
}

TEST(Identity, PassesAnyDtypeThroughWithoutCopy) {
  const Tensor x =
      Tensor::FromVector<int64_t>({2, 2}, std::vector<int64_t>{1, -2, 3, 1LL << 40}).value();
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode("Identity", {}, {x}, 21));
  ASSERT_EQ(y.dtype(), DataType::kInt64);
  ASSERT_EQ(y.shape(), x.shape());
  EXPECT_EQ(y.raw_data(), x.raw_data());
  EXPECT_EQ(y.data<int64_t>()[3], 1LL << 40);
}

// Relu -> Sigmoid: Sigmoid may overwrite Relu's dying output in place, but the
// caller's input must stay untouched, and the result must be right.
TEST(InPlace, ChainDoesNotCorruptCallerInput) {
  Graph g = OneNodeGraph("Relu", {}, {MakeTensor<float>({5}, {0, 0, 0, 0, 0})}, 14);
  g.nodes[0].outputs = {"r"};
  Node sig;
  sig.name = "n1";
  sig.op_type = "Sigmoid";
  sig.inputs = {"r"};
  sig.outputs = {"y"};
  g.nodes.push_back(sig);
  ASSERT_OK_AND_ASSIGN(auto session, Session::Create(g, DefaultRegistry()));
  const std::vector<double> values = {-2, -0.5, 0, 0.5, 3};
  const Tensor x = MakeTensor<float>({5}, values);
  for (int run = 0; run < 2; ++run) {
    ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out, session->Run({{"x0", x}}));
    ASSERT_EQ(out.size(), 1u);
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(x.data<float>()[i], float(values[i]));
      EXPECT_NEAR(out[0].data<float>()[i], Sigmoid(std::max(values[i], 0.0)), 1e-6);
    }
  }
}

}  // namespace
}  // namespace onyx
