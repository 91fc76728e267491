// Reduce* gradients through autograd against central finite differences in
// float64 (no ties for Max/Min), for attribute and input axes and keepdims,
// plus the even split of ties for ReduceMax.
#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/mathgrad/grad_check.h"

namespace onyx::mathgrad_test {
namespace {

using testing_util::IntsAttr;

void CheckFd(const ForwardSpec& spec) {
  ASSERT_OK_AND_ASSIGN(Tensor y, RunForward(spec));
  const Tensor r = FromDoubles(y.dtype(), y.shape(), RandomValues(y.num_elements(), 77));
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> g, AutogradGrads(spec, r, {0}));
  ASSERT_FALSE(g[0].empty());
  ASSERT_EQ(g[0].shape(), spec.inputs[0].shape());
  ASSERT_OK_AND_ASSIGN(std::vector<double> fd, FiniteDifferences(spec, r, 0));
  const std::vector<double> got = ToDoubles(g[0]);
  for (size_t i = 0; i < fd.size(); ++i) {
    EXPECT_NEAR(got[i], fd[i], 1e-6 * (1 + std::fabs(fd[i]))) << spec.op << " element " << i;
  }
}

TEST(ReduceGradTest, MatchesFiniteDifferences) {
  const Shape shape = {3, 4, 2};
  for (const std::string op : {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin",
                               "ReduceSumSquare", "ReduceL1", "ReduceL2", "ReduceLogSum",
                               "ReduceLogSumExp"}) {
    const bool positive = op == "ReduceLogSum";
    // Distinct values (no ties), away from 0 (L1's kink).
    const Tensor x = FromDoubles(DataType::kFloat64, shape,
                                 RandomValues(24, 31, positive ? 0.2 : -2, 2, 0.05));
    for (const auto& axes : std::vector<std::vector<int64_t>>{{}, {1}, {0, 2}, {-1}}) {
      for (int64_t keep : {0, 1}) {
        SCOPED_TRACE(op + " axes " + ShapeToString(axes) + " keepdims " + std::to_string(keep));
        std::vector<Attribute> attrs = {IntAttr("keepdims", keep)};
        if (!axes.empty()) attrs.push_back(IntsAttr("axes", axes));
        CheckFd({op, attrs, {x}, 11});
        // Input form (opset 18), axes as a graph input.
        std::vector<Tensor> inputs = {x};
        if (!axes.empty()) {
          inputs.push_back(Tensor::FromVector<int64_t>({static_cast<int64_t>(axes.size())}, axes).value());
        }
        CheckFd({op, {IntAttr("keepdims", keep)}, inputs, 18});
      }
    }
  }
}

TEST(ReduceGradTest, MaxSplitsTiesEvenly) {
  const Tensor x = FromDoubles(DataType::kFloat64, {2, 3}, {1, 4, 4, 2, 2, 2});
  const Tensor r = FromDoubles(DataType::kFloat64, {2}, {6, 3});
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> g,
                       AutogradGrads({"ReduceMax", {IntAttr("keepdims", 0), IntsAttr("axes", {1})},
                                      {x}, 13}, r, {0}));
  EXPECT_EQ(ToDoubles(g[0]), (std::vector<double>{0, 3, 3, 1, 1, 1}));
}

TEST(ReduceGradTest, Float32MeanMatchesClosedForm) {
  const Tensor x = FromDoubles(DataType::kFloat32, {2, 3}, RandomValues(6, 5));
  const Tensor r = FromDoubles(DataType::kFloat32, {1, 3}, {3, -6, 9});
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> g,
                       AutogradGrads({"ReduceMean", {IntsAttr("axes", {0})}, {x}, 13}, r, {0}));
  EXPECT_EQ(ToDoubles(g[0]), (std::vector<double>{1.5, -3, 4.5, 1.5, -3, 4.5}));
}

}  // namespace
}  // namespace onyx::mathgrad_test
