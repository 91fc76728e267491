// CUDA kernels of the loss family (float32): MseLoss, BceLoss, BceWithLogitsLoss,
// CrossEntropyLoss (com.onyx), SoftmaxCrossEntropyLoss, NegativeLogLikelihoodLoss
// (ONNX) and their com.onyx <op>Grad backward ops. Inputs the CUDA kernels do not
// take (float64) report Unimplemented before any output exists, and the session
// runs the CPU kernel instead. The upstream gradient of a reduced loss stays on
// the device: the kernels read it there.
#include "ops/loss/loss_cuda.h"

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/loss/class_loss_common.h"
#include "ops/loss/class_loss_cuda.h"
#include "ops/loss/loss_common.h"
#include "ops/register_all.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cuda_status.h"
#include "runtime/status_macros.h"

namespace onyx::cuda {
namespace {

// The upstream gradient of a reduced loss: one element, float32 on the device
// (float64 falls back to the CPU kernel, which reads it as a double).
absl::Status CheckScalarGrad(const Node& node, const Tensor& dloss) {
  if (dloss.num_elements() != 1) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: the loss gradient of a reduced loss must be a scalar, got %s",
                        node.Describe(), dloss.DebugString()));
  }
  if (dloss.dtype() == DataType::kFloat64) return RequireFloat32(node, dloss, "loss gradient");
  if (dloss.dtype() != DataType::kFloat32) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: the loss gradient must be float32 or float64, got %s", node.Describe(),
                        DataTypeName(dloss.dtype())));
  }
  return absl::OkStatus();
}

// The upstream gradient of a loss with `reduction`: per element (shaped like
// the loss, `shape`, of `dtype`) for kNone, else a scalar.
absl::Status CheckLossGrad(const Node& node, const Tensor& dloss, Reduction reduction,
                           const Shape& shape, DataType dtype) {
  if (reduction == Reduction::kNone) return CheckElementwiseGrad(node, dloss, shape, dtype);
  return CheckScalarGrad(node, dloss);
}

// Copies `bytes` from the device to `host` after everything queued on `stream`.
// The kernels' checks (labels, BceLoss's domain) leave one flag on the device;
// reading it back costs a synchronization per loss node, which training pays
// anyway since it brings the loss to the host after every step.
absl::Status ReadBack(CudaBackend& backend, const void* device, void* host, size_t bytes) {
  ONYX_RETURN_IF_ERROR(
      CudaStatus(cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, backend.stream()),
                 "loss check read-back"));
  return CudaStatus(cudaStreamSynchronize(backend.stream()), "loss kernels");
}

absl::StatusOr<Tensor> Scratch(CudaBackend& backend, const KernelContext& ctx, DataType dtype,
                               int64_t count) {
  return backend.Allocate(dtype, Shape{count}, ctx.max_tensor_bytes());
}

// ---- MseLoss, BceLoss, BceWithLogitsLoss -----------------------------------

absl::StatusOr<ElementwiseLoss> ElementwiseKind(const Node& node, const std::string& op) {
  if (op == "MseLoss") return ElementwiseLoss::kMse;
  if (op == "BceLoss") return ElementwiseLoss::kBce;
  if (op == "BceWithLogitsLoss") return ElementwiseLoss::kBceWithLogits;
  return absl::UnimplementedError(absl::StrFormat("%s: not an elementwise loss", node.Describe()));
}

absl::Status CheckPair(const Node& node, const Tensor& pred, const Tensor& target) {
  ONYX_RETURN_IF_ERROR(RequireFloat32(node, pred, "input"));
  if (target.dtype() != pred.dtype() || target.shape() != pred.shape()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: target must match the prediction %s, got %s", node.Describe(),
                        pred.DebugString(), target.DebugString()));
  }
  return absl::OkStatus();
}

class ElementwiseLossCudaKernel final : public Kernel {
 public:
  ElementwiseLossCudaKernel(ElementwiseLoss kind, Reduction reduction)
      : kind_(kind), reduction_(reduction) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* pred, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* target, ctx.RequiredInput(1));
    ONYX_RETURN_IF_ERROR(CheckPair(node, *pred, *target));
    const int64_t n = pred->num_elements();
    const Shape shape = reduction_ == Reduction::kNone ? pred->shape() : Shape{};
    ONYX_ASSIGN_OR_RETURN(Tensor * loss, ctx.AllocateOutput(0, DataType::kFloat32, shape));
    Tensor bad;
    if (kind_ == ElementwiseLoss::kBce) {
      ONYX_ASSIGN_OR_RETURN(bad, Scratch(*backend, ctx, DataType::kInt64, 1));
    }
    int64_t* bad_index = bad.empty() ? nullptr : bad.data<int64_t>();
    const float* x = pred->data<float>();
    const float* t = target->data<float>();
    if (reduction_ == Reduction::kNone) {
      ONYX_RETURN_IF_ERROR(
          CudaStatus(ElementwiseLossForwardNone(kind_, x, t, n, loss->data<float>(), bad_index,
                                                backend->stream()),
                     "elementwise loss kernel"));
    } else {
      ONYX_ASSIGN_OR_RETURN(Tensor partials,
                            Scratch(*backend, ctx, DataType::kFloat64, ElementwiseLossBlocks(n)));
      const double divisor = reduction_ == Reduction::kMean ? static_cast<double>(n) : 1.0;
      ONYX_RETURN_IF_ERROR(CudaStatus(
          ElementwiseLossForwardReduced(kind_, x, t, n, divisor, loss->data<float>(),
                                        partials.data<double>(), bad_index, backend->stream()),
          "elementwise loss kernel"));
    }
    if (bad_index == nullptr) return absl::OkStatus();
    int64_t first_bad = -1;
    ONYX_RETURN_IF_ERROR(ReadBack(*backend, bad_index, &first_bad, sizeof(first_bad)));
    if (first_bad < 0 || first_bad >= n) return absl::OkStatus();
    float value = 0;
    ONYX_RETURN_IF_ERROR(ReadBack(*backend, x + first_bad, &value, sizeof(value)));
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: input probabilities must lie in [0, 1], element %d is %g",
                        node.Describe(), first_bad, double{value}));
  }

 private:
  const ElementwiseLoss kind_;
  const Reduction reduction_;
};

// Inputs dloss, pred, target; output dpred.
class ElementwiseLossGradCudaKernel final : public Kernel {
 public:
  ElementwiseLossGradCudaKernel(ElementwiseLoss kind, Reduction reduction)
      : kind_(kind), reduction_(reduction) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* dloss, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* pred, ctx.RequiredInput(1));
    ONYX_ASSIGN_OR_RETURN(const Tensor* target, ctx.RequiredInput(2));
    ONYX_RETURN_IF_ERROR(CheckPair(node, *pred, *target));
    ONYX_RETURN_IF_ERROR(CheckLossGrad(node, *dloss, reduction_, pred->shape(), pred->dtype()));
    const bool per_element = reduction_ == Reduction::kNone;
    const int64_t n = pred->num_elements();
    const double divisor = reduction_ == Reduction::kMean ? static_cast<double>(n) : 1.0;
    ONYX_ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutput(0, DataType::kFloat32, pred->shape()));
    return CudaStatus(ElementwiseLossBackward(kind_, pred->data<float>(), target->data<float>(), n,
                                              dloss->data<float>(), per_element, divisor,
                                              dx->data<float>(), backend->stream()),
                      "elementwise loss backward kernel");
  }

 private:
  const ElementwiseLoss kind_;
  const Reduction reduction_;
};

template <typename K>
absl::StatusOr<std::unique_ptr<Kernel>> MakeElementwise(const Node& node, int64_t /*opset*/) {
  ONYX_ASSIGN_OR_RETURN(const ElementwiseLoss kind,
                        ElementwiseKind(node, ForwardOpOf(node.op_type)));
  ONYX_ASSIGN_OR_RETURN(const Reduction reduction, ReadReduction(node));
  return std::unique_ptr<Kernel>(new K(kind, reduction));
}

// ---- SoftmaxCrossEntropyLoss, NegativeLogLikelihoodLoss, CrossEntropyLoss -------

LossReduce ToLossReduce(Reduction r) {
  switch (r) {
    case Reduction::kNone:
      return LossReduce::kNone;
    case Reduction::kSum:
      return LossReduce::kSum;
    case Reduction::kMean:
      return LossReduce::kMean;
  }
  return LossReduce::kMean;
}

ClassLossArgs ArgsOf(const ClassLossConfig& cfg, const ClassLossGeometry& g, const Tensor& labels,
                     const Tensor* weights) {
  ClassLossArgs a;
  a.n = g.n;
  a.c = g.c;
  a.d = g.d;
  a.softmax = cfg.softmax;
  a.reduction = ToLossReduce(cfg.reduction);
  a.has_ignore = cfg.has_ignore;
  a.ignore_index = cfg.ignore_index;
  a.label_smoothing = cfg.label_smoothing;
  a.weights = weights != nullptr ? weights->data<float>() : nullptr;
  a.labels_int64 = labels.dtype() == DataType::kInt64;
  return a;
}

// After the kernels: InvalidArgument naming the first bad label, as the CPU kernel.
absl::Status CheckLabels(CudaBackend& backend, const Node& node, const ClassLossConfig& cfg,
                         const ClassLossGeometry& g, const Tensor& labels, const int64_t* bad_row) {
  int64_t row = -1;
  ONYX_RETURN_IF_ERROR(ReadBack(backend, bad_row, &row, sizeof(row)));
  if (row < 0 || row >= g.rows()) return absl::OkStatus();
  int64_t label = 0;
  if (labels.dtype() == DataType::kInt64) {
    ONYX_RETURN_IF_ERROR(ReadBack(backend, labels.data<int64_t>() + row, &label, sizeof(label)));
  } else {
    int32_t narrow = 0;
    ONYX_RETURN_IF_ERROR(ReadBack(backend, labels.data<int32_t>() + row, &narrow, sizeof(narrow)));
    label = narrow;
  }
  return BadLabelError(node, cfg, g, label, row);
}

// A class loss node's scores (or log_prob), labels and optional weights, from
// input `first` on, checked as the CPU kernel checks them; float32 scores only.
struct ClassLossInputs {
  const Tensor* scores = nullptr;
  const Tensor* labels = nullptr;
  const Tensor* weights = nullptr;  // null when absent
  ClassLossGeometry g;
};

absl::StatusOr<ClassLossInputs> ReadClassLossInputs(const KernelContext& ctx, int first) {
  const Node& node = ctx.node();
  ClassLossInputs in;
  ONYX_ASSIGN_OR_RETURN(in.scores, ctx.RequiredInput(first));
  ONYX_ASSIGN_OR_RETURN(in.labels, ctx.RequiredInput(first + 1));
  in.weights = ctx.input(first + 2);
  ONYX_ASSIGN_OR_RETURN(in.g, CheckClassLossInputs(node, *in.scores, *in.labels, in.weights));
  ONYX_RETURN_IF_ERROR(RequireFloat32(node, *in.scores, "scores"));
  return in;
}

// The kernel arguments and device scratch of one class loss launch: the
// per-block partial sums and the first bad label's row (CheckLabels).
struct ClassLossLaunch {
  ClassLossArgs args;
  int blocks = 0;
  Tensor scratch, bad_row;
};

absl::StatusOr<ClassLossLaunch> PrepareClassLossLaunch(CudaBackend& backend,
                                                       const KernelContext& ctx,
                                                       const ClassLossConfig& cfg,
                                                       const ClassLossInputs& in) {
  ClassLossLaunch launch;
  launch.args = ArgsOf(cfg, in.g, *in.labels, in.weights);
  launch.blocks = ClassLossBlocks(launch.args);
  ONYX_ASSIGN_OR_RETURN(launch.scratch, Scratch(backend, ctx, DataType::kFloat64,
                                                ClassLossScratchDoubles(launch.blocks)));
  ONYX_ASSIGN_OR_RETURN(launch.bad_row, Scratch(backend, ctx, DataType::kInt64, 1));
  return launch;
}

// Inputs: scores, labels[, weights]. Outputs: loss[, log_prob] (softmax ops).
class ClassLossCudaKernel final : public Kernel {
 public:
  explicit ClassLossCudaKernel(ClassLossConfig cfg) : cfg_(cfg) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const ClassLossInputs inputs, ReadClassLossInputs(ctx, 0));
    const Tensor *x = inputs.scores, *labels = inputs.labels;
    const Shape loss_shape = cfg_.reduction == Reduction::kNone ? labels->shape() : Shape{};
    ONYX_ASSIGN_OR_RETURN(Tensor * loss, ctx.AllocateOutput(0, DataType::kFloat32, loss_shape));
    Tensor* log_prob = nullptr;
    if (cfg_.softmax && ctx.wants_output(1)) {
      ONYX_ASSIGN_OR_RETURN(log_prob, ctx.AllocateOutput(1, DataType::kFloat32, x->shape()));
    }
    ONYX_ASSIGN_OR_RETURN(ClassLossLaunch launch,
                          PrepareClassLossLaunch(*backend, ctx, cfg_, inputs));
    ONYX_RETURN_IF_ERROR(
        CudaStatus(ClassLossForward(launch.args, x->data<float>(), labels->raw_data(),
                                    loss->data<float>(),
                                    log_prob != nullptr ? log_prob->data<float>() : nullptr,
                                    launch.scratch.data<double>(), launch.blocks,
                                    launch.bad_row.data<int64_t>(), backend->stream()),
                   "class loss kernel"));
    return CheckLabels(*backend, node, cfg_, inputs.g, *labels, launch.bad_row.data<int64_t>());
  }

 private:
  const ClassLossConfig cfg_;
};

// Inputs: dloss, log_prob (or scores with input_kind "scores"; NLL: its input),
// labels[, weights]. Output: d(scores), shaped like input 1.
class ClassLossGradCudaKernel final : public Kernel {
 public:
  ClassLossGradCudaKernel(ClassLossConfig cfg, bool scores_input)
      : cfg_(cfg), scores_input_(scores_input) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(CudaBackend * backend, BackendOf(ctx));
    ONYX_ASSIGN_OR_RETURN(const Tensor* dloss, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const ClassLossInputs inputs, ReadClassLossInputs(ctx, 1));
    const Tensor *in = inputs.scores, *labels = inputs.labels;
    ONYX_RETURN_IF_ERROR(
        CheckLossGrad(node, *dloss, cfg_.reduction, labels->shape(), in->dtype()));
    ONYX_ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutput(0, DataType::kFloat32, in->shape()));
    ONYX_ASSIGN_OR_RETURN(ClassLossLaunch launch,
                          PrepareClassLossLaunch(*backend, ctx, cfg_, inputs));
    ONYX_RETURN_IF_ERROR(
        CudaStatus(ClassLossBackward(launch.args, dloss->data<float>(), in->data<float>(),
                                     scores_input_, labels->raw_data(), dx->data<float>(),
                                     launch.scratch.data<double>(), launch.blocks,
                                     launch.bad_row.data<int64_t>(), backend->stream()),
                   "class loss backward kernel"));
    return CheckLabels(*backend, node, cfg_, inputs.g, *labels, launch.bad_row.data<int64_t>());
  }

 private:
  const ClassLossConfig cfg_;
  const bool scores_input_;
};

absl::StatusOr<std::unique_ptr<Kernel>> CreateClassLossCudaKernel(const Node& node,
                                                                  int64_t /*opset*/) {
  ONYX_ASSIGN_OR_RETURN(ClassLossConfig cfg, ReadClassLossConfig(node, node.op_type));
  return std::unique_ptr<Kernel>(new ClassLossCudaKernel(cfg));
}

absl::StatusOr<std::unique_ptr<Kernel>> CreateClassLossGradCudaKernel(const Node& node,
                                                                      int64_t /*opset*/) {
  ONYX_ASSIGN_OR_RETURN(ClassLossConfig cfg, ReadClassLossConfig(node, ForwardOpOf(node.op_type)));
  ONYX_ASSIGN_OR_RETURN(const bool scores_input, ReadScoresInput(node));
  return std::unique_ptr<Kernel>(new ClassLossGradCudaKernel(cfg, scores_input));
}

}  // namespace

void RegisterLossCudaOps(OpRegistry& registry) {
  const Device gpu = Device::kCuda;
  for (int v : {12, 13}) {
    registry.Register(kOnnxDomain, "SoftmaxCrossEntropyLoss", v, gpu, CreateClassLossCudaKernel);
  }
  for (int v : {12, 13, 22}) {
    registry.Register(kOnnxDomain, "NegativeLogLikelihoodLoss", v, gpu, CreateClassLossCudaKernel);
  }
  registry.Register(kOnyxDomain, "CrossEntropyLoss", 1, gpu, CreateClassLossCudaKernel);
  for (const char* op :
       {"SoftmaxCrossEntropyLossGrad", "NegativeLogLikelihoodLossGrad", "CrossEntropyLossGrad"}) {
    registry.Register(kOnyxDomain, op, 1, gpu, CreateClassLossGradCudaKernel);
  }
  for (const char* op : {"MseLoss", "BceLoss", "BceWithLogitsLoss"}) {
    registry.Register(kOnyxDomain, op, 1, gpu, MakeElementwise<ElementwiseLossCudaKernel>);
  }
  for (const char* op : {"MseLossGrad", "BceLossGrad", "BceWithLogitsLossGrad"}) {
    registry.Register(kOnyxDomain, op, 1, gpu, MakeElementwise<ElementwiseLossGradCudaKernel>);
  }
}

}  // namespace onyx::cuda
