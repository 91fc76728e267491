// Add/Sub/Mul/Div at opset 1 and 6: attribute broadcast/axis mapped onto NumPy
// broadcasting, checked against an index loop written here.
#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/elementwise/run_op.h"

namespace onyx {
namespace {

using op_test::IntAttr;
using op_test::RunOneNode;

TEST(LegacyBinaryTest, BroadcastAlongAxis) {
  const Shape as = {2, 3, 4, 5};
  std::vector<float> a(NumElements(as)), b(12);
  for (size_t i = 0; i < a.size(); ++i) a[i] = 0.25f * i;
  for (size_t i = 0; i < b.size(); ++i) b[i] = 1.f + i;
  const Tensor ta = Tensor::FromVector<float>(as, a).value();
  const Tensor tb = Tensor::FromVector<float>({3, 4}, b).value();
  for (const std::string op : {"Add", "Sub", "Mul", "Div"}) {
    for (int64_t opset : {1, 6}) {
      ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode(op, {IntAttr("broadcast", 1), IntAttr("axis", 1)},
                                                {ta, tb}, opset));
      ASSERT_EQ(y.shape(), as);
      for (int64_t i = 0; i < NumElements(as); ++i) {
        const int64_t j = (i / 5) % 12;  // B[c, h] for A[n, c, h, w]
        const double u = a[i], v = b[j];
        const double want = op == "Add" ? u + v : op == "Sub" ? u - v : op == "Mul" ? u * v : u / v;
        EXPECT_NEAR(y.data<float>()[i], want, 1e-6 * (1 + std::abs(want))) << op << " " << i;
      }
    }
  }
}

TEST(LegacyBinaryTest, TrailingDefaultScalarAndNoBroadcast) {
  const Tensor a = Tensor::FromVector<float>({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6}).value();
  const Tensor b = Tensor::FromVector<float>({3}, std::vector<float>{10, 20, 30}).value();
  ASSERT_OK_AND_ASSIGN(Tensor y, RunOneNode("Add", {IntAttr("broadcast", 1)}, {a, b}, 6));
  EXPECT_EQ(std::vector<float>(y.data<float>(), y.data<float>() + 6),
            (std::vector<float>{11, 22, 33, 14, 25, 36}));
  const Tensor s = Tensor::FromVector<float>({1}, std::vector<float>{2}).value();
  ASSERT_OK_AND_ASSIGN(y, RunOneNode("Mul", {IntAttr("broadcast", 1)}, {a, s}, 1));
  EXPECT_EQ(y.data<float>()[5], 12.f);
  // Without broadcast = 1 the shapes must agree.
  auto bad = RunOneNode("Add", {}, {a, b}, 6);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  ASSERT_OK_AND_ASSIGN(y, RunOneNode("Sub", {}, {a, a}, 6));
  EXPECT_EQ(y.data<float>()[3], 0.f);
}

}  // namespace
}  // namespace onyx
