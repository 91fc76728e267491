// com.onyx ConvGrad(dY, X, W) -> (dX, dW, dB), float32, for Conv's backward:
// dX on oneDNN convolution_backward_data, dW and dB on
// convolution_backward_weights. The node carries the forward Conv's
// attributes; any output may be omitted (""). Plain layouts throughout:
// training runs each shape's primitives without per-call reorders.
#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "absl/strings/str_format.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "ops/conv/conv_dnnl.h"
#include "ops/conv/conv_kernels.h"
#include "runtime/dnnl_context.h"
#include "runtime/status_macros.h"

namespace onyx::conv {
namespace {

using dnnl::algorithm;
using dnnl::memory;

struct GradPlan {
  memory::desc x, w, dy, b;
  std::optional<dnnl::convolution_backward_data> data;
  std::optional<dnnl::convolution_backward_weights> weights;
};

class ConvGradKernel final : public Kernel {
 public:
  explicit ConvGradKernel(ConvAttrs attrs) : attrs_(std::move(attrs)) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const Tensor* w, ctx.RequiredInput(2));
    for (const Tensor* t : {dy, x, w}) {
      if (t->dtype() != DataType::kFloat32) {
        return absl::UnimplementedError(absl::StrFormat(
            "%s: input %s is %s; the CPU kernel supports float32 only", node.Describe(),
            t == dy  ? "dY"
            : t == x ? "X"
                     : "W",
            DataTypeName(t->dtype())));
      }
    }
    ONYX_ASSIGN_OR_RETURN(const ConvGeometry g, ResolveConv(node, attrs_, x->shape(), w->shape()));
    if (dy->shape() != g.OutputShape()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: input dY has shape %s, expected the forward output shape %s", node.Describe(),
          ShapeToString(dy->shape()), ShapeToString(g.OutputShape())));
    }
    const bool want_dx = ctx.wants_output(0), want_dw = ctx.wants_output(1),
               want_db = ctx.wants_output(2);
    Tensor* dx = nullptr;
    Tensor* dw = nullptr;
    Tensor* db = nullptr;
    if (want_dx) {
      ONYX_ASSIGN_OR_RETURN(dx, ctx.AllocateOutput(0, DataType::kFloat32, x->shape()));
    }
    if (want_dw) {
      ONYX_ASSIGN_OR_RETURN(dw, ctx.AllocateOutput(1, DataType::kFloat32, w->shape()));
    }
    if (want_db) {
      ONYX_ASSIGN_OR_RETURN(db, ctx.AllocateOutput(2, DataType::kFloat32, {g.out_channels}));
    }
    if (dy->num_elements() == 0) {  // empty batch: zero gradients
      for (Tensor* t : {dx, dw, db}) {
        if (t != nullptr) std::fill(t->data<float>(), t->data<float>() + t->num_elements(), 0.f);
      }
      return absl::OkStatus();
    }
    ONYX_ASSIGN_OR_RETURN(const GradPlan* plan, GetPlan(node, g, x->shape(), w->shape(), want_dx,
                                                        want_dw || want_db, want_db));
    try {
      dnnl::stream& stream = CpuStream();
      const memory dy_mem = AsDnnlMemory(plan->dy, *dy);
      if (plan->data) {
        plan->data->execute(stream, {{DNNL_ARG_DIFF_DST, dy_mem},
                                     {DNNL_ARG_WEIGHTS, AsDnnlMemory(plan->w, *w)},
                                     {DNNL_ARG_DIFF_SRC, AsDnnlMemory(plan->x, *dx)}});
      }
      if (plan->weights) {
        // dW is always produced by the primitive; a scratch tensor when unwanted.
        Tensor scratch;
        if (dw == nullptr) {
          ONYX_ASSIGN_OR_RETURN(scratch, Tensor::Uninitialized(DataType::kFloat32, w->shape()));
          dw = &scratch;
        }
        std::unordered_map<int, memory> args = {
            {DNNL_ARG_DIFF_DST, dy_mem},
            {DNNL_ARG_SRC, AsDnnlMemory(plan->x, *x)},
            {DNNL_ARG_DIFF_WEIGHTS, AsDnnlMemory(plan->w, *dw)}};
        if (db != nullptr) args.emplace(DNNL_ARG_DIFF_BIAS, AsDnnlMemory(plan->b, *db));
        plan->weights->execute(stream, args);
      }
      stream.wait();
    } catch (const dnnl::error& e) {
      return DnnlError(node.Describe() + " convolution backward", e);
    }
    return absl::OkStatus();
  }

 private:
  absl::StatusOr<const GradPlan*> GetPlan(const Node& node, const ConvGeometry& g, const Shape& x,
                                          const Shape& w, bool data, bool weights, bool bias) {
    auto key = std::make_tuple(x, w, data, weights, bias);
    auto it = plans_.find(key);
    if (it != plans_.end()) return it->second.get();
    if (plans_.size() >= kMaxCachedShapes) plans_.clear();  // many shapes: start over
    auto plan = std::make_unique<GradPlan>();
    try {
      plan->x = ActivationDesc(x, false);
      plan->w = ConvWeightsDesc(g, false);
      plan->dy = ActivationDesc(g.OutputShape(), false);
      if (bias) plan->b = PlainDesc({g.out_channels});
      const auto strides = ToDnnlDims(g.strides), dilations = ToDnnlDims(g.DnnlDilations()),
                 pl = ToDnnlDims(g.pads_begin), pr = ToDnnlDims(g.pads_end);
      // The backward primitives take a forward primitive_desc as a hint.
      const auto fwd_desc = dnnl::convolution_forward::desc(
          dnnl::prop_kind::forward_training, algorithm::convolution_direct, plan->x, plan->w,
          plan->b, plan->dy, strides, dilations, pl, pr);
      const dnnl::convolution_forward::primitive_desc fwd(fwd_desc, CpuEngine());
      if (data) {
        const dnnl::convolution_backward_data::desc desc(
            algorithm::convolution_direct, plan->x, plan->w, plan->dy, strides, dilations, pl, pr);
        plan->data.emplace(dnnl::convolution_backward_data::primitive_desc(desc, CpuEngine(), fwd));
      }
      if (weights) {
        const dnnl::convolution_backward_weights::desc desc(algorithm::convolution_direct, plan->x,
                                                            plan->w, plan->b, plan->dy, strides,
                                                            dilations, pl, pr);
        plan->weights.emplace(
            dnnl::convolution_backward_weights::primitive_desc(desc, CpuEngine(), fwd));
      }
    } catch (const dnnl::error& e) {
      return DnnlError(node.Describe() + " convolution backward primitive creation", e);
    }
    return plans_.emplace(std::move(key), std::move(plan)).first->second.get();
  }

  ConvAttrs attrs_;
  std::map<std::tuple<Shape, Shape, bool, bool, bool>, std::unique_ptr<GradPlan>> plans_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> CreateConvGradKernel(const Node& node, int64_t /*opset*/) {
  ONYX_ASSIGN_OR_RETURN(ConvAttrs attrs, ParseConvAttrs(node, /*transpose=*/false));
  return std::make_unique<ConvGradKernel>(std::move(attrs));
}

}  // namespace onyx::conv
