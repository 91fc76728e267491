// The plain structs of the CUDA strided-copy plans (no Abseil, so the .cu
// files include them): see transpose_cuda_plan.h for how plans are made.
#pragma once

#include <cstddef>
#include <cstdint>

namespace onyx::tensor {

// dst[sum_d k_d * dst_strides[d]] = src[sum_d k_d * src_strides[d]] for every
// index k of `dims` (strides in elements; negative for reversed slices).
struct CopyPlan {
  static constexpr int kMaxRank = 8;
  int rank = 0;  // 0: nothing to copy (num_elements == 0)
  int64_t dims[kMaxRank] = {};
  int64_t src_strides[kMaxRank] = {};
  int64_t dst_strides[kMaxRank] = {};
  int64_t num_elements = 0;
};

// A copy that is `batch` independent [rows, cols] -> [cols, rows] transposes:
// out[b, c, r] = in[b, r, c], both sides contiguous. The tiled kernel reads
// and writes full rows of a shared-memory tile, so both sides coalesce.
struct BatchedTranspose {
  int64_t batch = 1, rows = 1, cols = 1;
};

// True (filling `out`) when `plan` writes its destination contiguously and is
// a batched 2-D transpose of a contiguous source; the last-two-dims swap
// ([.., R, C] -> [.., C, R]) and every 2-D transpose plan to this.
bool AsBatchedTranspose(const CopyPlan& plan, BatchedTranspose* out);

// `plan` over wider words when its innermost dim is contiguous on both sides:
// the widest word of up to 16 bytes that divides that dim's byte length, every
// other stride's byte length and both addresses (e.g. the [B, S, H, D] ->
// [B, H, S, D] head split then moves D floats as 16-byte words). Sets
// `*word_size` to the word's bytes (`elem_size` when nothing widens).
CopyPlan WidenToWords(const CopyPlan& plan, size_t elem_size, uintptr_t src_address,
                      uintptr_t dst_address, size_t* word_size);

}  // namespace onyx::tensor
