// com.onyx MaxPoolGrad and AveragePoolGrad: inputs (dY, X), the forward node's
// attributes, output dX of X's shape. MaxPool routes each dY to the first
// maximum of its window (re-found from X, as the forward picks it); AveragePool
// spreads dY / divisor over the window with the forward's divisor rule.
// float32 runs oneDNN's pooling backward where its geometry fits, else loops.
#include <cstdint>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/pool/pool_dnnl.h"
#include "ops/pool/pool_geometry.h"
#include "ops/pool/pool_kernels.h"
#include "ops/pool/pool_loops.h"
#include "runtime/status_macros.h"

namespace onyx::pool {
namespace {

class PoolGradKernel final : public Kernel {
 public:
  PoolGradKernel(bool max, PoolAttrs attrs)
      : max_(max),
        attrs_(std::move(attrs)),
        dnnl_(max ? PoolKind::kMax : PoolKind::kAverage, attrs_.count_include_pad,
              DnnlPooling::Pass::kBackward) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const PoolGeometry g, MakePoolGeometry(node, attrs_, x->shape()));
    if (dy->dtype() != x->dtype() || dy->shape() != g.output_shape) {
      return absl::FailedPreconditionError(
          absl::StrFormat("%s: dY is %s, expected %s[%s] (the pooled shape of X %s)",
                          node.Describe(), dy->DebugString(), DataTypeName(x->dtype()),
                          ShapeToString(g.output_shape), x->DebugString()));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    if (dx->num_elements() == 0) return absl::OkStatus();
    if (x->dtype() == DataType::kFloat32 && dy->num_elements() > 0 &&
        dnnl_.Prepare(g, x->shape())) {
      return dnnl_.Backward(*dy, *x, *dx);
    }
    switch (x->dtype()) {
      case DataType::kFloat32:
        Run(g, *dy, *x, dx->data<float>());
        return absl::OkStatus();
      case DataType::kFloat64:
        Run(g, *dy, *x, dx->data<double>());
        return absl::OkStatus();
      default:
        return absl::UnimplementedError(
            absl::StrFormat("%s: no CPU kernel for dtype %s (float32, float64)", node.Describe(),
                            DataTypeName(x->dtype())));
    }
  }

 private:
  template <typename T>
  void Run(const PoolGeometry& g, const Tensor& dy, const Tensor& x, T* dx) {
    if (max_) {
      MaxPoolBackwardLoop(g, dy.data<T>(), x.data<T>(), dx);
    } else {
      AveragePoolBackwardLoop(g, attrs_.count_include_pad, dy.data<T>(), dx);
    }
  }

  bool max_;
  PoolAttrs attrs_;
  DnnlPooling dnnl_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> CreatePoolGradKernel(const Node& node, int64_t /*opset*/) {
  const bool max = node.op_type == "MaxPoolGrad";
  if (!max && node.op_type != "AveragePoolGrad") {
    return absl::UnimplementedError(
        absl::StrFormat("%s: not MaxPoolGrad or AveragePoolGrad", node.Describe()));
  }
  ONYX_ASSIGN_OR_RETURN(PoolAttrs attrs, ParsePoolAttrs(node));
  return std::unique_ptr<Kernel>(new PoolGradKernel(max, std::move(attrs)));
}

}  // namespace onyx::pool
