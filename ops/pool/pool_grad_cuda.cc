// com.onyx MaxPoolGrad, AveragePoolGrad (dY, X) -> dX and GlobalAveragePoolGrad
// (dY, X) -> dX on CUDA, float32 and float64, for every geometry the CPU
// kernels take (1-D to 3-D, pads even or not, strides, dilations, ceil_mode,
// count_include_pad). Custom kernels rather than cudnnPoolingBackward: see
// pool_grad_math.h (tie rule, dilations, ceil_mode). Other dtypes return
// Unimplemented before touching the output, so the session runs the CPU kernel.
#include "ops/pool/pool_grad_cuda.h"

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/pool/pool_cuda_mapping.h"
#include "ops/pool/pool_geometry.h"
#include "ops/register_all.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cuda_status.h"
#include "runtime/cuda/cudnn_descriptors.h"  // AtNode
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

enum class GradOp { kMax, kAverage, kGlobalAverage };

absl::Status CheckDtypes(const Node& node, const Tensor& dy, const Tensor& x) {
  if (x.dtype() != DataType::kFloat32 && x.dtype() != DataType::kFloat64) {
    return absl::UnimplementedError(
        absl::StrFormat("%s: the CUDA %s kernel takes float32 or float64 X, got %s",
                        node.Describe(), node.op_type, x.DebugString()));
  }
  if (dy.dtype() != x.dtype()) {
    return absl::FailedPreconditionError(absl::StrFormat("%s: dY is %s, expected the dtype of X %s",
                                                         node.Describe(), dy.DebugString(),
                                                         x.DebugString()));
  }
  return absl::OkStatus();
}

class PoolGradCudaKernel final : public Kernel {
 public:
  PoolGradCudaKernel(GradOp op, pool::PoolAttrs attrs) : op_(op), attrs_(std::move(attrs)) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(1));
    ONYX_RETURN_IF_ERROR(CheckDtypes(node, *dy, *x));
    if (op_ == GradOp::kGlobalAverage) return GlobalAverage(ctx, *backend, *dy, *x);
    ONYX_ASSIGN_OR_RETURN(const pool::PoolGeometry g,
                          pool::MakePoolGeometry(node, attrs_, x->shape()));
    if (dy->shape() != g.output_shape) {
      return absl::FailedPreconditionError(
          absl::StrFormat("%s: dY is %s, expected %s[%s] (the pooled shape of X %s)",
                          node.Describe(), dy->DebugString(), DataTypeName(x->dtype()),
                          ShapeToString(g.output_shape), x->DebugString()));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    if (dx->num_elements() == 0) return absl::OkStatus();
    const pool::PoolGradDims dims = pool::ToPoolGradDims(g);
    const cudaStream_t stream = backend->stream();
    cudaError_t error = cudaSuccess;
    if (x->dtype() == DataType::kFloat32) {
      error = op_ == GradOp::kMax
                  ? MaxPoolBackward(dims, dy->data<float>(), x->data<float>(), dx->data<float>(),
                                    stream)
                  : AveragePoolBackward(dims, attrs_.count_include_pad, dy->data<float>(),
                                        dx->data<float>(), stream);
    } else {
      error = op_ == GradOp::kMax
                  ? MaxPoolBackward(dims, dy->data<double>(), x->data<double>(), dx->data<double>(),
                                    stream)
                  : AveragePoolBackward(dims, attrs_.count_include_pad, dy->data<double>(),
                                        dx->data<double>(), stream);
    }
    return AtNode(
        node, CudaStatus(error, op_ == GradOp::kMax ? "MaxPoolBackward" : "AveragePoolBackward"));
  }

 private:
  // dX = dY / (spatial size), broadcast over each (n, c) plane.
  static absl::Status GlobalAverage(KernelContext& ctx, CudaBackend& backend, const Tensor& dy,
                                    const Tensor& x) {
    const Node& node = ctx.node();
    if (x.rank() < 2) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: input X has shape %s, expected rank >= 2 ([N, C, D1, ...])",
                          node.Describe(), ShapeToString(x.shape())));
    }
    const int64_t planes = x.dim(0) * x.dim(1);
    const int64_t size = planes == 0 ? 0 : x.num_elements() / planes;
    if (dy.num_elements() != planes) {
      return absl::FailedPreconditionError(
          absl::StrFormat("%s: dY %s must hold one %s value per (n, c) of X %s", node.Describe(),
                          dy.DebugString(), DataTypeName(x.dtype()), x.DebugString()));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutput(0, x.dtype(), x.shape()));
    const cudaError_t error = x.dtype() == DataType::kFloat32
                                  ? GlobalAveragePoolBackward(dy.data<float>(), dx->data<float>(),
                                                              planes, size, backend.stream())
                                  : GlobalAveragePoolBackward(dy.data<double>(), dx->data<double>(),
                                                              planes, size, backend.stream());
    return AtNode(node, CudaStatus(error, "GlobalAveragePoolBackward"));
  }

  GradOp op_;
  pool::PoolAttrs attrs_;  // unused by GlobalAveragePoolGrad
};

absl::StatusOr<std::unique_ptr<Kernel>> MakeWindowPoolGrad(const Node& node, int64_t) {
  ONYX_ASSIGN_OR_RETURN(pool::PoolAttrs attrs, pool::ParsePoolAttrs(node));
  const GradOp op = node.op_type == "MaxPoolGrad" ? GradOp::kMax : GradOp::kAverage;
  return std::unique_ptr<Kernel>(new PoolGradCudaKernel(op, std::move(attrs)));
}

absl::StatusOr<std::unique_ptr<Kernel>> MakeGlobalAveragePoolGrad(const Node&, int64_t) {
  return std::unique_ptr<Kernel>(new PoolGradCudaKernel(GradOp::kGlobalAverage, {}));
}

}  // namespace

void RegisterPoolGradCudaOps(OpRegistry& registry) {
  registry.Register(kOnyxDomain, "MaxPoolGrad", 1, Device::kCuda, MakeWindowPoolGrad);
  registry.Register(kOnyxDomain, "AveragePoolGrad", 1, Device::kCuda, MakeWindowPoolGrad);
  registry.Register(kOnyxDomain, "GlobalAveragePoolGrad", 1, Device::kCuda,
                    MakeGlobalAveragePoolGrad);
}

}  // namespace onyx::cuda
