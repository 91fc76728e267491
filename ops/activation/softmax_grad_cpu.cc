// SoftmaxGrad and LogSoftmaxGrad (domain com.onyx): inputs (dY, Y), attributes
// axis and opset (the forward's opset: < 13 coerces to 2-D, >= 13 one axis), output dX.
// float32 on oneDNN softmax_backward / logsoftmax_backward; float64 loops.
#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "runtime/dnnl_context.h"
#include "runtime/kernel.h"
#include "runtime/status_macros.h"

namespace onyx {
namespace {

using View = std::array<int64_t, 3>;  // [outer, reduced, inner]

// Softmax:    y = exp(x) / sum(exp(x));  dx = y * (dy - sum(dy * y)).
// LogSoftmax: y = x - log(sum(exp(x)));  dx = dy - exp(y) * sum(dy).
// Sums run along the middle dim of `view`; accumulation in T (double here).
template <typename T>
void SoftmaxBackwardLoop(bool log, const View& view, const T* dy, const T* y, T* dx) {
  const int64_t reduced = view[1];
  const int64_t inner = view[2];
  for (int64_t o = 0; o < view[0]; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const int64_t base = o * reduced * inner + i;
      T sum = 0;
      for (int64_t k = 0; k < reduced; ++k) {
        const int64_t at = base + k * inner;
        sum += log ? dy[at] : dy[at] * y[at];
      }
      for (int64_t k = 0; k < reduced; ++k) {
        const int64_t at = base + k * inner;
        dx[at] = log ? dy[at] - std::exp(y[at]) * sum : y[at] * (dy[at] - sum);
      }
    }
  }
}

class SoftmaxGradKernel final : public Kernel {
 public:
  SoftmaxGradKernel(bool log, bool coerce_2d, int64_t axis)
      : log_(log), coerce_2d_(coerce_2d), axis_(axis) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* y, ctx.RequiredInput(1));
    if (dy->dtype() != y->dtype() || dy->shape() != y->shape()) {
      return absl::FailedPreconditionError(
          absl::StrFormat("%s: dY %s and Y %s must have the same dtype and shape",
                          node.Describe(), dy->DebugString(), y->DebugString()));
    }
    const int rank = y->rank();
    if (rank == 0 || axis_ < -rank || axis_ >= rank) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: axis %d is out of range for Y %s", node.Describe(), axis_, y->DebugString()));
    }
    const int axis = static_cast<int>(axis_ < 0 ? axis_ + rank : axis_);
    View view = {1, 1, 1};
    for (int i = 0; i < rank; ++i) {
      const int slot = i < axis ? 0 : (coerce_2d_ || i == axis ? 1 : 2);
      view[slot] *= y->dim(i);
    }
    switch (dy->dtype()) {
      case DataType::kFloat32: {
        ONYX_ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutput(0, DataType::kFloat32,
                                                              dy->shape()));
        if (dy->num_elements() == 0) return absl::OkStatus();
        return RunDnnl(node, view, *dy, *y, *dx);
      }
      case DataType::kFloat64: {
        ONYX_ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutput(0, DataType::kFloat64,
                                                              dy->shape()));
        SoftmaxBackwardLoop(log_, view, dy->data<double>(), y->data<double>(),
                            dx->data<double>());
        return absl::OkStatus();
      }
      default:
        return absl::UnimplementedError(absl::StrFormat(
            "%s: no CPU kernel for dtype %s", node.Describe(), DataTypeName(dy->dtype())));
    }
  }

 private:
  // oneDNN 2.6 builds a backward primitive_desc from a forward one (the hint).
  absl::Status RunDnnl(const Node& node, const View& view, const Tensor& dy, const Tensor& y,
                       Tensor& dx) {
    try {
      if (view != cached_view_) {
        cached_view_ = {-1, -1, -1};
        desc_ = dnnl::memory::desc({view[0], view[1], view[2]}, dnnl::memory::data_type::f32,
                                   dnnl::memory::format_tag::abc);
        const auto training = dnnl::prop_kind::forward_training;
        if (log_) {
          dnnl::logsoftmax_forward::primitive_desc hint(
              dnnl::logsoftmax_forward::desc(training, desc_, 1), CpuEngine());
          primitive_ = dnnl::logsoftmax_backward(dnnl::logsoftmax_backward::primitive_desc(
              dnnl::logsoftmax_backward::desc(desc_, desc_, 1), CpuEngine(), hint));
        } else {
          dnnl::softmax_forward::primitive_desc hint(
              dnnl::softmax_forward::desc(training, desc_, 1), CpuEngine());
          primitive_ = dnnl::softmax_backward(dnnl::softmax_backward::primitive_desc(
              dnnl::softmax_backward::desc(desc_, desc_, 1), CpuEngine(), hint));
        }
        cached_view_ = view;
      }
      dnnl::memory diff_dst(desc_, CpuEngine(), const_cast<void*>(dy.raw_data()));
      dnnl::memory dst(desc_, CpuEngine(), const_cast<void*>(y.raw_data()));
      dnnl::memory diff_src(desc_, CpuEngine(), dx.raw_data());
      primitive_.execute(CpuStream(), {{DNNL_ARG_DIFF_DST, diff_dst},
                                       {DNNL_ARG_DST, dst},
                                       {DNNL_ARG_DIFF_SRC, diff_src}});
      CpuStream().wait();
    } catch (const dnnl::error& e) {
      return DnnlError(absl::StrFormat("%s backward", node.Describe()), e);
    }
    return absl::OkStatus();
  }

  bool log_;
  bool coerce_2d_;
  int64_t axis_;
  View cached_view_ = {-1, -1, -1};
  dnnl::memory::desc desc_;
  dnnl::primitive primitive_;
};

}  // namespace

// Attribute `opset` carries the forward node's opset (default 13: single axis).
absl::StatusOr<std::unique_ptr<Kernel>> CreateSoftmaxGradKernel(const Node& node,
                                                                int64_t /*opset*/) {
  const bool log = node.op_type == "LogSoftmaxGrad";
  if (!log && node.op_type != "SoftmaxGrad") {
    return absl::UnimplementedError(
        absl::StrFormat("%s: not SoftmaxGrad or LogSoftmaxGrad", node.Describe()));
  }
  ONYX_ASSIGN_OR_RETURN(int64_t forward_opset, node.GetInt("opset", 13));
  const bool coerce_2d = forward_opset < 13;
  ONYX_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", coerce_2d ? 1 : -1));
  return std::unique_ptr<Kernel>(new SoftmaxGradKernel(log, coerce_2d, axis));
}

}  // namespace onyx
