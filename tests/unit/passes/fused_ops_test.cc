// com.onyx FusedMatMul and FusedGemm kernels against double-precision loops
// written here, including the shapes oneDNN does not take (K = 0).
#include <array>
#include <cmath>

#include "tests/unit/passes/pass_test_util.h"

namespace onyx::pass_test {
namespace {

absl::StatusOr<Tensor> RunFused(const std::string& op, const std::vector<Tensor>& inputs,
                                std::vector<Attribute> attrs) {
  GraphBuilder b(13);
  b.mutable_graph().opset_imports["com.onyx"] = 1;
  std::vector<std::string> names;
  NamedTensors feeds;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string name = "in" + std::to_string(i);
    names.push_back(name);
    b.Init(name, inputs[i]);
  }
  b.Op(op, names, {"y"}, std::move(attrs), "com.onyx").Output("y");
  ONYX_ASSIGN_OR_RETURN(std::vector<Tensor> out, RunGraph(b.graph(), feeds, 0));
  return out[0];
}

double Relu(double v) { return v > 0 ? v : 0; }

void ExpectNear(const Tensor& got, const std::vector<double>& want) {
  ASSERT_EQ(got.num_elements(), static_cast<int64_t>(want.size()));
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(got.data<float>()[i], want[i], 1e-5 * std::max(1.0, std::abs(want[i]))) << i;
  }
}

// Sizes: 3x4x5 runs the small-problem loop, 40x30x20 the oneDNN matmul.
class FusedGemmSizeTest : public ::testing::TestWithParam<std::array<int64_t, 3>> {};

TEST_P(FusedGemmSizeTest, AlphaBetaTransposesAndEveryCShape) {
  const auto [m, k, n] = GetParam();
  const Tensor a = RandomTensor({k, m}, 101);  // transA = 1
  const Tensor b = RandomTensor({n, k}, 102);  // transB = 1
  // alpha == 1 with a row-vector C takes the matmul-bias path, else a binary post-op.
  for (auto [alpha, beta] : {std::pair{0.5f, -1.25f}, std::pair{1.f, 1.f}, std::pair{1.f, 2.f}})
  for (const Shape& c_shape :
       {Shape{}, Shape{n}, Shape{1, n}, Shape{1, 1}, Shape{m, 1}, Shape{m, n}}) {
    SCOPED_TRACE(ShapeToString(c_shape) + " alpha " + std::to_string(alpha) + " beta " +
                 std::to_string(beta));
    const Tensor c = RandomTensor(c_shape, 103);
    ASSERT_OK_AND_ASSIGN(
        Tensor y, RunFused("FusedGemm", {a, b, c},
                           {IntAttr("transA", 1), IntAttr("transB", 1), FloatAttr("alpha", alpha),
                            FloatAttr("beta", beta), StringAttr("activation", "Relu")}));
    ASSERT_EQ(y.shape(), Shape({m, n}));
    std::vector<double> want(m * n);
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t kk = 0; kk < k; ++kk) {
          acc += double{a.data<float>()[kk * m + i]} * b.data<float>()[j * k + kk];
        }
        const int64_t ci = c.rank() < 2 ? (c.rank() == 0 ? 0 : j)
                                        : (c.dim(0) == 1 ? 0 : i) * c.dim(1) +
                                              (c.dim(1) == 1 ? 0 : j);
        want[i * n + j] = Relu(alpha * acc + beta * double{c.data<float>()[ci]});
      }
    }
    ExpectNear(y, want);
  }
}

INSTANTIATE_TEST_SUITE_P(LoopAndOneDnn, FusedGemmSizeTest,
                         ::testing::Values(std::array<int64_t, 3>{3, 4, 5},
                                           std::array<int64_t, 3>{40, 30, 20}));

TEST(FusedGemmTest, EmptyInnerDimGivesActivationOfBetaC) {
  const Tensor a = Tensor::Zeros(DataType::kFloat32, {2, 0}).value();
  const Tensor b = Tensor::Zeros(DataType::kFloat32, {0, 3}).value();
  const Tensor c = Floats({3}, {-1.f, 0.5f, 2.f});
  ASSERT_OK_AND_ASSIGN(Tensor y, RunFused("FusedGemm", {a, b, c},
                                          {FloatAttr("beta", 2.f), StringAttr("activation", "Clip"),
                                           FloatAttr("activation_alpha", -1.f),
                                           FloatAttr("activation_beta", 3.f)}));
  ExpectNear(y, {-1, 1, 3, -1, 1, 3});
}

TEST(FusedMatMulTest, BatchBroadcastBiasAndActivation) {
  const Tensor a = RandomTensor({2, 1, 3, 4}, 111);
  const Tensor b = RandomTensor({3, 4, 5}, 112);
  const Tensor bias = RandomTensor({5}, 113);
  ASSERT_OK_AND_ASSIGN(Tensor y, RunFused("FusedMatMul", {a, b, bias},
                                          {StringAttr("activation", "LeakyRelu"),
                                           FloatAttr("activation_alpha", 0.1f)}));
  ASSERT_EQ(y.shape(), Shape({2, 3, 3, 5}));
  std::vector<double> want;
  for (int64_t p = 0; p < 2; ++p)
    for (int64_t q = 0; q < 3; ++q)
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 5; ++j) {
          double acc = bias.data<float>()[j];
          for (int64_t kk = 0; kk < 4; ++kk) {
            acc += double{a.data<float>()[(p * 3 + i) * 4 + kk]} *
                   b.data<float>()[(q * 4 + kk) * 5 + j];
          }
          want.push_back(acc > 0 ? acc : 0.1 * acc);
        }
  ExpectNear(y, want);
}

TEST(FusedMatMulTest, OneDimensionalOperandsAndEmptyK) {
  const Tensor a = Floats({3}, {1, 2, 3});
  const Tensor b = Floats({3, 2}, {1, -1, 2, -2, 3, -3});
  ASSERT_OK_AND_ASSIGN(Tensor y, RunFused("FusedMatMul", {a, b}, {StringAttr("activation", "Relu")}));
  ASSERT_EQ(y.shape(), Shape({2}));
  ExpectNear(y, {14, 0});

  const Tensor e = Tensor::Zeros(DataType::kFloat32, {2, 0}).value();
  const Tensor f = Tensor::Zeros(DataType::kFloat32, {0, 2}).value();
  ASSERT_OK_AND_ASSIGN(Tensor z, RunFused("FusedMatMul", {e, f, Floats({2}, {-1, 4})},
                                          {StringAttr("activation", "Sigmoid")}));
  const double s0 = 1 / (1 + std::exp(1.0)), s1 = 1 / (1 + std::exp(-4.0));
  ExpectNear(z, {s0, s1, s0, s1});
}

TEST(FusedOpsTest, BadAttributesAndShapesNameTheNode) {
  const Tensor a = RandomTensor({2, 3}, 121);
  auto bad_act = RunFused("FusedMatMul", {a, RandomTensor({3, 2}, 122)},
                          {StringAttr("activation", "Softmax")});
  ASSERT_FALSE(bad_act.ok());
  EXPECT_NE(bad_act.status().message().find("FusedMatMul node"), std::string::npos);
  EXPECT_NE(bad_act.status().message().find("Softmax"), std::string::npos);

  auto bad_k = RunFused("FusedGemm", {a, RandomTensor({4, 2}, 123)}, {});
  ASSERT_FALSE(bad_k.ok());
  EXPECT_NE(bad_k.status().message().find("FusedGemm node"), std::string::npos);

  auto bad_bias = RunFused("FusedMatMul", {a, RandomTensor({3, 2}, 124), RandomTensor({3}, 125)}, {});
  ASSERT_FALSE(bad_bias.ok());
  EXPECT_NE(bad_bias.status().message().find("Bias"), std::string::npos);
}

}  // namespace
}  // namespace onyx::pass_test
