// CPU kernels of the ONNX training ops Adagrad, Adam and Momentum (domain
// ai.onnx.preview.training, since_version 1). The per-element math is the one
// the runtime's optimizers use (runtime/training/update_math.h).
#include "ops/optim/optim_cpu.h"

#include <cmath>
#include <string>

#include "absl/strings/str_format.h"
#include "runtime/status_macros.h"
#include "runtime/training/update_math.h"

namespace onyx {
namespace {

namespace um = update_math;

constexpr int64_t kParallelMin = 1 << 14;

// Inputs are R, T, then `groups` variadic blocks of n tensors each (X..., G...,
// then the state tensors); outputs are X_new... and the new states.
struct Layout {
  int n = 0;  // tensors optimized
};

absl::StatusOr<Layout> CheckLayout(const Node& node, int groups, int out_groups) {
  const int num_in = static_cast<int>(node.inputs.size());
  const int num_out = static_cast<int>(node.outputs.size());
  if (num_in < 2 + groups || (num_in - 2) % groups != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: expects R, T and %d groups of equally many tensors, got %d inputs",
        node.Describe(), groups, num_in));
  }
  Layout layout;
  layout.n = (num_in - 2) / groups;
  if (num_out != out_groups * layout.n) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: %d optimized tensors need %d outputs, got %d", node.Describe(), layout.n,
        out_groups * layout.n, num_out));
  }
  return layout;
}

absl::StatusOr<double> ReadR(const KernelContext& ctx) {
  ONYX_ASSIGN_OR_RETURN(const Tensor* r, ctx.RequiredInput(0));
  if (r->num_elements() != 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: learning rate R must hold one value, has shape %s", ctx.node().Describe(),
        ShapeToString(r->shape())));
  }
  if (r->dtype() == DataType::kFloat32) return static_cast<double>(*r->data<float>());
  if (r->dtype() == DataType::kFloat64) return *r->data<double>();
  return absl::UnimplementedError(absl::StrFormat(
      "%s: R of type %s (expected float32 or float64)", ctx.node().Describe(),
      DataTypeName(r->dtype())));
}

absl::StatusOr<int64_t> ReadT(const KernelContext& ctx) {
  ONYX_ASSIGN_OR_RETURN(const Tensor* t, ctx.RequiredInput(1));
  if (t->num_elements() != 1 || t->dtype() != DataType::kInt64) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: update count T must be one int64, got %s", ctx.node().Describe(),
        t->DebugString()));
  }
  return *t->data<int64_t>();
}

// Gathers block `g` tensor `j` (inputs 2 + g * n + j), checking it against X_j.
absl::StatusOr<const Tensor*> BlockInput(const KernelContext& ctx, const Layout& l, int g,
                                         int j) {
  ONYX_ASSIGN_OR_RETURN(const Tensor* t, ctx.RequiredInput(2 + g * l.n + j));
  ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(2 + j));
  if (x->dtype() != DataType::kFloat32 && x->dtype() != DataType::kFloat64) {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: optimized tensor %d has type %s (expected float32 or float64)",
        ctx.node().Describe(), j, DataTypeName(x->dtype())));
  }
  if (t->dtype() != x->dtype() || t->shape() != x->shape()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: input %d (%s) must match X%d (%s)", ctx.node().Describe(), 2 + g * l.n + j,
        t->DebugString(), j + 1, x->DebugString()));
  }
  return t;
}

// Runs `update(x, g, s...)` over tensor j: inputs of `in_groups` blocks
// (X, G, states...), outputs X_new then the states in the same order.
// Each element reads all its inputs before writing, so outputs may reuse
// dying input buffers.
template <typename T, int kStates, typename Fn>
absl::Status RunElementwise(KernelContext& ctx, const Layout& l, int j, Fn update) {
  constexpr int kIn = 2 + kStates;  // X, G, states
  const T* in[kIn];
  T* out[1 + kStates];
  for (int g = 0; g < kIn; ++g) {
    ONYX_ASSIGN_OR_RETURN(const Tensor* t, BlockInput(ctx, l, g, j));
    if (t->dtype() != DataTypeOf<T>::value) {
      return absl::InternalError("optim kernel dtype dispatch mismatch");
    }
    in[g] = t->data<T>();
  }
  const Tensor* x = ctx.input(2 + j);
  for (int o = 0; o <= kStates; ++o) {
    // Output o comes from input block 0 (X) for o == 0 and block o + 1 after.
    const int src_block = o == 0 ? 0 : o + 1;
    ONYX_ASSIGN_OR_RETURN(Tensor * t, ctx.AllocateOutputMaybeInPlace(
                                          o * l.n + j, 2 + src_block * l.n + j, x->dtype(),
                                          x->shape()));
    out[o] = t->data<T>();
  }
  const int64_t n = x->num_elements();
#pragma omp parallel for if (n >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    T xv = in[0][i];
    const T gv = in[1][i];
    T s[kStates > 0 ? kStates : 1];
    for (int k = 0; k < kStates; ++k) s[k] = in[2 + k][i];
    update(xv, gv, s);
    out[0][i] = xv;
    for (int k = 0; k < kStates; ++k) out[1 + k][i] = s[k];
  }
  return absl::OkStatus();
}

absl::StatusOr<float> RequiredFloat(const Node& node, const char* name) {
  if (node.FindAttribute(name) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: required attribute \"%s\" is missing", node.Describe(), name));
  }
  return node.GetFloat(name, 0.f);
}

// Adagrad: X_new = X - r * G' / (sqrt(H_new) + epsilon), r = R / (1 + T * decay_factor).
class AdagradKernel final : public Kernel {
 public:
  AdagradKernel(Layout l, double decay, double eps, double wd)
      : layout_(l), decay_(decay), eps_(eps), wd_(wd) {}

  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(const double r, ReadR(ctx));
    ONYX_ASSIGN_OR_RETURN(const int64_t t, ReadT(ctx));
    const double clr = r / (1 + static_cast<double>(t) * decay_);
    for (int j = 0; j < layout_.n; ++j) {
      if (ctx.input(2 + j) != nullptr && ctx.input(2 + j)->dtype() == DataType::kFloat64) {
        ONYX_RETURN_IF_ERROR(Run<double>(ctx, j, clr));
      } else {
        ONYX_RETURN_IF_ERROR(Run<float>(ctx, j, clr));
      }
    }
    return absl::OkStatus();
  }

 private:
  template <typename T>
  absl::Status Run(KernelContext& ctx, int j, double clr) {
    um::AdagradCoeffs<T> k{static_cast<T>(wd_), static_cast<T>(eps_), static_cast<T>(-clr)};
    return RunElementwise<T, 1>(ctx, layout_, j,
                                [k](T& x, T g, T* s) { um::AdagradUpdate(k, x, g, s[0]); });
  }

  Layout layout_;
  double decay_, eps_, wd_;
};

// Adam: X_new = (1 - norm_coefficient_post) * (X - R_adj * V_new / (sqrt(H_new) + epsilon)),
// R_adj = T > 0 ? R * sqrt(1 - beta^T) / (1 - alpha^T) : R.
class AdamKernel final : public Kernel {
 public:
  AdamKernel(Layout l, double alpha, double beta, double eps, double wd, double wd_post)
      : layout_(l), alpha_(alpha), beta_(beta), eps_(eps), wd_(wd), wd_post_(wd_post) {}

  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(const double r, ReadR(ctx));
    ONYX_ASSIGN_OR_RETURN(const int64_t t, ReadT(ctx));
    double r_adj = r;
    if (t > 0) {
      const double td = static_cast<double>(t);
      r_adj = r * std::sqrt(1 - std::pow(beta_, td)) / (1 - std::pow(alpha_, td));
    }
    for (int j = 0; j < layout_.n; ++j) {
      if (ctx.input(2 + j) != nullptr && ctx.input(2 + j)->dtype() == DataType::kFloat64) {
        ONYX_RETURN_IF_ERROR(Run<double>(ctx, j, r_adj));
      } else {
        ONYX_RETURN_IF_ERROR(Run<float>(ctx, j, r_adj));
      }
    }
    return absl::OkStatus();
  }

 private:
  template <typename T>
  absl::Status Run(KernelContext& ctx, int j, double r_adj) {
    um::AdamCoeffs<T> k;
    k.pre_scale = T(1);
    k.weight_decay = static_cast<T>(wd_);
    k.beta1 = static_cast<T>(alpha_);
    k.one_minus_beta1 = static_cast<T>(1 - alpha_);
    k.beta2 = static_cast<T>(beta_);
    k.one_minus_beta2 = static_cast<T>(1 - beta_);
    k.bc2_sqrt = T(1);  // ONNX adds epsilon to sqrt(H) before any bias correction
    k.eps = static_cast<T>(eps_);
    k.neg_step = static_cast<T>(-r_adj);
    k.post_scale = static_cast<T>(1 - wd_post_);
    return RunElementwise<T, 2>(ctx, layout_, j, [k](T& x, T g, T* s) {
      T unused = 0;  // no amsgrad in ONNX Adam
      um::AdamUpdate<false>(k, x, g, s[0], s[1], unused);
    });
  }

  Layout layout_;
  double alpha_, beta_, eps_, wd_, wd_post_;
};

// Momentum: V_new = alpha * V + (T > 0 ? beta : 1) * G'; X_new = X - R * V_new
// ("standard") or X - R * (G' + alpha * V_new) ("nesterov").
class MomentumKernel final : public Kernel {
 public:
  MomentumKernel(Layout l, double alpha, double beta, double wd, bool nesterov)
      : layout_(l), alpha_(alpha), beta_(beta), wd_(wd), nesterov_(nesterov) {}

  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(const double r, ReadR(ctx));
    ONYX_ASSIGN_OR_RETURN(const int64_t t, ReadT(ctx));
    for (int j = 0; j < layout_.n; ++j) {
      if (ctx.input(2 + j) != nullptr && ctx.input(2 + j)->dtype() == DataType::kFloat64) {
        ONYX_RETURN_IF_ERROR(Run<double>(ctx, j, r, t));
      } else {
        ONYX_RETURN_IF_ERROR(Run<float>(ctx, j, r, t));
      }
    }
    return absl::OkStatus();
  }

 private:
  template <typename T>
  absl::Status Run(KernelContext& ctx, int j, double r, int64_t t) {
    um::MomentumCoeffs<T> k;
    k.weight_decay = static_cast<T>(wd_);
    k.momentum = static_cast<T>(alpha_);
    k.grad_coef = t > 0 ? static_cast<T>(beta_) : T(1);
    k.neg_lr = static_cast<T>(-r);
    if (nesterov_) {
      return RunElementwise<T, 1>(ctx, layout_, j, [k](T& x, T g, T* s) {
        um::MomentumUpdate<true, true>(k, x, g, s[0]);
      });
    }
    return RunElementwise<T, 1>(ctx, layout_, j, [k](T& x, T g, T* s) {
      um::MomentumUpdate<true, false>(k, x, g, s[0]);
    });
  }

  Layout layout_;
  double alpha_, beta_, wd_;
  bool nesterov_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> MakeAdagradKernel(const Node& node, int64_t opset) {
  ONYX_ASSIGN_OR_RETURN(Layout l, CheckLayout(node, 3, 2));
  ONYX_ASSIGN_OR_RETURN(float decay, node.GetFloat("decay_factor", 0.f));
  ONYX_ASSIGN_OR_RETURN(float eps, node.GetFloat("epsilon", 1e-6f));
  ONYX_ASSIGN_OR_RETURN(float wd, node.GetFloat("norm_coefficient", 0.f));
  return std::unique_ptr<Kernel>(new AdagradKernel(l, decay, eps, wd));
}

absl::StatusOr<std::unique_ptr<Kernel>> MakeAdamKernel(const Node& node, int64_t opset) {
  ONYX_ASSIGN_OR_RETURN(Layout l, CheckLayout(node, 4, 3));
  ONYX_ASSIGN_OR_RETURN(float alpha, node.GetFloat("alpha", 0.9f));
  ONYX_ASSIGN_OR_RETURN(float beta, node.GetFloat("beta", 0.999f));
  ONYX_ASSIGN_OR_RETURN(float eps, node.GetFloat("epsilon", 1e-6f));
  ONYX_ASSIGN_OR_RETURN(float wd, node.GetFloat("norm_coefficient", 0.f));
  ONYX_ASSIGN_OR_RETURN(float wd_post, node.GetFloat("norm_coefficient_post", 0.f));
  return std::unique_ptr<Kernel>(new AdamKernel(l, alpha, beta, eps, wd, wd_post));
}

absl::StatusOr<std::unique_ptr<Kernel>> MakeMomentumKernel(const Node& node, int64_t opset) {
  ONYX_ASSIGN_OR_RETURN(Layout l, CheckLayout(node, 3, 2));
  ONYX_ASSIGN_OR_RETURN(float alpha, RequiredFloat(node, "alpha"));
  ONYX_ASSIGN_OR_RETURN(float beta, RequiredFloat(node, "beta"));
  ONYX_ASSIGN_OR_RETURN(float wd, RequiredFloat(node, "norm_coefficient"));
  const Attribute* mode_attr = node.FindAttribute("mode");
  if (mode_attr == nullptr || mode_attr->type != AttrType::kString) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: required string attribute \"mode\" is missing", node.Describe()));
  }
  const std::string& mode = mode_attr->s;
  if (mode != "standard" && mode != "nesterov") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: mode must be \"standard\" or \"nesterov\", got \"%s\"", node.Describe(), mode));
  }
  return std::unique_ptr<Kernel>(new MomentumKernel(l, alpha, beta, wd, mode == "nesterov"));
}

}  // namespace onyx
