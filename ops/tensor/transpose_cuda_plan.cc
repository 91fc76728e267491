// Planning of the CUDA strided copies (see transpose_cuda_plan.h).
#include "ops/tensor/transpose_cuda_plan.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"

namespace onyx::tensor {

absl::StatusOr<CopyPlan> MakeCopyPlan(absl::Span<const int64_t> dims,
                                      absl::Span<const int64_t> src_strides,
                                      absl::Span<const int64_t> dst_strides) {
  if (src_strides.size() != dims.size() || dst_strides.size() != dims.size()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("strided copy: %d dims but %d source and %d destination strides",
                        dims.size(), src_strides.size(), dst_strides.size()));
  }
  CopyPlan plan;
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) return absl::InvalidArgumentError("strided copy: negative dim");
    n *= d;
    if (n == 0) return plan;  // rank 0: nothing to copy
  }
  plan.num_elements = n;
  std::vector<int64_t> d_out, s_out, t_out;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == 1) continue;  // adds nothing to either index
    if (!d_out.empty() && s_out.back() == src_strides[i] * dims[i] &&
        t_out.back() == dst_strides[i] * dims[i]) {
      d_out.back() *= dims[i];
      s_out.back() = src_strides[i];
      t_out.back() = dst_strides[i];
      continue;
    }
    d_out.push_back(dims[i]);
    s_out.push_back(src_strides[i]);
    t_out.push_back(dst_strides[i]);
  }
  if (d_out.empty()) {  // one element
    d_out = {1};
    s_out = {1};
    t_out = {1};
  }
  if (d_out.size() > static_cast<size_t>(CopyPlan::kMaxRank)) {
    return absl::UnimplementedError(
        absl::StrFormat("strided copy over %d dims that do not merge (the CUDA kernel takes %d)",
                        d_out.size(), CopyPlan::kMaxRank));
  }
  plan.rank = static_cast<int>(d_out.size());
  for (int d = 0; d < plan.rank; ++d) {
    plan.dims[d] = d_out[d];
    plan.src_strides[d] = s_out[d];
    plan.dst_strides[d] = t_out[d];
  }
  return plan;
}

bool AsBatchedTranspose(const CopyPlan& plan, BatchedTranspose* out) {
  // Merged plans have no size-1 dims, so a contiguous destination over [.., C, R]
  // has strides [.., R, 1] and the source [R * C, 1, R] (rows of the source
  // step by 1 along the output's last dim).
  if (plan.rank != 2 && plan.rank != 3) return false;
  const int r = plan.rank;
  const int64_t c_dim = plan.dims[r - 2], r_dim = plan.dims[r - 1];
  if (plan.dst_strides[r - 1] != 1 || plan.dst_strides[r - 2] != r_dim) return false;
  if (plan.src_strides[r - 2] != 1 || plan.src_strides[r - 1] != c_dim) return false;
  if (r == 3 && (plan.dst_strides[0] != r_dim * c_dim || plan.src_strides[0] != r_dim * c_dim)) {
    return false;
  }
  out->batch = r == 3 ? plan.dims[0] : 1;
  out->rows = r_dim;
  out->cols = c_dim;
  return true;
}

CopyPlan WidenToWords(const CopyPlan& plan, size_t elem_size, uintptr_t src_address,
                      uintptr_t dst_address, size_t* word_size) {
  *word_size = elem_size;
  if (plan.rank == 0 || elem_size == 0 || elem_size > 8) return plan;
  const int last = plan.rank - 1;
  if (plan.src_strides[last] != 1 || plan.dst_strides[last] != 1) return plan;
  for (size_t word = 16; word > elem_size; word /= 2) {
    if (word % elem_size != 0) continue;
    const int64_t k = static_cast<int64_t>(word / elem_size);  // elements per word
    bool ok = plan.dims[last] % k == 0 && src_address % word == 0 && dst_address % word == 0;
    for (int d = 0; ok && d < last; ++d) {
      ok = plan.src_strides[d] % k == 0 && plan.dst_strides[d] % k == 0;
    }
    if (!ok) continue;
    CopyPlan wide = plan;
    wide.dims[last] = plan.dims[last] / k;
    for (int d = 0; d < last; ++d) {
      wide.src_strides[d] = plan.src_strides[d] / k;
      wide.dst_strides[d] = plan.dst_strides[d] / k;
    }
    wide.num_elements = plan.num_elements / k;
    *word_size = word;
    return wide;
  }
  return plan;
}

}  // namespace onyx::tensor
