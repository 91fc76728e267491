// com.onyx FusedConvDw: a pointwise (1x1, stride 1, unpadded, one group) conv
// followed by a 3x3 depthwise conv (pads 1, stride 1 or 2), as emitted by
// passes::FusePointwiseDepthwise:
//   Y = act2(dwconv(act1(conv1x1(X, W1) + B1), W2) + B2)
// Inputs X [N, C, H, W], W1 [M, C, 1, 1], B1 [M] (optional), W2 [M, 1, 3, 3],
// B2 [M] (optional). Attributes: activation* (FusedConv's, for act1),
// dw_activation* (the same names prefixed, for act2), dw_stride (1 or 2).
//
// On the CPU it is one oneDNN 1x1 convolution with post-ops [act1, depthwise,
// act2]: the 1x1 output is consumed in row blocks by the depthwise kernel, so
// the [N, M, H, W] intermediate is never written out and the pair runs as one
// parallel region. When oneDNN has no such fused primitive (or only its
// reference loop), the kernel runs the two convolutions one after the other.
#include <atomic>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "absl/strings/str_format.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "ops/conv/conv_activation.h"
#include "ops/conv/conv_choice.h"
#include "ops/conv/conv_dnnl.h"
#include "ops/conv/conv_kernels.h"
#include "runtime/dnnl_context.h"
#include "runtime/shape_inference.h"
#include "runtime/status_macros.h"
#include "runtime/tensor_layout.h"

namespace onyx::conv {
namespace {

using dnnl::memory;

constexpr int kDwArg = DNNL_ARG_ATTR_POST_OP_DW;

std::atomic<bool> force_unfused{false};  // ForceUnfusedConvDwForTesting

// [N, M, H, W] -> the depthwise output: pads 1, kernel 3 gives ceil(H / s).
Shape DwOutputShape(int64_t n, int64_t m, int64_t h, int64_t w, int64_t stride) {
  return {n, m, (h - 1) / stride + 1, (w - 1) / stride + 1};
}

// The pointwise conv of X [N, C, H, W] to M channels.
ConvGeometry PointwiseGeometry(const Shape& x, int64_t m) {
  ConvGeometry g;
  g.spatial = 2;
  g.batch = x[0];
  g.in_channels = x[1];
  g.out_channels = m;
  g.in = g.out = {x[2], x[3]};
  g.kernel = g.strides = g.dilations = {1, 1};
  g.pads_begin = g.pads_end = {0, 0};
  return g;
}

// The depthwise 3x3 conv of the pointwise output `mid` [N, M, H, W].
ConvGeometry DepthwiseGeometry(const Shape& mid, int64_t stride) {
  ConvGeometry g;
  g.spatial = 2;
  g.batch = mid[0];
  g.in_channels = g.out_channels = g.group = mid[1];
  g.in = {mid[2], mid[3]};
  g.kernel = {3, 3};
  g.strides = {stride, stride};
  g.dilations = {1, 1};
  g.pads_begin = g.pads_end = {1, 1};
  const Shape y = DwOutputShape(mid[0], mid[1], mid[2], mid[3], stride);
  g.out = {y[2], y[3]};
  return g;
}

memory::desc BlockedDesc(const Shape& shape) {
  return memory::desc(ToDnnlDims(shape), memory::data_type::f32, memory::format_tag::aBcd16b);
}

dnnl::primitive_attr AttrWith(const Activation& act) {
  dnnl::post_ops ops;
  if (act.present) ops.append_eltwise(1.f, act.alg, act.alpha, act.beta);
  dnnl::primitive_attr attr = UserScratchpadAttr();
  attr.set_post_ops(ops);
  return attr;
}

// oneDNN's reference loops. Its ref_fused_convolution is not one: it chains
// the 1x1 and depthwise jit kernels inside one primitive (the intermediate in
// the scratchpad), so it counts as a reference only when a part is.
bool IsReference(const dnnl::convolution_forward::primitive_desc& pd) {
  const std::string impl = pd.impl_info_str();
  const std::string fused = "ref_fused_convolution:";
  if (impl.rfind(fused, 0) == 0) return impl.find("ref", fused.size()) != std::string::npos;
  return impl.rfind("ref", 0) == 0;
}

absl::Status ExpectShape(const Node& node, const char* what, const Tensor* t, const Shape& want) {
  if (t == nullptr || t->shape() == want) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrFormat("%s: input %s has shape %s, expected %s",
                                                    node.Describe(), what,
                                                    ShapeToString(t->shape()),
                                                    ShapeToString(want)));
}

// The primitives of one input shape: the fused one, or the two convs.
struct Plans {
  bool fused = false;
  ForwardPlan main;  // the fused primitive, or the pointwise conv
  ForwardPlan dw;    // the depthwise conv (unfused only)
  memory::desc dw_weights_plain, dw_weights, dw_bias;
};

class FusedConvDwKernel final : public Kernel {
 public:
  FusedConvDwKernel(Activation act1, Activation act2, int64_t stride)
      : act1_(act1), act2_(act2), stride_(stride) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* w1, ctx.RequiredInput(1));
    const Tensor* b1 = ctx.input(2);
    ONYX_ASSIGN_OR_RETURN(const Tensor* w2, ctx.RequiredInput(3));
    const Tensor* b2 = ctx.input(4);
    ONYX_RETURN_IF_ERROR(CheckFloat(node, "X", x));
    ONYX_RETURN_IF_ERROR(CheckFloat(node, "W1", w1));
    ONYX_RETURN_IF_ERROR(CheckFloat(node, "B1", b1));
    ONYX_RETURN_IF_ERROR(CheckFloat(node, "W2", w2));
    ONYX_RETURN_IF_ERROR(CheckFloat(node, "B2", b2));
    const Shape& xs = x->shape();
    if (xs.size() != 4 || xs[1] < 1 || xs[2] < 1 || xs[3] < 1) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: input X has shape %s, expected [N, C, H, W] with C, H, W >= 1",
                          node.Describe(), ShapeToString(xs)));
    }
    if (w1->shape().size() != 4 || w1->shape()[0] < 1) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: input W1 has shape %s, expected [M, %d, 1, 1]", node.Describe(),
          ShapeToString(w1->shape()), xs[1]));
    }
    const int64_t m = w1->shape()[0];
    ONYX_RETURN_IF_ERROR(ExpectShape(node, "W1", w1, {m, xs[1], 1, 1}));
    ONYX_RETURN_IF_ERROR(ExpectShape(node, "B1", b1, {m}));
    ONYX_RETURN_IF_ERROR(ExpectShape(node, "W2", w2, {m, 1, 3, 3}));
    ONYX_RETURN_IF_ERROR(ExpectShape(node, "B2", b2, {m}));
    const Shape y_shape = DwOutputShape(xs[0], m, xs[2], xs[3], stride_);
    if (NumElements(y_shape) == 0) {
      return ctx.AllocateOutput(0, DataType::kFloat32, y_shape).status();
    }
    // Weights and biases are normally plain initializers.
    Tensor plain[4];
    const Tensor** params[4] = {&w1, &b1, &w2, &b2};
    for (int i = 0; i < 4; ++i) {
      if (*params[i] == nullptr || (*params[i])->is_plain()) continue;
      ONYX_ASSIGN_OR_RETURN(plain[i], EnsurePlain(**params[i]));
      *params[i] = &plain[i];
    }
    ONYX_ASSIGN_OR_RETURN(const Plans* plans, GetPlans(node, xs, m, b1 != nullptr, b2 != nullptr));
    if (plans->fused) {
      std::shared_ptr<const TensorLayout> layout =
          ctx.blocked_outputs_allowed() ? plans->main.dst_layout : nullptr;
      ONYX_ASSIGN_OR_RETURN(Tensor * y,
                            ctx.AllocateOutputWithLayout(0, DataType::kFloat32, y_shape, layout));
      absl::StatusOr<memory> dw_w =
          dw_weights_.Get(*w2, plans->dw_weights_plain, plans->dw_weights);
      if (!dw_w.ok()) return dw_w.status();
      if (b2 == nullptr) {  // the fused primitive always reads a depthwise bias
        if (zero_bias_.shape() != Shape{m}) {
          ONYX_ASSIGN_OR_RETURN(zero_bias_, Tensor::FromVector<float>({m}, std::vector<float>(m)));
        }
        b2 = &zero_bias_;
      }
      const std::unordered_map<int, memory> extra = {
          {kDwArg | DNNL_ARG_WEIGHTS, *dw_w},
          {kDwArg | DNNL_ARG_BIAS, AsDnnlMemory(plans->dw_bias, *b2)}};
      return plans->main.Run(weights_, *x, *w1, b1, nullptr, false, *y, &extra);
    }
    // Unfused: the pointwise output in a plain buffer, then the depthwise conv.
    ONYX_ASSIGN_OR_RETURN(Tensor mid,
                          Tensor::Uninitialized(DataType::kFloat32, {xs[0], m, xs[2], xs[3]}));
    ONYX_RETURN_IF_ERROR(plans->main.Run(weights_, *x, *w1, b1, nullptr, false, mid));
    std::shared_ptr<const TensorLayout> layout =
        ctx.blocked_outputs_allowed() ? plans->dw.dst_layout : nullptr;
    ONYX_ASSIGN_OR_RETURN(Tensor * y,
                          ctx.AllocateOutputWithLayout(0, DataType::kFloat32, y_shape, layout));
    return plans->dw.Run(dw_weights_, mid, *w2, b2, nullptr, false, *y);
  }

  bool AcceptsBlockedInputs() const override { return true; }

 private:
  absl::StatusOr<const Plans*> GetPlans(const Node& node, const Shape& x, int64_t m, bool has_b1,
                                        bool has_b2) {
    auto key = std::make_tuple(x, m, has_b1, has_b2);
    auto it = plans_.find(key);
    if (it != plans_.end()) return it->second.get();
    if (plans_.size() >= kMaxCachedShapes) plans_.clear();
    auto plans = std::make_unique<Plans>();
    const ConvGeometry g1 = PointwiseGeometry(x, m);
    const ConvGeometry g2 = DepthwiseGeometry(g1.OutputShape(), stride_);
    try {
      if (force_unfused.load() || !TryFused(g1, g2, has_b1, *plans)) {
        BuildUnfused(g1, g2, has_b1, has_b2, *plans);
      }
    } catch (const dnnl::error& e) {
      return DnnlError(node.Describe() + " convolution primitive creation", e);
    }
    return plans_.emplace(std::move(key), std::move(plans)).first->second.get();
  }

  static void InitPlan(ForwardPlan& plan, const ConvGeometry& g, const Shape& x, const Shape& y,
                       bool has_bias) {
    plan.src_plain = ActivationDesc(x, false);
    plan.weights_plain = ConvWeightsDesc(g, false);
    plan.dst_plain = ActivationDesc(y, false);
    plan.has_bias = has_bias;
    if (has_bias) plan.bias = PlainDesc({g.out_channels});
  }

  // The 1x1 primitive with post-ops [act1, depthwise, act2]; false when oneDNN
  // has none but its reference loop, or gives another output shape.
  bool TryFused(const ConvGeometry& g1, const ConvGeometry& g2, bool has_b1, Plans& plans) const {
    dnnl::post_ops ops;
    if (act1_.present) ops.append_eltwise(1.f, act1_.alg, act1_.alpha, act1_.beta);
    ops.append_dw(memory::data_type::f32, memory::data_type::f32, memory::data_type::f32, 3,
                  stride_, 1, 0, {});
    if (act2_.present) ops.append_eltwise(1.f, act2_.alg, act2_.alpha, act2_.beta);
    dnnl::primitive_attr attr = UserScratchpadAttr();
    attr.set_post_ops(ops);
    const Shape x = {g1.batch, g1.in_channels, g1.in[0], g1.in[1]};
    const Shape y = g2.OutputShape();
    ForwardPlan& plan = plans.main;
    InitPlan(plan, g1, x, y, has_b1);
    std::optional<dnnl::convolution_forward::primitive_desc> pd;
    try {
      // nChw16c like the other convs; the first implementation oneDNN lists is
      // its generic ref_fused_convolution (two primitives and the whole
      // intermediate in scratchpad), so look further for a fused jit kernel.
      const memory::desc src = BlockedDesc(x), dst = BlockedDesc(g1.OutputShape());
      const dnnl::convolution_forward::desc desc(
          dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src,
          ConvWeightsDesc(g1, /*any=*/true), has_b1 ? plan.bias : memory::desc(), dst,
          ToDnnlDims(g1.strides), ToDnnlDims(g1.DnnlDilations()), ToDnnlDims(g1.pads_begin),
          ToDnnlDims(g1.pads_end));
      pd.emplace(desc, attr, CpuEngine());
      do {
        if (!IsReference(*pd)) break;
      } while (pd->next_impl());
    } catch (const dnnl::error&) {
      return false;
    }
    if (IsReference(*pd) || pd->dst_desc().dims() != ToDnnlDims(y)) return false;
    plan.Adopt(*pd);
    plan.prim = dnnl::convolution_forward(*pd);
    plans.dw_weights_plain = memory::desc({g2.group, 1, 1, 3, 3}, memory::data_type::f32,
                                          memory::format_tag::goihw);
    plans.dw_weights = pd->query_md(dnnl::query::exec_arg_md, kDwArg | DNNL_ARG_WEIGHTS);
    plans.dw_bias = pd->query_md(dnnl::query::exec_arg_md, kDwArg | DNNL_ARG_BIAS);
    if (plans.dw_bias != PlainDesc({g2.out_channels})) return false;
    plans.fused = true;
    return true;
  }

  void BuildUnfused(const ConvGeometry& g1, const ConvGeometry& g2, bool has_b1, bool has_b2,
                    Plans& plans) const {
    const Shape x = {g1.batch, g1.in_channels, g1.in[0], g1.in[1]};
    const Shape mid = g1.OutputShape();
    plans = Plans();
    InitPlan(plans.main, g1, x, mid, has_b1);
    auto pd1 = ChooseConvPd(g1, x, AttrWith(act1_), has_b1 ? plans.main.bias : memory::desc());
    plans.main.Adopt(pd1);
    plans.main.prim = dnnl::convolution_forward(pd1);
    InitPlan(plans.dw, g2, mid, g2.OutputShape(), has_b2);
    auto pd2 = ChooseConvPd(g2, mid, AttrWith(act2_), has_b2 ? plans.dw.bias : memory::desc());
    plans.dw.Adopt(pd2);
    plans.dw.prim = dnnl::convolution_forward(pd2);
  }

  Activation act1_, act2_;
  int64_t stride_;
  WeightCache weights_, dw_weights_;
  Tensor zero_bias_;
  std::map<std::tuple<Shape, int64_t, bool, bool>, std::unique_ptr<Plans>> plans_;
};

// Y [N, M, ceil(H / s), ceil(W / s)] from X [N, C, H, W] and W1 [M, ...].
absl::Status FusedConvDwShape(ShapeInferenceContext& ctx) {
  const TypeInfo* x = ctx.input(0);
  const TypeInfo* w1 = ctx.input(1);
  if (x == nullptr) return absl::OkStatus();
  if (!x->has_shape) {
    ctx.SetOutputRankUnknown(0, x->dtype);
    return absl::OkStatus();
  }
  const Node& node = ctx.node();
  if (x->dims.size() != 4) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: input X has shape %s, expected rank 4 [N, C, H, W]", node.Describe(),
        DimsToString(*x)));
  }
  ONYX_ASSIGN_OR_RETURN(const int64_t stride, node.GetInt("dw_stride", 1));
  std::vector<Dim> out(4);
  out[0] = x->dims[0];
  if (w1 != nullptr && w1->has_shape && !w1->dims.empty()) out[1] = w1->dims[0];
  for (int i = 2; i < 4; ++i) {
    if (x->dims[i].is_fixed()) out[i] = FixedDim((x->dims[i].value - 1) / stride + 1);
  }
  ctx.SetOutput(0, x->dtype, std::move(out));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> CreateFusedConvDwKernel(const Node& node,
                                                                int64_t /*opset*/) {
  ONYX_ASSIGN_OR_RETURN(const Activation act1, ParseActivation(node));
  ONYX_ASSIGN_OR_RETURN(const Activation act2, ParseActivation(node, "dw_"));
  ONYX_ASSIGN_OR_RETURN(const int64_t stride, node.GetInt("dw_stride", 1));
  if (stride != 1 && stride != 2) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: attribute dw_stride is %d, expected 1 or 2", node.Describe(), stride));
  }
  return std::make_unique<FusedConvDwKernel>(act1, act2, stride);
}

void ForceUnfusedConvDwForTesting(bool on) { force_unfused.store(on); }

void RegisterFusedConvDwShapeFn(OpRegistry& registry) {
  registry.RegisterShapeFn(kOnyxDomain, "FusedConvDw", FusedConvDwShape);
}

}  // namespace onyx::conv
