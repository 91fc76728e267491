// LRN (opsets 1, 13), across channels, X [N, C, D1..Dk], float32/float64:
//   y = x / (bias + alpha / size * sum of x^2 over channels
//            [c - floor((size-1)/2), c + ceil((size-1)/2)]) ^ beta.
// Even sizes make the window lean forward, which oneDNN's symmetric LRN cannot
// express, so one vectorized loop (over the spatial run of each (n, c)) does all.
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

template <typename T>
void LrnLoop(const T* x, T* y, int64_t n_size, int64_t c_size, int64_t s_size, int64_t size,
             double alpha, double beta, double bias) {
  const int64_t before = (size - 1) / 2, after = size - 1 - before;
  const double a = alpha / size;
  const int64_t planes = n_size * c_size;
#pragma omp parallel for schedule(static) if (WorthThreads(planes * s_size * size))
  for (int64_t plane = 0; plane < planes; ++plane) {
    const int64_t n = plane / c_size, c = plane % c_size;
    const int64_t lo = std::max<int64_t>(0, c - before);
    const int64_t hi = std::min<int64_t>(c_size - 1, c + after);
    std::vector<double> sum(s_size, 0.0);
    for (int64_t k = lo; k <= hi; ++k) {
      const T* xk = x + (n * c_size + k) * s_size;
#pragma omp simd
      for (int64_t s = 0; s < s_size; ++s) sum[s] += double(xk[s]) * double(xk[s]);
    }
    const T* xp = x + plane * s_size;
    T* yp = y + plane * s_size;
    for (int64_t s = 0; s < s_size; ++s) {
      yp[s] = static_cast<T>(double(xp[s]) * std::pow(bias + a * sum[s], -beta));
    }
  }
}

class LrnKernel final : public Kernel {
 public:
  LrnKernel(int64_t size, float alpha, float beta, float bias)
      : size_(size), alpha_(alpha), beta_(beta), bias_(bias) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_RETURN_IF_ERROR(CheckFloat(node, "X", *x));
    if (x->rank() < 2) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: input X has shape %s, expected rank >= 2 ([N, C, ...])",
                          node.Describe(), ShapeToString(x->shape())));
    }
    int64_t s_size = 1;
    for (int i = 2; i < x->rank(); ++i) s_size *= x->dim(i);
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    if (x->dtype() == DataType::kFloat32) {
      LrnLoop(x->data<float>(), y->data<float>(), x->dim(0), x->dim(1), s_size, size_, alpha_,
              beta_, bias_);
    } else {
      LrnLoop(x->data<double>(), y->data<double>(), x->dim(0), x->dim(1), s_size, size_, alpha_,
              beta_, bias_);
    }
    return absl::OkStatus();
  }

 private:
  int64_t size_;
  double alpha_, beta_, bias_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> CreateLrnKernel(const Node& node, int64_t /*opset*/) {
  ONYX_ASSIGN_OR_RETURN(int64_t size, node.GetInt("size", 0));
  ONYX_ASSIGN_OR_RETURN(float alpha, node.GetFloat("alpha", 1e-4f));
  ONYX_ASSIGN_OR_RETURN(float beta, node.GetFloat("beta", 0.75f));
  ONYX_ASSIGN_OR_RETURN(float bias, node.GetFloat("bias", 1.0f));
  if (size <= 0 || size > (int64_t{1} << 31)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: attribute size is required and must be positive, got %d", node.Describe(), size));
  }
  return std::unique_ptr<Kernel>(new LrnKernel(size, alpha, beta, bias));
}

}  // namespace onyx::norm
