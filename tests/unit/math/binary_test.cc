// Add/Sub/Mul/Div against a naive broadcast reference in double (floats) or
// int64 arithmetic cast back to the dtype (integers, which wrap), plus errors.
#include <cmath>
#include <limits>
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

double RefFloat(const std::string& op, double a, double b) {
  if (op == "Add") return a + b;
  if (op == "Sub") return a - b;
  if (op == "Mul") return a * b;
  return a / b;
}

int64_t RefInt(const std::string& op, int64_t a, int64_t b) {
  if (op == "Add") return a + b;
  if (op == "Sub") return a - b;
  if (op == "Mul") return a * b;
  return a / b;  // C++ truncates toward zero, as ONNX integer Div does
}

// Shape NumPy gives for broadcasting a with b (test-local, not runtime's).
Shape RefShape(const Shape& a, const Shape& b) {
  Shape out(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < out.size(); ++i) {
    const int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    const int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    out[out.size() - 1 - i] = da == 1 ? db : da;
  }
  return out;
}

template <typename T>
void CheckBinary(const std::string& op, const Shape& sa, const Shape& sb, uint32_t seed) {
  SCOPED_TRACE(op + " " + ShapeToString(sa) + " x " + ShapeToString(sb) + " " +
               DataTypeName(DataTypeOf<T>::value));
  const bool is_div = op == "Div";
  // Unsigned data stays in [0, 20] so it is exact in double; Sub and Mul still wrap.
  const double lo = std::is_unsigned_v<T> ? 0 : -20;
  const Tensor a = Random<T>(sa, seed, lo, 20);
  const Tensor b = Random<T>(sb, seed + 1, lo, 20, /*nonzero=*/is_div);
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOne(op, {a, b}));
  const Shape out = RefShape(sa, sb);
  ASSERT_EQ(y.shape(), out);
  ASSERT_EQ(y.dtype(), a.dtype());
  const std::vector<double> av = AsDoubles(a), bv = AsDoubles(b), yv = AsDoubles(y);
  for (int64_t i = 0; i < y.num_elements(); ++i) {
    const std::vector<int64_t> index = Unravel(i, out);
    const double x0 = av[BroadcastSource(index, sa)], x1 = bv[BroadcastSource(index, sb)];
    if constexpr (std::is_floating_point_v<T>) {
      const double expected = RefFloat(op, x0, x1);
      ASSERT_NEAR(yv[i], expected, 1e-6 * std::max(1.0, std::abs(expected))) << "at " << i;
    } else {
      const T expected =
          static_cast<T>(RefInt(op, static_cast<int64_t>(x0), static_cast<int64_t>(x1)));
      ASSERT_EQ(y.data<T>()[i], expected) << "at " << i << ": " << x0 << " " << op << " " << x1;
    }
  }
}

struct BinaryCase {
  Shape a;
  Shape b;
};

class BinaryTest : public ::testing::TestWithParam<std::tuple<std::string, BinaryCase>> {};

TEST_P(BinaryTest, MatchesNaiveReference) {
  const auto& [op, c] = GetParam();
  CheckBinary<float>(op, c.a, c.b, 11);
  CheckBinary<int64_t>(op, c.a, c.b, 12);
  CheckBinary<uint8_t>(op, c.a, c.b, 13);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, BinaryTest,
    ::testing::Combine(::testing::Values("Add", "Sub", "Mul", "Div"),
                       ::testing::Values(BinaryCase{{2, 3}, {2, 3}}, BinaryCase{{2, 3}, {}},
                                         BinaryCase{{}, {2, 3}}, BinaryCase{{}, {}},
                                         BinaryCase{{3, 1}, {1, 4}}, BinaryCase{{2, 3, 4}, {4}},
                                         BinaryCase{{4}, {2, 3, 4}}, BinaryCase{{2, 1, 4}, {3, 1}},
                                         BinaryCase{{2, 3, 4}, {3, 1}},
                                         BinaryCase{{5, 1, 1}, {1, 1}}, BinaryCase{{1, 3}, {2, 3}},
                                         BinaryCase{{64, 1000}, {1000}},
                                         BinaryCase{{1000}, {64, 1000}},
                                         BinaryCase{{300, 1}, {300, 200}},
                                         BinaryCase{{128, 256}, {128, 256}},
                                         BinaryCase{{70000}, {70000}}, BinaryCase{{0, 3}, {3}})));

TEST(BinaryDtypeTest, EveryIntegerAndFloatType) {
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
    CheckBinary<double>(op, {3, 4}, {4}, 1);
    CheckBinary<int8_t>(op, {3, 4}, {3, 1}, 2);
    CheckBinary<int16_t>(op, {3, 4}, {}, 3);
    CheckBinary<int32_t>(op, {3, 4}, {3, 4}, 4);
    CheckBinary<uint16_t>(op, {2, 3, 4}, {3, 1}, 5);
    CheckBinary<uint32_t>(op, {4}, {3, 4}, 6);
    CheckBinary<uint64_t>(op, {3, 4}, {4}, 7);
  }
}

TEST(BinaryTest, IntegerDivTruncatesTowardZero) {
  const Tensor a = Tensor::FromVector<int32_t>({4}, std::vector<int32_t>{7, -7, 7, -7}).value();
  const Tensor b = Tensor::FromVector<int32_t>({4}, std::vector<int32_t>{2, 2, -2, -2}).value();
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOne("Div", {a, b}));
  EXPECT_EQ(std::vector<int32_t>(y.data<int32_t>(), y.data<int32_t>() + 4),
            (std::vector<int32_t>{3, -3, -3, 3}));
}

TEST(BinaryTest, IntegerMinDividedByMinusOneWraps) {
  const int64_t min = std::numeric_limits<int64_t>::min();
  const Tensor a = Tensor::FromVector<int64_t>({2}, std::vector<int64_t>{min, 6}).value();
  const Tensor b = Tensor::FromVector<int64_t>({}, std::vector<int64_t>{-1}).value();
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOne("Div", {a, b}));
  EXPECT_EQ(y.data<int64_t>()[0], min);
  EXPECT_EQ(y.data<int64_t>()[1], -6);
}

TEST(BinaryTest, FloatDivByZeroGivesInf) {
  const Tensor a = Tensor::FromVector<float>({2}, std::vector<float>{1, -1}).value();
  const Tensor b = Tensor::FromVector<float>({}, std::vector<float>{0}).value();
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOne("Div", {a, b}));
  EXPECT_EQ(y.data<float>()[0], std::numeric_limits<float>::infinity());
  EXPECT_EQ(y.data<float>()[1], -std::numeric_limits<float>::infinity());
}

void ExpectError(const absl::Status& status, const std::string& node, const std::string& what) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), node)) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), what)) << status;
}

TEST(BinaryErrorTest, IncompatibleShapesNameTheNode) {
  const Tensor a = Random<float>({2, 3}, 1), b = Random<float>({4}, 2);
  ExpectError(RunOne("Add", {a, b}, {}, 14, "bad").status(), "Add node \"bad\"", "[2,3] and [4]");
}

TEST(BinaryErrorTest, MixedDtypesNameBoth) {
  const Tensor a = Random<float>({2, 3}, 1), b = Random<int64_t>({2, 3}, 2);
  ExpectError(RunOne("Mul", {a, b}, {}, 13, "mix").status(), "Mul node \"mix\"",
              "input A is float32 but input B is int64");
}

TEST(BinaryErrorTest, IntegerDivisionByZeroIsAnError) {
  const Tensor a = Random<int32_t>({2, 3}, 1);
  const Tensor b = Tensor::FromVector<int32_t>({3}, std::vector<int32_t>{1, 0, 2}).value();
  ExpectError(RunOne("Div", {a, b}, {}, 13, "d0").status(), "Div node \"d0\"", "division by zero");
  const Tensor u = Random<uint8_t>({2}, 1, 1, 9);
  const Tensor z = Tensor::FromVector<uint8_t>({}, std::vector<uint8_t>{0}).value();
  ExpectError(RunOne("Div", {u, z}, {}, 13, "d1").status(), "Div node \"d1\"", "division by zero");
}

// Add then Sub in one graph: the Add result dies at Sub, so Sub may write into
// it in place; the numbers must not change.
TEST(BinaryInPlaceTest, ChainMatchesReference) {
  for (const Shape& sc : {Shape{3, 4}, Shape{4}, Shape{2, 3, 4}}) {
    Graph graph;
    graph.opset_imports[""] = 14;
    const Tensor a = Random<float>({3, 4}, 1), b = Random<float>({3, 4}, 2);
    const Tensor c = Random<float>(sc, 3);
    NamedTensors feeds = {{"a", a}, {"b", b}, {"c", c}};
    for (const auto& [name, t] : feeds) {
      ValueInfo info;
      info.name = name;
      info.dtype = t.dtype();
      graph.inputs.push_back(info);
    }
    Node add;
    add.name = "add";
    add.op_type = "Add";
    add.inputs = {"a", "b"};
    add.outputs = {"t"};
    Node sub;
    sub.name = "sub";
    sub.op_type = "Sub";
    sub.inputs = {"c", "t"};
    sub.outputs = {"y"};
    graph.nodes = {add, sub};
    ValueInfo out;
    out.name = "y";
    graph.outputs = {out};
    ASSERT_OK_AND_ASSIGN(auto session, Session::Create(graph, DefaultRegistry()));
    ASSERT_OK_AND_ASSIGN(std::vector<Tensor> outs, session->Run(feeds));
    const Shape out_shape = RefShape({3, 4}, sc);
    ASSERT_EQ(outs[0].shape(), out_shape);
    const std::vector<double> av = AsDoubles(a), bv = AsDoubles(b), cv = AsDoubles(c);
    for (int64_t i = 0; i < outs[0].num_elements(); ++i) {
      const std::vector<int64_t> index = Unravel(i, out_shape);
      const int64_t ab = BroadcastSource(index, {3, 4});
      const double expected = cv[BroadcastSource(index, sc)] - (av[ab] + bv[ab]);
      EXPECT_NEAR(outs[0].data<float>()[i], expected, 1e-5);
    }
  }
}

}  // namespace
}  // namespace onyx
