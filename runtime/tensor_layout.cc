// Blocked layouts: sizes, comparisons and the reorder back to plain.
#include "runtime/tensor_layout.h"

#include "absl/strings/str_format.h"
#include "runtime/dnnl_context.h"
#include "runtime/status_macros.h"
#include "runtime/tensor_pool.h"

namespace onyx {

size_t LayoutBytes(const TensorLayout& layout) { return layout.desc.get_size(); }

std::shared_ptr<const TensorLayout> LayoutFor(const dnnl::memory::desc& desc,
                                              const Shape& shape) {
  if (desc == PlainDesc(shape)) return nullptr;
  return std::make_shared<const TensorLayout>(TensorLayout{desc});
}

dnnl::memory::desc PhysicalDesc(const Tensor& tensor) {
  return tensor.is_plain() ? PlainDesc(tensor.shape()) : tensor.layout()->desc;
}

bool SameLayout(const Tensor& a, const Tensor& b) {
  if (a.is_plain() || b.is_plain()) return a.is_plain() == b.is_plain() && a.shape() == b.shape();
  return a.layout() == b.layout() || a.layout()->desc == b.layout()->desc;
}

absl::StatusOr<Tensor> EnsurePlain(const Tensor& tensor, TensorPool* pool, int64_t max_bytes) {
  if (tensor.is_plain()) return tensor;
  if (tensor.dtype() != DataType::kFloat32) {
    return absl::InternalError(absl::StrFormat(
        "blocked tensor %s: only float32 tensors carry blocked layouts", tensor.DebugString()));
  }
  Tensor plain;
  if (pool != nullptr) {
    ONYX_ASSIGN_OR_RETURN(plain, pool->Take(tensor.dtype(), tensor.shape(), max_bytes));
  } else {
    ONYX_ASSIGN_OR_RETURN(plain, Tensor::Uninitialized(tensor.dtype(), tensor.shape(), max_bytes));
  }
  if (plain.num_elements() == 0) return plain;
  try {
    dnnl::memory from(tensor.layout()->desc, CpuEngine(), const_cast<void*>(tensor.raw_data()));
    dnnl::memory to = AsDnnlMemory(PlainDesc(tensor.shape()), plain);
    // oneDNN's primitive cache makes re-creating this reorder cheap.
    dnnl::reorder(from, to).execute(CpuStream(), from, to);
    CpuStream().wait();
  } catch (const dnnl::error& e) {
    return DnnlError("reorder of a blocked tensor to plain", e);
  }
  return plain;
}

}  // namespace onyx
