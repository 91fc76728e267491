// Softmax / LogSoftmax against a double-precision reference, for opset < 13
// (2-D coercion at axis) and opset >= 13 (single axis), every axis of a 3-D input.
#include <cmath>
#include <limits>
#include <random>
#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/common/run_node.h"

namespace onyx {
namespace {

using testing_util::IntAttr;
using testing_util::RunOneNode;

// Normalizes groups of `reduced` elements spaced `inner` apart, as [outer, reduced, inner].
std::vector<double> Reference(const std::vector<double>& x, int64_t outer, int64_t reduced,
                              int64_t inner, bool log) {
  std::vector<double> y(x.size());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t in = 0; in < inner; ++in) {
      auto at = [&](int64_t r) { return (o * reduced + r) * inner + in; };
      double max = -std::numeric_limits<double>::infinity();
      for (int64_t r = 0; r < reduced; ++r) max = std::max(max, x[at(r)]);
      double sum = 0;
      for (int64_t r = 0; r < reduced; ++r) sum += std::exp(x[at(r)] - max);
      for (int64_t r = 0; r < reduced; ++r) {
        y[at(r)] = log ? x[at(r)] - max - std::log(sum) : std::exp(x[at(r)] - max) / sum;
      }
    }
  }
  return y;
}

struct Param {
  std::string op;
  int64_t opset;
  int64_t axis;  // INT64_MIN: attribute absent (default)
};

void PrintTo(const Param& p, std::ostream* os) {
  *os << p.op << " opset " << p.opset << " axis " << p.axis;
}

class SoftmaxTest : public ::testing::TestWithParam<Param> {};

TEST_P(SoftmaxTest, MatchesDoubleReference) {
  const Param& p = GetParam();
  const Shape shape = {3, 4, 5};
  std::vector<float> xf(60);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-5, 5);
  for (float& v : xf) v = dist(rng);
  // Large magnitudes (stability) and a -inf (exp = 0) in a few places.
  xf[0] = 1e4f;
  xf[1] = 1e4f - 1.f;
  xf[7] = -1e4f;
  xf[13] = -std::numeric_limits<float>::infinity();
  xf[59] = 88.f;
  const Tensor x = Tensor::FromVector<float>(shape, xf).value();
  std::vector<Attribute> attrs;
  if (p.axis != INT64_MIN) attrs.push_back(IntAttr("axis", p.axis));
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode(p.op, attrs, {x}, p.opset));
  ASSERT_EQ(y.shape(), shape);

  const int64_t axis_attr = p.axis != INT64_MIN ? p.axis : (p.opset < 13 ? 1 : -1);
  const int axis = static_cast<int>(axis_attr < 0 ? axis_attr + 3 : axis_attr);
  int64_t outer = 1, reduced = 1, inner = 1;
  for (int i = 0; i < 3; ++i) {
    if (i < axis) {
      outer *= shape[i];
    } else if (i == axis || p.opset < 13) {
      reduced *= shape[i];
    } else {
      inner *= shape[i];
    }
  }
  const std::vector<double> want =
      Reference(std::vector<double>(xf.begin(), xf.end()), outer, reduced, inner,
                p.op == "LogSoftmax");
  // oneDNN 2.6's logsoftmax is within ~4e-6 absolute (its log approximation).
  const double atol = p.op == "LogSoftmax" ? 1e-5 : 1e-6;
  for (int i = 0; i < 60; ++i) {
    if (std::isinf(want[i])) {
      EXPECT_EQ(y.data<float>()[i], want[i]) << i;
    } else {
      EXPECT_NEAR(y.data<float>()[i], want[i], atol + 1e-5 * std::fabs(want[i])) << i;
    }
  }
}

std::vector<Param> Params() {
  std::vector<Param> params;
  for (const char* op : {"Softmax", "LogSoftmax"}) {
    for (int64_t opset : {1, 11, 13, 21}) {
      for (int64_t axis : {INT64_MIN, int64_t{-3}, int64_t{-2}, int64_t{-1}, int64_t{0},
                           int64_t{1}, int64_t{2}}) {
        params.push_back({op, opset, axis});
      }
    }
  }
  return params;
}

INSTANTIATE_TEST_SUITE_P(
    Ops, SoftmaxTest, ::testing::ValuesIn(Params()),
    [](const ::testing::TestParamInfo<Param>& info) {
      const Param& p = info.param;
      // absl::StrCat: GCC 12 -O3 reports a false -Wrestrict in inlined std::string +.
      const std::string axis = p.axis == INT64_MIN ? "default"
                               : p.axis < 0        ? absl::StrCat("m", -p.axis)
                                                   : absl::StrCat(p.axis);
      return absl::StrCat(p.op, "_opset", p.opset, "_axis_", axis);
    });

TEST(Softmax, AxisOutOfRangeIsInvalidArgumentNamingNode) {
  const Tensor x = Tensor::FromVector<float>({2, 3}, std::vector<float>(6, 1.f)).value();
  for (int64_t axis : {2, -3}) {
    const auto y = RunOneNode("Softmax", {IntAttr("axis", axis)}, {x}, 13);
    ASSERT_FALSE(y.ok());
    EXPECT_EQ(y.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(y.status().message().find("\"n0\""), absl::string_view::npos) << y.status();
  }
}

TEST(Softmax, EmptyAndRank1) {
  const Tensor empty = Tensor::FromVector<float>({0, 3}, std::vector<float>{}).value();
  ASSERT_OK_AND_ASSIGN(Tensor y0, RunOneNode("LogSoftmax", {}, {empty}, 13));
  EXPECT_EQ(y0.shape(), (Shape{0, 3}));
  const Tensor x = Tensor::FromVector<float>({3}, std::vector<float>{1, 2, 3}).value();
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode("Softmax", {}, {x}, 13));
  const double s = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(y.data<float>()[i], std::exp(i + 1.0) / s, 1e-6);
}

TEST(Softmax, Float64IsUnimplementedNamingDtype) {
  const Tensor x = Tensor::FromVector<double>({2}, std::vector<double>{1, 2}).value();
  const auto y = RunOneNode("Softmax", {}, {x}, 13);
  ASSERT_FALSE(y.ok());
  EXPECT_EQ(y.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(y.status().message().find("float64"), absl::string_view::npos) << y.status();
}

}  // namespace
}  // namespace onyx
