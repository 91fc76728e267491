// Fine-tuning an imported model: builds the training graph (forward + loss +
// backward), runs epochs of mini-batch steps with an optimizer, evaluates, and
// hands back the trained inference graph. The CLI's `onyx train` drives it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/graph.h"
#include "runtime/op_registry.h"
#include "runtime/session.h"
#include "runtime/distributed/communicator.h"
#include "runtime/training/checkpoint.h"
#include "runtime/training/device_kernels.h"
#include "runtime/training/grad_buckets.h"
#include "runtime/training/lr_schedule.h"
#include "runtime/training/optimizer.h"

namespace onyx {

struct TrainConfig {
  std::string output;            // model output the loss attaches to; "" = the first
  std::string loss = "mse";      // mse | cross_entropy | bce | bce_logits
  std::string reduction = "mean";
  double label_smoothing = 0;    // cross_entropy only
  std::vector<float> class_weights;  // cross_entropy only: one weight per class, or empty
  OptimizerConfig optimizer;
  LrSchedule schedule;           // evaluated per epoch
  double clip_norm = 0;          // 0: no clipping
  int64_t batch_size = 0;        // 0: the whole data set
  int accumulate_steps = 1;      // micro-batches whose gradients are averaged per step
  bool shuffle = true;
  uint64_t seed = 0;
  std::string freeze_regex;      // initializers whose name matches are not trained
  int64_t max_steps = 0;         // stop once the optimizer made this many steps; 0: no limit
  // Distributed: gradients are reduced in buckets of at most this many MiB, each
  // started as soon as backward has written it; 0: one bucket after backward.
  double bucket_mb = 25;
  // Device (and backend) the train/eval sessions run on. On a device with
  // registered DeviceTrainingKernels the whole step stays there (see Trainer).
  SessionOptions session;
};

struct EpochStats {
  int epoch = 0;                 // 1-based
  double loss = 0;               // mean over the epoch's batches, before each update
  double lr = 0;
  std::optional<double> val_loss;
  std::optional<double> val_accuracy;
  double seconds = 0;
  bool complete = true;          // false: stopped mid-epoch by max_steps
};

struct Evaluation {
  double loss = 0;
  std::optional<double> accuracy;  // classification losses only
};

// Called after every optimizer step with (epoch, step in epoch, steps per epoch, loss).
using StepCallback = std::function<void(int, int64_t, int64_t, double)>;

// Device-resident training: when config.session names a device whose backend
// has DeviceTrainingKernels (runtime/training/device_kernels.h; CUDA registers
// them), the parameters and the optimizer state live on the device across
// steps, the session hands back the gradients there, and accumulation,
// clipping and the update run there too. Only the loss comes to the host each
// step; the parameters come back for checkpoints, TrainedModel() and
// HostParams(). Otherwise (CPU, or a device without such kernels, or several
// processes) parameters and state stay on the host, as the optimizer step does.
class Trainer {
 public:
  static absl::StatusOr<std::unique_ptr<Trainer>> Create(Graph model, TrainConfig config,
                                                         const OpRegistry& registry);

  // One epoch over (x, y): rows are samples. Fails with the step number on a
  // non-finite loss, leaving the parameters as they were before that step.
  absl::StatusOr<EpochStats> TrainEpoch(const Tensor& x, const Tensor& y,
                                        const StepCallback& on_step = nullptr);
  absl::StatusOr<Evaluation> Evaluate(const Tensor& x, const Tensor& y);

  // Parameters, optimizer state, epoch and RNG state (runtime/training/checkpoint.h).
  // Device-resident: copied to the host first.
  // Called between steps (from a StepCallback), it records the position within
  // the epoch, and a resume continues from that step.
  absl::Status SaveCheckpoint(const std::string& path);
  // Restores all of the above; InvalidArgument when the checkpoint does not
  // belong to this model and optimizer (names or shapes differ).
  absl::Status LoadCheckpoint(const std::string& path);
  // The same as bytes, so one process can hand its state to the others ("" when
  // a device copy fails, which the reader then rejects; SaveCheckpoint reports it).
  std::string CheckpointBytes() const;
  absl::Status RestoreCheckpointBytes(const std::string& bytes, const std::string& source);

  // Data-parallel training: each step splits its rows over the communicator's
  // processes and sums their weighted gradients (null: this process alone).
  // Device-resident with more than one process: the gradients are summed on the
  // device (DeviceTrainingKernels::ConnectProcesses, NCCL on CUDA); where the
  // device has no collectives the step runs on the host (MPI reduces the
  // gradients there) and parameters and state move back to the host.
  void set_communicator(Communicator* comm);
  // With more than one process: how the gradients are bucketed (else null).
  const GradBucketReducer* grad_reducer() const { return reducer_.get(); }

  // The model with trained weights: the original inputs, outputs and opsets.
  Graph TrainedModel() const;

  // Trainable parameter names and tensors (updated in place by each step; device
  // tensors when device_resident()).
  const std::vector<std::string>& param_names() const { return param_names_; }
  std::vector<Tensor>& params() { return params_; }
  // The parameters on the host (copies of device-resident ones).
  absl::StatusOr<std::vector<Tensor>> HostParams() const;
  // Whether parameters, optimizer state and gradients stay on the device.
  bool device_resident() const { return device_ != nullptr; }
  Optimizer& optimizer() { return *optimizer_; }
  int epoch() const { return epoch_; }
  void set_epoch(int epoch) { epoch_ = epoch; }
  std::mt19937_64& rng() { return rng_; }

 private:
  Trainer() = default;
  // Loss and per-parameter gradients of one micro-batch of `rows` (one process).
  absl::StatusOr<double> MicroBatchGradients(const Tensor& x, const Tensor& y,
                                             absl::Span<const int64_t> rows,
                                             std::vector<Tensor>& grads);
  // Several processes: this process's share of `rows`, its weighted gradients
  // added into reducer_ (reduced over the processes when `last` in the step);
  // returns its weighted share of the loss.
  absl::StatusOr<double> ShareMicroBatch(const Tensor& x, const Tensor& y,
                                         absl::Span<const int64_t> rows, bool first, bool last);
  absl::Status Restore(const Checkpoint& checkpoint, const std::string& source);
  absl::StatusOr<Checkpoint> MakeCheckpoint() const;
  // `t` readable on the host: itself, or its copy from the device.
  absl::StatusOr<Tensor> OnHost(const Tensor& t) const;
  // Device-resident: parameters and optimizer state back to the host, for good.
  absl::Status LeaveDevice();
  // Device-resident step: adds `weight` times the micro-batch gradients into
  // device_grads_ (`first`: overwrites them).
  absl::Status AccumulateOnDevice(const std::vector<Tensor>& grads, bool first, float weight);
  // Several processes: the rows [begin, end) of a micro-batch of `total` that
  // are this process's, and the weight of its gradients.
  struct RowShare {
    int64_t begin = 0, end = 0;
    double weight = 1;
  };
  RowShare ShareOf(int64_t total) const;
  // Several processes, device-resident: this process's share of `rows`, its
  // weighted gradients added into device_grads_ (reduced over the processes on
  // the device by TrainEpoch); returns its weighted share of the loss.
  absl::StatusOr<double> DeviceShareMicroBatch(const Tensor& x, const Tensor& y,
                                               absl::Span<const int64_t> rows, bool first);
  bool device_distributed() const {
    return device_ != nullptr && comm_ != nullptr && comm_->size() > 1;
  }
  absl::StatusOr<NamedTensors> BatchFeeds(const Tensor& x, const Tensor& y,
                                          const std::vector<int64_t>& rows) const;

  Graph model_;
  TrainConfig config_;
  std::string input_name_, output_name_;
  std::vector<std::string> param_names_;
  std::vector<Tensor> params_;
  std::unique_ptr<Session> train_session_;  // outputs: loss, then one grad per param
  std::unique_ptr<Session> eval_session_;   // outputs: loss, model output
  std::unique_ptr<Optimizer> optimizer_;
  std::mt19937_64 rng_;
  int epoch_ = 0;
  // Position within the epoch in progress (see Checkpoint).
  int64_t epoch_micro_batches_ = 0;
  int64_t epoch_batch_rows_ = 0;
  Communicator* comm_ = nullptr;
  std::vector<std::string> grad_names_;  // per parameter, in train_session_'s graph
  std::unique_ptr<GradBucketReducer> reducer_;
  double epoch_loss_sum_ = 0;
  std::string epoch_rng_state_;
  // Device-resident training (null otherwise).
  std::shared_ptr<DeviceBackend> backend_;
  std::unique_ptr<DeviceTrainingKernels> device_;
  std::vector<Tensor> device_grads_;  // per parameter: the step's summed gradient
  absl::Status device_error_;         // a failed LeaveDevice, reported by TrainEpoch
};

// Rows `rows` of `t` (first dim), copied into a new tensor.
absl::StatusOr<Tensor> GatherRows(const Tensor& t, const std::vector<int64_t>& rows);

}  // namespace onyx
