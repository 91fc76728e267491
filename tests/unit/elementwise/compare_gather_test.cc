// Comparisons and logic ops (bool output, broadcasting, NaN), GatherElements
// against an index loop written here, and CastLike.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/elementwise/run_op.h"

namespace onyx {
namespace {

using op_test::IntAttr;
using op_test::Make;
using op_test::RunOneNode;

std::vector<bool> Bools(const Tensor& t) {
  EXPECT_EQ(t.dtype(), DataType::kBool);
  return std::vector<bool>(t.data<bool>(), t.data<bool>() + t.num_elements());
}

template <typename T>
void CheckComparisons(const std::vector<T>& a, const std::vector<T>& b) {
  // a is [n, 1], b is [m]: output [n, m].
  const int64_t n = a.size(), m = b.size();
  const Tensor ta = Make<T>({n, 1}, a), tb = Make<T>({m}, b);
  const std::vector<std::pair<std::string, bool (*)(double, double)>> ops = {
      {"Equal", [](double u, double v) { return u == v; }},
      {"Less", [](double u, double v) { return u < v; }},
      {"Greater", [](double u, double v) { return u > v; }},
      {"LessOrEqual", [](double u, double v) { return u <= v; }},
      {"GreaterOrEqual", [](double u, double v) { return u >= v; }}};
  for (const auto& [op, ref] : ops) {
    auto y = RunOneNode(op, {}, {ta, tb}, 16);
    ASSERT_TRUE(y.ok()) << op << " " << DataTypeName(DataTypeOf<T>::value) << ": " << y.status();
    ASSERT_EQ(y->shape(), (Shape{n, m}));
    const std::vector<bool> got = Bools(*y);
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < m; ++j) {
        EXPECT_EQ(got[i * m + j], ref(double(a[i]), double(b[j])))
            << op << "(" << double(a[i]) << ", " << double(b[j]) << ")";
      }
    }
  }
}

TEST(CompareTest, AllNumericTypesWithBroadcasting) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  CheckComparisons<float>({-1.5f, 0.f, -0.f, float(nan), 2.f}, {0.f, 2.f, float(nan), -1.5f});
  CheckComparisons<double>({-1.5, 0, nan, 1e300}, {0, -0.0, nan, 1e300});
  CheckComparisons<int64_t>({-3, 0, std::numeric_limits<int64_t>::max()},
                            {0, 7, std::numeric_limits<int64_t>::max()});
  CheckComparisons<int32_t>({-3, 5}, {5, -3, 0});
  CheckComparisons<uint8_t>({0, 255}, {255, 1});
  CheckComparisons<int8_t>({-128, 127}, {127, -128});
  CheckComparisons<uint64_t>({0, 18446744073709551615ull}, {18446744073709551615ull, 1});
}

TEST(CompareTest, EqualOnBoolAndMismatchedTypes) {
  auto y = RunOneNode("Equal", {}, {Make<bool>({4}, {true, true, false, false}),
                                    Make<bool>({4}, {true, false, true, false})}, 13);
  ASSERT_OK(y);
  EXPECT_EQ(Bools(*y), (std::vector<bool>{true, false, false, true}));
  auto bad = RunOneNode("Less", {}, {Make<float>({1}, {1}), Make<int32_t>({1}, {1})}, 13);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LogicTest, TruthTablesAndNot) {
  const Tensor a = Make<bool>({2, 1}, {false, true}), b = Make<bool>({2}, {false, true});
  auto run = [&](const std::string& op) {
    auto y = RunOneNode(op, {}, {a, b}, 7);
    EXPECT_TRUE(y.ok()) << y.status();
    return Bools(*y);
  };
  EXPECT_EQ(run("And"), (std::vector<bool>{false, false, false, true}));
  EXPECT_EQ(run("Or"), (std::vector<bool>{false, true, true, true}));
  EXPECT_EQ(run("Xor"), (std::vector<bool>{false, true, true, false}));
  ASSERT_OK_AND_ASSIGN(Tensor n, RunOneNode("Not", {}, {Make<bool>({3}, {true, false, true})}, 1));
  EXPECT_EQ(Bools(n), (std::vector<bool>{false, true, false}));
  auto bad = RunOneNode("And", {}, {Make<float>({1}, {1}), Make<float>({1}, {1})}, 7);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
}

// out[i][j][k] = data[idx][j][k] (axis 0) etc., written as nested loops.
TEST(GatherElementsTest, EveryAxisMatchesIndexLoops) {
  const Shape ds = {3, 4, 5};
  std::vector<float> data(60);
  for (int i = 0; i < 60; ++i) data[i] = 0.5f * i - 7;
  for (int axis = -3; axis < 3; ++axis) {
    const int a = axis < 0 ? axis + 3 : axis;
    Shape is = {2, 3, 4};
    std::vector<int64_t> idx(NumElements(is));
    for (size_t i = 0; i < idx.size(); ++i) {
      const int64_t dim = ds[a];
      idx[i] = static_cast<int64_t>((i * 7 + 3) % (2 * dim)) - dim;  // negatives too
    }
    ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode("GatherElements", {IntAttr("axis", axis)},
                                              {Make<float>(ds, data), Make<int64_t>(is, idx)}, 13));
    ASSERT_EQ(y.shape(), is);
    for (int64_t i = 0; i < is[0]; ++i) {
      for (int64_t j = 0; j < is[1]; ++j) {
        for (int64_t k = 0; k < is[2]; ++k) {
          const int64_t flat = (i * is[1] + j) * is[2] + k;
          int64_t v = idx[flat];
          if (v < 0) v += ds[a];
          int64_t c[3] = {i, j, k};
          c[a] = v;
          EXPECT_EQ(y.data<float>()[flat], data[(c[0] * ds[1] + c[1]) * ds[2] + c[2]])
              << "axis " << axis << " at " << flat;
        }
      }
    }
  }
}

TEST(GatherElementsTest, Int32IndicesAnyDataTypeAndErrors) {
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode("GatherElements", {IntAttr("axis", 1)},
                                            {Make<int64_t>({2, 2}, {1, 2, 3, 4}),
                                             Make<int32_t>({2, 2}, {0, 0, 1, 0})}, 13));
  EXPECT_EQ(std::vector<int64_t>(y.data<int64_t>(), y.data<int64_t>() + 4),
            (std::vector<int64_t>{1, 1, 4, 3}));
  auto bad = RunOneNode("GatherElements", {}, {Make<float>({2}, {1, 2}), Make<int64_t>({1}, {2})}, 13);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(bad.status().message()).find("out of range"), std::string::npos);
  auto rank = RunOneNode("GatherElements", {}, {Make<float>({2}, {1, 2}),
                                                Make<int64_t>({1, 1}, {0})}, 13);
  EXPECT_EQ(rank.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CastLikeTest, TakesTheTargetsDtype) {
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode("CastLike", {}, {Make<float>({3}, {1.7f, -2.5f, 0.f}),
                                                             Make<int32_t>({1}, {0})}, 15));
  ASSERT_EQ(y.dtype(), DataType::kInt32);
  EXPECT_EQ(std::vector<int32_t>(y.data<int32_t>(), y.data<int32_t>() + 3),
            (std::vector<int32_t>{1, -2, 0}));
  ASSERT_OK_AND_ASSIGN(y, RunOneNode("CastLike", {}, {Make<int64_t>({2}, {3, 0}),
                                                      Make<bool>({}, {true})}, 19));
  EXPECT_EQ(Bools(y), (std::vector<bool>{true, false}));
  ASSERT_OK_AND_ASSIGN(y, RunOneNode("CastLike", {}, {Make<float>({1}, {0.1f}),
                                                      Make<double>({}, {1.0})}, 21));
  EXPECT_EQ(y.data<double>()[0], static_cast<double>(0.1f));
}

}  // namespace
}  // namespace onyx
