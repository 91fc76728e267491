// The com.onyx backward ops run directly: ReduceToShape, Scale, MatMulT and
// MatMulGrad against double-precision loops written here, plus their errors.
#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/gradient.h"
#include "tests/status_matchers.h"
#include "tests/unit/mathgrad/grad_check.h"

namespace onyx::mathgrad_test {
namespace {

// Runs one com.onyx node over `inputs` and returns its outputs (`outputs` names
// them; "" omits one). The tensors fed are the ones given (no copies).
absl::StatusOr<std::vector<Tensor>> RunOnyx(const std::string& op, std::vector<Attribute> attrs,
                                            const std::vector<Tensor>& inputs,
                                            std::vector<std::string> outputs = {"y"}) {
  Graph graph;
  graph.opset_imports[kOnyxDomain] = 1;
  Node node;
  node.name = "n";
  node.op_type = op;
  node.domain = kOnyxDomain;
  node.attributes = std::move(attrs);
  NamedTensors feeds;
  for (size_t i = 0; i < inputs.size(); ++i) {
    ValueInfo info;
    info.name = InputName(i);
    info.dtype = inputs[i].dtype();
    graph.inputs.push_back(info);
    node.inputs.push_back(info.name);
    feeds.emplace_back(info.name, inputs[i]);
  }
  node.outputs = outputs;
  for (const std::string& o : outputs) {
    if (o.empty()) continue;
    ValueInfo info;
    info.name = o;
    graph.outputs.push_back(info);
  }
  graph.nodes.push_back(std::move(node));
  ONYX_ASSIGN_OR_RETURN(auto session, Session::Create(std::move(graph), TestRegistry()));
  return session->Run(feeds);
}

TEST(ReduceToShape, SumsBroadcastDims) {
  // grad [2,3,4] folded to like [3,1]: out[j] = sum_{i,l} grad[i,j,l].
  const std::vector<double> g = RandomValues(24, 1);
  for (DataType dtype : {DataType::kFloat64, DataType::kFloat32}) {
    ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out,
                         RunOnyx("ReduceToShape", {},
                                 {FromDoubles(dtype, {2, 3, 4}, g),
                                  FromDoubles(dtype, {3, 1}, {0, 0, 0})}));
    ASSERT_EQ(out[0].shape(), Shape({3, 1}));
    ASSERT_EQ(out[0].dtype(), dtype);
    const std::vector<double> got = ToDoubles(out[0]);
    for (int j = 0; j < 3; ++j) {
      double want = 0;
      for (int i = 0; i < 2; ++i) {
        for (int l = 0; l < 4; ++l) want += g[(i * 3 + j) * 4 + l];
      }
      EXPECT_NEAR(got[j], want, 1e-5) << j;
    }
  }
}

TEST(ReduceToShape, ScalarLikeSumsEverything) {
  const std::vector<double> g = RandomValues(6, 2);
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out,
                       RunOnyx("ReduceToShape", {},
                               {FromDoubles(DataType::kFloat64, {2, 3}, g),
                                FromDoubles(DataType::kFloat64, {}, {5})}));
  ASSERT_EQ(out[0].shape(), Shape({}));
  double want = 0;
  for (double v : g) want += v;
  EXPECT_NEAR(out[0].data<double>()[0], want, 1e-12);
}

TEST(ReduceToShape, SameShapeSharesTheBuffer) {
  const Tensor g = FromDoubles(DataType::kFloat32, {2, 3}, RandomValues(6, 3));
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out,
                       RunOnyx("ReduceToShape", {}, {g, FromDoubles(DataType::kFloat32, {2, 3},
                                                                     RandomValues(6, 4))}));
  EXPECT_EQ(out[0].raw_data(), g.raw_data());
  EXPECT_EQ(out[0].shape(), g.shape());
}

TEST(ReduceToShape, RejectsShapesThatDoNotBroadcast) {
  auto out = RunOnyx("ReduceToShape", {},
                     {FromDoubles(DataType::kFloat32, {2, 3}, RandomValues(6, 3)),
                      FromDoubles(DataType::kFloat32, {2}, {1, 1})});
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
}

TEST(ReduceToShape, RejectsIntegers) {
  auto out = RunOnyx("ReduceToShape", {},
                     {Tensor::FromVector<int32_t>({2}, std::vector<int32_t>{1, 2}).value(),
                      Tensor::FromVector<int32_t>({1}, std::vector<int32_t>{0}).value()});
  EXPECT_EQ(out.status().code(), absl::StatusCode::kUnimplemented) << out.status();
}

TEST(Scale, MultipliesByAlpha) {
  const std::vector<double> x = RandomValues(7, 5);
  for (DataType dtype : {DataType::kFloat64, DataType::kFloat32}) {
    ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out,
                         RunOnyx("Scale", {FloatAttr("alpha", -2.5f)}, {FromDoubles(dtype, {7}, x)}));
    const std::vector<double> got = ToDoubles(out[0]);
    ASSERT_EQ(out[0].shape(), Shape({7}));
    for (int i = 0; i < 7; ++i) EXPECT_NEAR(got[i], -2.5 * x[i], 1e-6) << i;
  }
}

struct MatMulTCase {
  Shape a, b;
  bool ta, tb;
  float alpha;
  DataType dtype;
};

void PrintTo(const MatMulTCase& c, std::ostream* os) {
  *os << ShapeToString(c.a) << (c.ta ? "^T" : "") << " x " << ShapeToString(c.b)
      << (c.tb ? "^T" : "") << " alpha=" << c.alpha << " " << DataTypeName(c.dtype);
}

class MatMulTTest : public ::testing::TestWithParam<MatMulTCase> {};

// y[batch, i, j] = alpha * sum_kk op(a)[i, kk] op(b)[kk, j], batch dims broadcast
// (shapes here have equal rank, so the batch index maps dim by dim).
TEST_P(MatMulTTest, MatchesLoop) {
  const MatMulTCase& c = GetParam();
  const size_t rank = c.a.size();
  const int64_t a0 = c.a[rank - 2], a1 = c.a[rank - 1], b0 = c.b[rank - 2], b1 = c.b[rank - 1];
  const int64_t m = c.ta ? a1 : a0, k = c.ta ? a0 : a1, n = c.tb ? b0 : b1;
  Shape batch;
  for (size_t d = 0; d + 2 < rank; ++d) batch.push_back(std::max(c.a[d], c.b[d]));
  const std::vector<double> a = RandomValues(NumElements(c.a), 31);
  const std::vector<double> b = RandomValues(NumElements(c.b), 32);
  ASSERT_OK_AND_ASSIGN(
      std::vector<Tensor> out,
      RunOnyx("MatMulT",
              {IntAttr("trans_a", c.ta), IntAttr("trans_b", c.tb), FloatAttr("alpha", c.alpha)},
              {FromDoubles(c.dtype, c.a, a), FromDoubles(c.dtype, c.b, b)}));
  Shape ys = batch;
  ys.insert(ys.end(), {m, n});
  ASSERT_EQ(out[0].shape(), ys);
  const std::vector<double> got = ToDoubles(out[0]);
  for (int64_t bi = 0; bi < NumElements(batch); ++bi) {
    const std::vector<int64_t> idx = Unravel(bi, batch);
    int64_t abase = 0, bbase = 0;
    for (size_t d = 0; d < batch.size(); ++d) {
      abase = abase * c.a[d] + (c.a[d] == 1 ? 0 : idx[d]);
      bbase = bbase * c.b[d] + (c.b[d] == 1 ? 0 : idx[d]);
    }
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double want = 0, mag = 0;
        for (int64_t kk = 0; kk < k; ++kk) {
          const double av = a[abase * m * k + (c.ta ? kk * m + i : i * k + kk)];
          const double bv = b[bbase * k * n + (c.tb ? j * k + kk : kk * n + j)];
          want += av * bv;
          mag += std::fabs(av * bv);
        }
        want *= c.alpha;
        mag *= std::fabs(c.alpha);
        EXPECT_NEAR(got[(bi * m + i) * n + j], want,
                    (c.dtype == DataType::kFloat32 ? 1e-5 : 1e-12) * (1 + mag))
            << "batch " << bi << " (" << i << ", " << j << ")";
      }
    }
  }
}

std::vector<MatMulTCase> MatMulTCases() {
  std::vector<MatMulTCase> cases;
  for (DataType dtype : {DataType::kFloat64, DataType::kFloat32}) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        // m=3, k=4, n=5 stored per transpose.
        const Shape a2 = ta ? Shape{4, 3} : Shape{3, 4};
        const Shape b2 = tb ? Shape{5, 4} : Shape{4, 5};
        cases.push_back({a2, b2, ta, tb, 1.f, dtype});
        cases.push_back({a2, b2, ta, tb, -0.5f, dtype});
        Shape a3 = {2, 1}, b3 = {1, 3};
        a3.insert(a3.end(), a2.begin(), a2.end());
        b3.insert(b3.end(), b2.begin(), b2.end());
        cases.push_back({a3, b3, ta, tb, 2.f, dtype});
      }
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(All, MatMulTTest, ::testing::ValuesIn(MatMulTCases()));

TEST(MatMulT, RejectsRankOneAndMismatchedK) {
  const Tensor v = FromDoubles(DataType::kFloat32, {4}, RandomValues(4, 1));
  const Tensor m = FromDoubles(DataType::kFloat32, {4, 3}, RandomValues(12, 2));
  auto rank1 = RunOnyx("MatMulT", {}, {v, m});
  EXPECT_EQ(rank1.status().code(), absl::StatusCode::kInvalidArgument) << rank1.status();
  auto bad_k = RunOnyx("MatMulT", {}, {m, m});  // [4,3] x [4,3]: K 3 vs 4
  EXPECT_EQ(bad_k.status().code(), absl::StatusCode::kInvalidArgument) << bad_k.status();
}

TEST(MatMulGrad, OnlyDbWhenDaIsOmitted) {
  // A [2,3], B [3]: Y [2]; dB[k] = sum_i dY[i] A[i, k].
  const std::vector<double> a = RandomValues(6, 1), dy = RandomValues(2, 2);
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out,
                       RunOnyx("MatMulGrad", {},
                               {FromDoubles(DataType::kFloat32, {2}, dy),
                                FromDoubles(DataType::kFloat32, {2, 3}, a),
                                FromDoubles(DataType::kFloat32, {3}, {1, 2, 3})},
                               {"", "db"}));
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].shape(), Shape({3}));
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(out[0].data<float>()[k], dy[0] * a[k] + dy[1] * a[3 + k], 1e-5) << k;
  }
}

TEST(MatMulGrad, RejectsDyOfTheWrongShape) {
  auto out = RunOnyx("MatMulGrad", {},
                     {FromDoubles(DataType::kFloat32, {2, 4}, RandomValues(8, 1)),
                      FromDoubles(DataType::kFloat32, {2, 3}, RandomValues(6, 2)),
                      FromDoubles(DataType::kFloat32, {3, 5}, RandomValues(15, 3))},
                     {"da", "db"});
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
  EXPECT_NE(std::string(out.status().message()).find("MatMulGrad"), std::string::npos)
      << out.status();
}

}  // namespace
}  // namespace onyx::mathgrad_test
