// Ops that only change the shape: Reshape, Flatten, Squeeze, Unsqueeze (their
// outputs are views of the input buffer, no copy), and the metadata ops Shape
// and Size (host outputs). None reads the data input's elements, so the CUDA
// registration (shape_views_cuda.cc) runs these same kernels on device tensors.
#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "absl/strings/str_format.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/status_macros.h"

namespace onyx::tensor {
namespace {

// Reshape's target shape: 0 copies the input dim at that index (unless
// allowzero, where 0 is a real 0), one -1 is inferred from the element count.
absl::StatusOr<Shape> ResolveReshape(const Node& node, const Shape& in,
                                     absl::Span<const int64_t> requested, bool allowzero) {
  Shape out(requested.size());
  int unknown = -1;
  bool has_zero = false;
  for (size_t i = 0; i < requested.size(); ++i) {
    const int64_t v = requested[i];
    if (v == -1) {
      if (unknown >= 0) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: shape %s has more than one -1", node.Describe(), ShapeToString(requested)));
      }
      unknown = static_cast<int>(i);
      out[i] = 1;
    } else if (v == 0 && !allowzero) {
      if (i >= in.size()) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: shape %s copies dim %d (0) but the input %s has rank %d", node.Describe(),
            ShapeToString(requested), i, ShapeToString(in), in.size()));
      }
      out[i] = in[i];
    } else if (v < -1) {
      return absl::InvalidArgumentError(absl::StrFormat("%s: shape %s has a negative dim",
                                                        node.Describe(), ShapeToString(requested)));
    } else {
      has_zero |= (v == 0);
      out[i] = v;
    }
  }
  if (allowzero && has_zero && unknown >= 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: shape %s has both 0 and -1 with allowzero=1", node.Describe(),
                        ShapeToString(requested)));
  }
  const int64_t total = NumElements(in);
  auto count = CheckedNumElements(out);
  if (!count.ok()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: shape %s: %s", node.Describe(), ShapeToString(requested), count.status().message()));
  }
  if (unknown >= 0) {
    if (*count == 0 || total % *count != 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: cannot infer the -1 in shape %s for an input of shape %s",
                          node.Describe(), ShapeToString(requested), ShapeToString(in)));
    }
    out[unknown] = total / *count;
    *count = total;
  }
  if (*count != total) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: cannot reshape input of shape %s (%d elements) to %s (%d elements)",
                        node.Describe(), ShapeToString(in), total, ShapeToString(out), *count));
  }
  return out;
}

// Reshape-1 (shape attribute), 5, 13, 14 (allowzero), 19, 21.
class ReshapeKernel : public Kernel {
 public:
  static KernelOr Create(const Node& node, int64_t opset) {
    auto k = std::make_unique<ReshapeKernel>();
    if (opset >= 14) {
      ONYX_ASSIGN_OR_RETURN(int64_t allowzero, node.GetInt("allowzero", 0));
      k->allowzero_ = allowzero != 0;
    }
    if (opset < 5) {
      ONYX_ASSIGN_OR_RETURN(std::vector<int64_t> shape, node.GetInts("shape", {}));
      k->attr_shape_ = std::move(shape);
    }
    return k;
  }

  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    std::vector<int64_t> requested;
    if (attr_shape_) {
      requested = *attr_shape_;
    } else {
      ONYX_ASSIGN_OR_RETURN(const Tensor* shape, ctx.RequiredInput(1));
      ONYX_ASSIGN_OR_RETURN(requested, ReadInts(ctx.node(), *shape, "input shape"));
    }
    ONYX_ASSIGN_OR_RETURN(Shape out, ResolveReshape(ctx.node(), x->shape(), requested, allowzero_));
    ONYX_ASSIGN_OR_RETURN(Tensor y, x->Reshaped(std::move(out)));
    ctx.SetOutput(0, std::move(y));
    return absl::OkStatus();
  }

 private:
  bool allowzero_ = false;
  std::optional<std::vector<int64_t>> attr_shape_;
};

// Flatten-1, 9, 11 (negative axis), 13, 21: [prod(d[:axis]), prod(d[axis:])].
class FlattenKernel : public Kernel {
 public:
  static KernelOr Create(const Node& node, int64_t opset) {
    auto k = std::make_unique<FlattenKernel>();
    ONYX_ASSIGN_OR_RETURN(k->axis_, node.GetInt("axis", 1));
    return k;
  }

  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    const int rank = x->rank();
    if (axis_ < -rank || axis_ > rank) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: axis %d is out of range for an input of rank %d",
                          ctx.node().Describe(), axis_, rank));
    }
    const int axis = static_cast<int>(axis_ < 0 ? axis_ + rank : axis_);
    const Shape& d = x->shape();
    const int64_t outer = NumElements(absl::MakeConstSpan(d).subspan(0, axis));
    const int64_t inner = NumElements(absl::MakeConstSpan(d).subspan(axis));
    ONYX_ASSIGN_OR_RETURN(Tensor y, x->Reshaped({outer, inner}));
    ctx.SetOutput(0, std::move(y));
    return absl::OkStatus();
  }

 private:
  int64_t axis_ = 1;
};

// Axes from the attribute (opset < 13) or from optional input 1 (13+).
class AxesKernel : public Kernel {
 protected:
  absl::Status InitAxes(const Node& node, int64_t opset) {
    axes_from_input_ = opset >= 13;
    if (!axes_from_input_) {
      const Attribute* attr = node.FindAttribute("axes");
      if (attr != nullptr) {
        ONYX_ASSIGN_OR_RETURN(std::vector<int64_t> axes, node.GetInts("axes", {}));
        attr_axes_ = std::move(axes);
      }
    }
    return absl::OkStatus();
  }
  // Absent axes -> nullopt.
  absl::StatusOr<std::optional<std::vector<int64_t>>> Axes(KernelContext& ctx) const {
    if (!axes_from_input_) return attr_axes_;
    const Tensor* axes = ctx.input(1);
    if (axes == nullptr) return std::optional<std::vector<int64_t>>();
    ONYX_ASSIGN_OR_RETURN(std::vector<int64_t> values, ReadInts(ctx.node(), *axes, "input axes"));
    return std::optional<std::vector<int64_t>>(std::move(values));
  }

 private:
  bool axes_from_input_ = false;
  std::optional<std::vector<int64_t>> attr_axes_;
};

// Squeeze-1, 11, 13 (axes input), 21: drops the listed size-1 dims, or every
// size-1 dim when axes are absent or empty.
class SqueezeKernel : public AxesKernel {
 public:
  static KernelOr Create(const Node& node, int64_t opset) {
    auto k = std::make_unique<SqueezeKernel>();
    ONYX_RETURN_IF_ERROR(k->InitAxes(node, opset));
    return k;
  }

  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(std::optional<std::vector<int64_t>> axes, Axes(ctx));
    const int rank = x->rank();
    std::vector<bool> drop(rank, false);
    if (!axes || axes->empty()) {
      for (int i = 0; i < rank; ++i) drop[i] = x->dim(i) == 1;
    } else {
      ONYX_ASSIGN_OR_RETURN(std::vector<int> normalized, NormalizeAxes(ctx.node(), *axes, rank));
      for (int a : normalized) {
        if (x->dim(a) != 1) {
          return absl::InvalidArgumentError(
              absl::StrFormat("%s: cannot squeeze axis %d of input shape %s (size is not 1)",
                              ctx.node().Describe(), a, ShapeToString(x->shape())));
        }
        drop[a] = true;
      }
    }
    Shape out;
    for (int i = 0; i < rank; ++i) {
      if (!drop[i]) out.push_back(x->dim(i));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor y, x->Reshaped(std::move(out)));
    ctx.SetOutput(0, std::move(y));
    return absl::OkStatus();
  }
};

// Unsqueeze-1, 11, 13 (axes input), 21: inserts size-1 dims at `axes`, which
// index the output (negative counts from its end).
class UnsqueezeKernel : public AxesKernel {
 public:
  static KernelOr Create(const Node& node, int64_t opset) {
    auto k = std::make_unique<UnsqueezeKernel>();
    ONYX_RETURN_IF_ERROR(k->InitAxes(node, opset));
    return k;
  }

  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(std::optional<std::vector<int64_t>> axes, Axes(ctx));
    if (!axes) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: axes are required", ctx.node().Describe()));
    }
    const int out_rank = x->rank() + static_cast<int>(axes->size());
    ONYX_ASSIGN_OR_RETURN(std::vector<int> normalized, NormalizeAxes(ctx.node(), *axes, out_rank));
    std::vector<bool> inserted(out_rank, false);
    for (int a : normalized) inserted[a] = true;
    Shape out(out_rank);
    int next = 0;
    for (int i = 0; i < out_rank; ++i) out[i] = inserted[i] ? 1 : x->dim(next++);
    ONYX_ASSIGN_OR_RETURN(Tensor y, x->Reshaped(std::move(out)));
    ctx.SetOutput(0, std::move(y));
    return absl::OkStatus();
  }
};

// Output 0 = int64 `values` of `shape`, on the host: from the run's buffers
// on the CPU, a fresh host tensor in a device session (the host reads shapes;
// AllocateOutput would place it on the device).
absl::Status SetHostInts(KernelContext& ctx, Shape shape, absl::Span<const int64_t> values) {
  if (ctx.backend() != nullptr) {
    ONYX_ASSIGN_OR_RETURN(Tensor y, Tensor::FromVector<int64_t>(std::move(shape), values));
    ctx.SetOutput(0, std::move(y));
    return absl::OkStatus();
  }
  ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, DataType::kInt64, std::move(shape)));
  std::copy(values.begin(), values.end(), y->data<int64_t>());
  return absl::OkStatus();
}

// Shape-1, 13, 15 (start/end, clamped to [0, rank]), 19, 21.
class ShapeKernel : public Kernel {
 public:
  static KernelOr Create(const Node& node, int64_t opset) {
    auto k = std::make_unique<ShapeKernel>();
    if (opset >= 15) {
      ONYX_ASSIGN_OR_RETURN(k->start_, node.GetInt("start", 0));
      if (node.FindAttribute("end") != nullptr) {
        ONYX_ASSIGN_OR_RETURN(int64_t end, node.GetInt("end", 0));
        k->end_ = end;
      }
    }
    return k;
  }

  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    const int64_t rank = x->rank();
    auto clamp = [rank](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
    const int64_t start = clamp(start_);
    const int64_t end = end_ ? clamp(*end_) : rank;
    const int64_t n = std::max<int64_t>(end - start, 0);
    return SetHostInts(ctx, {n}, absl::MakeConstSpan(x->shape()).subspan(start, n));
  }

 private:
  int64_t start_ = 0;
  std::optional<int64_t> end_;
};

// Size-1, 13, 19, 21: int64 scalar element count.
class SizeKernel : public Kernel {
 public:
  static KernelOr Create(const Node&, int64_t) { return std::make_unique<SizeKernel>(); }

  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    const int64_t count = x->num_elements();
    return SetHostInts(ctx, {}, absl::MakeConstSpan(&count, 1));
  }
};

}  // namespace

KernelOr CreateReshapeKernel(const Node& node, int64_t opset) {
  return ReshapeKernel::Create(node, opset);
}
KernelOr CreateFlattenKernel(const Node& node, int64_t opset) {
  return FlattenKernel::Create(node, opset);
}
KernelOr CreateSqueezeKernel(const Node& node, int64_t opset) {
  return SqueezeKernel::Create(node, opset);
}
KernelOr CreateUnsqueezeKernel(const Node& node, int64_t opset) {
  return UnsqueezeKernel::Create(node, opset);
}
KernelOr CreateShapeKernel(const Node& node, int64_t opset) {
  return ShapeKernel::Create(node, opset);
}
KernelOr CreateSizeKernel(const Node& node, int64_t opset) {
  return SizeKernel::Create(node, opset);
}

void RegisterReshapeOps(OpRegistry& registry) {
  RegisterCpu(registry, "Reshape", {1, 5, 13, 14, 19, 21}, &ReshapeKernel::Create);
  RegisterCpu(registry, "Flatten", {1, 9, 11, 13, 21}, &FlattenKernel::Create);
  RegisterCpu(registry, "Squeeze", {1, 11, 13, 21}, &SqueezeKernel::Create);
  RegisterCpu(registry, "Unsqueeze", {1, 11, 13, 21}, &UnsqueezeKernel::Create);
  RegisterCpu(registry, "Shape", {1, 13, 15, 19, 21}, &ShapeKernel::Create);
  RegisterCpu(registry, "Size", {1, 13, 19, 21}, &SizeKernel::Create);
}

}  // namespace onyx::tensor
