// Gemm against a naive double reference Y = alpha * A' * B' + beta * C over every
// transA/transB combination, alpha/beta values and C shape, plus errors.
#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/math/math_test_util.h"

namespace onyx {
namespace {

using math_test::AsDoubles;
using math_test::BroadcastSource;
using math_test::FloatAttr;
using math_test::IntAttr;
using math_test::Random;
using math_test::RunOne;

enum class CKind { kNone, kScalar, kOne, kN, kOneN, kMOne, kMN, kOneOne };

Shape CShape(CKind kind, int64_t m, int64_t n) {
  switch (kind) {
    case CKind::kScalar:
      return {};
    case CKind::kOne:
      return {1};
    case CKind::kN:
      return {n};
    case CKind::kOneN:
      return {1, n};
    case CKind::kMOne:
      return {m, 1};
    case CKind::kMN:
      return {m, n};
    case CKind::kOneOne:
      return {1, 1};
    case CKind::kNone:
      break;
  }
  return {};
}

template <typename T>
void CheckGemm(int64_t m, int64_t k, int64_t n, bool ta, bool tb, float alpha, float beta,
               CKind c_kind, int64_t opset, double tol) {
  SCOPED_TRACE(::testing::Message()
               << "M=" << m << " K=" << k << " N=" << n << " transA=" << ta << " transB=" << tb
               << " alpha=" << alpha << " beta=" << beta << " C kind " << int(c_kind));
  const Tensor a = Random<T>(ta ? Shape{k, m} : Shape{m, k}, 31);
  const Tensor b = Random<T>(tb ? Shape{n, k} : Shape{k, n}, 32);
  const Shape c_shape = CShape(c_kind, m, n);
  const Tensor c = c_kind == CKind::kNone ? Tensor() : Random<T>(c_shape, 33);
  std::vector<Attribute> attrs = {IntAttr("transA", ta), IntAttr("transB", tb)};
  if (alpha != 1.f) attrs.push_back(FloatAttr("alpha", alpha));
  if (beta != 1.f) attrs.push_back(FloatAttr("beta", beta));
  std::vector<Tensor> inputs = {a, b};
  if (c_kind != CKind::kNone) inputs.push_back(c);
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOne("Gemm", inputs, attrs, opset));
  ASSERT_EQ(y.shape(), (Shape{m, n}));
  const std::vector<double> av = AsDoubles(a), bv = AsDoubles(b), yv = AsDoubles(y);
  const std::vector<double> cv = c_kind == CKind::kNone ? std::vector<double>{} : AsDoubles(c);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double sum = 0, scale = 0;
      for (int64_t kk = 0; kk < k; ++kk) {
        const double x = ta ? av[kk * m + i] : av[i * k + kk];
        const double w = tb ? bv[j * k + kk] : bv[kk * n + j];
        sum += x * w;
        scale += std::abs(x * w);
      }
      double expected = double{alpha} * sum;
      if (c_kind != CKind::kNone) expected += double{beta} * cv[BroadcastSource({i, j}, c_shape)];
      ASSERT_NEAR(yv[i * n + j], expected, tol * std::max(1.0, std::abs(alpha) * scale + 10))
          << "at " << i << "," << j;
    }
  }
}

class GemmTest
    : public ::testing::TestWithParam<std::tuple<bool, bool, std::pair<float, float>, CKind>> {};

TEST_P(GemmTest, MatchesNaiveReference) {
  const auto& [ta, tb, alpha_beta, c_kind] = GetParam();
  const auto [alpha, beta] = alpha_beta;
  CheckGemm<float>(3, 5, 4, ta, tb, alpha, beta, c_kind, 13, 1e-6);
  CheckGemm<float>(67, 100, 45, ta, tb, alpha, beta, c_kind, 13, 1e-6);
  CheckGemm<double>(3, 5, 4, ta, tb, alpha, beta, c_kind, 13, 1e-13);
}

INSTANTIATE_TEST_SUITE_P(
    All, GemmTest,
    ::testing::Combine(::testing::Bool(), ::testing::Bool(),
                       ::testing::Values(std::pair{1.f, 1.f}, std::pair{0.5f, 1.f},
                                         std::pair{1.f, -2.f}, std::pair{0.25f, 0.f}),
                       ::testing::Values(CKind::kNone, CKind::kScalar, CKind::kOne, CKind::kN,
                                         CKind::kOneN, CKind::kMOne, CKind::kMN, CKind::kOneOne)));

TEST(GemmOpsetTest, OlderOpsetsAndEmptyK) {
  CheckGemm<float>(3, 5, 4, false, true, 1.f, 1.f, CKind::kN, 7, 1e-6);
  CheckGemm<float>(3, 5, 4, true, false, 2.f, 3.f, CKind::kMN, 9, 1e-6);
  CheckGemm<float>(3, 5, 4, false, false, 1.f, 1.f, CKind::kNone, 11, 1e-6);
  CheckGemm<float>(3, 0, 4, false, false, 1.f, 2.f, CKind::kN, 13, 1e-6);
  CheckGemm<float>(0, 5, 4, false, false, 1.f, 1.f, CKind::kN, 13, 1e-6);
}

void ExpectError(const absl::Status& status, const std::string& what) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "Gemm node \"g\"")) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), what)) << status;
}

TEST(GemmErrorTest, BadShapesAndDtypes) {
  const Tensor a3 = Random<float>({2, 3, 4}, 1), b = Random<float>({4, 5}, 2);
  ExpectError(RunOne("Gemm", {a3, b}, {}, 13, "g").status(), "must be 2-D");
  const Tensor a = Random<float>({2, 3}, 1);
  ExpectError(RunOne("Gemm", {a, b}, {}, 13, "g").status(), "K is 3 for A but 4 for B");
  const Tensor a_ok = Random<float>({2, 4}, 1);
  const Tensor c_bad = Random<float>({3, 5}, 3);
  ExpectError(RunOne("Gemm", {a_ok, b, c_bad}, {}, 13, "g").status(),
              "C has shape [3,5], which does not broadcast to [2,5]");
  const Tensor c_int = Random<int64_t>({5}, 3);
  ExpectError(RunOne("Gemm", {a_ok, b, c_int}, {}, 13, "g").status(), "input C is int64");
}

}  // namespace
}  // namespace onyx
