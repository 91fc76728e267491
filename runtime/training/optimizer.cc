// torch.optim-equivalent optimizers: validation, state, and one pass per
// parameter per step (OpenMP over blocks, vectorized inside) over update_math.h.
#include "runtime/training/optimizer.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/status_macros.h"
#include "runtime/training/device_kernels.h"
#include "runtime/training/update_math.h"

namespace onyx {
namespace {

namespace um = update_math;

absl::Status Invalid(const std::string& what, double value) {
  return absl::InvalidArgumentError(absl::StrCat("Invalid ", what, ": ", value));
}

class Sgd final : public Optimizer {
 public:
  static absl::StatusOr<std::unique_ptr<Optimizer>> Create(OptimizerConfig config,
                                                           std::vector<Shape> shapes) {
    std::unique_ptr<Sgd> opt(new Sgd(std::move(config), std::move(shapes)));
    // torch creates momentum_buffer only when momentum != 0.
    if (opt->config_.momentum != 0) ONYX_RETURN_IF_ERROR(opt->AddState("momentum_buffer"));
    return std::unique_ptr<Optimizer>(std::move(opt));
  }

 private:
  using Optimizer::Optimizer;

  um::MomentumCoeffs<float> Coeffs(double lr, int64_t step) const {
    const OptimizerConfig& c = config_;
    um::MomentumCoeffs<float> k;
    k.weight_decay = static_cast<float>(*c.weight_decay);
    k.momentum = static_cast<float>(c.momentum);
    // First step: torch clones g' into the buffer, i.e. buf = 0 * m + 1 * g'.
    k.grad_coef = step == 1 ? 1.f : static_cast<float>(1 - c.dampening);
    k.neg_lr = static_cast<float>(-lr);
    return k;
  }

  absl::Status DeviceUpdate(DeviceTrainingKernels& kernels, int index, float* x, const float* g,
                            int64_t n, double lr, int64_t step) override {
    float* v = StateData("momentum_buffer", index);
    return kernels.Sgd(Coeffs(lr, step), v != nullptr, config_.nesterov, x, g, v, n);
  }

  void Update(int index, float* x, const float* g, int64_t n, double lr,
              int64_t step) override {
    const OptimizerConfig& c = config_;
    const um::MomentumCoeffs<float> k = Coeffs(lr, step);
    const float sign = c.maximize ? -1.f : 1.f;
    float* v = StateData("momentum_buffer", index);
    auto run = [&](auto block) {
      um::ForBlocks(n, [&](int64_t b, int64_t e) {
        block(k, x + b, g + b, v != nullptr ? v + b : nullptr, e - b, sign);
      });
    };
    if (v == nullptr) {
      run(Block<false, false>);
    } else if (c.nesterov) {
      run(Block<true, true>);
    } else {
      run(Block<true, false>);
    }
  }

  template <bool kMomentum, bool kNesterov>
  static void Block(const um::MomentumCoeffs<float> k, float* __restrict x,
                    const float* __restrict g, float* __restrict v, int64_t n, float sign) {
    for (int64_t i = 0; i < n; ++i) {
      float unused = 0;
      if constexpr (kMomentum) {
        um::MomentumUpdate<true, kNesterov>(k, x[i], sign * g[i], v[i]);
      } else {
        um::MomentumUpdate<false, false>(k, x[i], sign * g[i], unused);
      }
    }
  }
};

// Adam, and AdamW when `decoupled` (decay x by lr * wd instead of adding wd * x
// to the gradient).
class Adam final : public Optimizer {
 public:
  static absl::StatusOr<std::unique_ptr<Optimizer>> Create(OptimizerConfig config,
                                                           std::vector<Shape> shapes,
                                                           bool decoupled) {
    std::unique_ptr<Adam> opt(new Adam(std::move(config), std::move(shapes)));
    opt->decoupled_ = decoupled;
    ONYX_RETURN_IF_ERROR(opt->AddState("exp_avg"));
    ONYX_RETURN_IF_ERROR(opt->AddState("exp_avg_sq"));
    if (opt->config_.amsgrad) ONYX_RETURN_IF_ERROR(opt->AddState("max_exp_avg_sq"));
    return std::unique_ptr<Optimizer>(std::move(opt));
  }

 private:
  using Optimizer::Optimizer;

  um::AdamCoeffs<float> Coeffs(double lr, int64_t step) const {
    const OptimizerConfig& c = config_;
    const double wd = *c.weight_decay;
    // Scalars in double as torch's Python code forms them.
    const double bias_correction1 = 1 - std::pow(c.beta1, static_cast<double>(step));
    const double bias_correction2 = 1 - std::pow(c.beta2, static_cast<double>(step));
    um::AdamCoeffs<float> k;
    k.pre_scale = decoupled_ ? static_cast<float>(1 - lr * wd) : 1.f;
    k.weight_decay = decoupled_ ? 0.f : static_cast<float>(wd);
    k.beta1 = static_cast<float>(c.beta1);
    k.one_minus_beta1 = static_cast<float>(1 - c.beta1);
    k.beta2 = static_cast<float>(c.beta2);
    k.one_minus_beta2 = static_cast<float>(1 - c.beta2);
    k.bc2_sqrt = static_cast<float>(std::sqrt(bias_correction2));
    k.eps = static_cast<float>(*c.eps);
    k.neg_step = static_cast<float>(-(lr / bias_correction1));
    k.post_scale = 1.f;
    return k;
  }

  absl::Status DeviceUpdate(DeviceTrainingKernels& kernels, int index, float* x, const float* g,
                            int64_t n, double lr, int64_t step) override {
    float* vmax = StateData("max_exp_avg_sq", index);
    return kernels.Adam(Coeffs(lr, step), vmax != nullptr, x, g, StateData("exp_avg", index),
                        StateData("exp_avg_sq", index), vmax, n);
  }

  void Update(int index, float* x, const float* g, int64_t n, double lr,
              int64_t step) override {
    const OptimizerConfig& c = config_;
    const um::AdamCoeffs<float> k = Coeffs(lr, step);
    float* m = StateData("exp_avg", index);
    float* v = StateData("exp_avg_sq", index);
    float* vmax = StateData("max_exp_avg_sq", index);
    const float sign = c.maximize ? -1.f : 1.f;
    auto run = [&](auto block) {
      um::ForBlocks(n, [&](int64_t b, int64_t e) {
        block(k, x + b, g + b, m + b, v + b, vmax != nullptr ? vmax + b : nullptr, e - b, sign);
      });
    };
    if (vmax != nullptr) {
      run(Block<true>);
    } else {
      run(Block<false>);
    }
  }

  template <bool kAmsgrad>
  static void Block(const um::AdamCoeffs<float> k, float* __restrict x,
                    const float* __restrict g, float* __restrict m, float* __restrict v,
                    float* __restrict vmax, int64_t n, float sign) {
    for (int64_t i = 0; i < n; ++i) {
      if constexpr (kAmsgrad) {
        um::AdamUpdate<true>(k, x[i], sign * g[i], m[i], v[i], vmax[i]);
      } else {
        float unused = 0;
        um::AdamUpdate<false>(k, x[i], sign * g[i], m[i], v[i], unused);
      }
    }
  }

  bool decoupled_ = false;
};

class Rmsprop final : public Optimizer {
 public:
  static absl::StatusOr<std::unique_ptr<Optimizer>> Create(OptimizerConfig config,
                                                           std::vector<Shape> shapes) {
    std::unique_ptr<Rmsprop> opt(new Rmsprop(std::move(config), std::move(shapes)));
    ONYX_RETURN_IF_ERROR(opt->AddState("square_avg"));
    if (opt->config_.momentum > 0) ONYX_RETURN_IF_ERROR(opt->AddState("momentum_buffer"));
    if (opt->config_.centered) ONYX_RETURN_IF_ERROR(opt->AddState("grad_avg"));
    return std::unique_ptr<Optimizer>(std::move(opt));
  }

 private:
  using Optimizer::Optimizer;

  um::RmspropCoeffs<float> Coeffs(double lr) const {
    const OptimizerConfig& c = config_;
    um::RmspropCoeffs<float> k;
    k.weight_decay = static_cast<float>(*c.weight_decay);
    k.alpha = static_cast<float>(c.alpha);
    k.one_minus_alpha = static_cast<float>(1 - c.alpha);
    k.eps = static_cast<float>(*c.eps);
    k.momentum = static_cast<float>(c.momentum);
    k.neg_lr = static_cast<float>(-lr);
    return k;
  }

  absl::Status DeviceUpdate(DeviceTrainingKernels& kernels, int index, float* x, const float* g,
                            int64_t n, double lr, int64_t step) override {
    float* ga = StateData("grad_avg", index);
    float* buf = StateData("momentum_buffer", index);
    return kernels.Rmsprop(Coeffs(lr), ga != nullptr, buf != nullptr, x, g,
                           StateData("square_avg", index), ga, buf, n);
  }

  void Update(int index, float* x, const float* g, int64_t n, double lr,
              int64_t step) override {
    const OptimizerConfig& c = config_;
    const um::RmspropCoeffs<float> k = Coeffs(lr);
    float* sq = StateData("square_avg", index);
    float* ga = StateData("grad_avg", index);
    float* buf = StateData("momentum_buffer", index);
    const float sign = c.maximize ? -1.f : 1.f;
    auto run = [&](auto block) {
      um::ForBlocks(n, [&](int64_t b, int64_t e) {
        block(k, x + b, g + b, sq + b, ga != nullptr ? ga + b : nullptr,
              buf != nullptr ? buf + b : nullptr, e - b, sign);
      });
    };
    if (ga != nullptr && buf != nullptr) {
      run(Block<true, true>);
    } else if (ga != nullptr) {
      run(Block<true, false>);
    } else if (buf != nullptr) {
      run(Block<false, true>);
    } else {
      run(Block<false, false>);
    }
  }

  template <bool kCentered, bool kMomentum>
  static void Block(const um::RmspropCoeffs<float> k, float* __restrict x,
                    const float* __restrict g, float* __restrict sq, float* __restrict ga,
                    float* __restrict buf, int64_t n, float sign) {
    for (int64_t i = 0; i < n; ++i) {
      float unused = 0;
      if constexpr (kCentered && kMomentum) {
        um::RmspropUpdate<true, true>(k, x[i], sign * g[i], sq[i], ga[i], buf[i]);
      } else if constexpr (kCentered) {
        um::RmspropUpdate<true, false>(k, x[i], sign * g[i], sq[i], ga[i], unused);
      } else if constexpr (kMomentum) {
        um::RmspropUpdate<false, true>(k, x[i], sign * g[i], sq[i], unused, buf[i]);
      } else {
        um::RmspropUpdate<false, false>(k, x[i], sign * g[i], sq[i], unused, unused);
      }
    }
  }
};

class Adagrad final : public Optimizer {
 public:
  static absl::StatusOr<std::unique_ptr<Optimizer>> Create(OptimizerConfig config,
                                                           std::vector<Shape> shapes) {
    std::unique_ptr<Adagrad> opt(new Adagrad(std::move(config), std::move(shapes)));
    const float init = static_cast<float>(opt->config_.initial_accumulator_value);
    ONYX_RETURN_IF_ERROR(opt->AddState("sum", init));
    return std::unique_ptr<Optimizer>(std::move(opt));
  }

 private:
  using Optimizer::Optimizer;

  um::AdagradCoeffs<float> Coeffs(double lr, int64_t step) const {
    const OptimizerConfig& c = config_;
    // clr = lr / (1 + (step - 1) * lr_decay), in double as torch does.
    const double clr = lr / (1 + static_cast<double>(step - 1) * c.lr_decay);
    um::AdagradCoeffs<float> k;
    k.weight_decay = static_cast<float>(*c.weight_decay);
    k.eps = static_cast<float>(*c.eps);
    k.neg_clr = static_cast<float>(-clr);
    return k;
  }

  absl::Status DeviceUpdate(DeviceTrainingKernels& kernels, int index, float* x, const float* g,
                            int64_t n, double lr, int64_t step) override {
    return kernels.Adagrad(Coeffs(lr, step), x, g, StateData("sum", index), n);
  }

  void Update(int index, float* x, const float* g, int64_t n, double lr,
              int64_t step) override {
    const OptimizerConfig& c = config_;
    const um::AdagradCoeffs<float> k = Coeffs(lr, step);
    float* h = StateData("sum", index);
    const float sign = c.maximize ? -1.f : 1.f;
    um::ForBlocks(n, [&](int64_t b, int64_t e) { Block(k, x + b, g + b, h + b, e - b, sign); });
  }

  static void Block(const um::AdagradCoeffs<float> k, float* __restrict x,
                    const float* __restrict g, float* __restrict h, int64_t n, float sign) {
    for (int64_t i = 0; i < n; ++i) um::AdagradUpdate(k, x[i], sign * g[i], h[i]);
  }
};

}  // namespace

absl::StatusOr<OptimizerConfig> ResolveOptimizerConfig(const OptimizerConfig& config) {
  OptimizerConfig c = config;
  const std::string& kind = c.kind;
  if (kind != "sgd" && kind != "adam" && kind != "adamw" && kind != "rmsprop" &&
      kind != "adagrad") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "Unknown optimizer \"%s\" (expected sgd, adam, adamw, rmsprop or adagrad)", kind));
  }
  if (!c.weight_decay.has_value()) c.weight_decay = kind == "adamw" ? 1e-2 : 0.0;
  if (!c.eps.has_value()) c.eps = kind == "adagrad" ? 1e-10 : 1e-8;
  // `!(x >= 0)` also rejects NaN, as torch's `not 0.0 <= x` does.
  if (!(c.lr >= 0)) return Invalid("learning rate", c.lr);
  if (!(*c.weight_decay >= 0)) return Invalid("weight_decay value", *c.weight_decay);
  if (kind == "sgd") {
    if (!(c.momentum >= 0)) return Invalid("momentum value", c.momentum);
    if (c.nesterov && (c.momentum <= 0 || c.dampening != 0)) {
      return absl::InvalidArgumentError(
          "Nesterov momentum requires a momentum and zero dampening");
    }
    return c;
  }
  if (!(*c.eps >= 0)) return Invalid("epsilon value", *c.eps);
  if (kind == "adam" || kind == "adamw") {
    if (!(c.beta1 >= 0 && c.beta1 < 1)) return Invalid("beta parameter at index 0", c.beta1);
    if (!(c.beta2 >= 0 && c.beta2 < 1)) return Invalid("beta parameter at index 1", c.beta2);
  } else if (kind == "rmsprop") {
    if (!(c.momentum >= 0)) return Invalid("momentum value", c.momentum);
    if (!(c.alpha >= 0)) return Invalid("alpha value", c.alpha);
  } else {  // adagrad
    if (!(c.lr_decay >= 0)) return Invalid("lr_decay value", c.lr_decay);
    if (!(c.initial_accumulator_value >= 0)) {
      return Invalid("initial_accumulator_value value", c.initial_accumulator_value);
    }
  }
  return c;
}

Optimizer::Optimizer(OptimizerConfig config, std::vector<Shape> shapes)
    : config_(std::move(config)), shapes_(std::move(shapes)) {}

Optimizer::~Optimizer() = default;

absl::Status Optimizer::AddState(const std::string& name, float fill) {
  std::vector<Tensor> tensors;
  tensors.reserve(shapes_.size());
  for (const Shape& shape : shapes_) {
    ONYX_ASSIGN_OR_RETURN(Tensor t, Tensor::Zeros(DataType::kFloat32, shape));
    if (fill != 0.f) std::fill(t.data<float>(), t.data<float>() + t.num_elements(), fill);
    tensors.push_back(std::move(t));
  }
  state_.emplace_back(name, std::move(tensors));
  return absl::OkStatus();
}

float* Optimizer::StateData(const std::string& name, int index) {
  for (auto& [state_name, tensors] : state_) {
    if (state_name == name) return tensors[index].data<float>();
  }
  return nullptr;
}

absl::Status Optimizer::UseDevice(DeviceTrainingKernels* kernels) {
  if (kernels == device_) return absl::OkStatus();
  // Every copy is made before any is replaced, so a failure changes nothing.
  std::vector<std::vector<Tensor>> moved;
  for (auto& [name, tensors] : state_) {
    std::vector<Tensor>& copies = moved.emplace_back();
    for (const Tensor& t : tensors) {
      DeviceBackend& side = kernels != nullptr ? kernels->backend() : device_->backend();
      ONYX_ASSIGN_OR_RETURN(Tensor copy, kernels != nullptr ? side.ToDevice(t) : side.ToHost(t));
      copies.push_back(std::move(copy));
    }
  }
  for (size_t s = 0; s < state_.size(); ++s) state_[s].second = std::move(moved[s]);
  device_ = kernels;
  return absl::OkStatus();
}

std::vector<std::pair<std::string, Tensor*>> Optimizer::State() {
  std::vector<std::pair<std::string, Tensor*>> out;
  for (size_t p = 0; p < shapes_.size(); ++p) {
    for (auto& [name, tensors] : state_) {
      out.emplace_back(absl::StrCat(name, "/", p), &tensors[p]);
    }
  }
  return out;
}

absl::Status Optimizer::Step(absl::Span<Tensor* const> params,
                             absl::Span<const Tensor* const> grads, double lr) {
  if (params.size() != shapes_.size() || grads.size() != shapes_.size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s optimizer: got %d parameters and %d gradients, expected %d", config_.kind,
        params.size(), grads.size(), shapes_.size()));
  }
  if (!(lr >= 0)) return Invalid("learning rate", lr);
  for (size_t i = 0; i < shapes_.size(); ++i) {
    const Tensor* p = params[i];
    const Tensor* g = grads[i];
    if (p == nullptr || g == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s optimizer: parameter %d or its gradient is null", config_.kind, i));
    }
    if (p->dtype() != DataType::kFloat32 || g->dtype() != DataType::kFloat32) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s optimizer: parameter %d is %s with gradient %s, expected float32", config_.kind,
          i, DataTypeName(p->dtype()), DataTypeName(g->dtype())));
    }
    if (p->shape() != shapes_[i] || g->shape() != shapes_[i]) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s optimizer: parameter %d has shape %s and gradient %s, expected %s",
          config_.kind, i, ShapeToString(p->shape()), ShapeToString(g->shape()),
          ShapeToString(shapes_[i])));
    }
    if (p->on_device() != on_device() || g->on_device() != on_device()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s optimizer: parameter %d or its gradient is on the %s, the optimizer state on "
          "the %s", config_.kind, i, p->on_device() ? "device" : "host",
          on_device() ? "device" : "host"));
    }
  }
  ++step_count_;
  if (on_device()) return DeviceStep(params, grads, lr);
  for (size_t i = 0; i < shapes_.size(); ++i) {
    Update(static_cast<int>(i), params[i]->data<float>(), grads[i]->data<float>(),
           params[i]->num_elements(), lr, step_count_);
  }
  return absl::OkStatus();
}

absl::Status Optimizer::DeviceStep(absl::Span<Tensor* const> params,
                                   absl::Span<const Tensor* const> grads, double lr) {
  for (size_t i = 0; i < shapes_.size(); ++i) {
    const int64_t n = params[i]->num_elements();
    const float* g = grads[i]->data<float>();
    Tensor negated;  // maximize: -g, exact, so the update sees what the CPU's sign * g is
    if (config_.maximize) {
      ONYX_ASSIGN_OR_RETURN(negated, device_->backend().Allocate(DataType::kFloat32, shapes_[i],
                                                                 kDefaultMaxTensorBytes));
      ONYX_RETURN_IF_ERROR(device_->Scale(negated.data<float>(), g, -1.f, n));
      g = negated.data<float>();
    }
    ONYX_RETURN_IF_ERROR(DeviceUpdate(*device_, static_cast<int>(i), params[i]->data<float>(),
                                      g, n, lr, step_count_));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Optimizer>> MakeOptimizer(
    const OptimizerConfig& config, absl::Span<const Tensor* const> params) {
  ONYX_ASSIGN_OR_RETURN(OptimizerConfig c, ResolveOptimizerConfig(config));
  std::vector<Shape> shapes;
  shapes.reserve(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i] == nullptr || params[i]->dtype() != DataType::kFloat32) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s optimizer: parameter %d is %s, expected float32", c.kind, i,
          params[i] == nullptr ? "null" : DataTypeName(params[i]->dtype())));
    }
    shapes.push_back(params[i]->shape());
  }
  if (c.kind == "sgd") return Sgd::Create(std::move(c), std::move(shapes));
  if (c.kind == "adam") return Adam::Create(std::move(c), std::move(shapes), false);
  if (c.kind == "adamw") return Adam::Create(std::move(c), std::move(shapes), true);
  if (c.kind == "rmsprop") return Rmsprop::Create(std::move(c), std::move(shapes));
  return Adagrad::Create(std::move(c), std::move(shapes));
}

}  // namespace onyx
