// CUDA Cast (6, 9, 13, 19, 21) between float32, float64, float16, bfloat16,
// int8, uint8, int32, int64 and bool; other dtypes report Unimplemented before
// any output is made, and the session runs the CPU kernel.
// The input is kWhereItIs: left where it is. On the device it is cast here; on
// the host (shape arithmetic: Div -> Cast of int64 sizes) the CPU kernel runs
// it in place (Unimplemented), with no device round trip.
#include "ops/tensor/cast_cuda.h"

#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/register_all.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cuda_status.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

class CastCudaKernel final : public Kernel {
 public:
  explicit CastCudaKernel(DataType to) : to_(to) {}

  InputMemory input_memory(int) const override { return InputMemory::kWhereItIs; }

  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (!x->on_device()) {
      return absl::UnimplementedError(
          absl::StrFormat("%s: input %s is on the host; the CPU kernel runs it there",
                          ctx.node().Describe(), x->DebugString()));
    }
    if (x->dtype() == to_) {
      ctx.SetOutput(0, *x);
      return absl::OkStatus();
    }
    if (!CastSupported(x->dtype(), to_)) {
      return absl::UnimplementedError(
          absl::StrFormat("%s: the CUDA Cast kernel does not take %s -> %s", ctx.node().Describe(),
                          DataTypeName(x->dtype()), DataTypeName(to_)));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, to_, x->shape()));
    return CudaStatus(CastElements(x->dtype(), to_, x->raw_data(), y->raw_data(), x->num_elements(),
                                   backend->stream()),
                      "Cast kernel");
  }

 private:
  DataType to_;
};

absl::StatusOr<std::unique_ptr<Kernel>> CreateCastCudaKernel(const Node& node, int64_t) {
  if (node.FindAttribute("to") == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: attribute to is required", node.Describe()));
  }
  ONYX_ASSIGN_OR_RETURN(const int64_t to, node.GetInt("to", 0));
  const DataType type = static_cast<DataType>(to);
  if (!IsStorableType(type)) {
    return absl::UnimplementedError(absl::StrFormat("%s: cast to %s (type %d) is not supported",
                                                    node.Describe(), DataTypeName(type), to));
  }
  return std::unique_ptr<Kernel>(new CastCudaKernel(type));
}

}  // namespace

void RegisterCastCudaOps(OpRegistry& registry) {
  for (int v : {6, 9, 13, 19, 21}) {
    registry.Register(kOnnxDomain, "Cast", v, Device::kCuda, CreateCastCudaKernel);
  }
}

}  // namespace onyx::cuda
