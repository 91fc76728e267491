// SoftmaxCrossEntropyLoss, NegativeLogLikelihoodLoss and CrossEntropyLoss, forward
// and backward, on one CPU code path: scores viewed as [N, C, D] (D = d1·…·dk),
// labels as [N, D], float32/float64 scores, int32/int64 labels, double accumulation.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/loss/class_loss_common.h"
#include "ops/loss/loss_common.h"
#include "runtime/status_macros.h"

namespace onyx {
namespace {

using Geometry = ClassLossGeometry;

// Calls fn(T{}, L{}) for the scores dtype T and the labels dtype L (checked before).
template <typename Fn>
absl::Status DispatchTypes(DataType scores, DataType labels, Fn&& fn) {
  const bool f64 = scores == DataType::kFloat64;
  const bool i64 = labels == DataType::kInt64;
  if (f64) return i64 ? fn(double{}, int64_t{}) : fn(double{}, int32_t{});
  return i64 ? fn(float{}, int64_t{}) : fn(float{}, int32_t{});
}

// log Σ_c exp(x[c·stride]) = m + log Σ exp(x - m) with m = max: no overflow.
template <typename T>
double LogSumExp(const T* x, int64_t c, int64_t stride) {
  double m = -std::numeric_limits<double>::infinity();
  for (int64_t k = 0; k < c; ++k) m = std::max(m, double{x[k * stride]});
  if (std::isinf(m)) return m;  // all -inf (or a +inf): let the NaN/inf propagate as math says
  double s = 0;
  for (int64_t k = 0; k < c; ++k) s += std::exp(double{x[k * stride]} - m);
  return m + std::log(s);
}

template <typename L>
bool Ignored(const ClassLossConfig& cfg, L y) {
  return cfg.has_ignore && static_cast<int64_t>(y) == cfg.ignore_index;
}

// Validates every label and returns the mean denominator Σ_{not ignored} w[y].
template <typename T, typename L>
absl::StatusOr<double> TargetWeightSum(const Node& node, const ClassLossConfig& cfg,
                                       const Geometry& g, const L* labels, const T* w) {
  double sum = 0;
  const int64_t count = g.n * g.d;
  for (int64_t i = 0; i < count; ++i) {
    const L y = labels[i];
    if (Ignored(cfg, y)) continue;
    if (y < 0 || static_cast<int64_t>(y) >= g.c) {
      return BadLabelError(node, cfg, g, static_cast<int64_t>(y), i);
    }
    sum += w != nullptr ? double{w[y]} : 1.0;
  }
  return sum;
}

template <typename T, typename L>
absl::Status Forward(const Node& node, const ClassLossConfig& cfg, const Geometry& g, const T* x,
                     const L* labels, const T* w, T* loss, T* log_prob) {
  ONYX_ASSIGN_OR_RETURN(const double weight_sum, TargetWeightSum(node, cfg, g, labels, w));
  const double on = 1.0 - cfg.label_smoothing;
  const double off = cfg.label_smoothing / static_cast<double>(g.c);
  double total = 0;
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t d = 0; d < g.d; ++d) {
      const int64_t base = n * g.c * g.d + d;
      const T* xs = x + base;
      const double lse = cfg.softmax ? LogSumExp(xs, g.c, g.d) : 0.0;
      if (log_prob != nullptr) {
        for (int64_t c = 0; c < g.c; ++c) {
          log_prob[base + c * g.d] = static_cast<T>(double{xs[c * g.d]} - lse);
        }
      }
      const int64_t i = n * g.d + d;
      const L y = labels[i];
      double l = 0;
      if (!Ignored(cfg, y)) {
        const double wy = w != nullptr ? double{w[y]} : 1.0;
        l = -on * wy * (double{xs[y * g.d]} - lse);
        if (off > 0) {
          double s = 0;  // Σ_c w[c]·lp[c]
          for (int64_t c = 0; c < g.c; ++c) {
            s += (w != nullptr ? double{w[c]} : 1.0) * (double{xs[c * g.d]} - lse);
          }
          l -= off * s;
        }
      }
      if (cfg.reduction == Reduction::kNone) {
        loss[i] = static_cast<T>(l);
      } else {
        total += l;
      }
    }
  }
  // Mean over no target (all ignored, or zero weights) is 0/0 = NaN, as in ONNX and torch.
  if (cfg.reduction == Reduction::kSum) loss[0] = static_cast<T>(total);
  if (cfg.reduction == Reduction::kMean) loss[0] = static_cast<T>(total / weight_sum);
  return absl::OkStatus();
}

// dl_i/dx[k] for softmax scores (p = softmax(x), eps as above, W = Σ_c w[c]):
//   g_i·( p[k]·((1-eps)·w[y] + (eps/C)·W) - (1-eps)·w[y]·[k = y] - (eps/C)·w[k] )
// and for NLL (x = log-probabilities): -g_i·w[y]·[k = y]. Ignored positions get 0.
// `in` holds log-probabilities (p = exp(in)), or raw scores when `scores_input`.
template <typename T, typename L>
absl::Status Backward(const Node& node, const ClassLossConfig& cfg, const Geometry& g,
                      const T* dloss, double dloss_scalar, bool scores_input, const T* in,
                      const L* labels, const T* w, T* dx) {
  ONYX_ASSIGN_OR_RETURN(const double weight_sum, TargetWeightSum(node, cfg, g, labels, w));
  const double scale = cfg.reduction == Reduction::kMean ? dloss_scalar / weight_sum : dloss_scalar;
  const double on = 1.0 - cfg.label_smoothing;
  const double off = cfg.label_smoothing / static_cast<double>(g.c);
  double class_weight_sum = static_cast<double>(g.c);
  if (w != nullptr) {
    class_weight_sum = 0;
    for (int64_t c = 0; c < g.c; ++c) class_weight_sum += w[c];
  }
  for (int64_t n = 0; n < g.n; ++n) {
    for (int64_t d = 0; d < g.d; ++d) {
      const int64_t base = n * g.c * g.d + d;
      const int64_t i = n * g.d + d;
      const L y = labels[i];
      T* dxs = dx + base;
      if (Ignored(cfg, y)) {
        for (int64_t c = 0; c < g.c; ++c) dxs[c * g.d] = T(0);
        continue;
      }
      const double gi = cfg.reduction == Reduction::kNone ? double{dloss[i]} : scale;
      const double wy = w != nullptr ? double{w[y]} : 1.0;
      if (!cfg.softmax) {
        for (int64_t c = 0; c < g.c; ++c) dxs[c * g.d] = T(0);
        dxs[y * g.d] = static_cast<T>(-gi * wy);
        continue;
      }
      const T* xs = in + base;
      const double lse = scores_input ? LogSumExp(xs, g.c, g.d) : 0.0;
      const double mass = on * wy + off * class_weight_sum;
      for (int64_t c = 0; c < g.c; ++c) {
        const double p = std::exp(double{xs[c * g.d]} - lse);
        double v = p * mass - off * (w != nullptr ? double{w[c]} : 1.0);
        if (c == static_cast<int64_t>(y)) v -= on * wy;
        dxs[c * g.d] = static_cast<T>(gi * v);
      }
    }
  }
  return absl::OkStatus();
}

// Inputs: scores, labels[, weights]. Outputs: loss[, log_prob] (log_prob: softmax ops).
class ClassLossKernel final : public Kernel {
 public:
  explicit ClassLossKernel(ClassLossConfig cfg) : cfg_(cfg) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* labels, ctx.RequiredInput(1));
    const Tensor* weights = ctx.input(2);
    ONYX_ASSIGN_OR_RETURN(const Geometry g, CheckClassLossInputs(node, *x, *labels, weights));
    const Shape loss_shape = cfg_.reduction == Reduction::kNone ? labels->shape() : Shape{};
    ONYX_ASSIGN_OR_RETURN(Tensor * loss, ctx.AllocateOutput(0, x->dtype(), loss_shape));
    Tensor* log_prob = nullptr;
    if (cfg_.softmax && ctx.wants_output(1)) {
      ONYX_ASSIGN_OR_RETURN(log_prob, ctx.AllocateOutput(1, x->dtype(), x->shape()));
    }
    return DispatchTypes(x->dtype(), labels->dtype(), [&](auto t_tag, auto l_tag) {
      using T = decltype(t_tag);
      using L = decltype(l_tag);
      return Forward<T, L>(node, cfg_, g, x->data<T>(), labels->data<L>(),
                           weights != nullptr ? weights->data<T>() : nullptr, loss->data<T>(),
                           log_prob != nullptr ? log_prob->data<T>() : nullptr);
    });
  }

 private:
  const ClassLossConfig cfg_;
};

// Inputs: dloss, log_prob (or scores with input_kind "scores"; NLL: its input),
// labels[, weights]. Output: d(scores), shaped like input 1.
class ClassLossGradKernel final : public Kernel {
 public:
  ClassLossGradKernel(ClassLossConfig cfg, bool scores_input)
      : cfg_(cfg), scores_input_(scores_input) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* dloss, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* in, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const Tensor* labels, ctx.RequiredInput(2));
    const Tensor* weights = ctx.input(3);
    ONYX_ASSIGN_OR_RETURN(const Geometry g, CheckClassLossInputs(node, *in, *labels, weights));
    double dloss_scalar = 0;
    if (cfg_.reduction == Reduction::kNone) {
      ONYX_RETURN_IF_ERROR(CheckElementwiseGrad(node, *dloss, labels->shape(), in->dtype()));
    } else {
      ONYX_ASSIGN_OR_RETURN(dloss_scalar, ReadScalarGrad(node, *dloss));
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutput(0, in->dtype(), in->shape()));
    return DispatchTypes(in->dtype(), labels->dtype(), [&](auto t_tag, auto l_tag) {
      using T = decltype(t_tag);
      using L = decltype(l_tag);
      return Backward<T, L>(node, cfg_, g,
                            cfg_.reduction == Reduction::kNone ? dloss->data<T>() : nullptr,
                            dloss_scalar, scores_input_, in->data<T>(), labels->data<L>(),
                            weights != nullptr ? weights->data<T>() : nullptr, dx->data<T>());
    });
  }

 private:
  const ClassLossConfig cfg_;
  const bool scores_input_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> CreateClassLossKernel(const Node& node, int64_t /*opset*/) {
  ONYX_ASSIGN_OR_RETURN(ClassLossConfig cfg, ReadClassLossConfig(node, node.op_type));
  return std::unique_ptr<Kernel>(new ClassLossKernel(cfg));
}

absl::StatusOr<std::unique_ptr<Kernel>> CreateClassLossGradKernel(const Node& node,
                                                                  int64_t /*opset*/) {
  ONYX_ASSIGN_OR_RETURN(ClassLossConfig cfg, ReadClassLossConfig(node, ForwardOpOf(node.op_type)));
  ONYX_ASSIGN_OR_RETURN(const bool scores_input, ReadScoresInput(node));
  return std::unique_ptr<Kernel>(new ClassLossGradKernel(cfg, scores_input));
}

}  // namespace onyx
