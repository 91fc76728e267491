// ConvTranspose (opset 1, 11) on oneDNN deconvolution_forward, float32.
// output_padding and an output_shape beyond the natural size become a negative
// right padding (those rows receive only the bias). oneDNN accepts that in
// most cases; where it refuses, the kernel runs it with the padding clamped to
// 0 into a scratch tensor and copies that into Y, the extra rows set to B.
#include <algorithm>
#include <map>
#include <memory>
#include <tuple>

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

class ConvTransposeKernel final : public Kernel {
 public:
  explicit ConvTransposeKernel(ConvAttrs attrs) : attrs_(std::move(attrs)) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* w, ctx.RequiredInput(1));
    const Tensor* b = ctx.input(2);
    for (const Tensor* t : {x, w, b}) {
      if (t != nullptr && t->dtype() != DataType::kFloat32) {
        return absl::UnimplementedError(absl::StrFormat(
            "%s: input %s is %s; the CPU kernel supports float32 only", node.Describe(),
            t == x   ? "X"
            : t == w ? "W"
                     : "B",
            DataTypeName(t->dtype())));
      }
    }
    ONYX_ASSIGN_OR_RETURN(const ConvGeometry g,
                          ResolveConvTranspose(node, attrs_, x->shape(), w->shape()));
    if (b != nullptr && b->shape() != Shape{g.out_channels}) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: input B has shape %s, expected [%d] (output channels)",
                          node.Describe(), ShapeToString(b->shape()), g.out_channels));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DataType::kFloat32, g.OutputShape()));
    if (y->num_elements() == 0) return absl::OkStatus();
    ONYX_ASSIGN_OR_RETURN(const ForwardPlan* plan,
                          GetPlan(node, g, x->shape(), w->shape(), b != nullptr));
    if (plan->dst_plain.dims() == memory::dims(y->shape().begin(), y->shape().end())) {
      return plan->Run(weights_, *x, *w, b, nullptr, false, *y);
    }
    const memory::dims natural = plan->dst_plain.dims();
    ONYX_ASSIGN_OR_RETURN(
        Tensor scratch,
        Tensor::Uninitialized(DataType::kFloat32, Shape(natural.begin(), natural.end())));
    ONYX_RETURN_IF_ERROR(plan->Run(weights_, *x, *w, b, nullptr, false, scratch));
    CopyPadded(scratch, b, *y);
    return absl::OkStatus();
  }

 private:
  // y = `from` in its leading corner, B (or 0) elsewhere; both [N, M, ...].
  static void CopyPadded(const Tensor& from, const Tensor* b, Tensor& y) {
    auto spatial3 = [](const Shape& s) {
      std::vector<int64_t> d(s.begin() + 2, s.end());
      d.resize(3, 1);
      return d;
    };
    const std::vector<int64_t> fs = spatial3(from.shape()), ys = spatial3(y.shape());
    const int64_t planes = y.dim(0) * y.dim(1), channels = y.dim(1);
    const int64_t from_plane = fs[0] * fs[1] * fs[2], y_plane = ys[0] * ys[1] * ys[2];
    const float* src = from.data<float>();
    float* dst = y.data<float>();
#pragma omp parallel for schedule(static) if (planes * y_plane >= (1 << 15))
    for (int64_t p = 0; p < planes; ++p) {
      const float fill = b != nullptr ? b->data<float>()[p % channels] : 0.f;
      float* out = dst + p * y_plane;
      std::fill(out, out + y_plane, fill);
      const float* in = src + p * from_plane;
      for (int64_t i0 = 0; i0 < fs[0]; ++i0) {
        for (int64_t i1 = 0; i1 < fs[1]; ++i1) {
          std::copy(in + (i0 * fs[1] + i1) * fs[2], in + (i0 * fs[1] + i1 + 1) * fs[2],
                    out + (i0 * ys[1] + i1) * ys[2]);
        }
      }
    }
  }

  absl::StatusOr<const ForwardPlan*> GetPlan(const Node& node, const ConvGeometry& g,
                                             const Shape& x, const Shape& w, bool has_bias) {
    auto key = std::make_tuple(x, w, has_bias);
    auto it = plans_.find(key);
    if (it != plans_.end()) return it->second.get();
    if (plans_.size() >= kMaxCachedShapes) plans_.clear();  // many shapes: start over
    absl::StatusOr<std::unique_ptr<ForwardPlan>> plan = MakePlan(node, g, x, has_bias);
    if (!plan.ok()) {
      bool negative = false;
      ConvGeometry clamped = g;
      for (int i = 0; i < g.spatial; ++i) {
        if (g.pads_end[i] >= 0) continue;
        negative = true;
        clamped.out[i] += g.pads_end[i];
        clamped.pads_end[i] = 0;
      }
      if (!negative) return plan.status();
      plan = MakePlan(node, clamped, x, has_bias);
      if (!plan.ok()) return plan.status();
    }
    return plans_.emplace(std::move(key), *std::move(plan)).first->second.get();
  }

  absl::StatusOr<std::unique_ptr<ForwardPlan>> MakePlan(const Node& node, const ConvGeometry& g,
                                                        const Shape& x, bool has_bias) {
    auto plan = std::make_unique<ForwardPlan>();
    try {
      plan->src_plain = ActivationDesc(x, false);
      plan->weights_plain = DeconvWeightsDesc(g, false);
      plan->dst_plain = ActivationDesc(g.OutputShape(), false);
      plan->has_bias = has_bias;
      if (has_bias) plan->bias = PlainDesc({g.out_channels});
      const memory::desc no_bias;
      const auto desc = dnnl::deconvolution_forward::desc(
          dnnl::prop_kind::forward_inference, algorithm::deconvolution_direct,
          ActivationDesc(x, true), DeconvWeightsDesc(g, true), has_bias ? plan->bias : no_bias,
          ActivationDesc(g.OutputShape(), true), ToDnnlDims(g.strides),
          ToDnnlDims(g.DnnlDilations()), ToDnnlDims(g.pads_begin), ToDnnlDims(g.pads_end));
      const dnnl::deconvolution_forward::primitive_desc pd(desc, CpuEngine());
      plan->Adopt(pd);
      plan->prim = dnnl::deconvolution_forward(pd);
    } catch (const dnnl::error& e) {
      return DnnlError(node.Describe() + " deconvolution primitive creation", e);
    }
    return plan;
  }

  ConvAttrs attrs_;
  WeightCache weights_;
  std::map<std::tuple<Shape, Shape, bool>, std::unique_ptr<ForwardPlan>> plans_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> CreateConvTransposeKernel(const Node& node,
                                                                  int64_t /*opset*/) {
  ONYX_ASSIGN_OR_RETURN(ConvAttrs attrs, ParseConvAttrs(node, /*transpose=*/true));
  return std::make_unique<ConvTransposeKernel>(std::move(attrs));
}

}  // namespace onyx::conv
