// Softmax and LogSoftmax on oneDNN's softmax_forward / logsoftmax_forward, except
// over contiguous rows, which run fast_softmax.h's fused loops.
// Opset < 13: the input is coerced to 2-D [prod(dims[:axis]), prod(dims[axis:])]
// and normalized along dim 1; opset >= 13: normalized along the single `axis`.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "ops/activation/activation_cpu.h"
#include "ops/activation/fast_softmax.h"
#include "runtime/dnnl_context.h"
#include "runtime/status_macros.h"

namespace onyx {
namespace {

class SoftmaxKernel final : public Kernel {
 public:
  SoftmaxKernel(bool log, bool coerce_2d, int64_t axis, int64_t opset)
      : log_(log), coerce_2d_(coerce_2d), axis_(axis), opset_(opset) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    if (x->dtype() != DataType::kFloat32) {
      return absl::UnimplementedError(
          absl::StrFormat("%s (opset %d): no CPU kernel for input dtype %s", node.Describe(),
                          opset_, DataTypeName(x->dtype())));
    }
    const int rank = x->rank();
    if (rank == 0 || axis_ < -rank || axis_ >= rank) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: axis %d is out of range for input %s", node.Describe(), axis_,
                          x->DebugString()));
    }
    const int axis = static_cast<int>(axis_ < 0 ? axis_ + rank : axis_);
    // [outer, reduced, inner] with the reduction along the middle dim.
    const Shape& dims = x->shape();
    std::array<int64_t, 3> view = {1, 1, 1};
    for (int i = 0; i < rank; ++i) {
      const int slot = i < axis ? 0 : (coerce_2d_ || i == axis ? 1 : 2);
      view[slot] *= dims[i];
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutputMaybeInPlace(
                                          0, 0, DataType::kFloat32, x->shape()));
    if (x->num_elements() == 0) return absl::OkStatus();
    if (view[2] == 1) {  // contiguous rows: the fused loops beat the primitives
      if (log_) {
        fast::LogSoftmaxLastAxis(x->data<float>(), y->data<float>(), view[0], view[1]);
      } else {
        fast::SoftmaxLastAxis(x->data<float>(), y->data<float>(), view[0], view[1]);
      }
      return absl::OkStatus();
    }
    try {
      if (view != cached_view_) {
        cached_view_ = {-1, -1, -1};
        desc_ = dnnl::memory::desc({view[0], view[1], view[2]}, dnnl::memory::data_type::f32,
                                   dnnl::memory::format_tag::abc);
        if (log_) {
          dnnl::logsoftmax_forward::desc d(dnnl::prop_kind::forward_inference, desc_, 1);
          primitive_ = dnnl::logsoftmax_forward(
              dnnl::logsoftmax_forward::primitive_desc(d, CpuEngine()));
        } else {
          dnnl::softmax_forward::desc d(dnnl::prop_kind::forward_inference, desc_, 1);
          primitive_ =
              dnnl::softmax_forward(dnnl::softmax_forward::primitive_desc(d, CpuEngine()));
        }
        cached_view_ = view;
      }
      dnnl::memory src(desc_, CpuEngine(), const_cast<void*>(x->raw_data()));
      dnnl::memory dst(desc_, CpuEngine(), y->raw_data());
      primitive_.execute(CpuStream(), {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}});
      CpuStream().wait();
    } catch (const dnnl::error& e) {
      return DnnlError(absl::StrFormat("%s forward", node.Describe()), e);
    }
    return absl::OkStatus();
  }

 private:
  bool log_;
  bool coerce_2d_;
  int64_t axis_;
  int64_t opset_;
  std::array<int64_t, 3> cached_view_ = {-1, -1, -1};
  dnnl::memory::desc desc_;
  dnnl::primitive primitive_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> CreateSoftmaxKernel(const Node& node, int64_t opset) {
  const bool log = node.op_type == "LogSoftmax";
  if (!log && node.op_type != "Softmax") {
    return absl::UnimplementedError(
        absl::StrFormat("%s: not Softmax or LogSoftmax", node.Describe()));
  }
  const bool coerce_2d = opset < 13;
  ONYX_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", coerce_2d ? 1 : -1));
  return std::unique_ptr<Kernel>(new SoftmaxKernel(log, coerce_2d, axis, opset));
}

}  // namespace onyx
