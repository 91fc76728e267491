// Pow (7, 12, 13, 15) with broadcasting and mixed base/exponent types, Clip
// (6: attributes min/max; 11+: optional scalar inputs; 12+: integer types),
// and their backward ops PowGrad and ClipGrad (com.onyx).
#include <cmath>
#include <limits>
#include <memory>
#include <type_traits>

#include "absl/strings/str_format.h"
#include "ops/elementwise/elementwise_util.h"
#include "runtime/status_macros.h"

namespace onyx::elementwise {
namespace {

// a^b in the base's type. Integer base with integer exponent >= 0: exact
// repeated squaring (wrapping). Otherwise pow in float (float32 base with a
// float32 exponent, as NumPy) or double, then converted to the base's type
// (integers truncate toward zero, as ONNX Runtime).
template <typename TA, typename TB>
inline TA PowValue(TA a, TB b) {
  if constexpr (std::is_integral_v<TA> && std::is_integral_v<TB>) {
    using U = std::conditional_t<(sizeof(TA) < sizeof(unsigned)), unsigned,
                                 std::make_unsigned_t<TA>>;
    if (b < TB(0)) {
      // a^-k is 0 except for |a| == 1.
      if (a == TA(1)) return TA(1);
      if constexpr (std::is_signed_v<TA>) {
        if (a == TA(-1)) return (b % 2 == 0) ? TA(1) : TA(-1);
      }
      return TA(0);
    }
    U result = 1, base = static_cast<U>(a);
    auto e = static_cast<std::make_unsigned_t<TB>>(b);
    while (e != 0) {
      if (e & 1) result = static_cast<U>(result * base);
      base = static_cast<U>(base * base);
      e >>= 1;
    }
    return static_cast<TA>(result);
  } else if constexpr (std::is_same_v<TA, float> && std::is_same_v<TB, float>) {
    return std::pow(a, b);
  } else if constexpr (std::is_floating_point_v<TA>) {
    return static_cast<TA>(std::pow(static_cast<double>(a), static_cast<double>(b)));
  } else {
    const double v = std::pow(static_cast<double>(a), static_cast<double>(b));
    if (!(std::fabs(v) < 9.2e18)) return TA(0);  // NaN / out of range: no UB
    return static_cast<TA>(static_cast<int64_t>(v));
  }
}

class PowKernel final : public Kernel {
 public:
  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(1));
    auto out = BroadcastShapes(a->shape(), b->shape());
    if (!out.ok()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: input shapes X %s and Y %s cannot be broadcast together", node.Describe(),
          ShapeToString(a->shape()), ShapeToString(b->shape())));
    }
    const int in_place = a->shape() == *out ? 0 : 1;
    ONYX_ASSIGN_OR_RETURN(
        Tensor * y, in_place == 0 || a->dtype() == b->dtype()
                        ? ctx.AllocateOutputMaybeInPlace(0, in_place, a->dtype(), *out)
                        : ctx.AllocateOutput(0, a->dtype(), *out));
    if (y->num_elements() == 0) return absl::OkStatus();
    return DispatchNumeric(node, a->dtype(), [&](auto ta) {
      return DispatchNumeric(node, b->dtype(), [&](auto tb) {
        using TA = decltype(ta);
        using TB = decltype(tb);
        if constexpr (std::is_same_v<TA, TB> && std::is_floating_point_v<TA>) {
          // Squaring is common and x * x is exactly pow(x, 2), also for ±inf and
          // NaN (a sqrt shortcut for 0.5 would not be: pow(-inf, 0.5) = +inf).
          if (b->num_elements() == 1 && *b->data<TB>() == TB(2)) {
            BroadcastBinary<TA, TB, TA>(*a, *b, *y, [](TA x, TB) { return x * x; });
            return absl::OkStatus();
          }
        }
        BroadcastBinary<TA, TB, TA>(*a, *b, *y, [](TA x, TB e) { return PowValue(x, e); });
        return absl::OkStatus();
      });
    });
  }
};

// PowGrad(dY, A, B) -> (dA, dB), float32/float64, either output optional:
//   dA = ReduceToShape(dY * B * A^(B-1), A)
//   dB = ReduceToShape(dY * A^B * ln A, B), taken as 0 where A == 0 (as PyTorch).
class PowGradKernel final : public Kernel {
 public:
  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* a, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const Tensor* b, ctx.RequiredInput(2));
    if (a->dtype() != dy->dtype() || b->dtype() != dy->dtype()) {
      return absl::UnimplementedError(absl::StrFormat(
          "%s: dY %s, A %s and B %s must share one float dtype", node.Describe(),
          DataTypeName(dy->dtype()), DataTypeName(a->dtype()), DataTypeName(b->dtype())));
    }
    auto out = BroadcastShapes(a->shape(), b->shape());
    if (!out.ok() || *out != dy->shape()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: dY %s does not match the broadcast of A %s and B %s", node.Describe(),
          ShapeToString(dy->shape()), ShapeToString(a->shape()), ShapeToString(b->shape())));
    }
    return DispatchFloat(node, dy->dtype(), [&](auto tag) -> absl::Status {
      using T = decltype(tag);
      for (int k = 0; k < 2; ++k) {
        if (!ctx.wants_output(k)) continue;
        ONYX_ASSIGN_OR_RETURN(Tensor full,
                              Tensor::Uninitialized(dy->dtype(), *out, ctx.max_tensor_bytes()));
        // full = dY * d(a^b)/d(a or b) over the broadcast shape, then folded.
        Tensor dyb = *dy;
        const BroadcastLoop loop(*out, {BroadcastStrides(*out, *out),
                                        BroadcastStrides(a->shape(), *out),
                                        BroadcastStrides(b->shape(), *out)});
        const T* ap = a->data<T>();
        const T* bp = b->data<T>();
        const T* dyp = dyb.data<T>();
        T* fp = full.data<T>();
        const int64_t sa = loop.inner_stride(1), sb = loop.inner_stride(2);
        ForEachBlock(loop, true, [&](const int64_t* off, int64_t n) {
          for (int64_t i = 0; i < n; ++i) {
            const T x = ap[off[1] + i * sa], e = bp[off[2] + i * sb];
            const T g = dyp[off[0] + i];
            if (k == 0) {
              fp[off[0] + i] = g * e * std::pow(x, e - T(1));
            } else {
              fp[off[0] + i] = x == T(0) ? T(0) : g * std::pow(x, e) * std::log(x);
            }
          }
        });
        const Shape& target = k == 0 ? a->shape() : b->shape();
        if (target == *out) {
          ctx.SetOutput(k, std::move(full));
        } else {
          ONYX_ASSIGN_OR_RETURN(Tensor folded, ReduceSumToShape(full, target));
          ctx.SetOutput(k, std::move(folded));
        }
      }
      return absl::OkStatus();
    });
  }
};

// Clip: y = min(max(x, lo), hi) (so hi wins when lo > hi, as np.clip); NaN stays NaN.
class ClipKernel final : public Kernel {
 public:
  ClipKernel(int64_t opset, float attr_min, float attr_max)
      : opset_(opset), attr_min_(attr_min), attr_max_(attr_max) {}

  static absl::StatusOr<std::unique_ptr<Kernel>> Create(const Node& node, int64_t opset) {
    float lo = std::numeric_limits<float>::lowest(), hi = std::numeric_limits<float>::max();
    if (opset < 11) {
      ONYX_ASSIGN_OR_RETURN(lo, node.GetFloat("min", lo));
      ONYX_ASSIGN_OR_RETURN(hi, node.GetFloat("max", hi));
    }
    return std::unique_ptr<Kernel>(new ClipKernel(opset, lo, hi));
  }

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (opset_ < 12 && x->dtype() != DataType::kFloat32 && x->dtype() != DataType::kFloat64) {
      return absl::UnimplementedError(absl::StrFormat(
          "%s (opset %d): dtype %s needs opset >= 12", node.Describe(), opset_,
          DataTypeName(x->dtype())));
    }
    const Tensor* bounds[2] = {opset_ >= 11 ? ctx.input(1) : nullptr,
                               opset_ >= 11 ? ctx.input(2) : nullptr};
    for (int k = 0; k < 2; ++k) {
      if (bounds[k] == nullptr) continue;
      if (bounds[k]->dtype() != x->dtype() || bounds[k]->num_elements() != 1) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: input %s must be a one-element %s tensor, got %s", node.Describe(),
            k == 0 ? "min" : "max", DataTypeName(x->dtype()), bounds[k]->DebugString()));
      }
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y,
                          ctx.AllocateOutputMaybeInPlace(0, 0, x->dtype(), x->shape()));
    return DispatchNumeric(node, x->dtype(), [&](auto tag) {
      using T = decltype(tag);
      // Absent bounds do not clip at all (±inf keep their value).
      T lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
      if constexpr (std::is_floating_point_v<T>) {
        lo = -std::numeric_limits<T>::infinity();
        hi = std::numeric_limits<T>::infinity();
      }
      if (opset_ < 11) {
        lo = static_cast<T>(attr_min_);
        hi = static_cast<T>(attr_max_);
      }
      if (bounds[0] != nullptr) lo = *bounds[0]->data<T>();
      if (bounds[1] != nullptr) hi = *bounds[1]->data<T>();
      const T* xp = x->data<T>();
      T* yp = y->data<T>();
      const int64_t n = x->num_elements();
#pragma omp parallel for schedule(static) if (n >= (1 << 15))
      for (int64_t i = 0; i < n; ++i) {
        const T v = xp[i] < lo ? lo : xp[i];
        yp[i] = v > hi ? hi : v;
      }
      return absl::OkStatus();
    });
  }

 private:
  int64_t opset_;
  float attr_min_, attr_max_;
};

// ClipGrad(dY, X, [min], [max]) -> dX = dY where lo <= x <= hi, else 0. The
// forward's attributes (min/max for opset < 11) are copied onto the node.
class ClipGradKernel final : public Kernel {
 public:
  ClipGradKernel(float lo, float hi) : attr_min_(lo), attr_max_(hi) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(1));
    if (dy->dtype() != x->dtype() || dy->shape() != x->shape()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: dY %s and X %s must have the same dtype and shape", node.Describe(),
          dy->DebugString(), x->DebugString()));
    }
    return DispatchFloat(node, x->dtype(), [&](auto tag) -> absl::Status {
      using T = decltype(tag);
      T lo = static_cast<T>(attr_min_), hi = static_cast<T>(attr_max_);
      for (int k = 0; k < 2; ++k) {
        const Tensor* t = ctx.input(2 + k);
        if (t == nullptr) continue;
        if (t->dtype() != x->dtype() || t->num_elements() != 1) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "%s: bound %s must be a one-element %s tensor", node.Describe(),
              t->DebugString(), DataTypeName(x->dtype())));
        }
        (k == 0 ? lo : hi) = *t->data<T>();
      }
      ONYX_ASSIGN_OR_RETURN(Tensor * dx,
                            ctx.AllocateOutputMaybeInPlace(0, 0, x->dtype(), x->shape()));
      const T* dyp = dy->data<T>();
      const T* xp = x->data<T>();
      T* dxp = dx->data<T>();
      const int64_t n = x->num_elements();
#pragma omp parallel for schedule(static) if (n >= (1 << 15))
      for (int64_t i = 0; i < n; ++i) dxp[i] = (xp[i] >= lo && xp[i] <= hi) ? dyp[i] : T(0);
      return absl::OkStatus();
    });
  }

 private:
  float attr_min_, attr_max_;
};

}  // namespace

void RegisterPowClipOps(OpRegistry& registry) {
  auto pow = [](const Node&, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    return std::make_unique<PowKernel>();
  };
  RegisterCpu(registry, "Pow", {7, 12, 13, 15}, pow);
  RegisterCpu(registry, "Clip", {6, 11, 12, 13}, ClipKernel::Create);
  registry.Register(kOnyxDomain, "PowGrad", 1, Device::kCpu,
                    [](const Node&, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
                      return std::make_unique<PowGradKernel>();
                    });
  registry.Register(kOnyxDomain, "ClipGrad", 1, Device::kCpu,
                    [](const Node& node, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
                      ONYX_ASSIGN_OR_RETURN(float lo, node.GetFloat(
                                                          "min", std::numeric_limits<float>::lowest()));
                      ONYX_ASSIGN_OR_RETURN(float hi, node.GetFloat(
                                                          "max", std::numeric_limits<float>::max()));
                      return std::make_unique<ClipGradKernel>(lo, hi);
                    });
}

}  // namespace onyx::elementwise
