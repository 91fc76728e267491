// The host-side plans of the CUDA data-movement kernels (transpose_cuda_plan.h):
// dim merging, the batched-transpose detection and the plans Transpose, Slice
// (through the CPU kernel's own ResolveSlice) and Concat build. No GPU needed:
// each plan is executed here by a host loop that mirrors the device kernels'
// index arithmetic, and compared with an independent reference written below.
#include <cstdint>
#include <numeric>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ops/tensor/tensor_util.h"
#include "ops/tensor/transpose_cuda_plan.h"
#include "tests/status_matchers.h"

namespace onyx::tensor {
namespace {

using ::testing::ElementsAre;

std::vector<int64_t> Iota(int64_t n) {
  std::vector<int64_t> v(n);
  std::iota(v.begin(), v.end(), 100);  // distinct values that are not indices
  return v;
}

// The generic index kernel's arithmetic, or the tiled kernel's mapping when the
// plan is a batched transpose (both must give the same bytes).
std::vector<int64_t> RunPlan(const CopyPlan& plan, const std::vector<int64_t>& src,
                             int64_t src_offset, int64_t dst_size, int64_t dst_offset = 0) {
  std::vector<int64_t> dst(dst_size, -1);
  BatchedTranspose t;
  if (AsBatchedTranspose(plan, &t)) {
    for (int64_t b = 0; b < t.batch; ++b) {
      for (int64_t r = 0; r < t.rows; ++r) {
        for (int64_t c = 0; c < t.cols; ++c) {
          dst[dst_offset + b * t.rows * t.cols + c * t.rows + r] =
              src[src_offset + b * t.rows * t.cols + r * t.cols + c];
        }
      }
    }
    return dst;
  }
  for (int64_t i = 0; i < plan.num_elements; ++i) {
    int64_t rest = i, s = 0, d = 0;
    for (int k = plan.rank - 1; k >= 0; --k) {
      const int64_t coord = rest % plan.dims[k];
      rest /= plan.dims[k];
      s += coord * plan.src_strides[k];
      d += coord * plan.dst_strides[k];
    }
    dst[dst_offset + d] = src[src_offset + s];
  }
  return dst;
}

// The plan Transpose builds for `perm` over `in`.
CopyPlan TransposePlan(const Shape& in, const std::vector<int>& perm) {
  const std::vector<int64_t> in_strides = ContiguousStrides(in);
  Shape out(in.size());
  std::vector<int64_t> src_strides(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    out[i] = in[perm[i]];
    src_strides[i] = in_strides[perm[i]];
  }
  absl::StatusOr<CopyPlan> plan = MakeCopyPlan(out, src_strides, ContiguousStrides(out));
  EXPECT_TRUE(plan.ok()) << plan.status();
  return *plan;
}

TEST(CopyPlanTest, ContiguousCopyMergesToOneDim) {
  ASSERT_OK_AND_ASSIGN(CopyPlan plan, MakeCopyPlan({2, 3, 4}, {12, 4, 1}, {12, 4, 1}));
  EXPECT_EQ(plan.rank, 1);
  EXPECT_EQ(plan.dims[0], 24);
  EXPECT_EQ(plan.src_strides[0], 1);
  EXPECT_EQ(plan.num_elements, 24);
}

TEST(CopyPlanTest, SizeOneDimsAreDroppedAndEmptyCopiesHaveRankZero) {
  ASSERT_OK_AND_ASSIGN(CopyPlan plan, MakeCopyPlan({1, 5, 1}, {5, 1, 1}, {5, 1, 7}));
  EXPECT_EQ(plan.rank, 1);
  EXPECT_EQ(plan.dims[0], 5);
  ASSERT_OK_AND_ASSIGN(CopyPlan one, MakeCopyPlan({1, 1}, {1, 1}, {1, 1}));
  EXPECT_EQ(one.rank, 1);
  EXPECT_EQ(one.num_elements, 1);
  ASSERT_OK_AND_ASSIGN(CopyPlan empty, MakeCopyPlan({3, 0, 2}, {2, 2, 1}, {2, 2, 1}));
  EXPECT_EQ(empty.rank, 0);
  EXPECT_EQ(empty.num_elements, 0);
}

TEST(CopyPlanTest, RejectsBadArgumentsAndTooManyDims) {
  EXPECT_EQ(MakeCopyPlan({2, 3}, {3}, {3, 1}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MakeCopyPlan({-1}, {1}, {1}).status().code(), absl::StatusCode::kInvalidArgument);
  // A reversed rank-9 transpose: no two dims merge.
  const Shape in(9, 2);
  const std::vector<int64_t> in_strides = ContiguousStrides(in);
  const std::vector<int64_t> src(in_strides.rbegin(), in_strides.rend());
  EXPECT_EQ(MakeCopyPlan(in, src, ContiguousStrides(in)).status().code(),
            absl::StatusCode::kUnimplemented);
}

struct TransposeCase {
  Shape in;
  std::vector<int> perm;
  bool tiled;  // expected to take the batched-transpose kernel
};

TEST(CopyPlanTest, TransposePlansMatchTheDefinition) {
  const std::vector<TransposeCase> cases = {
      {{5, 7}, {1, 0}, true},
      {{2, 3, 4, 5}, {0, 1, 3, 2}, true},   // last-two-dims swap: batch 6
      {{2, 3, 4, 5}, {0, 2, 1, 3}, false},  // heads <-> sequence, contiguous rows
      {{2, 3, 4}, {2, 1, 0}, false},
      {{2, 1, 3, 1}, {3, 2, 1, 0}, true},  // size-1 dims drop: a 2-D transpose
      {{4, 33, 65}, {0, 2, 1}, true},
      {{3, 4, 5}, {1, 2, 0}, true},  // [3, 20] -> [20, 3]
  };
  for (const TransposeCase& c : cases) {
    SCOPED_TRACE(ShapeToString(c.in));
    const CopyPlan plan = TransposePlan(c.in, c.perm);
    BatchedTranspose t;
    EXPECT_EQ(AsBatchedTranspose(plan, &t), c.tiled);
    const int rank = static_cast<int>(c.in.size());
    const std::vector<int64_t> x = Iota(NumElements(c.in));
    Shape out(rank);
    for (int i = 0; i < rank; ++i) out[i] = c.in[c.perm[i]];
    // Reference: walk every output index, read the input at the permuted index.
    std::vector<int64_t> expect(x.size());
    const std::vector<int64_t> in_strides = ContiguousStrides(c.in);
    for (int64_t o = 0; o < static_cast<int64_t>(x.size()); ++o) {
      int64_t rest = o, src = 0;
      for (int i = rank - 1; i >= 0; --i) {
        src += (rest % out[i]) * in_strides[c.perm[i]];
        rest /= out[i];
      }
      expect[o] = x[src];
    }
    EXPECT_EQ(RunPlan(plan, x, 0, static_cast<int64_t>(x.size())), expect);
  }
}

TEST(CopyPlanTest, BatchedTransposeShape) {
  const CopyPlan plan = TransposePlan({2, 3, 4, 5}, {0, 1, 3, 2});
  BatchedTranspose t;
  ASSERT_TRUE(AsBatchedTranspose(plan, &t));
  EXPECT_EQ(t.batch, 6);
  EXPECT_EQ(t.rows, 4);
  EXPECT_EQ(t.cols, 5);
}

TEST(CopyPlanTest, SlicePlanWithNegativeStepsMatchesDirectIndexing) {
  Node node;
  node.name = "slice";
  node.op_type = "Slice";
  // x [4, 6]: rows start -1 (3) down to -100 (clamped: through row 0) step -2
  // -> rows 3, 1; columns 1 to 6 (clamped to 6) step 2 -> 1, 3, 5.
  SliceArgs args{{-1, 1}, {-100, 100}, {0, 1}, {-2, 2}};
  ASSERT_OK_AND_ASSIGN(SliceWindow w, ResolveSlice(node, {4, 6}, args));
  EXPECT_THAT(w.shape, ElementsAre(2, 3));
  ASSERT_OK_AND_ASSIGN(CopyPlan plan, MakeCopyPlan(w.shape, w.strides, ContiguousStrides(w.shape)));
  const std::vector<int64_t> x = Iota(24);
  std::vector<int64_t> expect;
  for (int64_t r : {3, 1}) {
    for (int64_t c : {1, 3, 5}) expect.push_back(x[r * 6 + c]);
  }
  EXPECT_EQ(RunPlan(plan, x, w.offset, 6), expect);

  // SliceGrad's plan is the same window in reverse: dY scattered into dX.
  ASSERT_OK_AND_ASSIGN(CopyPlan back, MakeCopyPlan(w.shape, ContiguousStrides(w.shape), w.strides));
  const std::vector<int64_t> dy = Iota(6);
  std::vector<int64_t> dx_expect(24, -1);
  int k = 0;
  for (int64_t r : {3, 1}) {
    for (int64_t c : {1, 3, 5}) dx_expect[r * 6 + c] = dy[k++];
  }
  EXPECT_EQ(RunPlan(back, dy, 0, 24, w.offset), dx_expect);
}

TEST(CopyPlanTest, ConcatBandPlans) {
  // Concat of [2, 3, 4] and [2, 1, 4] along axis 1: bands of 12 and 4 in rows of 16.
  const std::vector<int64_t> a = Iota(24), b = Iota(8);
  std::vector<int64_t> expect;
  for (int o = 0; o < 2; ++o) {
    for (int j = 0; j < 12; ++j) expect.push_back(a[o * 12 + j]);
    for (int j = 0; j < 4; ++j) expect.push_back(b[o * 4 + j]);
  }
  ASSERT_OK_AND_ASSIGN(CopyPlan pa, MakeCopyPlan({2, 12}, {12, 1}, {16, 1}));
  ASSERT_OK_AND_ASSIGN(CopyPlan pb, MakeCopyPlan({2, 4}, {4, 1}, {16, 1}));
  EXPECT_EQ(pa.rank, 2);
  std::vector<int64_t> y = RunPlan(pa, a, 0, 32);
  const std::vector<int64_t> yb = RunPlan(pb, b, 0, 32, 12);
  for (int i = 0; i < 32; ++i) {
    if (yb[i] != -1) y[i] = yb[i];
  }
  EXPECT_EQ(y, expect);
  // Axis 0 (outer 1): one contiguous run.
  ASSERT_OK_AND_ASSIGN(CopyPlan flat, MakeCopyPlan({1, 24}, {24, 1}, {32, 1}));
  EXPECT_EQ(flat.rank, 1);
  EXPECT_EQ(flat.dims[0], 24);
}

// Runs `plan` over words of `word` bytes, as the device kernel does.
std::vector<uint8_t> RunBytes(const CopyPlan& plan, size_t word, const std::vector<uint8_t>& src,
                              size_t dst_bytes) {
  std::vector<uint8_t> dst(dst_bytes, 0xee);
  for (int64_t i = 0; i < plan.num_elements; ++i) {
    int64_t rest = i, s = 0, d = 0;
    for (int k = plan.rank - 1; k >= 0; --k) {
      const int64_t coord = rest % plan.dims[k];
      rest /= plan.dims[k];
      s += coord * plan.src_strides[k];
      d += coord * plan.dst_strides[k];
    }
    for (size_t b = 0; b < word; ++b) dst[d * word + b] = src[s * word + b];
  }
  return dst;
}

TEST(CopyPlanTest, HeadSplitWidensToSixteenByteWords) {
  // float32 [2, 8, 4, 16] -> [2, 4, 8, 16] (perm 0, 2, 1, 3): rows of 16 floats.
  const CopyPlan plan = TransposePlan({2, 8, 4, 16}, {0, 2, 1, 3});
  size_t word = 0;
  const CopyPlan wide = WidenToWords(plan, 4, 256, 512, &word);
  EXPECT_EQ(word, 16u);
  EXPECT_EQ(wide.dims[wide.rank - 1], 4);
  EXPECT_EQ(wide.num_elements, plan.num_elements / 4);
  std::vector<uint8_t> src(2 * 8 * 4 * 16 * 4);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i * 7 + 3);
  EXPECT_EQ(RunBytes(wide, word, src, src.size()), RunBytes(plan, 4, src, src.size()));
}

TEST(CopyPlanTest, WideningNeedsContiguousRowsDivisibleSizesAndAlignment) {
  size_t word = 0;
  // Innermost source stride is not 1 (a transpose): unchanged.
  const CopyPlan t = TransposePlan({5, 7}, {1, 0});
  WidenToWords(t, 4, 0, 0, &word);
  EXPECT_EQ(word, 4u);
  // Rows of 6 floats (24 bytes): 8-byte words, 3 to a row.
  ASSERT_OK_AND_ASSIGN(CopyPlan rows, MakeCopyPlan({3, 6}, {6, 1}, {10, 1}));
  CopyPlan wide = WidenToWords(rows, 4, 0, 0, &word);
  EXPECT_EQ(word, 8u);
  EXPECT_EQ(wide.dims[1], 3);
  EXPECT_EQ(wide.dst_strides[0], 5);
  // The same with a destination 4 bytes past alignment: stays 4-byte.
  WidenToWords(rows, 4, 0, 4, &word);
  EXPECT_EQ(word, 4u);
  // A reversed (negative) outer stride widens as well; bytes must match.
  ASSERT_OK_AND_ASSIGN(CopyPlan rev, MakeCopyPlan({3, 8}, {-8, 1}, {8, 1}));
  wide = WidenToWords(rev, 2, 0, 0, &word);
  EXPECT_EQ(word, 16u);
  std::vector<uint8_t> src(3 * 8 * 2);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i);
  // Run from the last row (offset 2 rows) as Slice with step -1 does.
  auto run = [&](const CopyPlan& p, size_t w) {
    std::vector<uint8_t> shifted(src.begin(), src.end());
    std::vector<uint8_t> out(src.size(), 0);
    const int64_t base = 2 * 16 / static_cast<int64_t>(w);  // row 2, in words
    for (int64_t i = 0; i < p.num_elements; ++i) {
      const int64_t r = i / p.dims[1], c = i % p.dims[1];
      const int64_t s = base + r * p.src_strides[0] + c, d = r * p.dst_strides[0] + c;
      for (size_t b = 0; b < w; ++b) out[d * w + b] = shifted[s * w + b];
    }
    return out;
  };
  EXPECT_EQ(run(wide, word), run(rev, 2));
}

}  // namespace
}  // namespace onyx::tensor
