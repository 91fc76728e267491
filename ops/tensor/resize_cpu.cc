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
#include "absl/strings/str_join.h"
#include "ops/tensor/shape_fn_util.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/status_macros.h"

namespace onyx::tensor {
namespace {

enum class Coord { kAsymmetric, kHalfPixel, kPytorchHalfPixel, kAlignCorners, kTfHalfPixelForNn };
enum class Rounding { kLegacy, kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil };

struct ResizeConfig {
  bool upsample = false;  // Upsample, not Resize
  bool linear = false;
  Coord coord = Coord::kAsymmetric;
  Rounding rounding = Rounding::kLegacy;
  std::vector<int64_t> axes;      // Resize-18 axes attribute (empty: all)
  std::string aspect = "stretch";  // Resize-18 keep_aspect_ratio_policy
};

absl::StatusOr<ResizeConfig> ReadConfig(const Node& node, int64_t opset, bool upsample) {
  ResizeConfig cfg;
  cfg.upsample = upsample;
  ONYX_ASSIGN_OR_RETURN(std::string mode, node.GetString("mode", "nearest"));
  if (mode == "linear" || (upsample && mode == "bilinear")) {
    cfg.linear = true;
  } else if (mode != "nearest") {
    return absl::UnimplementedError(
        absl::StrFormat("%s: mode \"%s\" is not supported (nearest, linear)", node.Describe(), mode));
  }
  if (upsample || opset < 11) return cfg;
  ONYX_ASSIGN_OR_RETURN(std::string coord,
                        node.GetString("coordinate_transformation_mode", "half_pixel"));
  if (coord == "half_pixel") {
    cfg.coord = Coord::kHalfPixel;
  } else if (coord == "asymmetric") {
    cfg.coord = Coord::kAsymmetric;
  } else if (coord == "pytorch_half_pixel") {
    cfg.coord = Coord::kPytorchHalfPixel;
  } else if (coord == "align_corners") {
    cfg.coord = Coord::kAlignCorners;
  } else if (coord == "tf_half_pixel_for_nn" && opset < 13) {
    cfg.coord = Coord::kTfHalfPixelForNn;
  } else {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: coordinate_transformation_mode \"%s\" is not supported", node.Describe(), coord));
  }
  ONYX_ASSIGN_OR_RETURN(std::string nearest, node.GetString("nearest_mode", "round_prefer_floor"));
  if (nearest == "round_prefer_floor") {
    cfg.rounding = Rounding::kRoundPreferFloor;
  } else if (nearest == "round_prefer_ceil") {
    cfg.rounding = Rounding::kRoundPreferCeil;
  } else if (nearest == "floor") {
    cfg.rounding = Rounding::kFloor;
  } else if (nearest == "ceil") {
    cfg.rounding = Rounding::kCeil;
  } else {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: unknown nearest_mode \"%s\"", node.Describe(), nearest));
  }
  ONYX_ASSIGN_OR_RETURN(int64_t antialias, node.GetInt("antialias", 0));
  if (antialias != 0) {
    return absl::UnimplementedError(
        absl::StrFormat("%s: antialias is not supported", node.Describe()));
  }
  if (opset >= 18) {
    ONYX_ASSIGN_OR_RETURN(cfg.axes, node.GetInts("axes", {}));
    ONYX_ASSIGN_OR_RETURN(cfg.aspect, node.GetString("keep_aspect_ratio_policy", "stretch"));
    if (cfg.aspect != "stretch" && cfg.aspect != "not_larger" && cfg.aspect != "not_smaller") {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: unknown keep_aspect_ratio_policy \"%s\"", node.Describe(), cfg.aspect));
    }
  }
  return cfg;
}

// Per axis of the input: the scale used for coordinates and the output length.
struct AxisResize {
  double scale = 1;
  int64_t out = 0;
};

// Output lengths and scales from `scales` or `sizes` (one entry per resized
// axis). Errors name the node.
absl::StatusOr<std::vector<AxisResize>> ResolveAxes(const Node& node, const ResizeConfig& cfg,
                                                    const Shape& in,
                                                    const std::vector<float>* scales,
                                                    const std::vector<int64_t>* sizes) {
  const int rank = static_cast<int>(in.size());
  std::vector<int> axes;
  if (cfg.axes.empty()) {
    for (int i = 0; i < rank; ++i) axes.push_back(i);
  } else {
    ONYX_ASSIGN_OR_RETURN(axes, NormalizeAxes(node, cfg.axes, rank));
  }
  const size_t count = scales ? scales->size() : sizes->size();
  if (count != axes.size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: %s has %d entries but the input has rank %d%s", node.Describe(),
        scales ? "scales" : "sizes", count, rank, cfg.axes.empty() ? "" : " (axes given)"));
  }
  std::vector<AxisResize> result(rank);
  for (int i = 0; i < rank; ++i) result[i].out = in[i];
  if (scales) {
    for (size_t k = 0; k < axes.size(); ++k) {
      const double s = (*scales)[k];
      const double out = std::floor(static_cast<double>(in[axes[k]]) * s);
      if (!(s > 0) || !(out < 9.2e18)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: scales [%s] must be positive and finite", node.Describe(),
            absl::StrJoin(*scales, ",")));
      }
      result[axes[k]] = {s, static_cast<int64_t>(out)};
    }
    return result;
  }
  double common = cfg.aspect == "not_larger" ? 1e300 : 0;
  for (size_t k = 0; k < axes.size(); ++k) {
    if ((*sizes)[k] < 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: sizes [%s] has a negative entry", node.Describe(), absl::StrJoin(*sizes, ",")));
    }
    const double s = in[axes[k]] == 0 ? 1 : static_cast<double>((*sizes)[k]) / in[axes[k]];
    result[axes[k]] = {s, (*sizes)[k]};
    common = cfg.aspect == "not_larger" ? std::min(common, s) : std::max(common, s);
  }
  if (cfg.aspect != "stretch") {
    for (int a : axes) result[a] = {common, static_cast<int64_t>(std::round(in[a] * common))};
  }
  return result;
}

// Source coordinate of output index j.
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

absl::StatusOr<std::vector<float>> ReadScales(const Node& node, const Tensor& t) {
  if (t.dtype() != DataType::kFloat32 || t.rank() != 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: scales must be a 1-D float32 tensor, got %s", node.Describe(), t.DebugString()));
  }
  return std::vector<float>(t.data<float>(), t.data<float>() + t.num_elements());
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
absl::Status ResizeShapeFn(ShapeInferenceContext& ctx, bool upsample) {
  const Node& node = ctx.node();
  ONYX_ASSIGN_OR_RETURN(ResizeConfig cfg, ReadConfig(node, ctx.opset(), upsample));
  const TypeInfo* in = RankedInput(ctx, 0);
  const DataType dtype = InputType(ctx, 0);
  if (in == nullptr) {
    SetRankUnknown(ctx, 0, dtype);
    return absl::OkStatus();
  }
  const int rank = static_cast<int>(in->dims.size());
  std::vector<float> scales;
  std::optional<std::vector<int64_t>> sizes;
  bool known = false;
  if (upsample && ctx.opset() < 9) {
    ONYX_ASSIGN_OR_RETURN(scales, node.GetFloats("scales", {}));
    known = true;
  } else {
    const int scales_input = upsample || ctx.opset() < 11 ? 1 : 2;
    const Tensor* s = ctx.input_value(scales_input);
    if (s != nullptr && s->num_elements() > 0) {
      ONYX_ASSIGN_OR_RETURN(scales, ReadScales(node, *s));
      known = true;
    } else if (scales_input == 2 && (s != nullptr || node.inputs.size() < 3 ||
                                     node.inputs[2].empty())) {
      sizes = ConstInts(ctx, 3);
      known = sizes.has_value();
    }
  }
  if (!known && !upsample && ctx.opset() >= 11 && cfg.aspect == "stretch") {
    // Sizes built from the input's own shape (Concat(Slice(Shape(x)), [h, w]),
    // as exporters write it) are known element by element.
    if (const SymbolicInts* elements = ctx.input_ints(3)) {
      std::vector<int> axes;
      if (cfg.axes.empty()) {
        for (int i = 0; i < rank; ++i) axes.push_back(i);
      } else {
        ONYX_ASSIGN_OR_RETURN(axes, NormalizeAxes(node, cfg.axes, rank));
      }
      if (elements->size() != axes.size()) {
        return Fail(node, absl::StrFormat("sizes has %d entries but the input has rank %d",
                                          elements->size(), rank));
      }
      std::vector<Dim> out = in->dims;
      for (size_t k = 0; k < axes.size(); ++k) out[axes[k]] = IntToDim((*elements)[k]);
      ctx.SetOutput(0, dtype, std::move(out));
      return absl::OkStatus();
    }
  }
  if (!known) {
    SetUnknownDims(ctx, 0, dtype, rank);
    return absl::OkStatus();
  }
  // Resolve against a shape with unknown dims as 1, then keep what holds for
  // any size: fixed dims, sizes given for an axis (stretch), scale 1.
  Shape probe(rank);
  for (int i = 0; i < rank; ++i) probe[i] = in->dims[i].is_fixed() ? in->dims[i].value : 1;
  ONYX_ASSIGN_OR_RETURN(std::vector<AxisResize> axes,
                        ResolveAxes(node, cfg, probe, sizes ? nullptr : &scales,
                                    sizes ? &*sizes : nullptr));
  std::vector<bool> resized(rank, cfg.axes.empty());
  if (!cfg.axes.empty()) {
    ONYX_ASSIGN_OR_RETURN(std::vector<int> listed, NormalizeAxes(node, cfg.axes, rank));
    for (int a : listed) resized[a] = true;
  }
  // A policy other than stretch shares one scale across the resized axes: a
  // symbolic one among them leaves all of them unknown.
  bool shared_unknown = false;
  for (int i = 0; i < rank; ++i) {
    shared_unknown |= sizes && cfg.aspect != "stretch" && resized[i] && !in->dims[i].is_fixed();
  }
  std::vector<Dim> out = in->dims;
  for (int i = 0; i < rank; ++i) {
    if (shared_unknown && resized[i]) {
      out[i] = UnknownDim();
    } else if (in->dims[i].is_fixed() || (resized[i] && sizes && cfg.aspect == "stretch")) {
      out[i] = FixedDim(axes[i].out);
    } else if (resized[i] && !(!sizes && axes[i].scale == 1.0)) {
      out[i] = UnknownDim();
    }
  }
  ctx.SetOutput(0, dtype, std::move(out));
  return absl::OkStatus();
}

}  // namespace

void RegisterResizeOps(OpRegistry& registry) {
  RegisterCpu(registry, "Upsample", {7, 9, 10}, &ResizeKernel::CreateUpsample);
  RegisterCpu(registry, "Resize", {10, 11, 13, 18, 19}, &ResizeKernel::CreateResize);
  registry.RegisterShapeFn(kOnnxDomain, "Upsample",
                           [](ShapeInferenceContext& ctx) { return ResizeShapeFn(ctx, true); });
  registry.RegisterShapeFn(kOnnxDomain, "Resize",
                           [](ShapeInferenceContext& ctx) { return ResizeShapeFn(ctx, false); });
}

}  // namespace onyx::tensor
