// Upsample (opset 7: scales attribute; 9, 10: scales input) and Resize (10: X,
// scales; 11, 13, 18, 19: X, roi, scales, sizes) in nearest and linear modes.
//
// Each resized axis maps output index j to a source coordinate x(j):
//   asymmetric          x = j / scale            (Upsample and Resize-10)
//   half_pixel          x = (j + 0.5) / scale - 0.5   (Resize-11+ default)
//   pytorch_half_pixel  as half_pixel, but 0 when the output length is 1
//   align_corners       x = j * (in - 1) / (out - 1)
//   tf_half_pixel_for_nn x = (j + 0.5) / scale
// nearest takes x rounded by nearest_mode (Upsample / Resize-10: floor when
// upsampling, ceil when downsampling); linear blends floor(x) and floor(x)+1
// with weight x - floor(x), indices clamped to the axis (edge padding). Both
// are separable, so the kernel runs one pass per resized axis over a
// [outer, in, inner] view: nearest moves inner blocks of any dtype, linear
// blends float32/float64 rows (vectorizable over inner).
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "ops/tensor/resize_config.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/status_macros.h"

namespace onyx::tensor {
namespace {

// Source coordinate of output index j (see the file comment).
double SourceCoord(Coord coord, int64_t j, int64_t in, int64_t out, double scale) {
  switch (coord) {
    case Coord::kAsymmetric:
      return j / scale;
    case Coord::kHalfPixel:
      return (j + 0.5) / scale - 0.5;
    case Coord::kPytorchHalfPixel:
      return out > 1 ? (j + 0.5) / scale - 0.5 : 0.0;
    case Coord::kAlignCorners:
      return out > 1 ? static_cast<double>(j) * (in - 1) / (out - 1) : 0.0;
    case Coord::kTfHalfPixelForNn:
      return (j + 0.5) / scale;
  }
  return 0;
}

int64_t RoundNearest(Rounding rounding, double x, double scale) {
  const double f = std::floor(x);
  switch (rounding) {
    case Rounding::kLegacy:
      return static_cast<int64_t>(scale < 1 ? std::ceil(x) : f);
    case Rounding::kRoundPreferFloor:
      return static_cast<int64_t>(x - f == 0.5 ? f : std::round(x));
    case Rounding::kRoundPreferCeil:
      return static_cast<int64_t>(x - f == 0.5 ? f + 1 : std::round(x));
    case Rounding::kFloor:
      return static_cast<int64_t>(f);
    case Rounding::kCeil:
      return static_cast<int64_t>(std::ceil(x));
  }
  return 0;
}

// One axis pass: y[o, j, :] from x[o, i0[j], :] (and x[o, i1[j], :] with weight w[j]).
struct AxisPlan {
  std::vector<int64_t> i0, i1;
  std::vector<double> w;
  bool identity = true;
};

AxisPlan PlanAxis(const ResizeConfig& cfg, int64_t in, const AxisResize& r) {
  AxisPlan p;
  p.i0.resize(r.out);
  p.i1.resize(r.out);
  p.w.assign(r.out, 0.0);
  p.identity = r.out == in;
  auto clamp = [in](int64_t i) { return std::clamp<int64_t>(i, 0, in - 1); };
  for (int64_t j = 0; j < r.out; ++j) {
    const double x = SourceCoord(cfg.coord, j, in, r.out, r.scale);
    if (cfg.linear) {
      const double f = std::floor(x);
      p.i0[j] = clamp(static_cast<int64_t>(f));
      p.i1[j] = clamp(static_cast<int64_t>(f) + 1);
      p.w[j] = p.i0[j] == p.i1[j] ? 0.0 : x - f;
    } else {
      p.i0[j] = p.i1[j] = clamp(RoundNearest(cfg.rounding, x, r.scale));
    }
    p.identity = p.identity && p.i0[j] == j && p.w[j] == 0.0;
  }
  return p;
}

template <typename T>
void BlendPass(const AxisPlan& p, int64_t outer, int64_t in, int64_t inner, const T* x, T* y) {
  const int64_t out = static_cast<int64_t>(p.i0.size());
#pragma omp parallel for schedule(static) if (outer * out * inner >= (int64_t{1} << 16))
  for (int64_t r = 0; r < outer * out; ++r) {
    const int64_t o = r / out, j = r % out;
    const T* a = x + (o * in + p.i0[j]) * inner;
    const T* b = x + (o * in + p.i1[j]) * inner;
    const T wb = static_cast<T>(p.w[j]), wa = static_cast<T>(1.0 - p.w[j]);
    T* yr = y + r * inner;
    for (int64_t i = 0; i < inner; ++i) yr[i] = wa * a[i] + wb * b[i];
  }
}

void NearestPass(const AxisPlan& p, int64_t outer, int64_t in, int64_t inner, size_t es,
                 const char* x, char* y) {
  const int64_t out = static_cast<int64_t>(p.i0.size());
  const size_t block = static_cast<size_t>(inner) * es;
#pragma omp parallel for schedule(static) if (outer * out * block >= (int64_t{1} << 18))
  for (int64_t r = 0; r < outer * out; ++r) {
    const int64_t o = r / out, j = r % out;
    std::memcpy(y + r * block, x + (o * in + p.i0[j]) * block, block);
  }
}


class ResizeKernel : public Kernel {
 public:
  static KernelOr CreateUpsample(const Node& node, int64_t opset) {
    return Create(node, opset, true);
  }
  static KernelOr CreateResize(const Node& node, int64_t opset) {
    return Create(node, opset, false);
  }

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    std::vector<float> scales = attr_scales_;
    std::vector<int64_t> sizes;
    bool use_sizes = false;
    const int scales_input = cfg_.upsample || opset_ < 11 ? 1 : 2;
    if (!attr_scales_given_) {
      const Tensor* s = ctx.input(scales_input);
      const Tensor* z = scales_input == 2 ? ctx.input(3) : nullptr;
      if (s != nullptr && s->num_elements() > 0) {
        ONYX_ASSIGN_OR_RETURN(scales, ReadScales(node, *s));
      } else if (z != nullptr && z->num_elements() > 0) {
        ONYX_ASSIGN_OR_RETURN(sizes, ReadInts(node, *z, "input sizes"));
        use_sizes = true;
      } else {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s: one of scales and sizes is required", node.Describe()));
      }
    }
    ONYX_ASSIGN_OR_RETURN(std::vector<AxisResize> axes,
                          ResolveAxes(node, cfg_, x->shape(), use_sizes ? nullptr : &scales,
                                      use_sizes ? &sizes : nullptr));
    if (cfg_.linear && x->dtype() != DataType::kFloat32 && x->dtype() != DataType::kFloat64) {
      return absl::UnimplementedError(absl::StrFormat(
          "%s: linear mode supports float32 and float64, got %s", node.Describe(),
          DataTypeName(x->dtype())));
    }
    Shape out_shape = x->shape();
    for (size_t a = 0; a < axes.size(); ++a) out_shape[a] = axes[a].out;
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), out_shape));
    if (y->num_elements() == 0) return absl::OkStatus();
    // One pass per axis that changes; the last pass writes into y.
    std::vector<int> passes;
    std::vector<AxisPlan> plans(axes.size());
    for (size_t a = 0; a < axes.size(); ++a) {
      plans[a] = PlanAxis(cfg_, x->dim(static_cast<int>(a)), axes[a]);
      if (!plans[a].identity) passes.push_back(static_cast<int>(a));
    }
    if (passes.empty()) {
      std::memcpy(y->raw_data(), x->raw_data(), x->byte_size());
      return absl::OkStatus();
    }
    Tensor current = *x;
    Shape shape = x->shape();
    const size_t es = DataTypeSize(x->dtype());
    for (size_t k = 0; k < passes.size(); ++k) {
      const int a = passes[k];
      Shape next_shape = shape;
      next_shape[a] = axes[a].out;
      Tensor next;
      if (k + 1 == passes.size()) {
        next = *y;  // shares y's buffer
      } else {
        ONYX_ASSIGN_OR_RETURN(next, Tensor::Uninitialized(x->dtype(), next_shape,
                                                          ctx.max_tensor_bytes()));
      }
      const int64_t outer = NumElements(absl::MakeConstSpan(shape).subspan(0, a));
      const int64_t inner = NumElements(absl::MakeConstSpan(shape).subspan(a + 1));
      const int64_t in = shape[a];
      if (!cfg_.linear) {
        NearestPass(plans[a], outer, in, inner, es, static_cast<const char*>(current.raw_data()),
                    static_cast<char*>(next.raw_data()));
      } else if (x->dtype() == DataType::kFloat32) {
        BlendPass<float>(plans[a], outer, in, inner, current.data<float>(), next.data<float>());
      } else {
        BlendPass<double>(plans[a], outer, in, inner, current.data<double>(),
                          next.data<double>());
      }
      current = std::move(next);
      shape = std::move(next_shape);
    }
    return absl::OkStatus();
  }

 private:
  static KernelOr Create(const Node& node, int64_t opset, bool upsample) {
    auto k = std::make_unique<ResizeKernel>();
    k->opset_ = opset;
    ONYX_ASSIGN_OR_RETURN(k->cfg_, ReadConfig(node, opset, upsample));
    if (upsample && opset < 9) {
      if (node.FindAttribute("scales") == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s: attribute scales is required", node.Describe()));
      }
      ONYX_ASSIGN_OR_RETURN(k->attr_scales_, node.GetFloats("scales", {}));
      k->attr_scales_given_ = true;
    }
    return k;
  }

  int64_t opset_ = 0;
  ResizeConfig cfg_;
  bool attr_scales_given_ = false;
  std::vector<float> attr_scales_;
};

// Output dims when scales or sizes are constants; otherwise the rank only.

}  // namespace

void RegisterResizeOps(OpRegistry& registry) {
  RegisterCpu(registry, "Upsample", {7, 9, 10}, &ResizeKernel::CreateUpsample);
  RegisterCpu(registry, "Resize", {10, 11, 13, 18, 19}, &ResizeKernel::CreateResize);
  RegisterResizeShapeFns(registry);
}

}  // namespace onyx::tensor
