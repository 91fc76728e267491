// Input checks and output shapes of Concat and Gather, one copy for the CPU
// kernels (concat_split_cpu.cc, slice_gather_cpu.cc) and the CUDA ones
// (concat_cuda.cc, gather_cuda.cc), so both reject bad input with the same
// messages.
#include <algorithm>
#include <vector>

#include "absl/strings/str_format.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/status_macros.h"

namespace onyx::tensor {

absl::StatusOr<std::vector<const Tensor*>> ConcatInputs(const KernelContext& ctx) {
  std::vector<const Tensor*> xs;
  for (int i = 0; i < ctx.num_inputs(); ++i) {
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(i));
    xs.push_back(x);
  }
  if (xs.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: no inputs", ctx.node().Describe()));
  }
  return xs;
}

absl::StatusOr<Shape> ConcatOutputShape(const Node& node, absl::Span<const Tensor* const> xs,
                                        int64_t axis_attr, int* axis_out) {
  const Tensor& first = *xs[0];
  const int rank = first.rank();
  // NormalizeAxis accepts axis 0 for rank 0, but a scalar has no axis to join.
  if (rank == 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: inputs must have rank >= 1, got a scalar", node.Describe()));
  }
  ONYX_ASSIGN_OR_RETURN(int axis, NormalizeAxis(axis_attr, rank));
  Shape out = first.shape();
  out[axis] = 0;
  for (size_t k = 0; k < xs.size(); ++k) {
    const Tensor& x = *xs[k];
    bool ok = x.dtype() == first.dtype() && x.rank() == rank;
    for (int i = 0; ok && i < rank; ++i) ok = i == axis || x.dim(i) == first.dim(i);
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: input %d is %s but input 0 is %s (only axis %d may differ)",
                          node.Describe(), k, x.DebugString(), first.DebugString(), axis));
    }
    if (__builtin_add_overflow(out[axis], x.dim(axis), &out[axis])) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: concatenated axis overflows", node.Describe()));
    }
  }
  *axis_out = axis;
  return out;
}

absl::StatusOr<int64_t> ConcatAxisAttribute(const Node& node, int64_t opset) {
  if (opset >= 4 && node.FindAttribute("axis") == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: attribute axis is required", node.Describe()));
  }
  return node.GetInt("axis", 1);
}

absl::StatusOr<GatherArgs> ResolveGather(const Node& node, const Tensor& x, const Tensor& idx,
                                         int64_t axis_attr) {
  if (x.rank() == 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: input data must have rank >= 1", node.Describe()));
  }
  GatherArgs args;
  ONYX_ASSIGN_OR_RETURN(args.axis, NormalizeAxis(axis_attr, x.rank()));
  const int axis = args.axis;
  const int64_t dim = x.dim(axis);
  const int64_t n = idx.num_elements();
  std::vector<int64_t>& indices = args.indices;
  indices.resize(n);
  if (idx.dtype() == DataType::kInt64) {
    std::copy_n(idx.data<int64_t>(), n, indices.begin());
  } else if (idx.dtype() == DataType::kInt32) {
    std::copy_n(idx.data<int32_t>(), n, indices.begin());
  } else {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: indices must be int32 or int64, got %s", node.Describe(), idx.DebugString()));
  }
  for (int64_t j = 0; j < n; ++j) {
    const int64_t v = indices[j];
    if (v < -dim || v >= dim) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: index %d (at flat position %d) is out of range for axis %d of size %d",
          node.Describe(), v, j, axis, dim));
    }
    if (v < 0) indices[j] = v + dim;
  }
  args.shape.assign(x.shape().begin(), x.shape().begin() + axis);
  args.shape.insert(args.shape.end(), idx.shape().begin(), idx.shape().end());
  args.shape.insert(args.shape.end(), x.shape().begin() + axis + 1, x.shape().end());
  const int64_t es = static_cast<int64_t>(DataTypeSize(x.dtype()));
  args.outer = NumElements(absl::MakeConstSpan(x.shape()).subspan(0, axis));
  args.dim = dim;
  args.n = n;
  args.row_bytes = NumElements(absl::MakeConstSpan(x.shape()).subspan(axis + 1)) * es;
  return args;
}

}  // namespace onyx::tensor
