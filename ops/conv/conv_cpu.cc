// Conv (opset 1, 11) and com.onyx FusedConv on oneDNN convolution_forward,
// float32. One kernel class serves both: FusedConv adds an activation
// (eltwise post-op) and an optional residual Z (sum post-op, applied first):
// Y = act(conv(X, W) + B + Z).
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "absl/strings/str_format.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "ops/conv/conv_activation.h"
#include "ops/conv/conv_choice.h"
#include "ops/conv/conv_dnnl.h"
#include "ops/conv/conv_kernels.h"
#include "runtime/dnnl_context.h"
#include "runtime/status_macros.h"
#include "runtime/tensor_layout.h"

namespace onyx::conv {
namespace {

using dnnl::algorithm;
using dnnl::memory;

class ConvKernel final : public Kernel {
 public:
  ConvKernel(ConvAttrs attrs, Activation act) : attrs_(std::move(attrs)), act_(act) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* w, ctx.RequiredInput(1));
    const Tensor* b = ctx.input(2);
    const Tensor* z = ctx.input(3);
    ONYX_RETURN_IF_ERROR(CheckFloat(node, "X", x));
    ONYX_RETURN_IF_ERROR(CheckFloat(node, "W", w));
    ONYX_RETURN_IF_ERROR(CheckFloat(node, "B", b));
    ONYX_RETURN_IF_ERROR(CheckFloat(node, "Z", z));
    ONYX_ASSIGN_OR_RETURN(const ConvGeometry g, ResolveConv(node, attrs_, x->shape(), w->shape()));
    const Shape y_shape = g.OutputShape();
    if (b != nullptr && b->shape() != Shape{g.out_channels}) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: input B has shape %s, expected [%d] (W's output channels)",
                          node.Describe(), ShapeToString(b->shape()), g.out_channels));
    }
    if (z != nullptr && z->shape() != y_shape) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: input Z has shape %s, expected the output shape %s", node.Describe(),
                          ShapeToString(z->shape()), ShapeToString(y_shape)));
    }
    if (NumElements(y_shape) == 0) {
      return ctx.AllocateOutput(0, DataType::kFloat32, y_shape).status();
    }
    // W and B are normally initializers (plain); a computed one is made plain.
    Tensor w_plain, b_plain;
    if (!w->is_plain()) {
      ONYX_ASSIGN_OR_RETURN(w_plain, EnsurePlain(*w));
      w = &w_plain;
    }
    if (b != nullptr && !b->is_plain()) {
      ONYX_ASSIGN_OR_RETURN(b_plain, EnsurePlain(*b));
      b = &b_plain;
    }
    ONYX_ASSIGN_OR_RETURN(const ForwardPlan* plan,
                          GetPlan(node, g, x->shape(), w->shape(), b != nullptr, z != nullptr));
    // Layout propagation: leave Y in the layout the primitive computes it in
    // (no reorder here; the session reorders for consumers that need plain).
    std::shared_ptr<const TensorLayout> layout =
        ctx.blocked_outputs_allowed() ? plan->dst_layout : nullptr;
    // With a residual, Y may take over Z's buffer (the sum post-op reads it),
    // unless Z is also read as X, W or B.
    Tensor* y;
    const void* zp = z != nullptr ? z->raw_data() : nullptr;
    if (z != nullptr && zp != x->raw_data() && zp != w->raw_data() &&
        (b == nullptr || zp != b->raw_data())) {
      ONYX_ASSIGN_OR_RETURN(y, ctx.AllocateOutputWithLayoutMaybeInPlace(0, 3, DataType::kFloat32,
                                                                        y_shape, layout));
    } else {
      ONYX_ASSIGN_OR_RETURN(y,
                            ctx.AllocateOutputWithLayout(0, DataType::kFloat32, y_shape, layout));
    }
    return plan->Run(weights_, *x, *w, b, z, z != nullptr && y->raw_data() == z->raw_data(), *y);
  }

  // X and Z may arrive in a blocked layout (layout propagation).
  bool AcceptsBlockedInputs() const override { return true; }

 private:
  absl::StatusOr<const ForwardPlan*> GetPlan(const Node& node, const ConvGeometry& g,
                                             const Shape& x, const Shape& w, bool has_bias,
                                             bool has_sum) {
    auto key = std::make_tuple(x, w, has_bias, has_sum);
    auto it = plans_.find(key);
    if (it != plans_.end()) return it->second.get();
    if (plans_.size() >= kMaxCachedShapes) plans_.clear();  // many shapes: start over
    auto plan = std::make_unique<ForwardPlan>();
    try {
      plan->src_plain = ActivationDesc(x, false);
      plan->weights_plain = ConvWeightsDesc(g, false);
      plan->dst_plain = ActivationDesc(g.OutputShape(), false);
      plan->has_bias = has_bias;
      plan->has_sum = has_sum;
      if (has_bias) plan->bias = PlainDesc({g.out_channels});
      dnnl::post_ops ops;
      if (has_sum) ops.append_sum(1.f);
      if (act_.present) ops.append_eltwise(1.f, act_.alg, act_.alpha, act_.beta);
      dnnl::primitive_attr attr = UserScratchpadAttr();
      attr.set_post_ops(ops);
      const auto pd = ChooseConvPd(g, x, attr, has_bias ? plan->bias : memory::desc());
      plan->Adopt(pd);
      plan->prim = dnnl::convolution_forward(pd);
    } catch (const dnnl::error& e) {
      return DnnlError(node.Describe() + " convolution primitive creation", e);
    }
    return plans_.emplace(std::move(key), std::move(plan)).first->second.get();
  }

  ConvAttrs attrs_;
  Activation act_;
  WeightCache weights_;
  std::map<std::tuple<Shape, Shape, bool, bool>, std::unique_ptr<ForwardPlan>> plans_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> CreateConvKernel(const Node& node, int64_t /*opset*/) {
  ONYX_ASSIGN_OR_RETURN(ConvAttrs attrs, ParseConvAttrs(node, /*transpose=*/false));
  Activation act;
  if (node.domain == kOnyxDomain) {
    ONYX_ASSIGN_OR_RETURN(act, ParseActivation(node));
  }
  return std::make_unique<ConvKernel>(std::move(attrs), act);
}

}  // namespace onyx::conv
