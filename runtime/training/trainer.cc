// Trainer: training-graph construction and the epoch loop.
#include "runtime/training/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <regex>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "runtime/status_macros.h"
#include "runtime/training/autograd.h"
#include "runtime/training/checkpoint.h"
#include "runtime/training/grad_clip.h"

namespace onyx {
namespace {

constexpr char kTargetName[] = "onyx_target";
constexpr char kLossName[] = "onyx_loss";
constexpr char kClassWeightsName[] = "onyx_class_weights";

std::string RngText(const std::mt19937_64& rng) {
  std::ostringstream text;
  text << rng;
  return text.str();
}

absl::Status SetRngFromText(std::mt19937_64& rng, const std::string& text,
                            const std::string& path) {
  std::istringstream in(text);
  in >> rng;
  if (in.fail()) {
    return absl::InvalidArgumentError(absl::StrFormat("checkpoint %s: bad RNG state", path));
  }
  return absl::OkStatus();
}

// Graph passes would fold or fuse away the values and parameters the backward
// nodes and the optimizer read, so training graphs run as built (on the
// device `base` names).
SessionOptions TrainingSessionOptions(const SessionOptions& base) {
  SessionOptions options = base;
  options.opt_level = 0;
  return options;
}

absl::StatusOr<Node> LossNode(const TrainConfig& config, const std::string& output) {
  Node node;
  node.name = "onyx_loss_node";
  node.domain = kOnyxDomain;
  node.inputs = {output, kTargetName};
  node.outputs = {kLossName};
  if (config.loss == "mse") {
    node.op_type = "MseLoss";
  } else if (config.loss == "cross_entropy") {
    node.op_type = "CrossEntropyLoss";
    Attribute smoothing;
    smoothing.name = "label_smoothing";
    smoothing.type = AttrType::kFloat;
    smoothing.f = static_cast<float>(config.label_smoothing);
    node.attributes.push_back(smoothing);
    if (!config.class_weights.empty()) node.inputs.push_back(kClassWeightsName);
  } else if (config.loss == "bce") {
    node.op_type = "BceLoss";
  } else if (config.loss == "bce_logits") {
    node.op_type = "BceWithLogitsLoss";
  } else {
    return absl::InvalidArgumentError(absl::StrFormat(
        "unknown loss \"%s\" (expected mse, cross_entropy, bce or bce_logits)", config.loss));
  }
  if (!config.class_weights.empty() && config.loss != "cross_entropy") {
    return absl::InvalidArgumentError("class weights apply to the cross_entropy loss only");
  }
  if (config.reduction != "mean" && config.reduction != "sum") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "loss reduction must be mean or sum for training, got \"%s\"", config.reduction));
  }
  Attribute reduction;
  reduction.name = "reduction";
  reduction.type = AttrType::kString;
  reduction.s = config.reduction;
  node.attributes.push_back(reduction);
  return node;
}

ValueInfo InputInfo(const std::string& name, const Tensor* like, DataType dtype) {
  ValueInfo info;
  info.name = name;
  info.dtype = dtype;
  if (like != nullptr) {
    info.has_shape = true;
    for (int64_t d : like->shape()) info.dims.push_back(Dim{.value = d, .param = ""});
  }
  return info;
}

// Index of the largest element in each row of a [rows, cols] float tensor.
int64_t ArgMaxRow(const float* row, int64_t cols) {
  return std::max_element(row, row + cols) - row;
}

}  // namespace

absl::StatusOr<Tensor> GatherRows(const Tensor& t, const std::vector<int64_t>& rows) {
  if (t.rank() == 0) return absl::InvalidArgumentError("cannot take rows of a scalar");
  Shape shape = t.shape();
  shape[0] = static_cast<int64_t>(rows.size());
  ONYX_ASSIGN_OR_RETURN(Tensor out, Tensor::Uninitialized(t.dtype(), shape));
  const size_t row_bytes = t.dim(0) == 0 ? 0 : t.byte_size() / t.dim(0);
  const auto* src = static_cast<const std::byte*>(t.raw_data());
  auto* dst = static_cast<std::byte*>(out.raw_data());
  for (size_t i = 0; i < rows.size(); ++i) {
    std::memcpy(dst + i * row_bytes, src + rows[i] * row_bytes, row_bytes);
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Trainer>> Trainer::Create(Graph model, TrainConfig config,
                                                         const OpRegistry& registry) {
  std::unique_ptr<Trainer> trainer(new Trainer());
  Trainer& t = *trainer;
  t.config_ = config;
  t.rng_.seed(config.seed);
  const std::vector<const ValueInfo*> feeds = model.FeedInputs();
  if (feeds.size() != 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "training needs a model with exactly one data input; this one has %d", feeds.size()));
  }
  t.input_name_ = feeds[0]->name;
  t.output_name_ = config.output.empty() ? model.outputs.at(0).name : config.output;
  if (std::none_of(model.outputs.begin(), model.outputs.end(),
                   [&](const ValueInfo& v) { return v.name == t.output_name_; })) {
    return absl::InvalidArgumentError(
        absl::StrFormat("the model has no output named \"%s\"", t.output_name_));
  }
  if (config.accumulate_steps < 1) {
    return absl::InvalidArgumentError("accumulate steps must be at least 1");
  }

  std::regex freeze;
  try {
    if (!config.freeze_regex.empty()) freeze = std::regex(config.freeze_regex);
  } catch (const std::regex_error& e) {
    return absl::InvalidArgumentError(
        absl::StrFormat("--freeze \"%s\" is not a valid regex: %s", config.freeze_regex, e.what()));
  }

  // Trainable parameters become graph inputs of the training graph, so each step
  // feeds their current values.
  Graph train = model;
  std::vector<std::string> candidates;
  for (const auto& [name, tensor] : model.initializers) {
    if (tensor.dtype() != DataType::kFloat32) continue;
    if (!config.freeze_regex.empty() && std::regex_search(name, freeze)) continue;
    candidates.push_back(name);
  }
  for (const std::string& name : candidates) {
    const Tensor& value = train.initializers[name];
    train.inputs.push_back(InputInfo(name, &value, DataType::kFloat32));
    train.initializers.erase(name);
  }
  const DataType target_dtype =
      config.loss == "cross_entropy" ? DataType::kInt64 : DataType::kFloat32;
  train.inputs.push_back(InputInfo(kTargetName, nullptr, target_dtype));
  ONYX_ASSIGN_OR_RETURN(Node loss_node, LossNode(config, t.output_name_));
  if (!config.class_weights.empty()) {
    // The loss kernel checks the count against the model's number of classes.
    ONYX_ASSIGN_OR_RETURN(
        Tensor weights,
        Tensor::FromVector<float>({static_cast<int64_t>(config.class_weights.size())},
                                  config.class_weights));
    train.initializers[kClassWeightsName] = std::move(weights);
  }
  train.nodes.push_back(loss_node);
  train.opset_imports[kOnyxDomain] = 1;

  Graph eval = train;
  const ValueInfo model_output =
      *std::find_if(model.outputs.begin(), model.outputs.end(),
                    [&](const ValueInfo& v) { return v.name == t.output_name_; });
  eval.outputs = {InputInfo(kLossName, nullptr, DataType::kFloat32), model_output};
  ONYX_ASSIGN_OR_RETURN(t.eval_session_, Session::Create(std::move(eval), registry, TrainingSessionOptions(config.session)));

  ONYX_ASSIGN_OR_RETURN(GradientGraph grad,
                        BuildGradientGraph(std::move(train), kLossName, candidates, registry));
  // Parameters the loss does not depend on are left out (torch skips grad=None too).
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (grad.grad_names[i].empty()) {  // back to a constant of the training graph
      std::erase_if(grad.graph.inputs,
                    [&](const ValueInfo& v) { return v.name == candidates[i]; });
      grad.graph.initializers[candidates[i]] = model.initializers[candidates[i]];
      continue;
    }
    t.param_names_.push_back(candidates[i]);
    t.grad_names_.push_back(grad.grad_names[i]);
    ONYX_ASSIGN_OR_RETURN(Tensor copy, model.initializers[candidates[i]].Clone());
    t.params_.push_back(std::move(copy));
  }
  if (t.params_.empty()) {
    return absl::InvalidArgumentError("the model has no trainable float32 initializer");
  }
  SessionOptions train_options = TrainingSessionOptions(config.session);
  if (config.session.device != Device::kCpu && config.session.backend != nullptr) {
    auto kernels = MakeDeviceTrainingKernels(config.session.backend);
    if (kernels.ok()) {
      t.device_ = *std::move(kernels);
      t.backend_ = config.session.backend;
      train_options.device_outputs = t.grad_names_;  // gradients stay on the device
    } else if (absl::IsNotFound(kernels.status())) {
      std::fprintf(stderr, "onyx: the optimizer step runs on the host (%s)\n",
                   std::string(kernels.status().message()).c_str());
    } else {
      return kernels.status();
    }
  }
  ONYX_ASSIGN_OR_RETURN(t.train_session_,
                        Session::Create(std::move(grad.graph), registry, train_options));

  std::vector<const Tensor*> param_ptrs;
  for (const Tensor& p : t.params_) param_ptrs.push_back(&p);
  ONYX_ASSIGN_OR_RETURN(t.optimizer_, MakeOptimizer(config.optimizer, param_ptrs));
  if (t.device_ != nullptr) {
    // Parameters, state and the gradient sums live on the device from here on.
    for (Tensor& p : t.params_) {
      ONYX_ASSIGN_OR_RETURN(Tensor on_device, t.backend_->ToDevice(p));
      ONYX_ASSIGN_OR_RETURN(Tensor sum, t.backend_->Allocate(DataType::kFloat32, p.shape(),
                                                              config.session.max_tensor_bytes));
      p = std::move(on_device);
      t.device_grads_.push_back(std::move(sum));
    }
    ONYX_RETURN_IF_ERROR(t.optimizer_->UseDevice(t.device_.get()));
  }
  t.model_ = std::move(model);
  return trainer;
}

absl::StatusOr<NamedTensors> Trainer::BatchFeeds(const Tensor& x, const Tensor& y,
                                                 const std::vector<int64_t>& rows) const {
  NamedTensors feeds;
  ONYX_ASSIGN_OR_RETURN(Tensor xb, GatherRows(x, rows));
  ONYX_ASSIGN_OR_RETURN(Tensor yb, GatherRows(y, rows));
  feeds.emplace_back(input_name_, std::move(xb));
  feeds.emplace_back(kTargetName, std::move(yb));
  for (size_t i = 0; i < params_.size(); ++i) feeds.emplace_back(param_names_[i], params_[i]);
  return feeds;
}

void Trainer::set_communicator(Communicator* comm) {
  comm_ = comm;
  reducer_.reset();
  if (comm_ == nullptr || comm_->size() == 1) return;
  if (device_ != nullptr) {
    // Gradients summed on the device (NCCL on CUDA); every rank agrees on it.
    const absl::Status joined = device_->ConnectProcesses(*comm_);
    if (joined.ok()) return;
    if (!absl::IsUnimplemented(joined) && !absl::IsFailedPrecondition(joined)) {
      // The other ranks may be inside the device collective: no host fallback
      // here; TrainEpoch reports it and the CLI ends every rank.
      device_error_ = joined;
      return;
    }
    std::fprintf(stderr, "onyx: gradients are reduced on the host (%s)\n",
                 std::string(joined.message()).c_str());
    device_error_ = LeaveDevice();
  }
  std::vector<int64_t> elements;
  for (const Tensor& p : params_) elements.push_back(p.num_elements());
  reducer_ = std::make_unique<GradBucketReducer>(
      *train_session_, grad_names_, std::move(elements),
      static_cast<int64_t>(config_.bucket_mb * (1 << 20)), *comm_);
}

absl::StatusOr<double> Trainer::MicroBatchGradients(const Tensor& x, const Tensor& y,
                                                    absl::Span<const int64_t> rows,
                                                    std::vector<Tensor>& grads) {
  grads.clear();
  ONYX_ASSIGN_OR_RETURN(NamedTensors feeds,
                        BatchFeeds(x, y, std::vector<int64_t>(rows.begin(), rows.end())));
  ONYX_ASSIGN_OR_RETURN(std::vector<Tensor> outs, train_session_->Run(feeds));
  for (size_t p = 0; p < params_.size(); ++p) {
    if (device_ != nullptr) {  // device buffers are never recycled while held
      grads.push_back(std::move(outs[1 + p]));
      continue;
    }
    // Outputs are the caller's own, but the executor may recycle them next run.
    ONYX_ASSIGN_OR_RETURN(Tensor copy, outs[1 + p].Clone());
    grads.push_back(std::move(copy));
  }
  return static_cast<double>(outs[0].data<float>()[0]);
}

Trainer::RowShare Trainer::ShareOf(int64_t total) const {
  // This process's contiguous share of the rows; with mean reduction each share
  // is weighted by its size, so the sum over processes is the mean over all rows.
  const int64_t world = comm_->size(), rank = comm_->rank();
  RowShare share;
  share.begin = total * rank / world;
  share.end = total * (rank + 1) / world;
  share.weight = config_.reduction == "sum"
                     ? 1.0
                     : static_cast<double>(share.end - share.begin) / total;
  return share;
}

absl::StatusOr<double> Trainer::DeviceShareMicroBatch(const Tensor& x, const Tensor& y,
                                                      absl::Span<const int64_t> rows,
                                                      bool first) {
  const RowShare share = ShareOf(static_cast<int64_t>(rows.size()));
  if (share.end == share.begin) {  // no rows here: zero gradients, still in the reduction
    if (first) {
      for (Tensor& g : device_grads_) {
        ONYX_RETURN_IF_ERROR(device_->Zero(g.data<float>(), g.num_elements()));
      }
    }
    return 0.0;
  }
  std::vector<Tensor> grads;
  ONYX_ASSIGN_OR_RETURN(const double loss,
                        MicroBatchGradients(x, y, rows.subspan(share.begin,
                                                               share.end - share.begin),
                                            grads));
  ONYX_RETURN_IF_ERROR(AccumulateOnDevice(grads, first, static_cast<float>(share.weight)));
  return loss * share.weight;
}

absl::StatusOr<double> Trainer::ShareMicroBatch(const Tensor& x, const Tensor& y,
                                                absl::Span<const int64_t> rows, bool first,
                                                bool last) {
  const RowShare share = ShareOf(static_cast<int64_t>(rows.size()));
  const int64_t begin = share.begin, end = share.end;
  const double weight = share.weight;
  reducer_->BeginMicroBatch(static_cast<float>(weight), first, last);
  if (end == begin) {  // no rows here: zero gradients, but still in every reduction
    ONYX_RETURN_IF_ERROR(reducer_->EndMicroBatch({}));
    return 0.0;
  }
  ONYX_ASSIGN_OR_RETURN(
      NamedTensors feeds,
      BatchFeeds(x, y, std::vector<int64_t>(rows.begin() + begin, rows.begin() + end)));
  // The reducer sees each gradient as backward writes it (and starts reductions).
  auto outs = train_session_->Run(feeds, reducer_.get());
  if (!outs.ok()) {
    // Finish the reductions this process joined before failing; the caller
    // then ends the job (a failed process aborts every rank).
    (void)reducer_->EndMicroBatch({});
    return outs.status();
  }
  for (Tensor& grad : *outs) {  // the gradients of a session made device-resident
    if (grad.on_device()) {
      ONYX_ASSIGN_OR_RETURN(grad, OnHost(grad));
    }
  }
  ONYX_RETURN_IF_ERROR(reducer_->EndMicroBatch(absl::MakeConstSpan(*outs).subspan(1)));
  return (*outs)[0].data<float>()[0] * weight;
}

absl::StatusOr<EpochStats> Trainer::TrainEpoch(const Tensor& x, const Tensor& y,
                                               const StepCallback& on_step) {
  const auto start = std::chrono::steady_clock::now();
  ONYX_RETURN_IF_ERROR(device_error_);
  if (x.rank() == 0 || y.rank() == 0 || x.dim(0) != y.dim(0) || x.dim(0) == 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "inputs %s and targets %s must have the same, non-zero number of rows",
        x.DebugString(), y.DebugString()));
  }
  const int64_t n = x.dim(0);
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  // A run resumed mid-epoch redraws that epoch's order from its starting state.
  if (epoch_micro_batches_ > 0) {
    ONYX_RETURN_IF_ERROR(SetRngFromText(rng_, epoch_rng_state_, "resume"));
  } else {
    epoch_rng_state_ = RngText(rng_);
  }
  if (config_.shuffle) std::shuffle(order.begin(), order.end(), rng_);
  // --batch-size is per process: a step of W processes covers W times as many rows.
  const int64_t world = comm_ != nullptr ? comm_->size() : 1;
  const int64_t batch = config_.batch_size > 0 ? std::min(config_.batch_size * world, n) : n;
  const int64_t micro_batches = (n + batch - 1) / batch;
  const int64_t steps = (micro_batches + config_.accumulate_steps - 1) / config_.accumulate_steps;

  EpochStats stats;
  stats.epoch = epoch_ + 1;
  stats.lr = LearningRateAt(config_.schedule, config_.optimizer.lr, epoch_);
  if (epoch_micro_batches_ > 0 && epoch_batch_rows_ != batch) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the checkpoint was saved inside epoch %d with %d rows per step (batch size times "
        "processes); this run has %d: resume with the same, or from an end-of-epoch checkpoint",
        stats.epoch, epoch_batch_rows_, batch));
  }
  epoch_batch_rows_ = batch;
  if (epoch_micro_batches_ >= micro_batches) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the checkpoint stopped at micro-batch %d of epoch %d, but this data and batch size "
        "give %d micro-batches per epoch", epoch_micro_batches_, stats.epoch, micro_batches));
  }
  std::vector<Tensor> grad_sum(params_.size());
  std::vector<double> group_losses;  // this step's micro-batch losses
  int in_group = 0;
  double loss_sum = epoch_loss_sum_;
  int64_t step = epoch_micro_batches_ / config_.accumulate_steps;
  for (int64_t m = epoch_micro_batches_; m < micro_batches; ++m) {
    const absl::Span<const int64_t> rows(order.data() + m * batch,
                                         std::min(n, (m + 1) * batch) - m * batch);
    const bool last = in_group + 1 == config_.accumulate_steps || m + 1 == micro_batches;
    if (reducer_ != nullptr) {
      // Summed locally over the step's micro-batches, reduced over processes once.
      ONYX_ASSIGN_OR_RETURN(const double share,
                            ShareMicroBatch(x, y, rows, in_group == 0, last));
      group_losses.push_back(share);
    } else if (device_distributed()) {  // the same, with the sums on the device
      ONYX_ASSIGN_OR_RETURN(const double share, DeviceShareMicroBatch(x, y, rows, in_group == 0));
      group_losses.push_back(share);
    } else {
      std::vector<Tensor> grads_now;
      ONYX_ASSIGN_OR_RETURN(const double loss, MicroBatchGradients(x, y, rows, grads_now));
      group_losses.push_back(loss);
      if (device_ != nullptr) {
        ONYX_RETURN_IF_ERROR(AccumulateOnDevice(grads_now, in_group == 0, 1.f));
      }
      for (size_t p = 0; p < params_.size() && device_ == nullptr; ++p) {
        const Tensor& g = grads_now[p];
        if (in_group == 0) {
          grad_sum[p] = g;
        } else {
          float* acc = grad_sum[p].data<float>();
          const float* add = g.data<float>();
          for (int64_t i = 0; i < g.num_elements(); ++i) acc[i] += add[i];
        }
      }
    }
    ++in_group;
    if (!last) continue;

    if (reducer_ != nullptr) {
      ONYX_RETURN_IF_ERROR(comm_->AllReduceSum(absl::MakeSpan(group_losses)));
      for (size_t p = 0; p < params_.size(); ++p) {
        if (grad_sum[p].empty()) {
          ONYX_ASSIGN_OR_RETURN(grad_sum[p],
                                Tensor::Uninitialized(DataType::kFloat32, params_[p].shape()));
        }
        reducer_->CopyGradient(static_cast<int>(p), grad_sum[p]);
      }
    } else if (device_distributed()) {
      ONYX_RETURN_IF_ERROR(comm_->AllReduceSum(absl::MakeSpan(group_losses)));
      std::vector<std::pair<float*, int64_t>> buffers;
      for (Tensor& g : device_grads_) buffers.emplace_back(g.data<float>(), g.num_elements());
      ONYX_RETURN_IF_ERROR(device_->AllReduceSum(buffers));
    }
    for (double loss : group_losses) {
      if (!std::isfinite(loss)) {
        return absl::FailedPreconditionError(absl::StrFormat(
            "loss became %g at epoch %d, step %d: stopping (the last checkpoint is kept)", loss,
            stats.epoch, step + 1));
      }
      loss_sum += loss;
    }
    const double loss = group_losses.back();
    group_losses.clear();

    std::vector<Tensor*> grads;
    for (Tensor& g : device_ != nullptr ? device_grads_ : grad_sum) {
      if (in_group > 1) {
        const float scale = 1.f / static_cast<float>(in_group);
        if (device_ != nullptr) {
          ONYX_RETURN_IF_ERROR(
              device_->Scale(g.data<float>(), g.data<float>(), scale, g.num_elements()));
        } else {
          for (float& v : g.span<float>()) v *= scale;
        }
      }
      grads.push_back(&g);
    }
    if (config_.clip_norm > 0 && device_ != nullptr) {
      ONYX_RETURN_IF_ERROR(ClipGradNormOnDevice(*device_, grads, config_.clip_norm).status());
    } else if (config_.clip_norm > 0) {
      ONYX_RETURN_IF_ERROR(ClipGradNorm(grads, config_.clip_norm).status());
    }
    std::vector<Tensor*> params;
    for (Tensor& p : params_) params.push_back(&p);
    const std::vector<const Tensor*> const_grads(grads.begin(), grads.end());
    ONYX_RETURN_IF_ERROR(optimizer_->Step(params, const_grads, stats.lr));
    in_group = 0;
    ++step;
    epoch_micro_batches_ = m + 1;
    epoch_loss_sum_ = loss_sum;
    if (on_step) on_step(stats.epoch, step, steps, loss);
    if (config_.max_steps > 0 && optimizer_->step_count() >= config_.max_steps &&
        m + 1 < micro_batches) {
      stats.complete = false;
      stats.loss = loss_sum / static_cast<double>(m + 1);
      return stats;
    }
  }
  stats.loss = loss_sum / static_cast<double>(micro_batches);
  epoch_micro_batches_ = 0;
  epoch_loss_sum_ = 0;
  ++epoch_;
  stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

absl::StatusOr<Evaluation> Trainer::Evaluate(const Tensor& x, const Tensor& y) {
  if (x.rank() == 0 || y.rank() == 0 || x.dim(0) != y.dim(0)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "validation inputs %s and targets %s must have the same number of rows",
        x.DebugString(), y.DebugString()));
  }
  std::vector<int64_t> rows(x.dim(0));
  std::iota(rows.begin(), rows.end(), 0);
  ONYX_ASSIGN_OR_RETURN(NamedTensors feeds, BatchFeeds(x, y, rows));
  ONYX_ASSIGN_OR_RETURN(std::vector<Tensor> outs, eval_session_->Run(feeds));
  Evaluation eval;
  eval.loss = outs[0].data<float>()[0];
  const Tensor& out = outs[1];
  if (out.dtype() != DataType::kFloat32 || out.num_elements() == 0) return eval;
  const int64_t n = x.dim(0), cols = out.num_elements() / n;
  int64_t correct = 0;
  if (config_.loss == "cross_entropy" && y.dtype() == DataType::kInt64) {
    for (int64_t i = 0; i < n; ++i) {
      correct += ArgMaxRow(out.data<float>() + i * cols, cols) == y.data<int64_t>()[i];
    }
    eval.accuracy = static_cast<double>(correct) / static_cast<double>(n);
  } else if ((config_.loss == "bce" || config_.loss == "bce_logits") &&
             y.dtype() == DataType::kFloat32 && y.num_elements() == out.num_elements()) {
    const float threshold = config_.loss == "bce" ? 0.5f : 0.f;
    for (int64_t i = 0; i < out.num_elements(); ++i) {
      correct += (out.data<float>()[i] > threshold) == (y.data<float>()[i] > 0.5f);
    }
    eval.accuracy = static_cast<double>(correct) / static_cast<double>(out.num_elements());
  }
  return eval;
}

absl::Status Trainer::AccumulateOnDevice(const std::vector<Tensor>& grads, bool first,
                                         float weight) {
  for (size_t p = 0; p < grads.size(); ++p) {
    float* sum = device_grads_[p].data<float>();
    const int64_t n = device_grads_[p].num_elements();
    if (!grads[p].on_device() || grads[p].num_elements() != n) {
      return absl::InternalError(absl::StrFormat(
          "gradient of \"%s\" came back as %s%s, expected a device tensor of %d elements",
          param_names_[p], grads[p].DebugString(), grads[p].on_device() ? "" : " on the host", n));
    }
    // The first micro-batch is copied (for one process scaled by 1, exact): the
    // session's buffers are left as they are, as the CPU path's first one is.
    ONYX_RETURN_IF_ERROR(first ? device_->Scale(sum, grads[p].data<float>(), weight, n)
                               : device_->AddScaled(sum, grads[p].data<float>(), weight, n));
  }
  return absl::OkStatus();
}

absl::StatusOr<Tensor> Trainer::OnHost(const Tensor& t) const {
  if (!t.on_device()) return t;
  return backend_->ToHost(t);
}

absl::StatusOr<std::vector<Tensor>> Trainer::HostParams() const {
  std::vector<Tensor> host;
  for (const Tensor& p : params_) {
    if (p.on_device()) {
      ONYX_ASSIGN_OR_RETURN(Tensor copy, backend_->ToHost(p));
      host.push_back(std::move(copy));
    } else {
      ONYX_ASSIGN_OR_RETURN(Tensor copy, p.Clone());
      host.push_back(std::move(copy));
    }
  }
  return host;
}

absl::Status Trainer::LeaveDevice() {
  ONYX_ASSIGN_OR_RETURN(std::vector<Tensor> host, HostParams());
  ONYX_RETURN_IF_ERROR(optimizer_->UseDevice(nullptr));
  params_ = std::move(host);
  device_grads_.clear();
  device_.reset();
  return absl::OkStatus();
}

absl::Status Trainer::SaveCheckpoint(const std::string& path) {
  ONYX_ASSIGN_OR_RETURN(Checkpoint c, MakeCheckpoint());
  return WriteFileAtomically(path, SerializeCheckpoint(c));
}

absl::Status Trainer::LoadCheckpoint(const std::string& path) {
  ONYX_ASSIGN_OR_RETURN(Checkpoint c, ReadCheckpoint(path));
  return Restore(c, path);
}

absl::Status Trainer::RestoreCheckpointBytes(const std::string& bytes,
                                             const std::string& source) {
  ONYX_ASSIGN_OR_RETURN(Checkpoint c, ParseCheckpoint(bytes, source));
  return Restore(c, source);
}

std::string Trainer::CheckpointBytes() const {
  absl::StatusOr<Checkpoint> c = MakeCheckpoint();
  return c.ok() ? SerializeCheckpoint(*c) : std::string();
}

absl::StatusOr<Checkpoint> Trainer::MakeCheckpoint() const {
  Checkpoint c;
  c.epoch = epoch_;
  c.optimizer_step = optimizer_->step_count();
  c.rng_state = RngText(rng_);
  c.epoch_micro_batches = epoch_micro_batches_;
  c.epoch_batch_rows = epoch_batch_rows_;
  c.epoch_loss_sum = epoch_loss_sum_;
  c.epoch_rng_state = epoch_rng_state_;
  for (size_t i = 0; i < params_.size(); ++i) {
    ONYX_ASSIGN_OR_RETURN(Tensor host, OnHost(params_[i]));
    c.tensors.emplace_back("param/" + param_names_[i], std::move(host));
  }
  for (const auto& [name, tensor] : optimizer_->State()) {
    ONYX_ASSIGN_OR_RETURN(Tensor host, OnHost(*tensor));
    c.tensors.emplace_back("state/" + name, std::move(host));
  }
  return c;
}

absl::Status Trainer::Restore(const Checkpoint& c, const std::string& path) {
  absl::flat_hash_map<std::string, Tensor*> targets;
  for (size_t i = 0; i < params_.size(); ++i) targets["param/" + param_names_[i]] = &params_[i];
  for (const auto& [name, tensor] : optimizer_->State()) targets["state/" + name] = tensor;
  if (targets.size() != c.tensors.size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "checkpoint %s does not match this model and optimizer: it holds %d tensors, "
        "they have %d", path,
        c.tensors.size(), targets.size()));
  }
  for (const auto& [name, tensor] : c.tensors) {
    auto it = targets.find(name);
    if (it == targets.end() || it->second->shape() != tensor.shape() ||
        it->second->dtype() != tensor.dtype()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "checkpoint %s: tensor \"%s\" %s does not match this model and optimizer", path,
          name, tensor.DebugString()));
    }
    if (it->second->on_device()) {
      ONYX_ASSIGN_OR_RETURN(*it->second, backend_->ToDevice(tensor));
    } else {
      std::memcpy(it->second->raw_data(), tensor.raw_data(), tensor.byte_size());
    }
  }
  ONYX_RETURN_IF_ERROR(SetRngFromText(rng_, c.rng_state, path));
  if (c.epoch_micro_batches > 0) {
    std::mt19937_64 check;
    ONYX_RETURN_IF_ERROR(SetRngFromText(check, c.epoch_rng_state, path));
  }
  epoch_ = static_cast<int>(c.epoch);
  epoch_micro_batches_ = c.epoch_micro_batches;
  epoch_batch_rows_ = c.epoch_batch_rows;
  epoch_loss_sum_ = c.epoch_loss_sum;
  epoch_rng_state_ = c.epoch_rng_state;
  optimizer_->set_step_count(c.optimizer_step);
  return absl::OkStatus();
}

Graph Trainer::TrainedModel() const {
  Graph model = model_;
  for (size_t i = 0; i < params_.size(); ++i) {
    auto copy = params_[i].on_device() ? backend_->ToHost(params_[i]) : params_[i].Clone();
    if (copy.ok()) model.initializers[param_names_[i]] = *std::move(copy);
  }
  return model;
}

}  // namespace onyx
