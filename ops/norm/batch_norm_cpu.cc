// BatchNormalization (opsets 1, 6, 7, 9, 14, 15) on CPU, float32/float64.
//   inference: y = scale * (x - mean) / sqrt(var + epsilon) + B with the given stats;
//   training:  the same with the batch mean and biased variance, plus
//              running = input_stat * momentum + batch_stat * (1 - momentum).
// Opset >= 14 trains when training_mode = 1 (outputs Y, running_mean, running_var);
// older opsets train when outputs beyond Y are requested (Y, mean, var,
// saved_mean, saved_var: the running stats, then the batch mean and variance).
// Legacy spatial = 0 (opset < 9) keeps one statistic per (c, d1, ...) instead of
// per c: x is viewed as [N, P, Q] with P parameters and Q positions sharing one.
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "ops/norm/norm_util.h"
#include "runtime/status_macros.h"

namespace onyx::norm {
namespace {

// y = a[p] * x + c[p] over [N, P, Q], rows of Q in parallel.
template <typename T>
void ScaleShift(const T* x, T* y, int64_t n_size, int64_t p_size, int64_t q_size,
                const std::vector<double>& a, const std::vector<double>& c) {
  const int64_t rows = n_size * p_size;
#pragma omp parallel for schedule(static) if (WorthThreads(rows * q_size))
  for (int64_t r = 0; r < rows; ++r) {
    const T ar = static_cast<T>(a[r % p_size]), cr = static_cast<T>(c[r % p_size]);
    const T* xr = x + r * q_size;
    T* yr = y + r * q_size;
#pragma omp simd
    for (int64_t q = 0; q < q_size; ++q) yr[q] = xr[q] * ar + cr;
  }
}

class BatchNormKernel final : public Kernel {
 public:
  BatchNormKernel(int64_t opset, float epsilon, float momentum, bool spatial, bool training,
                  bool is_test)
      : opset_(opset),
        epsilon_(epsilon),
        momentum_(momentum),
        spatial_(spatial),
        training_mode_(training),
        is_test_(is_test) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_RETURN_IF_ERROR(CheckFloat(node, "X", *x));
    if (x->rank() < 2) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: input X has shape %s, expected rank >= 2 ([N, C, ...])",
                          node.Describe(), ShapeToString(x->shape())));
    }
    const int64_t n_size = x->dim(0);
    int64_t q_all = 1;
    for (int i = 2; i < x->rank(); ++i) q_all *= x->dim(i);
    const int64_t p_size = spatial_ ? x->dim(1) : x->dim(1) * q_all;
    const int64_t q_size = spatial_ ? q_all : 1;
    const char* names[] = {"X", "scale", "B", "input_mean", "input_var"};
    const Tensor* params[5] = {x};
    for (int i = 1; i < 5; ++i) {
      ONYX_ASSIGN_OR_RETURN(params[i], ctx.RequiredInput(i));
      ONYX_RETURN_IF_ERROR(CheckFloat(node, names[i], *params[i], x));
      if (params[i]->num_elements() != p_size) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: input %s has shape %s, expected %d values (%s of X %s)", node.Describe(), names[i],
            ShapeToString(params[i]->shape()), p_size,
            spatial_ ? "the channel count" : "C * D1 * ... * Dn", ShapeToString(x->shape())));
      }
    }
    bool extra_outputs = false;
    for (int i = 1; i < ctx.num_outputs(); ++i) extra_outputs |= ctx.wants_output(i);
    const bool training = opset_ >= 14 ? training_mode_ : extra_outputs;
    if (extra_outputs && (!training || is_test_)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: outputs beyond Y exist only in training mode (%s)", node.Describe(),
                          opset_ >= 14 ? "training_mode = 1" : "is_test = 0"));
    }
    const std::vector<double> scale = ParamValues(*params[1]), bias = ParamValues(*params[2]);
    std::vector<double> mean, var;
    if (training) {
      if (x->dtype() == DataType::kFloat32) {
        ChannelMeanVar(x->data<float>(), n_size, p_size, q_size, mean, var);
      } else {
        ChannelMeanVar(x->data<double>(), n_size, p_size, q_size, mean, var);
      }
    } else {
      mean = ParamValues(*params[3]);
      var = ParamValues(*params[4]);
    }
    std::vector<double> a(p_size), c(p_size);
    for (int64_t p = 0; p < p_size; ++p) {
      a[p] = scale[p] / std::sqrt(var[p] + double(epsilon_));
      c[p] = bias[p] - mean[p] * a[p];
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutputMaybeInPlace(0, 0, x->dtype(), x->shape()));
    if (x->dtype() == DataType::kFloat32) {
      ScaleShift(x->data<float>(), y->data<float>(), n_size, p_size, q_size, a, c);
    } else {
      ScaleShift(x->data<double>(), y->data<double>(), n_size, p_size, q_size, a, c);
    }
    if (!training) return absl::OkStatus();
    // Running statistics, then (opset < 14) the batch statistics themselves.
    const std::vector<double> in_mean = ParamValues(*params[3]), in_var = ParamValues(*params[4]);
    std::vector<double> running_mean(p_size), running_var(p_size);
    for (int64_t p = 0; p < p_size; ++p) {
      running_mean[p] = in_mean[p] * momentum_ + mean[p] * (1 - double(momentum_));
      running_var[p] = in_var[p] * momentum_ + var[p] * (1 - double(momentum_));
    }
    const std::vector<double>* stats[4] = {&running_mean, &running_var, &mean, &var};
    for (int i = 1; i < ctx.num_outputs() && i <= 4; ++i) {
      if (!ctx.wants_output(i)) continue;
      ONYX_ASSIGN_OR_RETURN(Tensor * out, ctx.AllocateOutput(i, x->dtype(), params[3]->shape()));
      StoreValues(*stats[i - 1], *out);
    }
    return absl::OkStatus();
  }

 private:
  int64_t opset_;
  float epsilon_;
  float momentum_;
  bool spatial_;
  bool training_mode_;  // opset >= 14 attribute
  bool is_test_;        // opset < 7 attribute
};

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> CreateBatchNormKernel(const Node& node, int64_t opset) {
  ONYX_ASSIGN_OR_RETURN(float epsilon, node.GetFloat("epsilon", 1e-5f));
  ONYX_ASSIGN_OR_RETURN(float momentum, node.GetFloat("momentum", 0.9f));
  ONYX_ASSIGN_OR_RETURN(int64_t spatial, node.GetInt("spatial", 1));
  ONYX_ASSIGN_OR_RETURN(int64_t training_mode, node.GetInt("training_mode", 0));
  ONYX_ASSIGN_OR_RETURN(int64_t is_test, node.GetInt("is_test", 0));
  if (!(epsilon >= 0) || !std::isfinite(momentum)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: epsilon must be >= 0 and momentum finite, got %g and %g",
                        node.Describe(), epsilon, momentum));
  }
  if (opset >= 9) spatial = 1;  // removed in opset 9: always per channel
  if (opset >= 7) is_test = 0;  // removed in opset 7
  // consumed_inputs (opset 1) is a legacy in-place hint with no effect here.
  return std::unique_ptr<Kernel>(new BatchNormKernel(opset, epsilon, momentum, spatial != 0,
                                                     training_mode != 0, is_test != 0));
}

}  // namespace onyx::norm
