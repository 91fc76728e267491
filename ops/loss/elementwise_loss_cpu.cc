// MseLoss, BceLoss, BceWithLogitsLoss (com.onyx) and their backward ops on CPU:
// one templated kernel pair per functor of loss_math.h, float32/float64.
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "ops/loss/loss_common.h"
#include "ops/loss/loss_math.h"
#include "runtime/status_macros.h"

namespace onyx {
namespace {

// pred and target: same float dtype, same shape.
absl::Status CheckPair(const Node& node, const Tensor& pred, const Tensor& target) {
  if (pred.dtype() != DataType::kFloat32 && pred.dtype() != DataType::kFloat64) {
    return absl::UnimplementedError(
        absl::StrFormat("%s: no CPU kernel for input dtype %s (float32, float64 supported)",
                        node.Describe(), DataTypeName(pred.dtype())));
  }
  if (target.dtype() != pred.dtype() || target.shape() != pred.shape()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: target must match the prediction %s, got %s", node.Describe(),
                        pred.DebugString(), target.DebugString()));
  }
  return absl::OkStatus();
}

// BceLoss takes probabilities: torch rejects values outside [0, 1] (and NaN).
template <typename Fn, typename T>
absl::Status CheckDomain(const Node& node, const T* x, int64_t count) {
  if constexpr (std::is_same_v<Fn, loss_math::BceFn>) {
    for (int64_t i = 0; i < count; ++i) {
      if (!(x[i] >= T(0) && x[i] <= T(1))) {
        return absl::InvalidArgumentError(
            absl::StrFormat("%s: input probabilities must lie in [0, 1], element %d is %g",
                            node.Describe(), i, double{x[i]}));
      }
    }
  }
  return absl::OkStatus();
}

// Outputs loss: shaped like pred for reduction none, else a scalar
// (sum: Σ l_i, mean: Σ l_i / count).
template <typename Fn>
class ElementwiseLossKernel final : public Kernel {
 public:
  explicit ElementwiseLossKernel(Reduction reduction) : reduction_(reduction) {}

  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(const Tensor* pred, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* target, ctx.RequiredInput(1));
    ONYX_RETURN_IF_ERROR(CheckPair(ctx.node(), *pred, *target));
    const Shape shape = reduction_ == Reduction::kNone ? pred->shape() : Shape{};
    ONYX_ASSIGN_OR_RETURN(Tensor * loss, ctx.AllocateOutput(0, pred->dtype(), shape));
    if (pred->dtype() == DataType::kFloat64) return Run<double>(ctx.node(), *pred, *target, *loss);
    return Run<float>(ctx.node(), *pred, *target, *loss);
  }

 private:
  template <typename T>
  absl::Status Run(const Node& node, const Tensor& pred, const Tensor& target, Tensor& loss) {
    const int64_t count = pred.num_elements();
    const T* x = pred.data<T>();
    const T* t = target.data<T>();
    ONYX_RETURN_IF_ERROR(CheckDomain<Fn>(node, x, count));
    const Fn fn;
    T* l = loss.data<T>();
    if (reduction_ == Reduction::kNone) {
      for (int64_t i = 0; i < count; ++i) l[i] = fn.Forward(x[i], t[i]);
      return absl::OkStatus();
    }
    double total = 0;
    for (int64_t i = 0; i < count; ++i) total += fn.Forward(x[i], t[i]);
    // Mean of an empty tensor is 0/0 = NaN, as in torch.
    if (reduction_ == Reduction::kMean) total /= static_cast<double>(count);
    l[0] = static_cast<T>(total);
    return absl::OkStatus();
  }

  const Reduction reduction_;
};

// Inputs dloss, pred, target; output dpred = g_i·dl/dx(pred_i, target_i) with
// g_i = dloss_i (none), dloss (sum) or dloss / count (mean).
template <typename Fn>
class ElementwiseLossGradKernel final : public Kernel {
 public:
  explicit ElementwiseLossGradKernel(Reduction reduction) : reduction_(reduction) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* dloss, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* pred, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const Tensor* target, ctx.RequiredInput(2));
    ONYX_RETURN_IF_ERROR(CheckPair(node, *pred, *target));
    double scale = 0;
    if (reduction_ == Reduction::kNone) {
      ONYX_RETURN_IF_ERROR(CheckElementwiseGrad(node, *dloss, pred->shape(), pred->dtype()));
    } else {
      ONYX_ASSIGN_OR_RETURN(scale, ReadScalarGrad(node, *dloss));
      if (reduction_ == Reduction::kMean) scale /= static_cast<double>(pred->num_elements());
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutput(0, pred->dtype(), pred->shape()));
    if (pred->dtype() == DataType::kFloat64) return Run<double>(scale, *dloss, *pred, *target, *dx);
    return Run<float>(scale, *dloss, *pred, *target, *dx);
  }

 private:
  template <typename T>
  absl::Status Run(double scale, const Tensor& dloss, const Tensor& pred, const Tensor& target,
                   Tensor& dpred) {
    const int64_t count = pred.num_elements();
    const T* x = pred.data<T>();
    const T* t = target.data<T>();
    T* dx = dpred.data<T>();
    const Fn fn;
    if (reduction_ == Reduction::kNone) {
      const T* dl = dloss.data<T>();
      for (int64_t i = 0; i < count; ++i) dx[i] = dl[i] * fn.Backward(x[i], t[i]);
    } else {
      const T g = static_cast<T>(scale);
      for (int64_t i = 0; i < count; ++i) dx[i] = g * fn.Backward(x[i], t[i]);
    }
    return absl::OkStatus();
  }

  const Reduction reduction_;
};

template <template <typename> class K>
absl::StatusOr<std::unique_ptr<Kernel>> Make(const Node& node, const std::string& op) {
  ONYX_ASSIGN_OR_RETURN(const Reduction reduction, ReadReduction(node));
  if (op == "MseLoss") return std::unique_ptr<Kernel>(new K<loss_math::MseFn>(reduction));
  if (op == "BceLoss") return std::unique_ptr<Kernel>(new K<loss_math::BceFn>(reduction));
  if (op == "BceWithLogitsLoss") {
    return std::unique_ptr<Kernel>(new K<loss_math::BceWithLogitsFn>(reduction));
  }
  return absl::UnimplementedError(absl::StrFormat("%s: not an elementwise loss", node.Describe()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> CreateElementwiseLossKernel(const Node& node,
                                                                    int64_t /*opset*/) {
  return Make<ElementwiseLossKernel>(node, node.op_type);
}

absl::StatusOr<std::unique_ptr<Kernel>> CreateElementwiseLossGradKernel(const Node& node,
                                                                        int64_t /*opset*/) {
  std::string forward_op = node.op_type;
  if (absl::EndsWith(forward_op, "Grad")) forward_op.resize(forward_op.size() - 4);
  return Make<ElementwiseLossGradKernel>(node, forward_op);
}

}  // namespace onyx
