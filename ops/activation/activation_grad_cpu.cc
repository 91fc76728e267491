// Backward kernels of the elementwise activations ("ReluGrad", ... in domain
// com.onyx): inputs (dY, X or Y as the functor's kSaved says), output dX. oneDNN
// eltwise_backward where the table names an algorithm, the functor loop otherwise.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "ops/activation/activation_cpu.h"
#include "ops/activation/activation_table.h"
#include "runtime/dnnl_context.h"
#include "runtime/status_macros.h"

namespace onyx {
namespace {

class EltwiseGradKernel final : public Kernel {
 public:
  explicit EltwiseGradKernel(EltwiseSpec spec) : spec_(std::move(spec)) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* saved, ctx.RequiredInput(1));
    if (dy->dtype() != saved->dtype() || dy->shape() != saved->shape()) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: dY %s and %s %s must have the same dtype and shape", node.Describe(),
          dy->DebugString(), spec_.saves_output ? "Y" : "X", saved->DebugString()));
    }
    const int64_t n = dy->num_elements();
    switch (dy->dtype()) {
      case DataType::kFloat32: {
        ONYX_ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutputMaybeInPlace(
                                               0, 0, DataType::kFloat32, dy->shape()));
        if (n == 0) return absl::OkStatus();
        if (!spec_.backward_step.has_value()) {
          spec_.float_backward(dy->data<float>(), saved->data<float>(), dx->data<float>(), n);
          return absl::OkStatus();
        }
        return RunDnnl(node, *dy, *saved, *dx);
      }
      case DataType::kFloat64: {
        ONYX_ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutputMaybeInPlace(
                                               0, 0, DataType::kFloat64, dy->shape()));
        if (n > 0) {
          spec_.double_backward(dy->data<double>(), saved->data<double>(), dx->data<double>(),
                                n);
        }
        return absl::OkStatus();
      }
      default:
        return absl::UnimplementedError(absl::StrFormat(
            "%s: no CPU kernel for dtype %s", node.Describe(), DataTypeName(dy->dtype())));
    }
  }

 private:
  absl::Status RunDnnl(const Node& node, const Tensor& dy, const Tensor& saved, Tensor& dx) {
    const int64_t n = dy.num_elements();
    const DnnlStep& step = *spec_.backward_step;
    try {
      if (n != cached_n_) {
        cached_n_ = -1;
        desc_ = dnnl::memory::desc({n}, dnnl::memory::data_type::f32,
                                   dnnl::memory::format_tag::a);
        dnnl::eltwise_forward::primitive_desc hint(
            dnnl::eltwise_forward::desc(dnnl::prop_kind::forward_training, step.alg, desc_,
                                        step.alpha, step.beta),
            CpuEngine());
        dnnl::eltwise_backward::desc d(step.alg, desc_, desc_, step.alpha, step.beta);
        primitive_ =
            dnnl::eltwise_backward(dnnl::eltwise_backward::primitive_desc(d, CpuEngine(), hint));
        cached_n_ = n;
      }
      dnnl::memory diff_dst(desc_, CpuEngine(), const_cast<void*>(dy.raw_data()));
      dnnl::memory data(desc_, CpuEngine(), const_cast<void*>(saved.raw_data()));
      dnnl::memory diff_src(desc_, CpuEngine(), dx.raw_data());
      primitive_.execute(CpuStream(),
                         {{DNNL_ARG_DIFF_DST, diff_dst},
                          {spec_.saves_output ? DNNL_ARG_DST : DNNL_ARG_SRC, data},
                          {DNNL_ARG_DIFF_SRC, diff_src}});
      CpuStream().wait();
    } catch (const dnnl::error& e) {
      return DnnlError(absl::StrFormat("%s eltwise backward", node.Describe()), e);
    }
    return absl::OkStatus();
  }

  EltwiseSpec spec_;
  int64_t cached_n_ = -1;
  dnnl::memory::desc desc_;
  dnnl::eltwise_backward primitive_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> CreateEltwiseGradKernel(const Node& node,
                                                                int64_t opset) {
  if (!absl::EndsWith(node.op_type, "Grad")) {
    return absl::NotFoundError(absl::StrFormat("%s: not a gradient op", node.Describe()));
  }
  const std::string forward = node.op_type.substr(0, node.op_type.size() - 4);
  ONYX_ASSIGN_OR_RETURN(EltwiseSpec spec, MakeEltwiseSpec(node, forward));
  return std::unique_ptr<Kernel>(new EltwiseGradKernel(std::move(spec)));
}

}  // namespace onyx
