// PRelu: y = x if x >= 0 else slope * x, slope unidirectionally broadcast to x
// (right-aligned dims, each 1 or equal). float32: fast_prelu.h's one streaming pass
// when the slope is an [outer, mid, inner] pattern (scalar, per channel, trailing
// dims: oneDNN's prelu measured at half of copy bandwidth), else oneDNN
// prelu_forward (falling back to the loop if oneDNN rejects a pattern); float64
// always loops.
#include <array>
#include <cstdint>
#include <optional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "ops/activation/activation_cpu.h"
#include "ops/activation/fast_prelu.h"
#include "runtime/dnnl_context.h"
#include "runtime/status_macros.h"

namespace onyx {
namespace {

// Slope dims right-aligned and padded with 1 to x's rank; FailedPrecondition
// when slope is not unidirectionally broadcastable to x.
absl::StatusOr<Shape> AlignSlope(const Node& node, const Shape& x, const Shape& slope) {
  if (slope.size() > x.size()) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s: slope %s has a higher rank than X %s", node.Describe(), ShapeToString(slope),
        ShapeToString(x)));
  }
  Shape aligned(x.size() - slope.size(), 1);
  aligned.insert(aligned.end(), slope.begin(), slope.end());
  for (size_t i = 0; i < x.size(); ++i) {
    if (aligned[i] != 1 && aligned[i] != x[i]) {
      return absl::FailedPreconditionError(absl::StrFormat(
          "%s: slope %s does not broadcast to X %s", node.Describe(), ShapeToString(slope),
          ShapeToString(x)));
    }
  }
  return aligned;
}

// x as [outer, mid, inner] with the slope's elements along mid: the slope's
// non-1 dims (aligned) must be one run of dims equal to x's. nullopt otherwise.
std::optional<std::array<int64_t, 3>> SlopeView(const Shape& x, const Shape& aligned) {
  int first = -1, last = -1;
  for (int i = 0; i < static_cast<int>(x.size()); ++i) {
    if (aligned[i] != 1) {
      if (first < 0) first = i;
      last = i;
    }
  }
  std::array<int64_t, 3> view = {1, 1, 1};
  for (int i = 0; i < static_cast<int>(x.size()); ++i) {
    if (first >= 0 && i >= first && i <= last && aligned[i] != x[i]) return std::nullopt;
    view[first < 0 || i > last ? 2 : (i < first ? 0 : 1)] *= x[i];
  }
  return view;
}

// Row-major walk over x with the slope index following (stride 0 on broadcast dims).
template <typename T>
void PReluLoop(const Shape& x_dims, const Shape& slope_dims, const T* x, const T* slope,
               T* y) {
  const int rank = static_cast<int>(x_dims.size());
  std::vector<int64_t> slope_strides(rank, 0);
  int64_t stride = 1;
  for (int i = rank - 1; i >= 0; --i) {
    if (slope_dims[i] != 1) slope_strides[i] = stride;
    stride *= slope_dims[i];
  }
  const int64_t n = NumElements(x_dims);
  std::vector<int64_t> index(rank, 0);
  int64_t s = 0;
  for (int64_t i = 0; i < n; ++i) {
    y[i] = x[i] < T(0) ? slope[s] * x[i] : x[i];
    for (int d = rank - 1; d >= 0; --d) {  // increment the multi-index
      s += slope_strides[d];
      if (++index[d] < x_dims[d]) break;
      s -= slope_strides[d] * x_dims[d];
      index[d] = 0;
    }
  }
}

class PReluKernel final : public Kernel {
 public:
  explicit PReluKernel(int64_t opset) : opset_(opset) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* slope, ctx.RequiredInput(1));
    if (slope->dtype() != x->dtype()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: slope dtype %s differs from X dtype %s", node.Describe(),
                          DataTypeName(slope->dtype()), DataTypeName(x->dtype())));
    }
    ONYX_ASSIGN_OR_RETURN(Shape aligned, AlignSlope(node, x->shape(), slope->shape()));
    switch (x->dtype()) {
      case DataType::kFloat32: {
        ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutputMaybeInPlace(
                                              0, 0, DataType::kFloat32, x->shape()));
        if (x->num_elements() == 0) return absl::OkStatus();
        return RunFloat(node, *x, aligned, *slope, *y);
      }
      case DataType::kFloat64: {
        ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutputMaybeInPlace(
                                              0, 0, DataType::kFloat64, x->shape()));
        PReluLoop(x->shape(), aligned, x->data<double>(), slope->data<double>(),
                  y->data<double>());
        return absl::OkStatus();
      }
      default:
        return absl::UnimplementedError(
            absl::StrFormat("%s (opset %d): no CPU kernel for input dtype %s",
                            node.Describe(), opset_, DataTypeName(x->dtype())));
    }
  }

 private:
  absl::Status RunFloat(const Node& node, const Tensor& x, const Shape& aligned,
                        const Tensor& slope, Tensor& y) {
    if (const auto view = SlopeView(x.shape(), aligned)) {
      fast::PReluForward(x.data<float>(), slope.data<float>(), y.data<float>(), (*view)[0],
                         (*view)[1], (*view)[2]);
      return absl::OkStatus();
    }
    try {
      if (x.shape() != cached_x_ || aligned != cached_slope_) {
        cached_x_.clear();
        use_loop_ = false;
        x_desc_ = PlainDesc(x.shape());
        slope_desc_ = PlainDesc(aligned);
        dnnl::prelu_forward::desc d(dnnl::prop_kind::forward_inference, x_desc_, slope_desc_);
        try {
          primitive_ = dnnl::prelu_forward(dnnl::prelu_forward::primitive_desc(d, CpuEngine()));
        } catch (const dnnl::error& e) {
          if (e.status != dnnl_unimplemented) throw;
          use_loop_ = true;  // a broadcast pattern this oneDNN build does not cover
        }
        cached_x_ = x.shape();
        cached_slope_ = aligned;
      }
      if (use_loop_) {
        PReluLoop(x.shape(), aligned, x.data<float>(), slope.data<float>(), y.data<float>());
        return absl::OkStatus();
      }
      dnnl::memory src = AsDnnlMemory(x_desc_, x);
      dnnl::memory weights = AsDnnlMemory(slope_desc_, slope);
      dnnl::memory dst = AsDnnlMemory(x_desc_, y);
      primitive_.execute(CpuStream(),
                         {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}});
      CpuStream().wait();
    } catch (const dnnl::error& e) {
      return DnnlError(absl::StrFormat("%s forward", node.Describe()), e);
    }
    return absl::OkStatus();
  }

  int64_t opset_;
  Shape cached_x_ = {-1};
  Shape cached_slope_;
  bool use_loop_ = false;
  dnnl::memory::desc x_desc_;
  dnnl::memory::desc slope_desc_;
  dnnl::prelu_forward primitive_;
};

class IdentityKernel final : public Kernel {
 public:
  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ctx.SetOutput(0, *x);  // shares the buffer: no copy
    return absl::OkStatus();
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> CreatePReluKernel(const Node& node, int64_t opset) {
  return std::unique_ptr<Kernel>(new PReluKernel(opset));
}

absl::StatusOr<std::unique_ptr<Kernel>> CreateIdentityKernel(const Node& node, int64_t opset) {
  return std::unique_ptr<Kernel>(new IdentityKernel());
}

}  // namespace onyx
