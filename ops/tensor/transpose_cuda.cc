// CUDA Transpose (1, 13, 21) for every dtype: the permuted read planned on the
// host (transpose_cuda_plan.h) and run by the strided-copy kernels; a perm that
// only moves size-1 dims yields a view, as on the CPU.
// Data placement: X is declared kWhereItIs, so the session leaves it where it
// is. Activations are on the device and run here; a tensor still on the host
// (shape arithmetic: Shape -> Gather -> Concat -> Reshape) gets Unimplemented
// and the CPU kernel runs it in place, so no value makes a device round trip
// that the next host reader (Reshape's shape) would have to wait for.
#include "ops/tensor/transpose_cuda.h"

#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ops/register_all.h"
#include "ops/tensor/tensor_util.h"
#include "ops/tensor/transpose_cuda_plan.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cuda_status.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

absl::Status OnHost(const Node& node, const Tensor& x) {
  return absl::UnimplementedError(
      absl::StrFormat("%s: input %s is on the host; the CPU kernel runs it there", node.Describe(),
                      x.DebugString()));
}

class TransposeCudaKernel final : public Kernel {
 public:
  explicit TransposeCudaKernel(std::optional<std::vector<int64_t>> perm) : perm_(std::move(perm)) {}

  InputMemory input_memory(int) const override { return InputMemory::kWhereItIs; }

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (!x->on_device()) return OnHost(node, *x);
    const int rank = x->rank();
    std::vector<int> perm(rank);
    if (perm_) {
      // The CPU kernel's checks (transpose_cpu.cc), with its messages.
      if (static_cast<int>(perm_->size()) != rank) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: perm [%s] has %d entries but the input %s has rank %d", node.Describe(),
            absl::StrJoin(*perm_, ","), perm_->size(), x->DebugString(), rank));
      }
      std::vector<bool> seen(rank, false);
      for (int i = 0; i < rank; ++i) {
        const int64_t p = (*perm_)[i];
        if (p < 0 || p >= rank || seen[p]) {
          return absl::InvalidArgumentError(
              absl::StrFormat("%s: perm [%s] is not a permutation of 0..%d", node.Describe(),
                              absl::StrJoin(*perm_, ","), rank - 1));
        }
        seen[p] = true;
        perm[i] = static_cast<int>(p);
      }
    } else {
      for (int i = 0; i < rank; ++i) perm[i] = rank - 1 - i;
    }
    const std::vector<int64_t> in_strides = tensor::ContiguousStrides(x->shape());
    Shape out(rank);
    std::vector<int64_t> src_strides(rank);
    bool keeps_order = true;
    int last = -1;
    for (int i = 0; i < rank; ++i) {
      out[i] = x->dim(perm[i]);
      src_strides[i] = in_strides[perm[i]];
      if (x->dim(perm[i]) != 1) {
        keeps_order = keeps_order && perm[i] > last;
        last = perm[i];
      }
    }
    if (keeps_order) {  // only size-1 dims move: the bytes are already in output order
      ONYX_ASSIGN_OR_RETURN(Tensor view, x->Reshaped(std::move(out)));
      ctx.SetOutput(0, std::move(view));
      return absl::OkStatus();
    }
    ONYX_ASSIGN_OR_RETURN(const tensor::CopyPlan plan,
                          tensor::MakeCopyPlan(out, src_strides, tensor::ContiguousStrides(out)));
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), out));
    return CudaStatus(StridedCopy(DataTypeSize(x->dtype()), plan, x->raw_data(), y->raw_data(),
                                  backend->stream()),
                      "Transpose kernel");
  }

 private:
  std::optional<std::vector<int64_t>> perm_;
};

absl::StatusOr<std::unique_ptr<Kernel>> CreateTransposeCudaKernel(const Node& node, int64_t) {
  std::optional<std::vector<int64_t>> perm;
  if (node.FindAttribute("perm") != nullptr) {
    ONYX_ASSIGN_OR_RETURN(perm, node.GetInts("perm", {}));
  }
  return std::unique_ptr<Kernel>(new TransposeCudaKernel(std::move(perm)));
}

}  // namespace

void RegisterTransposeCudaOps(OpRegistry& registry) {
  for (int v : {1, 13, 21}) {
    registry.Register(kOnnxDomain, "Transpose", v, Device::kCuda, CreateTransposeCudaKernel);
  }
}

}  // namespace onyx::cuda
