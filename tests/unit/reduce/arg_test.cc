// ArgMax / ArgMin against a scan written here: every axis, keepdims,
// select_last_index with ties, NaN, integer types, and errors.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/elementwise/run_op.h"

namespace onyx {
namespace {

using op_test::IntAttr;
using op_test::RunOneNode;

// Index along `axis` of the max (or min) for each position of the other axes.
std::vector<int64_t> RefArg(const std::vector<double>& x, const Shape& s, int axis, bool max,
                            bool last) {
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= s[d];
  for (size_t d = axis + 1; d < s.size(); ++d) inner *= s[d];
  std::vector<int64_t> out;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      int64_t best = -1;
      for (int64_t k = 0; k < s[axis]; ++k) {
        const double v = x[(o * s[axis] + k) * inner + i];
        if (best >= 0 && std::isnan(x[(o * s[axis] + best) * inner + i])) break;
        if (std::isnan(v)) {
          best = k;
          continue;
        }
        const double b = best < 0 ? 0 : x[(o * s[axis] + best) * inner + i];
        if (best < 0 || (max ? v > b : v < b) || (last && v == b)) best = k;
      }
      out.push_back(best);
    }
  }
  return out;
}

TEST(ArgTest, EveryAxisKeepdimsAndSelectLastIndex) {
  const Shape s = {3, 4, 5};
  std::vector<double> x(60);
  for (int i = 0; i < 60; ++i) x[i] = static_cast<double>((i * 7) % 11);  // many ties
  x[17] = std::numeric_limits<double>::quiet_NaN();
  const Tensor t = Tensor::FromVector<double>(s, x).value();
  for (const std::string op : {"ArgMax", "ArgMin"}) {
    for (int axis = -3; axis < 3; ++axis) {
      for (int keep : {0, 1}) {
        for (int last : {0, 1}) {
          ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode(op, {IntAttr("axis", axis), IntAttr("keepdims", keep),
                                                         IntAttr("select_last_index", last)},
                                                    {t}, 13));
          const int a = axis < 0 ? axis + 3 : axis;
          Shape out = s;
          if (keep) out[a] = 1;
          else out.erase(out.begin() + a);
          ASSERT_EQ(y.shape(), out);
          ASSERT_EQ(y.dtype(), DataType::kInt64);
          const std::vector<int64_t> want = RefArg(x, s, a, op == "ArgMax", last);
          EXPECT_EQ(std::vector<int64_t>(y.data<int64_t>(), y.data<int64_t>() + y.num_elements()), want)
              << op << " axis " << axis << " keep " << keep << " last " << last;
        }
      }
    }
  }
}

TEST(ArgTest, IntegerInputsAndErrors) {
  const Tensor t = Tensor::FromVector<int32_t>({2, 2}, std::vector<int32_t>{5, -1, 5, 9}).value();
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode("ArgMin", {IntAttr("axis", 0)}, {t}, 12));
  EXPECT_EQ(std::vector<int64_t>(y.data<int64_t>(), y.data<int64_t>() + 2),
            (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(RunOneNode("ArgMax", {IntAttr("axis", 2)}, {t}, 13).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunOneNode("ArgMax", {IntAttr("select_last_index", 1)}, {t}, 11).status().code(),
            absl::StatusCode::kInvalidArgument);
  const Tensor empty = Tensor::Zeros(DataType::kFloat32, {0, 3}).value();
  EXPECT_EQ(RunOneNode("ArgMax", {}, {empty}, 13).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace onyx
