// GlobalAveragePool, GlobalMaxPool, GlobalLpPool (X [N, C, D1..Dk] -> [N, C, 1..1])
// and com.onyx GlobalAveragePoolGrad (dY, X) -> dX = dY / (D1*..*Dk) broadcast.
// Each (n, c) plane is one contiguous run: a vectorized loop per plane, planes
// spread over the OpenMP pool.
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/pool/global_pool_blocked.h"
#include "ops/pool/pool_kernels.h"
#include "runtime/tensor_layout.h"
#include "runtime/status_macros.h"

namespace onyx::pool {
namespace {

enum class GlobalKind { kAverage, kMax, kLp };

bool WorthThreads(int64_t work) { return work >= (int64_t{1} << 15); }

template <typename T>
void GlobalPoolLoop(GlobalKind kind, double p, const T* x, T* y, int64_t planes, int64_t size) {
#pragma omp parallel for schedule(static) if (WorthThreads(planes * size))
  for (int64_t plane = 0; plane < planes; ++plane) {
    const T* xp = x + plane * size;
    if (kind == GlobalKind::kMax) {
      T best = size > 0 ? xp[0] : -std::numeric_limits<T>::infinity();
      for (int64_t i = 1; i < size; ++i) best = xp[i] > best ? xp[i] : best;
      y[plane] = best;
      continue;
    }
    double acc = 0;
    if (kind == GlobalKind::kAverage) {
#pragma omp simd reduction(+ : acc)
      for (int64_t i = 0; i < size; ++i) acc += double(xp[i]);
      y[plane] = static_cast<T>(size > 0 ? acc / size : 0.0);
    } else if (p == 2) {
#pragma omp simd reduction(+ : acc)
      for (int64_t i = 0; i < size; ++i) acc += double(xp[i]) * double(xp[i]);
      y[plane] = static_cast<T>(std::sqrt(acc));
    } else {
      for (int64_t i = 0; i < size; ++i) acc += std::pow(std::fabs(double(xp[i])), p);
      y[plane] = static_cast<T>(std::pow(acc, 1.0 / p));
    }
  }
}

// [N, C] and the spatial size of X, or InvalidArgument naming the node.
absl::Status SplitPlanes(const Node& node, const Tensor& x, int64_t& planes, int64_t& size) {
  if (x.rank() < 2) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: input X has shape %s, expected rank >= 2 ([N, C, D1, ...])",
                        node.Describe(), ShapeToString(x.shape())));
  }
  planes = x.dim(0) * x.dim(1);
  size = planes == 0 ? 0 : x.num_elements() / planes;
  return absl::OkStatus();
}

class GlobalPoolKernel final : public Kernel {
 public:
  GlobalPoolKernel(GlobalKind kind, double p) : kind_(kind), p_(p) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    int64_t planes = 0, size = 0;
    ONYX_RETURN_IF_ERROR(SplitPlanes(node, *x, planes, size));
    Shape shape = x->shape();
    for (int i = 2; i < x->rank(); ++i) shape[i] = 1;
    Tensor x_plain;
    if (!x->is_plain()) {
      // A conv's nChw16c output is pooled as it is; other layouts are made plain.
      if (kind_ != GlobalKind::kLp && IsChannelBlocked16(*x)) {
        ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), shape));
        GlobalPoolBlocked16(kind_ == GlobalKind::kMax, *x, y->data<float>());
        return absl::OkStatus();
      }
      ONYX_ASSIGN_OR_RETURN(x_plain, EnsurePlain(*x));
      x = &x_plain;
    }
    switch (x->dtype()) {
      case DataType::kFloat32: {
        ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), shape));
        GlobalPoolLoop(kind_, p_, x->data<float>(), y->data<float>(), planes, size);
        return absl::OkStatus();
      }
      case DataType::kFloat64: {
        ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), shape));
        GlobalPoolLoop(kind_, p_, x->data<double>(), y->data<double>(), planes, size);
        return absl::OkStatus();
      }
      default:
        return absl::UnimplementedError(
            absl::StrFormat("%s: no CPU kernel for input X of dtype %s (float32, float64)",
                            node.Describe(), DataTypeName(x->dtype())));
    }
  }

  // X may arrive blocked from a conv (layout propagation).
  bool AcceptsBlockedInputs() const override { return true; }

 private:
  GlobalKind kind_;
  double p_;
};

template <typename T>
void GlobalAverageBackward(const T* dy, T* dx, int64_t planes, int64_t size) {
#pragma omp parallel for schedule(static) if (WorthThreads(planes * size))
  for (int64_t plane = 0; plane < planes; ++plane) {
    const T share = dy[plane] / static_cast<T>(size);
    T* dxp = dx + plane * size;
    for (int64_t i = 0; i < size; ++i) dxp[i] = share;
  }
}

class GlobalAveragePoolGradKernel final : public Kernel {
 public:
  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(1));
    int64_t planes = 0, size = 0;
    ONYX_RETURN_IF_ERROR(SplitPlanes(node, *x, planes, size));
    if (dy->dtype() != x->dtype() || dy->num_elements() != planes) {
      return absl::FailedPreconditionError(
          absl::StrFormat("%s: dY %s must hold one %s value per (n, c) of X %s", node.Describe(),
                          dy->DebugString(), DataTypeName(x->dtype()), x->DebugString()));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    switch (x->dtype()) {
      case DataType::kFloat32:
        GlobalAverageBackward(dy->data<float>(), dx->data<float>(), planes, size);
        return absl::OkStatus();
      case DataType::kFloat64:
        GlobalAverageBackward(dy->data<double>(), dx->data<double>(), planes, size);
        return absl::OkStatus();
      default:
        return absl::UnimplementedError(absl::StrFormat("%s: no CPU kernel for dtype %s",
                                                        node.Describe(), DataTypeName(x->dtype())));
    }
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> CreateGlobalPoolKernel(const Node& node,
                                                               int64_t /*opset*/) {
  if (node.op_type == "GlobalAveragePool") {
    return std::unique_ptr<Kernel>(new GlobalPoolKernel(GlobalKind::kAverage, 0));
  }
  if (node.op_type == "GlobalMaxPool") {
    return std::unique_ptr<Kernel>(new GlobalPoolKernel(GlobalKind::kMax, 0));
  }
  if (node.op_type == "GlobalLpPool") {
    // GlobalLpPool-1 stores p as a float, later versions as an int.
    double p = 2;
    if (const Attribute* a = node.FindAttribute("p"); a != nullptr && a->type == AttrType::kFloat) {
      p = a->f;
    } else {
      ONYX_ASSIGN_OR_RETURN(int64_t pi, node.GetInt("p", 2));
      p = static_cast<double>(pi);
    }
    if (!(p > 0) || p > 1e6) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: p must be positive, got %g", node.Describe(), p));
    }
    return std::unique_ptr<Kernel>(new GlobalPoolKernel(GlobalKind::kLp, p));
  }
  return absl::UnimplementedError(
      absl::StrFormat("%s: not GlobalAveragePool, GlobalMaxPool or GlobalLpPool", node.Describe()));
}

absl::StatusOr<std::unique_ptr<Kernel>> CreateGlobalAveragePoolGradKernel(const Node&, int64_t) {
  return std::unique_ptr<Kernel>(new GlobalAveragePoolGradKernel());
}

}  // namespace onyx::pool
