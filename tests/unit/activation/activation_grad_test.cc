// Backward kernels ("<Op>Grad", domain com.onyx) against central finite
// differences of the double-precision references, skipping points near kinks.
#include <cmath>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/gradient.h"
#include "tests/status_matchers.h"
#include "tests/unit/common/run_node.h"
#include "tests/unit/activation/reference.h"

namespace onyx {
namespace {

using testing_util::Cases;
using testing_util::EltwiseCase;
using testing_util::RunOneNode;

struct Param {
  EltwiseCase c;
  DataType dtype;
};

void PrintTo(const Param& p, std::ostream* os) {
  *os << p.c.name << " " << DataTypeName(p.dtype);
}

class EltwiseGradTest : public ::testing::TestWithParam<Param> {};

// The documented contract: these backward ops read Y, all others read X.
bool SavesOutput(const std::string& op) {
  return op == "Relu" || op == "Sigmoid" || op == "Tanh";
}

// Central difference with step h.
double Central(const std::function<double(double)>& f, double x, double h) {
  return (f(x + h) - f(x - h)) / (2 * h);
}

template <typename T>
Tensor Make(const std::vector<double>& v) {
  return Tensor::FromVector<T>({int64_t(v.size())}, std::vector<T>(v.begin(), v.end())).value();
}

TEST_P(EltwiseGradTest, MatchesFiniteDifferences) {
  const Param& p = GetParam();
  const bool f32 = p.dtype == DataType::kFloat32;
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> xdist(-7, 7), dydist(-2, 2);
  const int n = 400;
  std::vector<double> x(n), dy(n), saved(n);
  for (int i = 0; i < n; ++i) {
    x[i] = f32 ? double(float(xdist(rng))) : xdist(rng);
    dy[i] = f32 ? double(float(dydist(rng))) : dydist(rng);
    const double y = p.c.ref(x[i]);
    saved[i] = SavesOutput(p.c.op) ? (f32 ? double(float(y)) : y) : x[i];
  }
  const Tensor dy_t = f32 ? Make<float>(dy) : Make<double>(dy);
  const Tensor saved_t = f32 ? Make<float>(saved) : Make<double>(saved);
  ASSERT_OK_AND_ASSIGN(Tensor dx, RunOneNode(p.c.op + "Grad", p.c.attrs, {dy_t, saved_t},
                                             p.c.opset, kOnyxDomain));
  ASSERT_EQ(dx.shape(), dy_t.shape());
  int checked = 0;
  for (int i = 0; i < n; ++i) {
    const double fd = Central(p.c.ref, x[i], 1e-5);
    // Near a kink the two step sizes disagree: skip.
    if (std::fabs(fd - Central(p.c.ref, x[i], 1e-3)) > 1e-4 * (1 + std::fabs(fd))) continue;
    ++checked;
    const double want = dy[i] * fd;
    const double got = f32 ? double(dx.data<float>()[i]) : dx.data<double>()[i];
    EXPECT_NEAR(got, want, (f32 ? 2e-5 : 1e-7) * (1 + std::fabs(want)))
        << "x=" << x[i] << " dy=" << dy[i];
  }
  EXPECT_GT(checked, n * 9 / 10);
}

std::vector<Param> Params() {
  std::vector<Param> params;
  for (const EltwiseCase& c : Cases()) {
    for (DataType t : {DataType::kFloat32, DataType::kFloat64}) params.push_back({c, t});
  }
  return params;
}

INSTANTIATE_TEST_SUITE_P(Ops, EltwiseGradTest, ::testing::ValuesIn(Params()),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           return info.param.c.name +
                                  (info.param.dtype == DataType::kFloat32 ? "_f32" : "_f64");
                         });

TEST(EltwiseGrad, ShapeMismatchIsFailedPrecondition) {
  const auto dx = RunOneNode("SigmoidGrad", {}, {Make<float>({1, 2}), Make<float>({1, 2, 3})}, 13,
                             kOnyxDomain);
  ASSERT_FALSE(dx.ok());
  EXPECT_EQ(dx.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(EltwiseGrad, EmptyTensors) {
  ASSERT_OK_AND_ASSIGN(Tensor dx, RunOneNode("TanhGrad", {}, {Make<float>({}), Make<float>({})},
                                             13, kOnyxDomain));
  EXPECT_EQ(dx.num_elements(), 0);
}

}  // namespace
}  // namespace onyx
