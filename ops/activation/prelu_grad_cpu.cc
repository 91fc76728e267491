// PReluGrad (domain com.onyx): inputs (dY, X, slope), outputs dX and dSlope (either
// may be omitted). y = x if x >= 0 else slope * x, so dx = dy * (x < 0 ? slope : 1)
// and dslope = sum of dy * x over x < 0, reduced over the dims slope broadcasts along.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "runtime/kernel.h"
#include "runtime/status_macros.h"

namespace onyx {
namespace {

// Row-major walk over x with the slope offset following (stride 0 on broadcast
// dims). `dx` / `dslope` may be null. Sums accumulate in double (float32 too).
template <typename T>
void PReluBackwardLoop(const Shape& x_dims, const Shape& slope_dims, const T* dy, const T* x,
                       const T* slope, T* dx, T* dslope) {
  const int rank = static_cast<int>(x_dims.size());
  std::vector<int64_t> slope_strides(rank, 0);
  int64_t stride = 1;
  for (int i = rank - 1; i >= 0; --i) {
    if (slope_dims[i] != 1) slope_strides[i] = stride;
    stride *= slope_dims[i];
  }
  std::vector<double> sums(dslope != nullptr ? stride : 0, 0.0);
  const int64_t n = NumElements(x_dims);
  std::vector<int64_t> index(rank, 0);
  int64_t s = 0;
  for (int64_t i = 0; i < n; ++i) {
    const bool negative = x[i] < T(0);
    if (dx != nullptr) dx[i] = negative ? dy[i] * slope[s] : dy[i];
    if (dslope != nullptr && negative) sums[s] += double(dy[i]) * double(x[i]);
    for (int d = rank - 1; d >= 0; --d) {  // increment the multi-index
      s += slope_strides[d];
      if (++index[d] < x_dims[d]) break;
      s -= slope_strides[d] * x_dims[d];
      index[d] = 0;
    }
  }
  for (size_t k = 0; k < sums.size(); ++k) dslope[k] = static_cast<T>(sums[k]);
}

class PReluGradKernel final : public Kernel {
 public:
  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const Tensor* slope, ctx.RequiredInput(2));
    if (dy->dtype() != x->dtype() || slope->dtype() != x->dtype() ||
        dy->shape() != x->shape()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: dY %s, X %s and slope %s must share a dtype, dY and X a shape",
          node.Describe(), dy->DebugString(), x->DebugString(), slope->DebugString()));
    }
    const Shape& x_dims = x->shape();
    const Shape& slope_dims = slope->shape();
    bool broadcastable = slope_dims.size() <= x_dims.size();
    Shape aligned(broadcastable ? x_dims.size() - slope_dims.size() : 0, 1);
    aligned.insert(aligned.end(), slope_dims.begin(), slope_dims.end());
    for (size_t i = 0; broadcastable && i < x_dims.size(); ++i) {
      broadcastable = aligned[i] == 1 || aligned[i] == x_dims[i];
    }
    if (!broadcastable) {
      return absl::FailedPreconditionError(
          absl::StrFormat("%s: slope %s does not broadcast to X %s", node.Describe(),
                          ShapeToString(slope_dims), ShapeToString(x_dims)));
    }
    switch (x->dtype()) {
      case DataType::kFloat32:
        return Run<float>(ctx, *dy, *x, *slope, aligned);
      case DataType::kFloat64:
        return Run<double>(ctx, *dy, *x, *slope, aligned);
      default:
        return absl::UnimplementedError(absl::StrFormat(
            "%s: no CPU kernel for dtype %s", node.Describe(), DataTypeName(x->dtype())));
    }
  }

 private:
  template <typename T>
  absl::Status Run(KernelContext& ctx, const Tensor& dy, const Tensor& x, const Tensor& slope,
                   const Shape& aligned) {
    T* dx = nullptr;
    T* dslope = nullptr;
    if (ctx.wants_output(0)) {
      ONYX_ASSIGN_OR_RETURN(Tensor * t, ctx.AllocateOutput(0, x.dtype(), x.shape()));
      dx = t->data<T>();
    }
    if (ctx.wants_output(1)) {
      ONYX_ASSIGN_OR_RETURN(Tensor * t, ctx.AllocateOutput(1, x.dtype(), slope.shape()));
      dslope = t->data<T>();
    }
    if (dx == nullptr && dslope == nullptr) return absl::OkStatus();
    PReluBackwardLoop(x.shape(), aligned, dy.data<T>(), x.data<T>(), slope.data<T>(), dx,
                      dslope);
    return absl::OkStatus();
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> CreatePReluGradKernel(const Node& /*node*/,
                                                              int64_t /*opset*/) {
  return std::unique_ptr<Kernel>(new PReluGradKernel());
}

}  // namespace onyx
