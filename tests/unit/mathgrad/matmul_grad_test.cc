// Gradients of MatMul (1-D operands, broadcast batch dims) and Gemm (transA,
// transB, alpha, beta, C shapes) through autograd, against closed forms written
// here with explicit index loops and, in float64, central finite differences.
#include <cmath>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/mathgrad/grad_check.h"

namespace onyx::mathgrad_test {
namespace {

// Expected input gradients and per-element sums of |terms| (rounding bounds).
struct Expected {
  std::vector<std::vector<double>> grad, mag;
  void Init(const std::vector<int64_t>& sizes) {
    for (int64_t n : sizes) {
      grad.emplace_back(n, 0.0);
      mag.emplace_back(n, 0.0);
    }
  }
  void Add(int input, int64_t i, double v) {
    grad[input][i] += v;
    mag[input][i] += std::fabs(v);
  }
};

// Compares autograd's gradients with `e` and, for float64, finite differences.
void Check(const ForwardSpec& spec, const Tensor& r, const Expected& e) {
  std::vector<size_t> wrt;
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    if (!spec.inputs[i].empty()) wrt.push_back(i);
  }
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> grads, AutogradGrads(spec, r, wrt));
  const bool f32 = r.dtype() == DataType::kFloat32;
  for (size_t w = 0; w < wrt.size(); ++w) {
    const size_t input = wrt[w];
    const Tensor& x = spec.inputs[input];
    if (x.num_elements() == 0 && grads[w].empty()) continue;  // nothing depends on it
    ASSERT_FALSE(grads[w].empty()) << "input " << input;
    ASSERT_EQ(grads[w].shape(), x.shape()) << "input " << input;
    ASSERT_EQ(grads[w].dtype(), x.dtype()) << "input " << input;
    const std::vector<double> got = ToDoubles(grads[w]);
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_NEAR(got[i], e.grad[input][i], (f32 ? 1e-5 : 1e-12) * (1 + e.mag[input][i]))
          << "input " << input << " element " << i;
    }
    if (f32) continue;
    ASSERT_OK_AND_ASSIGN(std::vector<double> fd, FiniteDifferences(spec, r, input));
    for (size_t i = 0; i < fd.size(); ++i) {
      EXPECT_NEAR(got[i], fd[i], 1e-6 * (1 + std::fabs(fd[i])))
          << "finite differences, input " << input << " element " << i;
    }
  }
}

// ---------------------------------------------------------------- MatMul

struct MatMulCase {
  Shape a, b;
  DataType dtype;
};

void PrintTo(const MatMulCase& c, std::ostream* os) {
  *os << ShapeToString(c.a) << " x " << ShapeToString(c.b) << " " << DataTypeName(c.dtype);
}

using testing_util::BroadcastShape;

class MatMulGradTest : public ::testing::TestWithParam<MatMulCase> {};

TEST_P(MatMulGradTest, MatchesClosedFormAndFiniteDifferences) {
  const MatMulCase& c = GetParam();
  // NumPy promotion: [K] is [1, K] as A and [K, 1] as B.
  const Shape a2 = c.a.size() == 1 ? Shape{1, c.a[0]} : c.a;
  const Shape b2 = c.b.size() == 1 ? Shape{c.b[0], 1} : c.b;
  const int64_t m = a2[a2.size() - 2], k = a2.back(), n = b2.back();
  const Shape batch =
      BroadcastShape(Shape(a2.begin(), a2.end() - 2), Shape(b2.begin(), b2.end() - 2));
  Shape ys = batch;
  if (c.a.size() != 1) ys.push_back(m);
  if (c.b.size() != 1) ys.push_back(n);

  const std::vector<double> a = RandomValues(NumElements(c.a), 11);
  const std::vector<double> b = RandomValues(NumElements(c.b), 12);
  const std::vector<double> r = RandomValues(NumElements(ys), 13);
  // dL/dA[ia] = sum R[y] * B[ib], dL/dB[ib] = sum R[y] * A[ia] over all
  // (batch, i, j, kk) that read those elements.
  Expected e;
  e.Init({NumElements(c.a), NumElements(c.b)});
  for (int64_t bi = 0; bi < NumElements(batch); ++bi) {
    const std::vector<int64_t> bidx = Unravel(bi, batch);
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        const double ry = r[(bi * m + i) * n + j];
        for (int64_t kk = 0; kk < k; ++kk) {
          std::vector<int64_t> ia = bidx, ib = bidx;
          ia.insert(ia.end(), {i, kk});
          ib.insert(ib.end(), {kk, j});
          const int64_t la = BroadcastSource(ia, a2), lb = BroadcastSource(ib, b2);
          e.Add(0, la, ry * b[lb]);
          e.Add(1, lb, ry * a[la]);
        }
      }
    }
  }
  ForwardSpec spec{"MatMul", {}, {FromDoubles(c.dtype, c.a, a), FromDoubles(c.dtype, c.b, b)}};
  Check(spec, FromDoubles(c.dtype, ys, r), e);
}

std::vector<MatMulCase> MatMulCases() {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{3, 4}, {4, 5}},          {{4}, {4, 5}},       {{3, 4}, {4}},
      {{4}, {4}},                {{2, 3, 4}, {4, 5}}, {{3, 4}, {2, 4, 5}},
      {{2, 1, 3, 4}, {3, 4, 5}}, {{4}, {2, 4, 5}},    {{2, 3, 4}, {4}},
      {{2, 3, 4}, {2, 4, 5}},    {{1, 3, 4}, {2, 4, 5}}, {{2, 3, 4}, {1, 4, 5}},
      {{0, 4}, {4, 3}},          {{1, 1}, {1, 1}},    {{2, 2, 1, 3}, {2, 1, 3, 2}}};
  std::vector<MatMulCase> cases;
  for (const auto& [a, b] : shapes) {
    for (DataType dtype : {DataType::kFloat64, DataType::kFloat32}) cases.push_back({a, b, dtype});
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(All, MatMulGradTest, ::testing::ValuesIn(MatMulCases()));

// ------------------------------------------------------------------ Gemm

struct GemmCase {
  bool trans_a, trans_b;
  float alpha, beta;
  std::optional<Shape> c;  // none: C omitted
  DataType dtype;
};

void PrintTo(const GemmCase& g, std::ostream* os) {
  *os << "transA=" << g.trans_a << " transB=" << g.trans_b << " alpha=" << g.alpha
      << " beta=" << g.beta << " C=" << (g.c ? ShapeToString(*g.c) : "none") << " "
      << DataTypeName(g.dtype);
}

class GemmGradTest : public ::testing::TestWithParam<GemmCase> {};

TEST_P(GemmGradTest, MatchesClosedFormAndFiniteDifferences) {
  const GemmCase& g = GetParam();
  const int64_t m = 3, k = 4, n = 5;
  const Shape as = g.trans_a ? Shape{k, m} : Shape{m, k};
  const Shape bs = g.trans_b ? Shape{n, k} : Shape{k, n};
  const std::vector<double> a = RandomValues(m * k, 21), b = RandomValues(k * n, 22);
  const std::vector<double> r = RandomValues(m * n, 23);
  ForwardSpec spec{"Gemm",
                   {FloatAttr("alpha", g.alpha), FloatAttr("beta", g.beta),
                    IntAttr("transA", g.trans_a), IntAttr("transB", g.trans_b)},
                   {FromDoubles(g.dtype, as, a), FromDoubles(g.dtype, bs, b)}};
  Expected e;
  e.Init({m * k, k * n, g.c ? NumElements(*g.c) : 0});
  if (g.c) {
    spec.inputs.push_back(FromDoubles(g.dtype, *g.c, RandomValues(NumElements(*g.c), 24)));
  }
  // Y[i, j] = alpha * sum_kk A'[i, kk] B'[kk, j] + beta * C[bc(i, j)].
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      const double ry = r[i * n + j];
      for (int64_t kk = 0; kk < k; ++kk) {
        const int64_t la = g.trans_a ? kk * m + i : i * k + kk;
        const int64_t lb = g.trans_b ? j * k + kk : kk * n + j;
        e.Add(0, la, g.alpha * ry * b[lb]);
        e.Add(1, lb, g.alpha * ry * a[la]);
      }
      if (g.c) e.Add(2, BroadcastSource({i, j}, *g.c), g.beta * ry);
    }
  }
  Check(spec, FromDoubles(g.dtype, {m, n}, r), e);
}

std::vector<GemmCase> GemmCases() {
  struct Extra {
    float alpha, beta;
    std::optional<Shape> c;
  };
  const std::vector<Extra> extras = {{1, 1, Shape{3, 5}}, {0.5f, -2, Shape{5}},
                                     {2, 0.25f, Shape{3, 1}}, {1.5f, 1, Shape{}},
                                     {1, 1, std::nullopt},    {0.75f, 3, Shape{1, 1}},
                                     {1, 1, Shape{1, 5}}};
  std::vector<GemmCase> cases;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      for (const Extra& x : extras) {
        for (DataType dtype : {DataType::kFloat64, DataType::kFloat32}) {
          cases.push_back({ta, tb, x.alpha, x.beta, x.c, dtype});
        }
      }
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(All, GemmGradTest, ::testing::ValuesIn(GemmCases()));

}  // namespace
}  // namespace onyx::mathgrad_test
