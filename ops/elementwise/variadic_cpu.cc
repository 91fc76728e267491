// Variadic Min, Max (6, 8, 12, 13), Sum, Mean (6, 8, 13) with multidirectional
// broadcasting (opset >= 8; opset 6 needs equal shapes, which broadcasting also
// accepts), and MinMaxGrad (com.onyx), the backward of Min and Max.
#include <memory>
#include <type_traits>
#include <vector>

#include "absl/strings/str_format.h"
#include "ops/elementwise/elementwise_util.h"
#include "ops/math/arith.h"
#include "runtime/status_macros.h"

namespace onyx::elementwise {
namespace {

enum class Variadic { kMin, kMax, kSum, kMean };

// The broadcast shape of every present input; InvalidArgument naming the node.
absl::StatusOr<Shape> CommonShape(const Node& node, const std::vector<const Tensor*>& xs) {
  Shape out = xs[0]->shape();
  for (size_t i = 1; i < xs.size(); ++i) {
    auto s = BroadcastShapes(out, xs[i]->shape());
    if (!s.ok()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: input %d has shape %s, which does not broadcast with %s", node.Describe(), i,
          ShapeToString(xs[i]->shape()), ShapeToString(out)));
    }
    out = *s;
  }
  return out;
}

absl::StatusOr<std::vector<const Tensor*>> Inputs(const KernelContext& ctx, int first,
                                                  DataType* dtype) {
  std::vector<const Tensor*> xs;
  for (int i = first; i < ctx.num_inputs(); ++i) {
    const Tensor* t = ctx.input(i);
    if (t == nullptr) continue;
    if (!xs.empty() && t->dtype() != xs[0]->dtype()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: input %d is %s but input %d is %s; all must have the same dtype",
          ctx.node().Describe(), i, DataTypeName(t->dtype()), first,
          DataTypeName(xs[0]->dtype())));
    }
    xs.push_back(t);
  }
  if (xs.empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: needs at least one input", ctx.node().Describe()));
  }
  *dtype = xs[0]->dtype();
  return xs;
}

template <Variadic kOp>
class VariadicKernel final : public Kernel {
 public:
  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    DataType dtype;
    ONYX_ASSIGN_OR_RETURN(std::vector<const Tensor*> xs, Inputs(ctx, 0, &dtype));
    ONYX_ASSIGN_OR_RETURN(const Shape out, CommonShape(node, xs));
    constexpr bool kFloatOnly = kOp == Variadic::kMean;
    if (kFloatOnly && dtype != DataType::kFloat32 && dtype != DataType::kFloat64) {
      return absl::UnimplementedError(absl::StrFormat(
          "%s: dtype %s is not supported (float32, float64)", node.Describe(),
          DataTypeName(dtype)));
    }
    // y starts as x0 (broadcast), then y = op(y, xi) in place for each next input.
    // In place on x0 only when no later input reads the same buffer (Sum(x, z, x)).
    bool in_place = xs[0]->shape() == out;
    for (size_t i = 1; i < xs.size(); ++i) in_place &= xs[i]->raw_data() != xs[0]->raw_data();
    ONYX_ASSIGN_OR_RETURN(Tensor * y, in_place
                                          ? ctx.AllocateOutputMaybeInPlace(0, 0, dtype, out)
                                          : ctx.AllocateOutput(0, dtype, out));
    if (y->num_elements() == 0) return absl::OkStatus();
    return DispatchNumeric(node, dtype, [&](auto tag) {
      using T = decltype(tag);
      auto op = [](T a, T b) -> T {
        if constexpr (kOp == Variadic::kMin) return MinPropagateNan(a, b);
        if constexpr (kOp == Variadic::kMax) return MaxPropagateNan(a, b);
        return math::Apply<math::BinaryOp::kAdd>(a, b);
      };
      if (xs.size() == 1) {
        if (y->raw_data() != xs[0]->raw_data()) {
          BroadcastBinary<T, T, T>(*xs[0], *xs[0], *y, [](T a, T) { return a; });
        }
      } else {
        BroadcastBinary<T, T, T>(*xs[0], *xs[1], *y, op);
        for (size_t i = 2; i < xs.size(); ++i) BroadcastBinary<T, T, T>(*y, *xs[i], *y, op);
      }
      if constexpr (kOp == Variadic::kMean && std::is_floating_point_v<T>) {
        const T scale = T(1) / static_cast<T>(xs.size());
        T* yp = y->data<T>();
        const int64_t n = y->num_elements();
#pragma omp parallel for schedule(static) if (n >= (1 << 15))
        for (int64_t i = 0; i < n; ++i) yp[i] *= scale;
      }
      return absl::OkStatus();
    });
  }
};

// MinMaxGrad(dY, Y, X0, ..., Xn-1) -> (dX0, ..., dXn-1): each output element's
// gradient goes to the inputs equal to Y there, split evenly among ties (as
// torch.maximum), then summed back to each input's shape.
class MinMaxGradKernel final : public Kernel {
 public:
  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* y, ctx.RequiredInput(1));
    DataType dtype;
    ONYX_ASSIGN_OR_RETURN(std::vector<const Tensor*> xs, Inputs(ctx, 2, &dtype));
    if (xs.size() != static_cast<size_t>(ctx.num_inputs() - 2) || dtype != dy->dtype() ||
        y->dtype() != dy->dtype() || y->shape() != dy->shape()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: expects dY, Y of one shape and every X present with their dtype",
          node.Describe()));
    }
    const Shape& out = dy->shape();
    return DispatchFloat(node, dtype, [&](auto tag) -> absl::Status {
      using T = decltype(tag);
      const int64_t n = dy->num_elements();
      std::vector<T> count(n, T(0));
      const std::vector<int64_t> plain = BroadcastStrides(out, out);
      auto for_each_input = [&](size_t k, auto fn) {
        const BroadcastLoop loop(out, {plain, BroadcastStrides(xs[k]->shape(), out)});
        const T* xp = xs[k]->data<T>();
        const int64_t sx = loop.inner_stride(1);
        ForEachBlock(loop, true, [&](const int64_t* off, int64_t len) {
          for (int64_t i = 0; i < len; ++i) fn(off[0] + i, xp[off[1] + i * sx]);
        });
      };
      const T* yp = y->data<T>();
      for (size_t k = 0; k < xs.size(); ++k) {
        for_each_input(k, [&](int64_t o, T x) { count[o] += x == yp[o] ? T(1) : T(0); });
      }
      const T* dyp = dy->data<T>();
      for (size_t k = 0; k < xs.size(); ++k) {
        if (!ctx.wants_output(static_cast<int>(k))) continue;
        ONYX_ASSIGN_OR_RETURN(Tensor full, Tensor::Uninitialized(dtype, out,
                                                                 ctx.max_tensor_bytes()));
        T* fp = full.data<T>();
        for_each_input(k, [&](int64_t o, T x) {
          fp[o] = x == yp[o] ? dyp[o] / count[o] : T(0);
        });
        if (xs[k]->shape() == out) {
          ctx.SetOutput(static_cast<int>(k), std::move(full));
        } else {
          ONYX_ASSIGN_OR_RETURN(Tensor folded, ReduceSumToShape(full, xs[k]->shape()));
          ctx.SetOutput(static_cast<int>(k), std::move(folded));
        }
      }
      return absl::OkStatus();
    });
  }
};

template <Variadic kOp>
KernelFactory Factory() {
  return [](const Node&, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    return std::make_unique<VariadicKernel<kOp>>();
  };
}

}  // namespace

void RegisterVariadicOps(OpRegistry& registry) {
  RegisterCpu(registry, "Min", {6, 8, 12, 13}, Factory<Variadic::kMin>());
  RegisterCpu(registry, "Max", {6, 8, 12, 13}, Factory<Variadic::kMax>());
  RegisterCpu(registry, "Sum", {6, 8, 13}, Factory<Variadic::kSum>());
  RegisterCpu(registry, "Mean", {6, 8, 13}, Factory<Variadic::kMean>());
  registry.Register(kOnyxDomain, "MinMaxGrad", 1, Device::kCpu,
                    [](const Node&, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
                      return std::make_unique<MinMaxGradKernel>();
                    });
}

}  // namespace onyx::elementwise
