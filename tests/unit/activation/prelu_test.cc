// PRelu with every unidirectional broadcast pattern of the slope against a
// double-precision reference; bad slopes are rejected.
#include <cmath>
#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/common/run_node.h"

namespace onyx {
namespace {

using testing_util::RunOneNode;

struct Param {
  Shape x;
  Shape slope;
  DataType dtype;
};

void PrintTo(const Param& p, std::ostream* os) {
  *os << "x" << ShapeToString(p.x) << " slope" << ShapeToString(p.slope) << " "
      << DataTypeName(p.dtype);
}

class PReluTest : public ::testing::TestWithParam<Param> {};

template <typename T>
Tensor Make(const Shape& shape, const std::vector<double>& v) {
  return Tensor::FromVector<T>(shape, std::vector<T>(v.begin(), v.end())).value();
}

TEST_P(PReluTest, MatchesDoubleReference) {
  const Param& p = GetParam();
  const int64_t n = NumElements(p.x), ns = NumElements(p.slope);
  std::vector<double> xv(n), sv(ns);
  const double specials[] = {0.0, -0.0, 1e4, -1e4, std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(), std::nan("")};
  for (int64_t i = 0; i < n; ++i) xv[i] = i < 7 ? specials[i] : (i % 5 - 2) * 0.75 + i * 0.01;
  for (int64_t i = 0; i < ns; ++i) sv[i] = 0.1 + 0.05 * i;
  const bool f32 = p.dtype == DataType::kFloat32;
  const Tensor x = f32 ? Make<float>(p.x, xv) : Make<double>(p.x, xv);
  const Tensor slope = f32 ? Make<float>(p.slope, sv) : Make<double>(p.slope, sv);
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode("PRelu", {}, {x, slope}, 16));
  ASSERT_EQ(y.shape(), p.x);
  // Reference: right-align slope dims to x; broadcast dims of size 1.
  const int rank = static_cast<int>(p.x.size());
  const int offset = rank - static_cast<int>(p.slope.size());
  for (int64_t i = 0; i < n; ++i) {
    int64_t rest = i, s_index = 0, s_stride = 1;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t coord = rest % p.x[d];
      rest /= p.x[d];
      if (d >= offset) {
        const int64_t sd = p.slope[d - offset];
        s_index += (sd == 1 ? 0 : coord) * s_stride;
        s_stride *= sd;
      }
    }
    const double xi = f32 ? double(float(xv[i])) : xv[i];
    const double s = f32 ? double(float(sv[s_index])) : sv[s_index];
    const double want = xi < 0 ? s * xi : xi;
    const double got = f32 ? double(y.data<float>()[i]) : y.data<double>()[i];
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got)) << i;
    } else if (std::isinf(want)) {
      EXPECT_EQ(got, want) << i;
    } else {
      EXPECT_NEAR(got, want, 1e-6 * (1 + std::fabs(want))) << "i=" << i;
    }
  }
}

std::vector<Param> Params() {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{2, 3, 4}, {1}},       {{2, 3, 4}, {}},        {{2, 3, 4}, {4}},
      {{2, 3, 4}, {3, 1}},    {{2, 3, 4}, {3, 4}},    {{2, 3, 4}, {2, 3, 4}},
      {{2, 3, 4}, {2, 1, 4}}, {{2, 3, 4}, {2, 1, 1}}, {{2, 3, 4}, {1, 3, 1}},
      {{2, 3, 4, 5}, {3, 1, 1}}, {{5}, {5}},          {{}, {}},
      {{0, 3}, {3}},          {{4, 1, 3}, {1, 3}},
      // fast_prelu.h's vector bodies, tails and (over 4 MiB) streaming stores
      {{3, 37, 100}, {37, 1}}, {{5, 1029}, {1029}}, {{1100, 1000}, {1000}},
      {{2, 3, 200000}, {3, 1}}, {{1100000}, {1}}};
  std::vector<Param> params;
  for (const auto& [x, s] : cases) {
    for (DataType t : {DataType::kFloat32, DataType::kFloat64}) params.push_back({x, s, t});
  }
  return params;
}

// Names are built with absl (GCC 12 -O3 reports a false -Wrestrict in inlined
// std::string concatenation).
std::string Dims(const Shape& s) { return s.empty() ? "scalar" : absl::StrJoin(s, "x"); }

INSTANTIATE_TEST_SUITE_P(Shapes, PReluTest, ::testing::ValuesIn(Params()),
                         [](const ::testing::TestParamInfo<Param>& info) {
                           return absl::StrCat(
                               "x", Dims(info.param.x), "_slope", Dims(info.param.slope),
                               info.param.dtype == DataType::kFloat32 ? "_f32" : "_f64");
                         });

TEST(PRelu, SlopeThatDoesNotBroadcastIsRejected) {
  const Tensor x = Make<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  for (const Shape& s : {Shape{2}, Shape{3, 1}, Shape{1, 2, 3}}) {
    const Tensor slope = Make<float>(s, std::vector<double>(NumElements(s), 0.5));
    const auto y = RunOneNode("PRelu", {}, {x, slope}, 16);
    ASSERT_FALSE(y.ok()) << Dims(s);
    EXPECT_EQ(y.status().code(), absl::StatusCode::kFailedPrecondition) << y.status();
  }
}

}  // namespace
}  // namespace onyx
