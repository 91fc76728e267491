// Tests of ops/math/broadcast.h: strides, the collapsed loop and ReduceSumToShape
// (checked against a naive sum over multi-indices).
#include "ops/math/broadcast.h"

#include <vector>

#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/math/math_test_util.h"

namespace onyx {
namespace {

using math_test::AsDoubles;
using math_test::BroadcastSource;
using math_test::Random;
using math_test::Unravel;

TEST(BroadcastStridesTest, ZeroOnBroadcastDims) {
  EXPECT_EQ(BroadcastStrides({3, 1}, {2, 3, 4}), (std::vector<int64_t>{0, 1, 0}));
  EXPECT_EQ(BroadcastStrides({2, 3, 4}, {2, 3, 4}), (std::vector<int64_t>{12, 4, 1}));
  EXPECT_EQ(BroadcastStrides({}, {2, 3}), (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(BroadcastStrides({4}, {2, 3, 4}), (std::vector<int64_t>{0, 0, 1}));
}

TEST(BroadcastsIntoTest, Unidirectional) {
  EXPECT_TRUE(BroadcastsInto({3, 1}, {2, 3, 4}));
  EXPECT_TRUE(BroadcastsInto({}, {2}));
  EXPECT_FALSE(BroadcastsInto({2, 3, 4}, {3, 4}));
  EXPECT_FALSE(BroadcastsInto({3}, {3, 4}));
}

TEST(BroadcastLoopTest, CollapsesContiguousDims) {
  const Shape out = {2, 3, 4};
  BroadcastLoop same(out, {BroadcastStrides(out, out), BroadcastStrides(out, out)});
  EXPECT_EQ(same.dims(), (std::vector<int64_t>{24}));
  EXPECT_EQ(same.num_rows(), 1);
  // Bias over the last dim: the two leading dims merge, the inner one stays.
  BroadcastLoop bias(out, {BroadcastStrides(out, out), BroadcastStrides({4}, out)});
  EXPECT_EQ(bias.dims(), (std::vector<int64_t>{6, 4}));
  EXPECT_EQ(bias.inner_stride(1), 1);
  int64_t offsets[BroadcastLoop::kMaxOperands];
  bias.RowOffsets(5, offsets);
  EXPECT_EQ(offsets[0], 20);
  EXPECT_EQ(offsets[1], 0);
  // [3,1] x [1,4]: nothing merges.
  BroadcastLoop outer({3, 4}, {BroadcastStrides({3, 1}, {3, 4}), BroadcastStrides({1, 4}, {3, 4})});
  EXPECT_EQ(outer.dims(), (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(outer.inner_stride(0), 0);
  EXPECT_EQ(outer.inner_stride(1), 1);
}

// Naive reference: every grad element added to the target element it came from.
std::vector<double> NaiveReduce(const Tensor& grad, const Shape& target) {
  std::vector<double> sums(NumElements(target), 0.0);
  const std::vector<double> g = AsDoubles(grad);
  Shape aligned = target;
  while (aligned.size() > grad.shape().size()) aligned.erase(aligned.begin());
  for (int64_t i = 0; i < grad.num_elements(); ++i) {
    sums[BroadcastSource(Unravel(i, grad.shape()), aligned)] += g[i];
  }
  return sums;
}

struct ReduceCase {
  Shape grad;
  Shape target;
};

class ReduceSumToShapeTest : public ::testing::TestWithParam<ReduceCase> {};

TEST_P(ReduceSumToShapeTest, MatchesNaiveSum) {
  const ReduceCase& c = GetParam();
  const Tensor grad = Random<float>(c.grad, 7);
  ASSERT_OK_AND_ASSIGN(Tensor out, ReduceSumToShape(grad, c.target));
  EXPECT_EQ(out.shape(), c.target);
  const std::vector<double> expected = NaiveReduce(grad, c.target);
  const std::vector<double> actual = AsDoubles(out);
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(actual[i], expected[i], 1e-4) << i;
}

INSTANTIATE_TEST_SUITE_P(Shapes, ReduceSumToShapeTest,
                         ::testing::Values(ReduceCase{{2, 3}, {3}}, ReduceCase{{2, 3}, {2, 1}},
                                           ReduceCase{{2, 3}, {1, 1}}, ReduceCase{{2, 3}, {}},
                                           ReduceCase{{2, 3}, {2, 3}},
                                           ReduceCase{{4, 2, 3}, {2, 1}},
                                           ReduceCase{{4, 2, 3}, {4, 1, 3}},
                                           ReduceCase{{2, 3}, {1, 2, 3}},
                                           ReduceCase{{64, 300}, {300}}, ReduceCase{{0, 3}, {3}}));

TEST(ReduceSumToShapeTest, Int64AndFloat64) {
  const Tensor g64 = Random<int64_t>({3, 4}, 3, -100, 100);
  ASSERT_OK_AND_ASSIGN(Tensor i_out, ReduceSumToShape(g64, {3, 1}));
  const std::vector<double> expected = NaiveReduce(g64, {3, 1});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(i_out.data<int64_t>()[i], expected[i]);

  const Tensor gd = Random<double>({5, 2}, 4);
  ASSERT_OK_AND_ASSIGN(Tensor d_out, ReduceSumToShape(gd, {2}));
  const std::vector<double> expected_d = NaiveReduce(gd, {2});
  for (int i = 0; i < 2; ++i) EXPECT_NEAR(d_out.data<double>()[i], expected_d[i], 1e-12);
}

TEST(ReduceSumToShapeTest, RejectsTargetsThatDoNotBroadcast) {
  const Tensor grad = Random<float>({2, 3}, 1);
  EXPECT_EQ(ReduceSumToShape(grad, {4}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReduceSumToShape(grad, {2, 2, 3}).status().code(), absl::StatusCode::kInvalidArgument);
  const Tensor u8 = Random<uint8_t>({2, 3}, 1, 0, 9);
  EXPECT_EQ(ReduceSumToShape(u8, {3}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace onyx
