// MatMul against a naive double-precision NumPy-matmul reference (1-D promotion,
// broadcast batch dims) for float32, float64, int32 and int64, plus errors.
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/math/math_test_util.h"

namespace onyx {
namespace {

using math_test::AsDoubles;
using math_test::BroadcastSource;
using math_test::Random;
using math_test::RunOne;
using math_test::Unravel;

// NumPy matmul in double, written out index by index; `scale` gets sum_k |a*b|
// per element (the rounding-error scale). Returns the output shape.
Shape RefMatMul(const Tensor& a, const Tensor& b, std::vector<double>& y,
                std::vector<double>& scale) {
  Shape sa = a.shape(), sb = b.shape();
  const bool a1 = sa.size() == 1, b1 = sb.size() == 1;
  if (a1) sa.insert(sa.begin(), 1);
  if (b1) sb.push_back(1);
  const int64_t m = sa[sa.size() - 2], k = sa.back(), n = sb.back();
  const Shape ab(sa.begin(), sa.end() - 2), bb(sb.begin(), sb.end() - 2);
  Shape batch(std::max(ab.size(), bb.size()), 1);
  for (size_t i = 0; i < batch.size(); ++i) {
    const int64_t da = i < ab.size() ? ab[ab.size() - 1 - i] : 1;
    const int64_t db = i < bb.size() ? bb[bb.size() - 1 - i] : 1;
    batch[batch.size() - 1 - i] = std::max(da, db);
  }
  const std::vector<double> av = AsDoubles(a), bv = AsDoubles(b);
  const int64_t batches = NumElements(batch);
  y.assign(batches * m * n, 0.0);
  scale.assign(batches * m * n, 0.0);
  for (int64_t t = 0; t < batches; ++t) {
    const std::vector<int64_t> index = Unravel(t, batch);
    const int64_t ai = BroadcastSource(index, ab), bi = BroadcastSource(index, bb);
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0, abs_sum = 0;
        for (int64_t kk = 0; kk < k; ++kk) {
          const double p = av[ai * m * k + i * k + kk] * bv[bi * k * n + kk * n + j];
          sum += p;
          abs_sum += std::abs(p);
        }
        y[(t * m + i) * n + j] = sum;
        scale[(t * m + i) * n + j] = abs_sum;
      }
    }
  }
  Shape out = batch;
  if (!a1) out.push_back(m);
  if (!b1) out.push_back(n);
  return out;
}

template <typename T>
void CheckMatMul(const Shape& sa, const Shape& sb, double tol) {
  SCOPED_TRACE(ShapeToString(sa) + " x " + ShapeToString(sb) + " " +
               DataTypeName(DataTypeOf<T>::value));
  const Tensor a = Random<T>(sa, 21, -5, 5), b = Random<T>(sb, 22, -5, 5);
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOne("MatMul", {a, b}));
  std::vector<double> expected, scale;
  const Shape out = RefMatMul(a, b, expected, scale);
  ASSERT_EQ(y.shape(), out);
  ASSERT_EQ(y.dtype(), a.dtype());
  const std::vector<double> actual = AsDoubles(y);
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_NEAR(actual[i], expected[i], tol * std::max(1.0, scale[i])) << i;
  }
}

struct MatMulCase {
  Shape a;
  Shape b;
};

class MatMulTest : public ::testing::TestWithParam<MatMulCase> {};

TEST_P(MatMulTest, MatchesNaiveReference) {
  const MatMulCase& c = GetParam();
  CheckMatMul<float>(c.a, c.b, 1e-5);
  CheckMatMul<double>(c.a, c.b, 1e-12);
  CheckMatMul<int64_t>(c.a, c.b, 0);
  CheckMatMul<int32_t>(c.a, c.b, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, MatMulTest,
    ::testing::Values(MatMulCase{{3}, {3}}, MatMulCase{{3}, {3, 4}}, MatMulCase{{2, 3}, {3}},
                      MatMulCase{{2, 3}, {3, 4}}, MatMulCase{{2, 3, 4}, {4, 5}},
                      MatMulCase{{4}, {2, 4, 5}}, MatMulCase{{2, 3, 4}, {4}},
                      MatMulCase{{2, 1, 3, 4}, {5, 4, 2}}, MatMulCase{{1, 3, 4}, {2, 4, 5}},
                      MatMulCase{{3, 1, 2, 4}, {1, 2, 4, 3}}, MatMulCase{{1, 1}, {1, 1}},
                      MatMulCase{{2, 0}, {0, 3}}, MatMulCase{{0, 3}, {3, 2}},
                      MatMulCase{{3, 64, 128}, {128, 96}}, MatMulCase{{130, 70}, {70, 33}}));

void ExpectError(const absl::Status& status, const std::string& what) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), what)) << status;
}

TEST(MatMulErrorTest, InnerDimMismatchNamesNodeAndShapes) {
  const Tensor a = Random<float>({2, 3}, 1), b = Random<float>({4, 5}, 2);
  ExpectError(RunOne("MatMul", {a, b}, {}, 13, "mm").status(),
              "MatMul node \"mm\": A has shape [2,3] and B has shape [4,5]: inner dims 3 and 4 "
              "differ");
}

TEST(MatMulErrorTest, BatchMismatch) {
  const Tensor a = Random<float>({2, 3, 4}, 1), b = Random<float>({3, 4, 5}, 2);
  ExpectError(RunOne("MatMul", {a, b}, {}, 13, "mm").status(), "batch dims [2] and [3]");
}

TEST(MatMulErrorTest, ScalarsAndMixedDtypes) {
  const Tensor s = Random<float>({}, 1), v = Random<float>({3}, 2);
  ExpectError(RunOne("MatMul", {s, v}, {}, 13, "mm").status(), "rank >= 1");
  const Tensor i = Random<int64_t>({3}, 3);
  ExpectError(RunOne("MatMul", {v, i}, {}, 9, "mm").status(),
              "input A is float32 but input B is int64");
}

}  // namespace
}  // namespace onyx
