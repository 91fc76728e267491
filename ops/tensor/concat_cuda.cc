// CUDA Concat (1, 4, 11, 13) for every dtype: the output viewed as
// [outer, sum_k n_k * inner], each input [outer, n_k * inner] moved into its
// column band by one strided copy (a plain memcpy when outer is 1).
// Inputs are kWhereItIs: left where they are. When none is on the device
// (shape arithmetic: Unsqueeze -> Concat -> Reshape) the CPU kernel runs in
// place (Unimplemented), so shape values make no device round trip; otherwise
// the host ones (constants) are uploaded here and the join runs on the device.
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/register_all.h"
#include "ops/tensor/tensor_util.h"
#include "ops/tensor/transpose_cuda.h"
#include "ops/tensor/transpose_cuda_plan.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cuda_status.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

class ConcatCudaKernel final : public Kernel {
 public:
  explicit ConcatCudaKernel(int64_t axis) : axis_(axis) {}

  InputMemory input_memory(int) const override { return InputMemory::kWhereItIs; }

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(std::vector<const Tensor*> xs, tensor::ConcatInputs(ctx));
    bool any_on_device = false;
    for (const Tensor* x : xs) any_on_device = any_on_device || x->on_device();
    if (!any_on_device) {
      return absl::UnimplementedError(absl::StrFormat(
          "%s: every input is on the host; the CPU kernel runs them there", node.Describe()));
    }
    // The CPU kernel's checks, with its messages.
    const Tensor& first = *xs[0];
    int axis = 0;
    ONYX_ASSIGN_OR_RETURN(const Shape out, tensor::ConcatOutputShape(node, xs, axis_, &axis));
    std::vector<Tensor> uploaded;  // device copies of the host inputs, for this call
    uploaded.reserve(xs.size());
    for (const Tensor*& x : xs) {
      if (x->on_device() || x->num_elements() == 0) continue;
      ONYX_ASSIGN_OR_RETURN(Tensor copy, backend->ToDevice(*x));
      uploaded.push_back(std::move(copy));
      x = &uploaded.back();
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, first.dtype(), out));
    if (y->num_elements() == 0) return absl::OkStatus();
    const size_t es = DataTypeSize(first.dtype());
    return tensor::ForEachConcatBand(
        xs, out, axis,
        [&](const Tensor& x, absl::Span<const int64_t> dims, absl::Span<const int64_t> src_strides,
            absl::Span<const int64_t> dst_strides, int64_t offset) -> absl::Status {
          ONYX_ASSIGN_OR_RETURN(const tensor::CopyPlan plan,
                                tensor::MakeCopyPlan(dims, src_strides, dst_strides));
          return CudaStatus(StridedCopy(es, plan, x.raw_data(),
                                        static_cast<char*>(y->raw_data()) + offset * es,
                                        backend->stream()),
                            "Concat kernel");
        });
  }

 private:
  int64_t axis_;
};

absl::StatusOr<std::unique_ptr<Kernel>> CreateConcatCudaKernel(const Node& node, int64_t opset) {
  ONYX_ASSIGN_OR_RETURN(const int64_t axis, tensor::ConcatAxisAttribute(node, opset));
  return std::unique_ptr<Kernel>(new ConcatCudaKernel(axis));
}

}  // namespace

void RegisterConcatCudaOps(OpRegistry& registry) {
  for (int v : {1, 4, 11, 13}) {
    registry.Register(kOnnxDomain, "Concat", v, Device::kCuda, CreateConcatCudaKernel);
  }
}

}  // namespace onyx::cuda
