// Optimizers with torch.optim semantics (PyTorch 1.13 single-tensor path):
// SGD (momentum, dampening, Nesterov, weight decay), Adam, AdamW (both with
// amsgrad), RMSprop (centered, momentum) and Adagrad (lr_decay, initial accumulator).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "runtime/tensor.h"

namespace onyx {

class DeviceTrainingKernels;  // runtime/training/device_kernels.h

// Hyperparameters. Fields a kind does not use are ignored. `weight_decay` and
// `eps` are optional because torch's defaults differ per kind; unset they take
// weight_decay: 1e-2 for adamw, 0 otherwise; eps: 1e-8 (adam, adamw,
// rmsprop), 1e-10 (adagrad). `lr` is the base learning rate the caller feeds
// its schedule with (torch defaults: adam/adamw 1e-3, rmsprop/adagrad 1e-2,
// sgd none); Step() uses the lr it is given.
struct OptimizerConfig {
  std::string kind;  // "sgd" | "adam" | "adamw" | "rmsprop" | "adagrad"
  double lr = 1e-3;
  double momentum = 0;   // sgd, rmsprop
  double dampening = 0;  // sgd
  bool nesterov = false; // sgd
  std::optional<double> weight_decay;
  double beta1 = 0.9, beta2 = 0.999;  // adam, adamw
  std::optional<double> eps;
  bool amsgrad = false;    // adam, adamw
  double alpha = 0.99;     // rmsprop smoothing constant
  bool centered = false;   // rmsprop
  double lr_decay = 0;     // adagrad
  double initial_accumulator_value = 0;  // adagrad
  bool maximize = false;   // all: ascend instead of descend (torch `maximize`)
};

// The config with weight_decay and eps filled with the kind's torch default,
// validated like torch's constructors (InvalidArgument: "Invalid learning
// rate: -1", "Nesterov momentum requires a momentum and zero dampening",
// "Invalid beta parameter at index 0: 1", unknown kind, ...).
absl::StatusOr<OptimizerConfig> ResolveOptimizerConfig(const OptimizerConfig& config);

class Optimizer {
 public:
  virtual ~Optimizer();

  // Updates `params` in place from `grads` (same count, order and shapes as the
  // params given to MakeOptimizer; float32), with learning rate `lr` for this
  // step (the caller applies the schedule). Increments step_count() first, as
  // torch does. InvalidArgument naming the index on a mismatch; nothing is
  // updated then.
  absl::Status Step(absl::Span<Tensor* const> params, absl::Span<const Tensor* const> grads,
                    double lr);

  // With `kernels`: the state moves to that device and Step() takes device
  // parameters and gradients, updating them there through the same
  // update_math.h functors; null: the state comes back to the host and Step()
  // runs on the CPU again. `kernels` must outlive its use here.
  absl::Status UseDevice(DeviceTrainingKernels* kernels);
  bool on_device() const { return device_ != nullptr; }

  // Steps taken so far (torch's state["step"]; identical for every parameter).
  int64_t step_count() const { return step_count_; }
  void set_step_count(int64_t step) { step_count_ = step; }

  // Named state tensors for checkpoints, torch's state keys with the parameter
  // index: "momentum_buffer/0", "exp_avg/1", "exp_avg_sq/1", "max_exp_avg_sq/1",
  // "square_avg/0", "grad_avg/0", "sum/0". Only the buffers the config uses
  // exist (torch allocates the same ones). The pointers stay valid for the
  // optimizer's life; writing through them restores a checkpoint. After
  // UseDevice(kernels) they are device tensors (assign, do not memcpy).
  std::vector<std::pair<std::string, Tensor*>> State();

  const OptimizerConfig& config() const { return config_; }

 protected:
  Optimizer(OptimizerConfig config, std::vector<Shape> shapes);

  // One update of parameter `index` (already validated); `step` is the 1-based
  // step number after the increment.
  virtual void Update(int index, float* x, const float* g, int64_t n, double lr,
                      int64_t step) = 0;
  // The same update on the device: pointers are device memory, the gradient's
  // sign already applied (maximize).
  virtual absl::Status DeviceUpdate(DeviceTrainingKernels& kernels, int index, float* x,
                                    const float* g, int64_t n, double lr, int64_t step) = 0;
  // Adds a zero-filled (or `fill`-filled) state buffer per parameter named `name`.
  absl::Status AddState(const std::string& name, float fill = 0.f);
  // Buffer `name` of parameter `index` (null when the optimizer has no such buffer).
  float* StateData(const std::string& name, int index);

  OptimizerConfig config_;

 private:
  absl::Status DeviceStep(absl::Span<Tensor* const> params,
                          absl::Span<const Tensor* const> grads, double lr);

  std::vector<Shape> shapes_;
  int64_t step_count_ = 0;
  DeviceTrainingKernels* device_ = nullptr;
  // (name, one tensor per parameter), in creation order.
  std::vector<std::pair<std::string, std::vector<Tensor>>> state_;
};

// Builds the optimizer for `params` (float32; only their shapes are kept) with
// zeroed state (Adagrad's "sum" starts at initial_accumulator_value).
// InvalidArgument for bad hyperparameters or a non-float32 parameter.
absl::StatusOr<std::unique_ptr<Optimizer>> MakeOptimizer(
    const OptimizerConfig& config, absl::Span<const Tensor* const> params);

}  // namespace onyx
