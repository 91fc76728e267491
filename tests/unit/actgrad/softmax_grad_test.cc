// Softmax / LogSoftmax gradients at opset 11 (2-D coercion) and 13 (single axis):
// the builder + SoftmaxGrad/LogSoftmaxGrad kernels against central finite
// differences of a double-precision softmax written here.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/gradient.h"
#include "tests/status_matchers.h"
#include "tests/unit/actgrad/grad_harness.h"

namespace onyx::actgrad_test {
namespace {

// Reference (log-)softmax of row-major `x` with `dims`: opset < 13 normalizes over
// all dims from `axis` on, opset >= 13 over `axis` alone.
std::vector<double> ReferenceSoftmax(const std::vector<double>& x, const Shape& dims,
                                     int axis, int64_t opset, bool log) {
  const int rank = static_cast<int>(dims.size());
  if (axis < 0) axis += rank;
  int64_t outer = 1, reduced = 1, inner = 1;
  for (int i = 0; i < rank; ++i) {
    if (i < axis) {
      outer *= dims[i];
    } else if (i == axis || opset < 13) {
      reduced *= dims[i];
    } else {
      inner *= dims[i];
    }
  }
  std::vector<double> y(x.size());
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      auto at = [&](int64_t k) { return (o * reduced + k) * inner + i; };
      double max = -INFINITY;
      for (int64_t k = 0; k < reduced; ++k) max = std::max(max, x[at(k)]);
      double sum = 0;
      for (int64_t k = 0; k < reduced; ++k) sum += std::exp(x[at(k)] - max);
      for (int64_t k = 0; k < reduced; ++k) {
        const double shifted = x[at(k)] - max;
        y[at(k)] = log ? shifted - std::log(sum) : std::exp(shifted) / sum;
      }
    }
  }
  return y;
}

double Dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// d/dx sum(softmax(x) * r) by central differences of the reference.
std::vector<double> ReferenceGrad(std::vector<double> x, const Shape& dims, int axis,
                                  int64_t opset, bool log, const std::vector<double>& r) {
  const double h = 1e-5;
  std::vector<double> grad(x.size());
  for (size_t k = 0; k < x.size(); ++k) {
    const double v = x[k];
    x[k] = v + h;
    const double plus = Dot(ReferenceSoftmax(x, dims, axis, opset, log), r);
    x[k] = v - h;
    const double minus = Dot(ReferenceSoftmax(x, dims, axis, opset, log), r);
    x[k] = v;
    grad[k] = (plus - minus) / (2 * h);
  }
  return grad;
}

struct SoftmaxCase {
  bool log;
  int64_t opset;
  int axis;
};

std::string CaseName(const SoftmaxCase& c) {
  return absl::StrCat(c.log ? "LogSoftmax" : "Softmax", "_opset", c.opset, "_axis",
                      c.axis < 0 ? "m" : "", std::abs(c.axis));
}

void PrintTo(const SoftmaxCase& c, std::ostream* os) { *os << CaseName(c); }

class SoftmaxGradTest : public ::testing::TestWithParam<SoftmaxCase> {};

// Through autograd: the float32 forward and backward kernels (oneDNN).
TEST_P(SoftmaxGradTest, GraphMatchesFiniteDifferences) {
  const SoftmaxCase& c = GetParam();
  const Shape dims = {2, 3, 4};
  const std::vector<Shape> shapes = {dims};
  const std::vector<double> x = TestValues(24, 11, -3, 3);
  const std::vector<double> r = TestValues(24, 12, -2, 2);
  const std::string op = c.log ? "LogSoftmax" : "Softmax";
  ASSERT_OK_AND_ASSIGN(
      GradientGraph gg,
      BuildGradientGraph(LossGraph(op, {IntAttr("axis", c.axis)}, shapes, DataType::kFloat32,
                                   c.opset),
                         "loss", {"x0"}, TestRegistry()));
  int grad_nodes = 0;
  for (const Node& n : gg.graph.nodes) {
    if (n.op_type != op + "Grad") continue;
    ++grad_nodes;
    EXPECT_EQ(n.domain, kOnyxDomain);
    ASSERT_EQ(n.inputs.size(), 2u);
    EXPECT_EQ(n.inputs[1], "y");  // reads the forward output, not x
    ASSERT_OK_AND_ASSIGN(int64_t opset, n.GetInt("opset", -1));
    EXPECT_EQ(opset, c.opset);
  }
  EXPECT_EQ(grad_nodes, 1);
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out,
                       RunGraph(gg.graph, DataType::kFloat32, {x}, shapes, r));
  ASSERT_EQ(out.size(), 2u);
  const std::vector<double> grad = ToDoubles(out[1]);
  const std::vector<double> fd = ReferenceGrad(x, dims, c.axis, c.opset, c.log, r);
  for (size_t i = 0; i < fd.size(); ++i) {
    EXPECT_NEAR(grad[i], fd[i], 2e-5 * (1 + std::fabs(fd[i]))) << i;
  }
}

// The backward kernel alone in float64 (the forward has float32 kernels only):
// SoftmaxGrad(dY = r, Y = reference softmax(x)).
TEST_P(SoftmaxGradTest, Float64KernelMatchesFiniteDifferences) {
  const SoftmaxCase& c = GetParam();
  const Shape dims = {3, 2, 4};
  const std::vector<double> x = TestValues(24, 13, -3, 3);
  const std::vector<double> r = TestValues(24, 14, -2, 2);
  const std::vector<double> y = ReferenceSoftmax(x, dims, c.axis, c.opset, c.log);
  Graph g;
  g.opset_imports[""] = 21;
  g.opset_imports[kOnyxDomain] = 1;
  g.inputs = {Info("dy", DataType::kFloat64, dims), Info("y", DataType::kFloat64, dims)};
  Node n;
  n.name = "g";
  n.domain = kOnyxDomain;
  n.op_type = c.log ? "LogSoftmaxGrad" : "SoftmaxGrad";
  n.inputs = {"dy", "y"};
  n.outputs = {"dx"};
  n.attributes = {IntAttr("axis", c.axis), IntAttr("opset", c.opset)};
  g.nodes = {n};
  ValueInfo out_info;
  out_info.name = "dx";
  g.outputs = {out_info};
  ASSERT_OK_AND_ASSIGN(auto session, Session::Create(g, TestRegistry()));
  ASSERT_OK_AND_ASSIGN(Tensor dy, Tensor::FromVector<double>(dims, r));
  ASSERT_OK_AND_ASSIGN(Tensor yt, Tensor::FromVector<double>(dims, y));
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out, session->Run({{"dy", dy}, {"y", yt}}));
  ASSERT_EQ(out[0].dtype(), DataType::kFloat64);
  const std::vector<double> grad = ToDoubles(out[0]);
  const std::vector<double> fd = ReferenceGrad(x, dims, c.axis, c.opset, c.log, r);
  for (size_t i = 0; i < fd.size(); ++i) {
    EXPECT_NEAR(grad[i], fd[i], 1e-8 * (1 + std::fabs(fd[i]))) << i;
  }
}

std::vector<SoftmaxCase> SoftmaxCases() {
  std::vector<SoftmaxCase> cases;
  for (bool log : {false, true}) {
    for (int64_t opset : {11, 13}) {
      for (int axis : {0, 1, 2, -1, -2}) cases.push_back({log, opset, axis});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(
    Axes, SoftmaxGradTest, ::testing::ValuesIn(SoftmaxCases()),
    [](const ::testing::TestParamInfo<SoftmaxCase>& info) { return CaseName(info.param); });

// Without axis/opset attributes the kernel means opset 13, axis -1.
TEST(SoftmaxGradKernelTest, DefaultsToLastAxis) {
  const Shape dims = {2, 3};
  const std::vector<double> x = {0.1, -0.4, 1.2, 2.0, 0.3, -1.0};
  const std::vector<double> r = {1, -2, 0.5, 0.25, 3, -1};
  const std::vector<double> y = ReferenceSoftmax(x, dims, -1, 13, false);
  Graph g;
  g.opset_imports[""] = 21;
  g.opset_imports[kOnyxDomain] = 1;
  g.inputs = {Info("dy", DataType::kFloat32, dims), Info("y", DataType::kFloat32, dims)};
  Node n;
  n.name = "g";
  n.domain = kOnyxDomain;
  n.op_type = "SoftmaxGrad";
  n.inputs = {"dy", "y"};
  n.outputs = {"dx"};
  g.nodes = {n};
  ValueInfo out_info;
  out_info.name = "dx";
  g.outputs = {out_info};
  ASSERT_OK_AND_ASSIGN(auto session, Session::Create(g, TestRegistry()));
  ASSERT_OK_AND_ASSIGN(Tensor dy,
                       Tensor::FromVector<float>(dims, std::vector<float>(r.begin(), r.end())));
  ASSERT_OK_AND_ASSIGN(Tensor yt,
                       Tensor::FromVector<float>(dims, std::vector<float>(y.begin(), y.end())));
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> out, session->Run({{"dy", dy}, {"y", yt}}));
  const std::vector<double> grad = ToDoubles(out[0]);
  const std::vector<double> fd = ReferenceGrad(x, dims, -1, 13, false, r);
  for (size_t i = 0; i < fd.size(); ++i) EXPECT_NEAR(grad[i], fd[i], 1e-5) << i;
}

TEST(SoftmaxGradKernelTest, AxisOutOfRangeIsAnError) {
  const Shape dims = {2, 3};
  Graph g;
  g.opset_imports[kOnyxDomain] = 1;
  g.inputs = {Info("dy", DataType::kFloat64, dims), Info("y", DataType::kFloat64, dims)};
  Node n;
  n.name = "g";
  n.domain = kOnyxDomain;
  n.op_type = "LogSoftmaxGrad";
  n.inputs = {"dy", "y"};
  n.outputs = {"dx"};
  n.attributes = {IntAttr("axis", 2)};
  g.nodes = {n};
  ValueInfo out_info;
  out_info.name = "dx";
  g.outputs = {out_info};
  ASSERT_OK_AND_ASSIGN(auto session, Session::Create(g, TestRegistry()));
  ASSERT_OK_AND_ASSIGN(Tensor t, Tensor::Zeros(DataType::kFloat64, dims));
  auto out = session->Run({{"dy", t}, {"y", t}});
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
}

}  // namespace
}  // namespace onyx::actgrad_test
