// Shared helpers of the tensor family: reading int lists from shape inputs,
// dtype-agnostic strided copies keyed on element size, scalar stores, and the
// per-file registration functions called by register.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/kernel.h"
#include "runtime/op_registry.h"
#include "runtime/tensor.h"

namespace onyx::tensor {

// Values of a 0-D or 1-D int32/int64 tensor (shape, axes, pads, repeats, ...);
// InvalidArgument naming `node` and `what` for other dtypes or ranks.
absl::StatusOr<std::vector<int64_t>> ReadInts(const Node& node, const Tensor& t, const char* what);

// One int64 scalar (or 1-element tensor) of any integer dtype.
absl::StatusOr<int64_t> ReadIntScalar(const Node& node, const Tensor& t, const char* what);

// Normalizes `axes` against `rank` (negative counts from the end); rejects
// out-of-range and repeated axes with InvalidArgument naming the node.
absl::StatusOr<std::vector<int>> NormalizeAxes(const Node& node, absl::Span<const int64_t> axes,
                                               int rank);

// Slice's arguments, one entry per sliced axis.
struct SliceArgs {
  std::vector<int64_t> starts, ends, axes, steps;
};

// Slice-1's attributes: starts and ends (required), axes (optional).
absl::StatusOr<SliceArgs> SliceAttributes(const Node& node);

// The Slice arguments of one run: `attrs` when the op takes them as attributes
// (opset < 10; read once by SliceAttributes), else the inputs starts, ends and
// the optional axes, steps from input `first_input` on. Omitted axes become
// 0, 1, ... and omitted steps 1; InvalidArgument when the lengths differ.
absl::StatusOr<SliceArgs> ReadSliceArgs(KernelContext& ctx, const SliceArgs* attrs,
                                        int first_input);

// Number of elements a Slice takes from a dim of size `dim` (negative start/end
// count from the end, then clamp to the dim); `first` is set to the first
// index taken.
int64_t SliceCount(int64_t dim, int64_t start, int64_t end, int64_t step, int64_t* first);

// The elements of a tensor of shape `source` that a Slice with `args` selects:
// the slice's shape, the flat index of its first element in the source, and
// the source strides (in elements, step included; 0 on single-element axes).
struct SliceWindow {
  Shape shape;
  int64_t offset = 0;
  std::vector<int64_t> strides;
};
absl::StatusOr<SliceWindow> ResolveSlice(const Node& node, const Shape& source,
                                         const SliceArgs& args);

// Row-major strides (in elements) of `dims`.
std::vector<int64_t> ContiguousStrides(absl::Span<const int64_t> dims);

// dst[sum_i k_i*dst_strides[i]] = src[sum_i k_i*src_strides[i]] for every index
// k of `dims`; strides are in elements and may be 0 (broadcast) or negative
// (reversed slices). Elements are moved as raw bytes of size `elem_size`.
// Runs on the OpenMP pool when the copy is large.
void StridedCopy(size_t elem_size, absl::Span<const int64_t> dims, const void* src,
                 absl::Span<const int64_t> src_strides, void* dst,
                 absl::Span<const int64_t> dst_strides);

// Fills `count` elements at `dst` with the `elem_size`-byte pattern `value`.
void FillElements(size_t elem_size, const void* value, int64_t count, void* dst);

// Writes `value` converted to `dtype` (C++ conversion rules; bool: value != 0;
// float16/bfloat16 rounded to nearest even) into `dst`.
void StoreScalar(DataType dtype, double value, void* dst);

// IEEE half and bfloat16 conversions (round to nearest even, NaN kept NaN).
float HalfToFloat(uint16_t h);
uint16_t FloatToHalf(float f);
float BFloat16ToFloat(uint16_t b);
uint16_t FloatToBFloat16(float f);

// Concat's inputs (all required); InvalidArgument when there are none.
absl::StatusOr<std::vector<const Tensor*>> ConcatInputs(const KernelContext& ctx);

// Concat's checks and output shape, shared by the CPU and CUDA kernels
// (concat_gather_checks.cc): every input of `xs` (non-empty) must match input
// 0's dtype and dims except on `axis` (normalized into `axis_out`).
absl::StatusOr<Shape> ConcatOutputShape(const Node& node, absl::Span<const Tensor* const> xs,
                                        int64_t axis, int* axis_out);

// Concat's axis attribute: default 1 for opset < 4, required from opset 4.
absl::StatusOr<int64_t> ConcatAxisAttribute(const Node& node, int64_t opset);

// Concat's copies: with the output `out` (ConcatOutputShape) viewed as
// [outer, out[axis] * inner], calls copy(x, dims, src_strides, dst_strides,
// offset) for each input: x's [outer, row] block goes to the output's column
// band starting at element `offset`; stops at the first error.
template <typename Copy>
absl::Status ForEachConcatBand(absl::Span<const Tensor* const> xs, const Shape& out, int axis,
                               Copy&& copy) {
  const int64_t outer = NumElements(absl::MakeConstSpan(out).subspan(0, axis));
  const int64_t inner = NumElements(absl::MakeConstSpan(out).subspan(axis + 1));
  const int64_t out_row = out[axis] * inner;
  int64_t offset = 0;
  for (const Tensor* x : xs) {
    const int64_t row = x->dim(axis) * inner;
    const int64_t dims[2] = {outer, row};
    const int64_t src_strides[2] = {row, 1};
    const int64_t dst_strides[2] = {out_row, 1};
    absl::Status status = copy(*x, dims, src_strides, dst_strides, offset);
    if (!status.ok()) return status;
    offset += row;
  }
  return absl::OkStatus();
}

// Gather's checks, shared by the CPU and CUDA kernels: `axis` normalized
// against the data's rank, the int32/int64 indices read from the host tensor
// `idx`, range-checked and made non-negative, and the output shape. The data
// is viewed as [outer, dim, row_bytes]; the output as [outer, n, row_bytes].
struct GatherArgs {
  int axis = 0;
  std::vector<int64_t> indices;
  Shape shape;
  int64_t outer = 1, dim = 0, n = 0, row_bytes = 0;
};
absl::StatusOr<GatherArgs> ResolveGather(const Node& node, const Tensor& x, const Tensor& idx,
                                         int64_t axis);

using KernelOr = absl::StatusOr<std::unique_ptr<Kernel>>;

// Registers `factory` for op `op_type` (ONNX domain, CPU) at every version in
// `versions`; the factory receives the model's opset.
void RegisterCpu(OpRegistry& registry, const char* op_type, std::initializer_list<int> versions,
                 KernelFactory factory);

// The kernels of reshape_cpu.cc. They read the data input's shape only (never
// its elements), the shape/axes operands on the host, and return views of the
// data input (Shape, Size: host int64 tensors), so shape_views_cuda.cc runs
// them on device tensors too.
KernelOr CreateReshapeKernel(const Node& node, int64_t opset);
KernelOr CreateFlattenKernel(const Node& node, int64_t opset);
KernelOr CreateSqueezeKernel(const Node& node, int64_t opset);
KernelOr CreateUnsqueezeKernel(const Node& node, int64_t opset);
KernelOr CreateShapeKernel(const Node& node, int64_t opset);
KernelOr CreateSizeKernel(const Node& node, int64_t opset);

// Registration of each source file's ops.
void RegisterReshapeOps(OpRegistry& registry);  // Reshape, Flatten, Squeeze, Unsqueeze, Shape, Size
void RegisterTransposeOps(OpRegistry& registry);    // Transpose
void RegisterConcatSplitOps(OpRegistry& registry);  // Concat, Split
void RegisterSliceGatherOps(OpRegistry& registry);  // Slice, Gather
void RegisterBroadcastOps(OpRegistry& registry);    // Expand, Tile, Where
void RegisterPadOps(OpRegistry& registry);          // Pad
void RegisterConstantOps(OpRegistry& registry);     // Constant, ConstantOfShape, Range, Dropout
void RegisterCastOps(OpRegistry& registry);         // Cast
void RegisterResizeOps(OpRegistry& registry);       // Upsample, Resize (kernels + shape fns)
void RegisterTensorGradOps(OpRegistry& registry);   // com.onyx ConcatGrad, SliceGrad, ... (+ shape fns)
void RegisterTensorGradients(OpRegistry& registry);  // gradient builders of the family
void RegisterOnyxCastLike(OpRegistry& registry);     // com.onyx CastLike (+ shape fn)

}  // namespace onyx::tensor
