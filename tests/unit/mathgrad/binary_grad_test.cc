// Gradients of Add, Sub, Mul, Div (with broadcasting) through autograd, against
// closed forms written here and, in float64, central finite differences.
#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/mathgrad/grad_check.h"

namespace onyx::mathgrad_test {
namespace {

struct BinaryCase {
  std::string op;
  Shape a, b;
  DataType dtype;
};

void PrintTo(const BinaryCase& c, std::ostream* os) {
  *os << c.op << " " << ShapeToString(c.a) << " " << ShapeToString(c.b) << " "
      << DataTypeName(c.dtype);
}

// NumPy broadcast shape, written independently of the runtime's.
using testing_util::BroadcastShape;

// dA, dB of L = sum(R * op(A, B)) and the magnitudes (sums of |terms|) that bound
// their rounding error.
struct Expected {
  std::vector<double> da, db, da_mag, db_mag;
};

Expected ClosedForm(const std::string& op, const std::vector<double>& a, const Shape& as,
                    const std::vector<double>& b, const Shape& bs, const std::vector<double>& r) {
  const Shape ys = BroadcastShape(as, bs);
  Expected e;
  e.da.assign(a.size(), 0);
  e.db.assign(b.size(), 0);
  e.da_mag.assign(a.size(), 0);
  e.db_mag.assign(b.size(), 0);
  for (int64_t o = 0; o < NumElements(ys); ++o) {
    const std::vector<int64_t> idx = Unravel(o, ys);
    const int64_t ia = BroadcastSource(idx, as), ib = BroadcastSource(idx, bs);
    double ga = 0, gb = 0;
    if (op == "Add") {
      ga = r[o];
      gb = r[o];
    } else if (op == "Sub") {
      ga = r[o];
      gb = -r[o];
    } else if (op == "Mul") {
      ga = r[o] * b[ib];
      gb = r[o] * a[ia];
    } else {  // Div: d(a/b)/da = 1/b, d(a/b)/db = -a/b^2
      ga = r[o] / b[ib];
      gb = -r[o] * a[ia] / (b[ib] * b[ib]);
    }
    e.da[ia] += ga;
    e.db[ib] += gb;
    e.da_mag[ia] += std::fabs(ga);
    e.db_mag[ib] += std::fabs(gb);
  }
  return e;
}

class BinaryGradTest : public ::testing::TestWithParam<BinaryCase> {};

TEST_P(BinaryGradTest, MatchesClosedFormAndFiniteDifferences) {
  const BinaryCase& c = GetParam();
  const std::vector<double> a = RandomValues(NumElements(c.a), 1);
  const std::vector<double> b =
      RandomValues(NumElements(c.b), 2, -2, 2, /*min_abs=*/c.op == "Div" ? 0.5 : 0);
  const Shape ys = BroadcastShape(c.a, c.b);
  const std::vector<double> r = RandomValues(NumElements(ys), 3);
  ForwardSpec spec{c.op, {}, {FromDoubles(c.dtype, c.a, a), FromDoubles(c.dtype, c.b, b)}};
  const Tensor rt = FromDoubles(c.dtype, ys, r);
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> grads, AutogradGrads(spec, rt, {0, 1}));
  ASSERT_EQ(grads.size(), 2u);
  ASSERT_EQ(grads[0].shape(), c.a);
  ASSERT_EQ(grads[1].shape(), c.b);
  ASSERT_EQ(grads[0].dtype(), c.dtype);
  ASSERT_EQ(grads[1].dtype(), c.dtype);

  const Expected e = ClosedForm(c.op, a, c.a, b, c.b, r);
  const double rel = c.dtype == DataType::kFloat32 ? 1e-5 : 1e-12;
  const std::vector<double> da = ToDoubles(grads[0]), db = ToDoubles(grads[1]);
  for (size_t i = 0; i < da.size(); ++i) {
    EXPECT_NEAR(da[i], e.da[i], rel * (1 + e.da_mag[i])) << "dA[" << i << "]";
  }
  for (size_t i = 0; i < db.size(); ++i) {
    EXPECT_NEAR(db[i], e.db[i], rel * (1 + e.db_mag[i])) << "dB[" << i << "]";
  }

  if (c.dtype != DataType::kFloat64) return;
  for (size_t input = 0; input < 2; ++input) {
    ASSERT_OK_AND_ASSIGN(std::vector<double> fd, FiniteDifferences(spec, rt, input));
    const std::vector<double>& got = input == 0 ? da : db;
    for (size_t i = 0; i < fd.size(); ++i) {
      EXPECT_NEAR(got[i], fd[i], 1e-6 * (1 + std::fabs(fd[i])))
          << "input " << input << " element " << i;
    }
  }
}

std::vector<BinaryCase> Cases() {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{2, 3}, {2, 3}},    {{2, 3, 4}, {4}},    {{3, 1}, {1, 4}}, {{}, {2, 3}},
      {{2, 1, 4}, {3, 1}}, {{1}, {5}},          {{4}, {2, 3, 4}}, {{2, 3}, {}},
      {{1, 3, 1}, {2, 1, 5}}};
  std::vector<BinaryCase> cases;
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
    for (const auto& [a, b] : shapes) {
      for (DataType dtype : {DataType::kFloat64, DataType::kFloat32}) {
        cases.push_back({op, a, b, dtype});
      }
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(All, BinaryGradTest, ::testing::ValuesIn(Cases()));

// Y = X * X: autograd sums the two contributions, dX = 2 * X * R.
TEST(BinaryGrad, SameValueOnBothSidesIsSummed) {
  const std::vector<double> x = RandomValues(6, 7), r = RandomValues(6, 8);
  Graph graph;
  graph.opset_imports[""] = 13;
  graph.opset_imports[kTestDomain] = 1;
  ValueInfo info;
  info.name = "x";
  info.dtype = DataType::kFloat64;
  graph.inputs.push_back(info);
  graph.initializers["r"] = FromDoubles(DataType::kFloat64, {2, 3}, r);
  Node mul;
  mul.name = "mul";
  mul.op_type = "Mul";
  mul.inputs = {"x", "x"};
  mul.outputs = {"y"};
  Node loss;
  loss.name = "loss";
  loss.op_type = "DotLoss";
  loss.domain = kTestDomain;
  loss.inputs = {"y", "r"};
  loss.outputs = {"l"};
  graph.nodes = {mul, loss};
  ASSERT_OK_AND_ASSIGN(GradientGraph gg, BuildGradientGraph(graph, "l", {"x"}, TestRegistry()));
  ASSERT_OK_AND_ASSIGN(auto session, Session::Create(gg.graph, TestRegistry()));
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> outs,
                       session->Run({{"x", FromDoubles(DataType::kFloat64, {2, 3}, x)}}));
  ASSERT_EQ(outs.size(), 2u);
  const std::vector<double> dx = ToDoubles(outs[1]);
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(dx[i], 2 * x[i] * r[i], 1e-12) << i;
}

// Only B is wanted: A gets no gradient nodes, B's still matches.
TEST(BinaryGrad, OnlyWantedInputsGetGradients) {
  const std::vector<double> a = RandomValues(6, 1), b = RandomValues(3, 2, -2, 2, 0.5);
  const std::vector<double> r = RandomValues(6, 3);
  ForwardSpec spec{"Div",
                   {},
                   {FromDoubles(DataType::kFloat64, {2, 3}, a),
                    FromDoubles(DataType::kFloat64, {3}, b)}};
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> grads,
                       AutogradGrads(spec, FromDoubles(DataType::kFloat64, {2, 3}, r), {1}));
  ASSERT_EQ(grads.size(), 1u);
  ASSERT_EQ(grads[0].shape(), Shape({3}));
  const Expected e = ClosedForm("Div", a, {2, 3}, b, {3}, r);
  const std::vector<double> db = ToDoubles(grads[0]);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(db[i], e.db[i], 1e-12) << i;
}

}  // namespace
}  // namespace onyx::mathgrad_test
