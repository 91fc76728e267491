// com.onyx backward ops of the tensor family (since 1, CPU), each reading
// dY then the forward node's inputs and carrying its attributes:
//   ConcatGrad(dY, X0..Xn-1; axis) -> dX0..dXn-1 (dY split along axis),
//   SliceGrad(dY, X, starts, ends, axes, steps) -> dX (dY written into zeros),
//   GatherGrad(dY, data, indices; axis) -> d_data (scatter-add, float only),
//   TileGrad(dY, X, repeats) -> dX (sum of the tiles, float only),
//   PadGrad(dY, X, pads, value, axes) -> dX (constant mode: the unpadded window),
// and com.onyx CastLike (tensor_grad_cast_cpu.cc).
// The attribute forward_opset selects Slice/Pad's attribute forms (opset < 10/11).
#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ops/tensor/shape_fn_util.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/gradient.h"
#include "runtime/shape_inference.h"
#include "runtime/status_macros.h"

namespace onyx::tensor {
namespace {

absl::Status Bad(const Node& node, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrFormat("%s: %s", node.Describe(), message));
}

absl::Status CheckFloat(const Node& node, const Tensor& dy) {
  if (dy.dtype() == DataType::kFloat32 || dy.dtype() == DataType::kFloat64) {
    return absl::OkStatus();
  }
  return absl::UnimplementedError(absl::StrFormat(
      "%s: dY is %s; only float32 and float64 are supported", node.Describe(),
      DataTypeName(dy.dtype())));
}

// dX = zeros(X's shape) with dY written at X index base + sum_k j_k*strides_k
// (strides in X elements) for each index j of dY's shape; `window` restricts
// the copy to the sub-box [lo, lo + window) of dY.
absl::StatusOr<Tensor> ScatterWindow(KernelContext& ctx, const Tensor& dy, const Shape& x_shape,
                                     int64_t dst_base, const std::vector<int64_t>& dst_strides,
                                     const Shape& window, const std::vector<int64_t>& lo) {
  ONYX_ASSIGN_OR_RETURN(Tensor dx, Tensor::Zeros(dy.dtype(), x_shape, ctx.max_tensor_bytes()));
  if (NumElements(window) == 0) return dx;
  const size_t es = DataTypeSize(dy.dtype());
  const std::vector<int64_t> src_strides = ContiguousStrides(dy.shape());
  int64_t src_base = 0;
  for (size_t a = 0; a < lo.size(); ++a) src_base += lo[a] * src_strides[a];
  StridedCopy(es, window, static_cast<const char*>(dy.raw_data()) + src_base * es, src_strides,
              static_cast<char*>(dx.raw_data()) + dst_base * es, dst_strides);
  return dx;
}

class ConcatGradKernel : public Kernel {
 public:
  static KernelOr Create(const Node& node, int64_t) {
    auto k = std::make_unique<ConcatGradKernel>();
    ONYX_ASSIGN_OR_RETURN(k->axis_, node.GetInt("axis", 0));
    return k;
  }
  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    const int rank = dy->rank();
    if (axis_ < -rank || axis_ >= rank) return Bad(node, "axis out of range for dY");
    const int axis = static_cast<int>(axis_ < 0 ? axis_ + rank : axis_);
    int64_t offset = 0;
    for (int i = 1; i < ctx.num_inputs(); ++i) {
      ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(i));
      Shape expect = dy->shape();
      if (x->rank() != rank) return Bad(node, "input rank differs from dY's");
      expect[axis] = x->dim(axis);
      if (x->shape() != expect || offset + x->dim(axis) > dy->dim(axis)) {
        return Bad(node, absl::StrFormat("input %s does not fit dY %s at offset %d",
                                         x->DebugString(), dy->DebugString(), offset));
      }
      if (i - 1 < ctx.num_outputs() && ctx.wants_output(i - 1)) {
        std::vector<int64_t> lo(rank, 0);
        lo[axis] = offset;
        ONYX_ASSIGN_OR_RETURN(Tensor dx, ScatterWindow(ctx, *dy, x->shape(), 0,
                                                       ContiguousStrides(x->shape()),
                                                       x->shape(), lo));
        ctx.SetOutput(i - 1, std::move(dx));
      }
      offset += x->dim(axis);
    }
    if (offset != dy->dim(axis)) return Bad(node, "inputs do not add up to dY along axis");
    return absl::OkStatus();
  }

 private:
  int64_t axis_ = 0;
};

class SliceGradKernel : public Kernel {
 public:
  static KernelOr Create(const Node& node, int64_t) {
    auto k = std::make_unique<SliceGradKernel>();
    ONYX_ASSIGN_OR_RETURN(const int64_t opset, node.GetInt("forward_opset", 13));
    if (opset < 10) {
      SliceArgs& attrs = k->attrs_.emplace();
      ONYX_ASSIGN_OR_RETURN(attrs.starts, node.GetInts("starts", {}));
      ONYX_ASSIGN_OR_RETURN(attrs.ends, node.GetInts("ends", {}));
      ONYX_ASSIGN_OR_RETURN(attrs.axes, node.GetInts("axes", {}));
    }
    return k;
  }
  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const SliceArgs args,
                          ReadSliceArgs(ctx, attrs_ ? &*attrs_ : nullptr, /*first_input=*/2));
    // The same window as Slice's: dX is dY scattered into it, zero elsewhere.
    ONYX_ASSIGN_OR_RETURN(const SliceWindow window, ResolveSlice(node, x->shape(), args));
    if (dy->shape() != window.shape) {
      return Bad(node, absl::StrFormat("dY is %s but the slice of %s has shape %s",
                                       dy->DebugString(), x->DebugString(),
                                       ShapeToString(window.shape)));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor dx,
                          ScatterWindow(ctx, *dy, x->shape(), window.offset, window.strides,
                                        window.shape, std::vector<int64_t>(window.shape.size(), 0)));
    ctx.SetOutput(0, std::move(dx));
    return absl::OkStatus();
  }

 private:
  std::optional<SliceArgs> attrs_;  // forward Slice-1 only
};

class GatherGradKernel : public Kernel {
 public:
  static KernelOr Create(const Node& node, int64_t) {
    auto k = std::make_unique<GatherGradKernel>();
    ONYX_ASSIGN_OR_RETURN(k->axis_, node.GetInt("axis", 0));
    return k;
  }
  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const Tensor* idx, ctx.RequiredInput(2));
    ONYX_RETURN_IF_ERROR(CheckFloat(node, *dy));
    const int rank = x->rank();
    if (rank == 0 || axis_ < -rank || axis_ >= rank) return Bad(node, "bad axis or data rank");
    const int axis = static_cast<int>(axis_ < 0 ? axis_ + rank : axis_);
    if (idx->dtype() != DataType::kInt64 && idx->dtype() != DataType::kInt32) {
      return Bad(node, "indices must be int32 or int64, got " + idx->DebugString());
    }
    Shape expect(x->shape().begin(), x->shape().begin() + axis);
    expect.insert(expect.end(), idx->shape().begin(), idx->shape().end());
    expect.insert(expect.end(), x->shape().begin() + axis + 1, x->shape().end());
    if (dy->shape() != expect) {
      return Bad(node, absl::StrFormat("dY is %s, expected shape %s", dy->DebugString(),
                                       ShapeToString(expect)));
    }
    const int64_t dim = x->dim(axis), n = idx->num_elements();
    std::vector<int64_t> indices(n);
    for (int64_t j = 0; j < n; ++j) {
      int64_t v = idx->dtype() == DataType::kInt64 ? idx->data<int64_t>()[j]
                                                   : idx->data<int32_t>()[j];
      if (v < -dim || v >= dim) {
        return Bad(node, absl::StrFormat("index %d out of range for axis of size %d", v, dim));
      }
      indices[j] = v < 0 ? v + dim : v;
    }
    ONYX_ASSIGN_OR_RETURN(Tensor dx, Tensor::Zeros(dy->dtype(), x->shape(), ctx.max_tensor_bytes()));
    const int64_t outer = NumElements(absl::MakeConstSpan(x->shape()).subspan(0, axis));
    const int64_t inner = NumElements(absl::MakeConstSpan(x->shape()).subspan(axis + 1));
    if (dy->dtype() == DataType::kFloat32) {
      Scatter(dy->data<float>(), dx.data<float>(), indices, outer, dim, inner);
    } else {
      Scatter(dy->data<double>(), dx.data<double>(), indices, outer, dim, inner);
    }
    ctx.SetOutput(0, std::move(dx));
    return absl::OkStatus();
  }

 private:
  // Repeated indices accumulate, so the outer blocks run in parallel, not j.
  template <typename T>
  static void Scatter(const T* dy, T* dx, const std::vector<int64_t>& indices, int64_t outer,
                      int64_t dim, int64_t inner) {
    const int64_t n = static_cast<int64_t>(indices.size());
#pragma omp parallel for schedule(static) if (outer * n * inner >= (1 << 18))
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t j = 0; j < n; ++j) {
        const T* src = dy + (o * n + j) * inner;
        T* dst = dx + (o * dim + indices[j]) * inner;
        for (int64_t i = 0; i < inner; ++i) dst[i] += src[i];
      }
    }
  }
  int64_t axis_ = 0;
};

class TileGradKernel : public Kernel {
 public:
  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(1));
    ONYX_RETURN_IF_ERROR(CheckFloat(node, *dy));
    const int rank = x->rank();
    bool ok = dy->rank() == rank;
    for (int a = 0; ok && a < rank; ++a) {
      ok = x->dim(a) == 0 ? dy->dim(a) == 0 : dy->dim(a) % x->dim(a) == 0;
    }
    if (!ok) {
      return Bad(node, absl::StrFormat("dY %s is not a tiling of X %s", dy->DebugString(),
                                       x->DebugString()));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor dx, Tensor::Zeros(dy->dtype(), x->shape(), ctx.max_tensor_bytes()));
    if (dy->dtype() == DataType::kFloat32) {
      Sum(dy->data<float>(), dy->shape(), dx.data<float>(), x->shape());
    } else {
      Sum(dy->data<double>(), dy->shape(), dx.data<double>(), x->shape());
    }
    ctx.SetOutput(0, std::move(dx));
    return absl::OkStatus();
  }

 private:
  // Walks dY row-major with an odometer; dX's index is dY's modulo X's dims.
  template <typename T>
  static void Sum(const T* dy, const Shape& ys, T* dx, const Shape& xs) {
    const int64_t total = NumElements(ys);
    if (total == 0) return;
    const int rank = static_cast<int>(ys.size());
    const std::vector<int64_t> xstr = ContiguousStrides(xs);
    std::vector<int64_t> yi(rank, 0), xi(rank, 0);
    int64_t xo = 0;
    for (int64_t k = 0; k < total; ++k) {
      dx[xo] += dy[k];
      for (int a = rank - 1; a >= 0; --a) {
        ++yi[a];
        if (++xi[a] == xs[a]) {
          xi[a] = 0;
          xo -= (xs[a] - 1) * xstr[a];
        } else {
          xo += xstr[a];
        }
        if (yi[a] < ys[a]) break;
        yi[a] = 0;
      }
    }
  }
};

class PadGradKernel : public Kernel {
 public:
  static KernelOr Create(const Node& node, int64_t) {
    auto k = std::make_unique<PadGradKernel>();
    ONYX_ASSIGN_OR_RETURN(k->opset_, node.GetInt("forward_opset", 13));
    ONYX_ASSIGN_OR_RETURN(const std::string mode, node.GetString("mode", "constant"));
    if (mode != "constant") {
      return absl::UnimplementedError(absl::StrFormat(
          "%s: the gradient of Pad mode \"%s\" is not supported", node.Describe(), mode));
    }
    if (k->opset_ < 11) {
      ONYX_ASSIGN_OR_RETURN(k->attr_pads_, node.GetInts("pads", {}));
    }
    return k;
  }
  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(1));
    const int rank = x->rank();
    std::vector<int64_t> pads = attr_pads_;
    std::vector<int> axes;
    if (opset_ >= 11) {
      ONYX_ASSIGN_OR_RETURN(const Tensor* p, ctx.RequiredInput(2));
      ONYX_ASSIGN_OR_RETURN(pads, ReadInts(node, *p, "input pads"));
      if (opset_ >= 18 && ctx.input(4) != nullptr) {
        ONYX_ASSIGN_OR_RETURN(std::vector<int64_t> raw, ReadInts(node, *ctx.input(4), "axes"));
        ONYX_ASSIGN_OR_RETURN(axes, NormalizeAxes(node, raw, rank));
      }
    }
    if (axes.empty() && pads.size() == 2 * static_cast<size_t>(rank)) {
      for (int i = 0; i < rank; ++i) axes.push_back(i);
    }
    if (pads.size() != 2 * axes.size() || dy->rank() != rank) {
      return Bad(node, absl::StrFormat("pads [%s] do not match X %s", absl::StrJoin(pads, ","),
                                       x->DebugString()));
    }
    std::vector<int64_t> before(rank, 0), after(rank, 0);
    for (size_t i = 0; i < axes.size(); ++i) {
      before[axes[i]] = pads[i];
      after[axes[i]] = pads[i + axes.size()];
    }
    // X index i sits at dY index i + before; negative pads cropped X, whose
    // cropped elements get 0. The copied window is X's range that lands in dY.
    Shape window(rank);
    std::vector<int64_t> lo(rank);
    const std::vector<int64_t> x_strides = ContiguousStrides(x->shape());
    int64_t base = 0;
    for (int a = 0; a < rank; ++a) {
      if (x->dim(a) + before[a] + after[a] != dy->dim(a)) {
        return Bad(node, absl::StrFormat("dY %s does not match X %s padded by [%s]",
                                         dy->DebugString(), x->DebugString(),
                                         absl::StrJoin(pads, ",")));
      }
      const int64_t x_lo = std::max<int64_t>(0, -before[a]);
      const int64_t x_hi = std::min<int64_t>(x->dim(a), dy->dim(a) - before[a]);
      window[a] = std::max<int64_t>(0, x_hi - x_lo);
      lo[a] = x_lo + before[a];
      base += x_lo * x_strides[a];
    }
    ONYX_ASSIGN_OR_RETURN(Tensor dx,
                          ScatterWindow(ctx, *dy, x->shape(), base, x_strides, window, lo));
    ctx.SetOutput(0, std::move(dx));
    return absl::OkStatus();
  }

 private:
  int64_t opset_ = 13;
  std::vector<int64_t> attr_pads_;
};

// Output k: dY's dtype with the dims of input k + 1.
absl::Status GradLikeInputsFn(ShapeInferenceContext& ctx) {
  const TypeInfo* dy = ctx.input(0);
  if (dy == nullptr) return absl::OkStatus();
  const int outputs = static_cast<int>(ctx.node().outputs.size());
  for (int k = 0; k < outputs && k + 1 < ctx.num_inputs(); ++k) {
    if (ctx.node().outputs[k].empty()) continue;
    const TypeInfo* like = ctx.input(k + 1);
    if (like != nullptr && like->has_shape) {
      ctx.SetOutput(k, dy->dtype, like->dims);
    } else {
      ctx.SetOutputRankUnknown(k, dy->dtype);
    }
  }
  return absl::OkStatus();
}

template <typename K>
KernelOr MakePlain(const Node&, int64_t) {
  return std::make_unique<K>();
}

}  // namespace

void RegisterTensorGradOps(OpRegistry& registry) {
  registry.Register(kOnyxDomain, "ConcatGrad", 1, Device::kCpu, &ConcatGradKernel::Create);
  registry.Register(kOnyxDomain, "SliceGrad", 1, Device::kCpu, &SliceGradKernel::Create);
  registry.Register(kOnyxDomain, "GatherGrad", 1, Device::kCpu, &GatherGradKernel::Create);
  registry.Register(kOnyxDomain, "TileGrad", 1, Device::kCpu, MakePlain<TileGradKernel>);
  registry.Register(kOnyxDomain, "PadGrad", 1, Device::kCpu, &PadGradKernel::Create);
  RegisterOnyxCastLike(registry);
  for (const char* op : {"ConcatGrad", "SliceGrad", "GatherGrad", "TileGrad", "PadGrad"}) {
    registry.RegisterShapeFn(kOnyxDomain, op, GradLikeInputsFn);
  }
}

}  // namespace onyx::tensor
