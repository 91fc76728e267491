// Blocked tensor layouts (layout propagation through conv chains).
//
// oneDNN's convolutions run fastest on blocked layouts (nChw16c: channels in
// blocks of 16 innermost). Converting every conv's input and output between
// plain NCHW and that layout costs more than a depthwise conv itself, so a conv
// may leave its output in the layout it computed it in: the Tensor then carries
// a TensorLayout. Only kernels that say Kernel::AcceptsBlockedInputs() see such
// tensors; for every other consumer, and for graph outputs, the session turns
// them plain first (EnsurePlain), so a kernel that never heard of layouts stays
// correct. Blocked buffers may be larger than the plain data (channels padded to
// the block; oneDNN keeps the padding zero), which is why Tensor tracks
// storage_bytes() separately from byte_size().
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "runtime/tensor.h"

namespace onyx {

class TensorPool;

struct TensorLayout {
  dnnl::memory::desc desc;  // dims are the tensor's shape
};

// Bytes a buffer in `layout` needs.
size_t LayoutBytes(const TensorLayout& layout);

// The layout a oneDNN primitive chose, or null when `desc` is just the plain
// row-major layout of `shape` (plain tensors carry no layout).
std::shared_ptr<const TensorLayout> LayoutFor(const dnnl::memory::desc& desc, const Shape& shape);

// The tensor's physical layout as a oneDNN descriptor (plain f32 when it carries none).
dnnl::memory::desc PhysicalDesc(const Tensor& tensor);

// True when both tensors lay their elements out the same way in memory.
bool SameLayout(const Tensor& a, const Tensor& b);

// `tensor` itself when plain, else a plain copy (from `pool` when given).
absl::StatusOr<Tensor> EnsurePlain(const Tensor& tensor, TensorPool* pool = nullptr,
                                   int64_t max_bytes = kDefaultMaxTensorBytes);

}  // namespace onyx
