// Transpose-1, 13, 21: y[i_0..i_r] = x at index i permuted by `perm` (default:
// reversed dims). float32 runs as a oneDNN reorder (cached per input shape);
// every other dtype through the byte-level strided copy.
#include <memory>
#include <numeric>
#include <optional>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/dnnl_context.h"
#include "runtime/status_macros.h"

namespace onyx::tensor {
namespace {

// True when the dims of size > 1 appear in `perm` in increasing order: then
// the transpose does not reorder any element.
bool KeepsElementOrder(const Shape& in, const std::vector<int>& perm) {
  int last = -1;
  for (int p : perm) {
    if (in[p] == 1) continue;
    if (p < last) return false;
    last = p;
  }
  return true;
}

class TransposeKernel : public Kernel {
 public:
  static KernelOr Create(const Node& node, int64_t opset) {
    auto k = std::make_unique<TransposeKernel>();
    if (node.FindAttribute("perm") != nullptr) {
      ONYX_ASSIGN_OR_RETURN(std::vector<int64_t> perm, node.GetInts("perm", {}));
      k->perm_ = std::move(perm);
    }
    return k;
  }

  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    const int rank = x->rank();
    std::vector<int> perm(rank);
    if (perm_) {
      if (static_cast<int>(perm_->size()) != rank) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: perm [%s] has %d entries but the input %s has rank %d", ctx.node().Describe(),
            absl::StrJoin(*perm_, ","), perm_->size(), x->DebugString(), rank));
      }
      std::vector<bool> seen(rank, false);
      for (int i = 0; i < rank; ++i) {
        const int64_t p = (*perm_)[i];
        if (p < 0 || p >= rank || seen[p]) {
          return absl::InvalidArgumentError(
              absl::StrFormat("%s: perm [%s] is not a permutation of 0..%d", ctx.node().Describe(),
                              absl::StrJoin(*perm_, ","), rank - 1));
        }
        seen[p] = true;
        perm[i] = static_cast<int>(p);
      }
    } else {
      for (int i = 0; i < rank; ++i) perm[i] = rank - 1 - i;
    }
    const std::vector<int64_t> in_strides = ContiguousStrides(x->shape());
    Shape out(rank);
    std::vector<int64_t> src_strides(rank);
    for (int i = 0; i < rank; ++i) {
      out[i] = x->dim(perm[i]);
      src_strides[i] = in_strides[perm[i]];
    }
    if (KeepsElementOrder(x->shape(), perm)) {
      // Only size-1 dims move ([1, L, E] -> [L, 1, E] at batch 1): the bytes are
      // already in output order, so the output is a view, as Reshape makes.
      ONYX_ASSIGN_OR_RETURN(Tensor view, x->Reshaped(std::move(out)));
      ctx.SetOutput(0, std::move(view));
      return absl::OkStatus();
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), out));
    if (y->num_elements() == 0) return absl::OkStatus();
    if (x->dtype() == DataType::kFloat32 && rank >= 1 && rank <= DNNL_MAX_NDIMS) {
      return Reorder(*x, out, src_strides, *y);
    }
    StridedCopy(DataTypeSize(x->dtype()), out, x->raw_data(), src_strides, y->raw_data(),
                ContiguousStrides(out));
    return absl::OkStatus();
  }

 private:
  // The input read in output order is a strided f32 view; reorder it to plain.
  absl::Status Reorder(const Tensor& x, const Shape& out, const std::vector<int64_t>& src_strides,
                       Tensor& y) {
    try {
      if (!cached_ || cached_shape_ != x.shape()) {
        const dnnl::memory::dims dims(out.begin(), out.end());
        const dnnl::memory::dims strides(src_strides.begin(), src_strides.end());
        src_md_ = dnnl::memory::desc(dims, dnnl::memory::data_type::f32, strides);
        dst_md_ = PlainDesc(out);
        cached_ = dnnl::reorder(
            dnnl::reorder::primitive_desc(CpuEngine(), src_md_, CpuEngine(), dst_md_));
        cached_shape_ = x.shape();
      }
      dnnl::memory src = AsDnnlMemory(src_md_, x);
      dnnl::memory dst = AsDnnlMemory(dst_md_, y);
      cached_->execute(CpuStream(), src, dst);
      CpuStream().wait();
    } catch (const dnnl::error& e) {
      return DnnlError("Transpose reorder", e);
    }
    return absl::OkStatus();
  }

  std::optional<std::vector<int64_t>> perm_;
  std::optional<dnnl::reorder> cached_;
  Shape cached_shape_;
  dnnl::memory::desc src_md_, dst_md_;
};

}  // namespace

void RegisterTransposeOps(OpRegistry& registry) {
  RegisterCpu(registry, "Transpose", {1, 13, 21}, &TransposeKernel::Create);
}

}  // namespace onyx::tensor
