// The host-side plans of the CUDA math kernels (ops/math/cuda_plans.h),
// checked against direct broadcasting formulas written here.
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "ops/math/cuda_plans.h"

namespace onyx::math {
namespace {

// Row-major index of operand matrix for output batch index `i` (operand dims
// padded to batch's rank; dims of 1 repeat).
int64_t ReferenceMatrix(int64_t i, const Shape& batch, const Shape& operand) {
  int64_t at = 0, stride = 1;
  for (int d = static_cast<int>(batch.size()) - 1; d >= 0; --d) {
    const int64_t coord = i % batch[d];
    i /= batch[d];
    if (operand[d] != 1) at += coord * stride;
    stride *= operand[d];
  }
  return at;
}

struct BatchCase {
  Shape batch, a, b;
  int64_t calls;  // expected number of strided-batched calls
};

TEST(StridedBatchesTest, EveryOutputMatrixReadsTheBroadcastOperands) {
  const std::vector<BatchCase> cases = {
      {{}, {}, {}, 1},
      {{5}, {5}, {1}, 1},
      {{5}, {1}, {5}, 1},
      {{2, 3}, {2, 3}, {2, 3}, 1},
      {{2, 2}, {2, 1}, {1, 2}, 2},        // inner run over the last dim only
      {{3, 4, 5}, {3, 1, 5}, {1, 4, 5}, 12},  // neither pattern spans two dims
      {{4, 1, 6}, {4, 1, 6}, {1, 1, 1}, 1},   // a size-1 dim between
      {{2, 3, 4}, {1, 3, 4}, {2, 3, 4}, 2},
      {{3, 0}, {3, 0}, {1, 1}, 0},
  };
  for (const BatchCase& c : cases) {
    SCOPED_TRACE(ShapeToString(c.batch) + " " + ShapeToString(c.a) + " " + ShapeToString(c.b));
    const StridedBatches plan = PlanStridedBatches(c.batch, c.a, c.b);
    EXPECT_EQ(static_cast<int64_t>(plan.offsets.size()), c.calls);
    const int64_t total = NumElements(c.batch);
    EXPECT_EQ(plan.count * static_cast<int64_t>(plan.offsets.size()), total);
    for (int64_t i = 0; i < total; ++i) {
      const int64_t call = i / plan.count, j = i % plan.count;
      EXPECT_EQ(plan.offsets[call][0] + j * plan.stride[0], ReferenceMatrix(i, c.batch, c.a)) << i;
      EXPECT_EQ(plan.offsets[call][1] + j * plan.stride[1], ReferenceMatrix(i, c.batch, c.b)) << i;
    }
  }
}

// The plan's sums, as the CUDA kernels compute them, in double.
std::vector<double> SumByPlan(const ReducePlan& plan, const std::vector<float>& in) {
  auto offset = [](int64_t linear, const std::vector<ReducePlan::Dim>& dims) {
    int64_t at = 0;
    for (int d = static_cast<int>(dims.size()) - 1; d >= 0; --d) {
      at += (linear % dims[d].size) * dims[d].stride;
      linear /= dims[d].size;
    }
    return at;
  };
  std::vector<double> out(plan.num_outputs, 0.0);
  for (int64_t o = 0; o < plan.num_outputs; ++o) {
    for (int64_t r = 0; r < plan.reduce_count; ++r) {
      out[o] += in[offset(o, plan.kept) + offset(r, plan.reduced)];
    }
  }
  return out;
}

// Every grad element added into the target element it broadcasts from.
std::vector<double> ReferenceSum(const Shape& grad, const Shape& target,
                                 const std::vector<float>& in) {
  std::vector<double> out(NumElements(target), 0.0);
  const int rank = static_cast<int>(grad.size());
  const int pad = rank - static_cast<int>(target.size());
  for (int64_t i = 0; i < static_cast<int64_t>(in.size()); ++i) {
    int64_t rest = i, at = 0, stride = 1;
    for (int d = rank - 1; d >= 0; --d) {
      const int64_t coord = rest % grad[d];
      rest /= grad[d];
      if (d - pad >= 0) {
        const int64_t t = target[d - pad];
        if (t != 1) at += coord * stride;
        stride *= t;
      }
    }
    out[at] += in[i];
  }
  return out;
}

TEST(ReducePlanTest, SumsMatchTheBroadcastReference) {
  const std::vector<std::pair<Shape, Shape>> cases = {
      {{6, 5}, {5}},          {{6, 5}, {1, 5}},          {{6, 5}, {6, 1}},
      {{2, 3, 4, 5}, {1, 3, 1, 1}}, {{2, 3, 4, 5}, {3, 1, 5}}, {{2, 3, 4}, {}},
      {{2, 3, 4}, {1}},       {{2, 3, 4}, {2, 3, 4}},    {{2, 1, 3}, {1, 1, 3}},
      {{4, 1, 3, 2}, {4, 1, 1, 2}}, {{3, 0, 2}, {1, 1, 2}}, {{3, 2}, {1, 1, 3, 2}},
  };
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  for (const auto& [grad, target] : cases) {
    SCOPED_TRACE(ShapeToString(grad) + " -> " + ShapeToString(target));
    std::vector<float> in(NumElements(grad));
    for (float& v : in) v = dist(rng);
    auto plan = PlanReduceToShape(grad, target);
    ASSERT_TRUE(plan.ok()) << plan.status();
    EXPECT_EQ(plan->num_outputs, NumElements(target));
    const std::vector<double> got = SumByPlan(*plan, in);
    const std::vector<double> want = ReferenceSum(grad, target, in);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << i;
  }
}

TEST(ReducePlanTest, MergesDimsOfOneKind) {
  // Bias gradient: one summed dim over rows, one kept contiguous dim.
  auto bias = PlanReduceToShape({32, 10}, {10});
  ASSERT_TRUE(bias.ok());
  ASSERT_EQ(bias->kept.size(), 1u);
  ASSERT_EQ(bias->reduced.size(), 1u);
  EXPECT_EQ(bias->kept[0].size, 10);
  EXPECT_EQ(bias->kept[0].stride, 1);
  EXPECT_EQ(bias->reduced[0].size, 32);
  EXPECT_EQ(bias->reduced[0].stride, 10);
  EXPECT_TRUE(bias->inner_kept());
  // Per-channel: N and H*W summed (H, W merged), C kept.
  auto channel = PlanReduceToShape({8, 3, 4, 5}, {1, 3, 1, 1});
  ASSERT_TRUE(channel.ok());
  ASSERT_EQ(channel->kept.size(), 1u);
  ASSERT_EQ(channel->reduced.size(), 2u);
  EXPECT_EQ(channel->reduced[1].size, 20);
  EXPECT_EQ(channel->reduced[1].stride, 1);
  EXPECT_FALSE(channel->inner_kept());
  EXPECT_EQ(channel->reduce_count, 160);
  // A size-1 dim between two kept dims does not split them.
  auto merged = PlanReduceToShape({2, 3, 1, 4}, {3, 1, 4});
  ASSERT_TRUE(merged.ok());
  ASSERT_EQ(merged->kept.size(), 1u);
  EXPECT_EQ(merged->kept[0].size, 12);
}

TEST(ReducePlanTest, LaunchChunksCoverTheReduceRangeOnce) {
  struct Case {
    Shape grad, target;
    bool by_thread;
  };
  const std::vector<Case> cases = {
      {{64, 10}, {10}, false},           // few outputs: a block each
      {{64, 3000}, {3000}, true},        // bias gradient: a thread per column
      {{100000, 512}, {512}, true},      // many rows: chunked
      {{1000000, 4}, {4}, false},        // a block per output, chunked
      {{32, 64, 56, 56}, {1, 64, 1, 1}, false},
      {{5, 7}, {5, 7}, true},
      {{0, 3}, {3}, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(ShapeToString(c.grad) + " -> " + ShapeToString(c.target));
    auto plan = PlanReduceToShape(c.grad, c.target);
    ASSERT_TRUE(plan.ok());
    const ReduceLaunch launch = PlanReduceLaunch(*plan);
    EXPECT_EQ(launch.by_thread, c.by_thread);
    ASSERT_GE(launch.chunks, 1);
    EXPECT_LE(launch.chunks, 65535);
    if (plan->reduce_count == 0) continue;
    // Every chunk non-empty, together exactly [0, reduce_count).
    EXPECT_GE(launch.chunks * launch.chunk_size, plan->reduce_count);
    EXPECT_LT((launch.chunks - 1) * launch.chunk_size, plan->reduce_count);
    if (plan->num_outputs * plan->reduce_count >= (int64_t{1} << 24)) {
      EXPECT_GT(launch.chunks, 1) << "a large sum over few outputs is split";
    }
  }
}

TEST(ReducePlanTest, RejectsTargetsThatDoNotBroadcast) {
  EXPECT_FALSE(PlanReduceToShape({2, 3}, {2}).ok());
  EXPECT_FALSE(PlanReduceToShape({3}, {2, 3}).ok());
}

}  // namespace
}  // namespace onyx::math
