// CUDA LayerNormalization (17) and com.onyx LayerNormalizationGrad, float32
// and float64, when Scale (and B) hold exactly X's normalized dims (what every
// exporter writes); broadcast Scale/B shapes report Unimplemented and run on
// the CPU kernel. Outputs as the CPU kernel's (layer_norm_cpu.cc): Y, and the
// optional Mean and InvStdDev of X's dims with dims[axis:] set to 1.
#include "ops/norm/layernorm_cuda.h"

#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/norm/norm_util.h"
#include "ops/register_all.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cuda_status.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

// The CPU kernel's row view and checks (layer_norm_cpu.cc), plus the
// normalized dims the CUDA kernels require of Scale and B.
struct RowView : norm::LayerNormRows {
  Shape inner_dims;
};

RowView WithInnerDims(const norm::LayerNormRows& rows, const Tensor& x) {
  RowView v;
  static_cast<norm::LayerNormRows&>(v) = rows;
  v.inner_dims.assign(x.shape().begin() + v.axis, x.shape().end());
  return v;
}

// float32/float64 X, and each parameter of X's dtype and exactly the normalized
// dims; Unimplemented otherwise (the CPU kernel takes broadcast parameters).
absl::Status CheckSupported(const Node& node, const Tensor& x, const RowView& v,
                            std::initializer_list<std::pair<const char*, const Tensor*>> params) {
  if (x.dtype() != DataType::kFloat32 && x.dtype() != DataType::kFloat64) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: the CUDA kernel takes float32/float64 X, got %s", node.Describe(), x.DebugString()));
  }
  for (const auto& [name, t] : params) {
    if (t == nullptr) continue;
    if (t->dtype() != x.dtype() || t->shape() != v.inner_dims) {
      return absl::UnimplementedError(absl::StrFormat(
          "%s: the CUDA kernel takes %s of X's dtype and normalized dims %s, got %s",
          node.Describe(), name, ShapeToString(v.inner_dims), t->DebugString()));
    }
  }
  return absl::OkStatus();
}

class LayerNormCudaKernel final : public Kernel {
 public:
  LayerNormCudaKernel(int64_t axis, float epsilon) : axis_(axis), epsilon_(epsilon) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* scale, ctx.RequiredInput(1));
    const Tensor* bias = ctx.input(2);
    ONYX_ASSIGN_OR_RETURN(const norm::LayerNormRows rows,
                          norm::LayerNormRowView(node, *x, axis_));
    const RowView v = WithInnerDims(rows, *x);
    ONYX_RETURN_IF_ERROR(CheckSupported(node, *x, v, {{"Scale", scale}, {"B", bias}}));
    // Empty rows: the launcher writes nothing, so Mean / InvStdDev would be
    // left uninitialized; the CPU kernel writes them.
    if (v.inner == 0 && v.outer > 0 && (ctx.wants_output(1) || ctx.wants_output(2))) {
      return absl::UnimplementedError(absl::StrFormat(
          "%s: X %s has empty normalized dims; the CPU kernel writes their statistics",
          node.Describe(), x->DebugString()));
    }
    ONYX_ASSIGN_OR_RETURN(const norm::LayerNormOutputs outs,
                          norm::AllocateLayerNormOutputs(ctx, *x, v));
    Tensor* y = outs.y;
    Tensor* const* stats = outs.stats;
    cudaError_t error;
    if (x->dtype() == DataType::kFloat32) {
      error = LayerNormForward<float>(x->data<float>(), scale->data<float>(),
                                      bias ? bias->data<float>() : nullptr, y->data<float>(),
                                      stats[0] ? stats[0]->data<float>() : nullptr,
                                      stats[1] ? stats[1]->data<float>() : nullptr, v.outer,
                                      v.inner, epsilon_, backend->stream());
    } else {
      error = LayerNormForward<double>(x->data<double>(), scale->data<double>(),
                                       bias ? bias->data<double>() : nullptr, y->data<double>(),
                                       stats[0] ? stats[0]->data<double>() : nullptr,
                                       stats[1] ? stats[1]->data<double>() : nullptr, v.outer,
                                       v.inner, static_cast<double>(epsilon_), backend->stream());
    }
    return CudaStatus(error, "LayerNormalization kernel");
  }

 private:
  int64_t axis_;
  float epsilon_;
};

// LayerNormalizationGrad(dY, X, Scale[, B]) -> (dX, dScale, dB); B is read only
// for its shape (dB's), so it is never copied to the device.
class LayerNormGradCudaKernel final : public Kernel {
 public:
  LayerNormGradCudaKernel(int64_t axis, float epsilon) : axis_(axis), epsilon_(epsilon) {}

  InputMemory input_memory(int i) const override {
    return i == 3 ? InputMemory::kShapeOnly : InputMemory::kDevice;
  }

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const Tensor* scale, ctx.RequiredInput(2));
    const Tensor* bias_like = ctx.input(3);
    ONYX_ASSIGN_OR_RETURN(const norm::LayerNormRows rows,
                          norm::LayerNormGradRowView(node, *dy, *x, axis_));
    const RowView v = WithInnerDims(rows, *x);
    ONYX_RETURN_IF_ERROR(CheckSupported(node, *x, v, {{"Scale", scale}, {"B", bias_like}}));
    Tensor* outs[3] = {nullptr, nullptr, nullptr};
    for (int i = 0; i < 3 && i < ctx.num_outputs(); ++i) {
      if (!ctx.wants_output(i)) continue;
      const Shape& shape = i == 0 ? x->shape() : v.inner_dims;
      ONYX_ASSIGN_OR_RETURN(outs[i], ctx.AllocateOutput(i, x->dtype(), shape));
    }
    const int64_t chunks = LayerNormGradChunks(v.outer);
    ONYX_ASSIGN_OR_RETURN(Tensor row_stats,
                          backend->Allocate(x->dtype(), {2 * v.outer}, ctx.max_tensor_bytes()));
    ONYX_ASSIGN_OR_RETURN(
        Tensor partials,
        backend->Allocate(DataType::kFloat64, {2 * chunks * v.inner}, ctx.max_tensor_bytes()));
    cudaError_t error;
    if (x->dtype() == DataType::kFloat32) {
      error = LayerNormBackward<float>(
          dy->data<float>(), x->data<float>(), scale->data<float>(),
          outs[0] ? outs[0]->data<float>() : nullptr, outs[1] ? outs[1]->data<float>() : nullptr,
          outs[2] ? outs[2]->data<float>() : nullptr, v.outer, v.inner, epsilon_,
          row_stats.data<float>(), partials.data<double>(), backend->stream());
    } else {
      error = LayerNormBackward<double>(
          dy->data<double>(), x->data<double>(), scale->data<double>(),
          outs[0] ? outs[0]->data<double>() : nullptr, outs[1] ? outs[1]->data<double>() : nullptr,
          outs[2] ? outs[2]->data<double>() : nullptr, v.outer, v.inner,
          static_cast<double>(epsilon_), row_stats.data<double>(), partials.data<double>(),
          backend->stream());
    }
    return CudaStatus(error, "LayerNormalizationGrad kernels");
  }

 private:
  int64_t axis_;
  float epsilon_;
};

absl::StatusOr<std::unique_ptr<Kernel>> CreateLayerNormCudaKernel(const Node& node, int64_t) {
  ONYX_ASSIGN_OR_RETURN(const auto ae, norm::LayerNormAxisEpsilon(node));
  return std::unique_ptr<Kernel>(new LayerNormCudaKernel(ae.first, ae.second));
}

absl::StatusOr<std::unique_ptr<Kernel>> CreateLayerNormGradCudaKernel(const Node& node, int64_t) {
  ONYX_ASSIGN_OR_RETURN(const auto ae, norm::LayerNormAxisEpsilon(node));
  return std::unique_ptr<Kernel>(new LayerNormGradCudaKernel(ae.first, ae.second));
}

}  // namespace

void RegisterLayerNormCudaOps(OpRegistry& registry) {
  registry.Register(kOnnxDomain, "LayerNormalization", 17, Device::kCuda,
                    CreateLayerNormCudaKernel);
  registry.Register(kOnyxDomain, "LayerNormalizationGrad", 1, Device::kCuda,
                    CreateLayerNormGradCudaKernel);
}

}  // namespace onyx::cuda
