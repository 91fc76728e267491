// LRN (opsets 1, 13), across channels, X [N, C, D1..Dk], float32/float64:
//   y = x / (bias + alpha / size * sum of x^2 over channels
//            [c - floor((size-1)/2), c + ceil((size-1)/2)]) ^ beta.
// float32 4-D with an odd size runs oneDNN's lrn_across_channels (same formula,
// jit for plain NCHW); even sizes make the window lean forward, which oneDNN's
// symmetric LRN cannot express, so they, float64 and other ranks run the loop.
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "ops/norm/norm_util.h"
#include "runtime/dnnl_context.h"
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
    if (beta == 0.75) {  // the common case: b^-0.75 = 1 / (sqrt(b) * sqrt(sqrt(b)))
      for (int64_t s = 0; s < s_size; ++s) {
        const double b = std::sqrt(bias + a * sum[s]);
        yp[s] = static_cast<T>(double(xp[s]) / (b * std::sqrt(b)));
      }
    } else {
      for (int64_t s = 0; s < s_size; ++s) {
        yp[s] = static_cast<T>(double(xp[s]) * std::pow(bias + a * sum[s], -beta));
      }
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
    if (y->num_elements() == 0) return absl::OkStatus();
    if (x->dtype() == DataType::kFloat32 && x->rank() == 4 && size_ % 2 == 1 &&
        PrepareDnnl(x->shape())) {
      try {
        primitive_.execute(CpuStream(), {{DNNL_ARG_SRC, AsDnnlMemory(desc_, *x)},
                                         {DNNL_ARG_DST, AsDnnlMemory(desc_, *y)}});
        CpuStream().wait();
      } catch (const dnnl::error& e) {
        return DnnlError("LRN forward", e);
      }
      return absl::OkStatus();
    }
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
  // oneDNN's LRN for this shape, when it has a jit kernel for it (its reference
  // kernel is slower than the loop); cached per shape.
  bool PrepareDnnl(const Shape& shape) {
    if (shape == cached_shape_) return use_dnnl_;
    cached_shape_ = shape;
    use_dnnl_ = false;
    try {
      desc_ = PlainDesc(shape);
      dnnl::lrn_forward::primitive_desc pd(
          dnnl::lrn_forward::desc(dnnl::prop_kind::forward_inference,
                                  dnnl::algorithm::lrn_across_channels, desc_, size_,
                                  static_cast<float>(alpha_), static_cast<float>(beta_),
                                  static_cast<float>(bias_)),
          CpuEngine());
      if (std::string(pd.impl_info_str()).find("ref") != std::string::npos) return false;
      primitive_ = dnnl::lrn_forward(pd);
      use_dnnl_ = true;
    } catch (const dnnl::error&) {
      use_dnnl_ = false;
    }
    return use_dnnl_;
  }

  int64_t size_;
  double alpha_, beta_, bias_;
  Shape cached_shape_;
  bool use_dnnl_ = false;
  dnnl::memory::desc desc_;
  dnnl::primitive primitive_;
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
