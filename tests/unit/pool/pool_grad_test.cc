// Pool gradients: the MaxPool / AveragePool / GlobalAveragePool builders run
// through autograd in float64 and float32 and are compared with central finite
// differences of sum(Y * R) in float64. MaxPool inputs are distinct values
// 0.1 apart, so no window's maximum changes within the FD step.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/mathgrad/grad_check.h"
#include "tests/unit/pool/run_node.h"

namespace onyx::pooltest {
namespace {

using mathgrad_test::AutogradGrads;
using mathgrad_test::FiniteDifferences;
using mathgrad_test::ForwardSpec;
using mathgrad_test::FromDoubles;
using mathgrad_test::RandomValues;
using mathgrad_test::RunForward;
using mathgrad_test::ToDoubles;

std::vector<double> DistinctValues(int64_t n, uint32_t seed) {
  std::vector<double> v(n);
  std::iota(v.begin(), v.end(), 0.0);
  std::shuffle(v.begin(), v.end(), std::mt19937(seed));
  for (double& x : v) x = 0.1 * x - 0.05 * n;
  return v;
}

struct GradCase {
  std::string op;
  Shape x;
  std::vector<Attribute> attrs;
};

void CheckGradient(const GradCase& c) {
  SCOPED_TRACE(c.op + " x" + ShapeToString(c.x));
  const std::vector<double> xv =
      c.op == "MaxPool" ? DistinctValues(NumElements(c.x), 11) : RandomValues(NumElements(c.x), 11);
  ForwardSpec spec{c.op, c.attrs, {FromDoubles(DataType::kFloat64, c.x, xv)}, 22};
  ASSERT_OK_AND_ASSIGN(Tensor y, RunForward(spec));
  const Tensor r = FromDoubles(DataType::kFloat64, y.shape(), RandomValues(y.num_elements(), 5));
  ASSERT_OK_AND_ASSIGN(std::vector<double> fd, FiniteDifferences(spec, r, 0));
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> grads, AutogradGrads(spec, r, {0}));
  ASSERT_EQ(grads[0].shape(), c.x);
  const std::vector<double> got = ToDoubles(grads[0]);
  for (size_t i = 0; i < fd.size(); ++i) ASSERT_NEAR(got[i], fd[i], 1e-6) << "at " << i;
  // float32 through the same graph agrees with the float64 gradient.
  ForwardSpec spec32{c.op, c.attrs, {FromDoubles(DataType::kFloat32, c.x, xv)}, 22};
  const Tensor r32 = FromDoubles(DataType::kFloat32, y.shape(), ToDoubles(r));
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> grads32, AutogradGrads(spec32, r32, {0}));
  const std::vector<double> got32 = ToDoubles(grads32[0]);
  for (size_t i = 0; i < fd.size(); ++i) ASSERT_NEAR(got32[i], fd[i], 1e-4) << "at " << i;
}

TEST(PoolGrad, MaxPool) {
  CheckGradient({"MaxPool", {2, 2, 6, 7}, {Ints("kernel_shape", {3, 2}), Ints("strides", {2, 1})}});
  CheckGradient({"MaxPool",
                 {1, 2, 7, 7},
                 {Ints("kernel_shape", {3, 3}), Ints("strides", {2, 2}), Ints("pads", {1, 1, 1, 1}),
                  Int("ceil_mode", 1)}});
  CheckGradient({"MaxPool", {1, 1, 9}, {Ints("kernel_shape", {2}), Ints("dilations", {3})}});
  CheckGradient({"MaxPool", {1, 1, 4, 5, 4}, {Ints("kernel_shape", {2, 2, 2})}});
}

TEST(PoolGrad, AveragePool) {
  CheckGradient(
      {"AveragePool", {2, 2, 6, 7}, {Ints("kernel_shape", {3, 2}), Ints("strides", {2, 1})}});
  for (int include : {0, 1}) {
    CheckGradient(
        {"AveragePool",
         {1, 2, 7, 8},
         {Ints("kernel_shape", {3, 3}), Ints("strides", {2, 2}), Ints("pads", {1, 1, 1, 0}),
          Int("ceil_mode", 1), Int("count_include_pad", include)}});
  }
  CheckGradient({"AveragePool",
                 {1, 1, 8, 8},
                 {Ints("kernel_shape", {2, 3}), Ints("dilations", {2, 2}),
                  String("auto_pad", "SAME_UPPER")}});
}

TEST(PoolGrad, GlobalAveragePool) {
  CheckGradient({"GlobalAveragePool", {2, 3, 4, 5}, {}});
  CheckGradient({"GlobalAveragePool", {3, 2, 7}, {}});
}

// Large shapes: the float32 oneDNN backward and the float64 threaded loops are
// independent implementations; they must agree.
TEST(PoolGrad, OneDnnAndLoopsAgreeOnLargeShapes) {
  const Shape xs = {4, 8, 64, 64}, ys = {4, 8, 32, 32};
  const std::vector<double> x = DistinctValues(NumElements(xs), 3);
  const std::vector<double> dy = RandomValues(NumElements(ys), 4);
  for (const char* op : {"MaxPoolGrad", "AveragePoolGrad"}) {
    const std::vector<Attribute> attrs = {Ints("kernel_shape", {3, 3}), Ints("strides", {2, 2}),
                                          Ints("pads", {1, 1, 1, 1})};
    std::vector<double> results[2];
    int k = 0;
    for (DataType dtype : {DataType::kFloat32, DataType::kFloat64}) {
      ASSERT_OK_AND_ASSIGN(
          std::vector<Tensor> out,
          RunNode(op, attrs, {FromDoubles(dtype, ys, dy), FromDoubles(dtype, xs, x)}, 22, {"dx"},
                  kOnyxDomain));
      results[k++] = ToDoubles(out[0]);
    }
    for (size_t i = 0; i < results[0].size(); ++i) {
      ASSERT_NEAR(results[0][i], results[1][i], 1e-5) << op << " at " << i;
    }
  }
}

TEST(PoolGrad, GradOpRejectsMismatchedDy) {
  const Tensor x = FromDoubles(DataType::kFloat32, {1, 1, 4, 4}, RandomValues(16, 1));
  const Tensor dy = FromDoubles(DataType::kFloat32, {1, 1, 3, 3}, RandomValues(9, 2));
  auto out = RunNode("MaxPoolGrad", {Ints("kernel_shape", {2, 2}), Ints("strides", {2, 2})},
                     {dy, x}, 22, {"dx"}, kOnyxDomain);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(std::string(out.status().message()).find("MaxPoolGrad node \"n0\""), std::string::npos)
      << out.status();
}

}  // namespace
}  // namespace onyx::pooltest
