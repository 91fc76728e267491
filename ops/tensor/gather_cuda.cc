// CUDA Gather (1, 11, 13) for every dtype. The indices are read on the host
// (InputMemory::kHost): they are small (token ids, positions) and usually a
// graph input already on the host, and checking them there makes an
// out-of-range index the CPU kernel's InvalidArgument, raised before any
// output is touched, rather than a device fault or a flag read back after the
// launch. The checked, non-negative int64 indices then go up to the device
// (stream-ordered, so the scratch buffer may be released right after).
//
// The data is kWhereItIs: left where it is. On the device it is gathered here;
// on the host (Shape -> Gather of shape arithmetic, or a constant table no
// device kernel reads) the CPU kernel runs it in place (Unimplemented), so
// shape values never make a device round trip.
#include "ops/tensor/gather_cuda.h"

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/register_all.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cuda_status.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

class GatherCudaKernel final : public Kernel {
 public:
  explicit GatherCudaKernel(int64_t axis) : axis_(axis) {}

  InputMemory input_memory(int i) const override {
    return i == 1 ? InputMemory::kHost : InputMemory::kWhereItIs;
  }

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* idx, ctx.RequiredInput(1));
    if (!x->on_device()) {
      return absl::UnimplementedError(
          absl::StrFormat("%s: data %s is on the host; the CPU kernel runs it there",
                          node.Describe(), x->DebugString()));
    }
    if (idx->on_device()) {  // the session places it on the host; never read device memory
      return absl::InternalError(absl::StrFormat("%s: indices %s are not on the host",
                                                 node.Describe(), idx->DebugString()));
    }
    // The CPU kernel's checks, with its messages.
    ONYX_ASSIGN_OR_RETURN(const tensor::GatherArgs args,
                          tensor::ResolveGather(node, *x, *idx, axis_));
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), args.shape));
    if (y->num_elements() == 0) return absl::OkStatus();
    const std::vector<int64_t>& indices = args.indices;
    const int64_t n = args.n;
    ONYX_ASSIGN_OR_RETURN(Tensor device_indices,
                          backend->Allocate(DataType::kInt64, {n}, ctx.max_tensor_bytes()));
    // From pageable memory: returns once `indices` is staged, so it may go out of scope.
    ONYX_RETURN_IF_ERROR(CudaStatus(cudaMemcpyAsync(device_indices.raw_data(), indices.data(),
                                                    static_cast<size_t>(n) * sizeof(int64_t),
                                                    cudaMemcpyHostToDevice, backend->stream()),
                                    "Gather indices upload"));
    return CudaStatus(GatherRows(x->raw_data(), device_indices.data<int64_t>(), y->raw_data(),
                                 args.outer, args.dim, n, args.row_bytes, backend->stream()),
                      "Gather kernel");
  }

 private:
  int64_t axis_;
};

absl::StatusOr<std::unique_ptr<Kernel>> CreateGatherCudaKernel(const Node& node, int64_t) {
  ONYX_ASSIGN_OR_RETURN(const int64_t axis, node.GetInt("axis", 0));
  return std::unique_ptr<Kernel>(new GatherCudaKernel(axis));
}

}  // namespace

void RegisterGatherCudaOps(OpRegistry& registry) {
  for (int v : {1, 11, 13}) {
    registry.Register(kOnnxDomain, "Gather", v, Device::kCuda, CreateGatherCudaKernel);
  }
}

}  // namespace onyx::cuda
