// DnnlPooling: which geometries oneDNN computes the ONNX way, and the primitives.
#include "ops/pool/pool_dnnl.h"

#include <vector>

#include "runtime/dnnl_context.h"

namespace onyx::pool {
namespace {

struct DnnlPoolDims {
  dnnl::memory::dims strides, kernel, dilation, pad_l, pad_r;
};

// False when oneDNN would compute other values than ONNX for this geometry.
bool ToDnnl(const PoolGeometry& g, PoolKind kind, bool count_include_pad, DnnlPoolDims& d) {
  if (kind == PoolKind::kLp) return false;
  for (int s = kMaxSpatialRank - g.spatial_rank; s < kMaxSpatialRank; ++s) {
    const int64_t span = (g.kernel[s] - 1) * g.dilation[s] + 1;
    // oneDNN sizes the output with floor: pick the end pad that gives our size
    // (ceil mode needs more than the attribute's pad).
    int64_t pad_r = g.pad_end[s];
    if ((g.in[s] + g.pad_begin[s] + pad_r - span) / g.stride[s] + 1 != g.out[s]) {
      pad_r = (g.out[s] - 1) * g.stride[s] + span - g.in[s] - g.pad_begin[s];
    }
    if (pad_r < 0 || g.pad_begin[s] >= span || pad_r >= span) return false;
    if (kind == PoolKind::kAverage) {
      // oneDNN's include-padding divisor is the whole kernel; ONNX clips windows
      // to the explicit pads, so they agree only when no window passes them.
      if (g.dilation[s] != 1 || (count_include_pad && pad_r > g.pad_end[s])) return false;
    }
    d.strides.push_back(g.stride[s]);
    d.kernel.push_back(g.kernel[s]);
    d.dilation.push_back(g.dilation[s] - 1);  // oneDNN counts the gaps
    d.pad_l.push_back(g.pad_begin[s]);
    d.pad_r.push_back(pad_r);
  }
  return true;
}

}  // namespace

bool DnnlPooling::Prepare(const PoolGeometry& g, const Shape& x_shape,
                          const dnnl::memory::desc* blocked_src) {
  const dnnl::memory::desc src_key = blocked_src != nullptr ? *blocked_src : dnnl::memory::desc();
  if (x_shape == cached_shape_ && src_key == cached_src_) return fits_;
  cached_shape_ = x_shape;
  cached_src_ = src_key;
  dst_layout_ = nullptr;
  DnnlPoolDims d;
  fits_ = ToDnnl(g, kind_, count_include_pad_, d) &&
          (blocked_src == nullptr || pass_ == Pass::kForward);
  if (!fits_) return false;
  src_ = blocked_src != nullptr ? *blocked_src : PlainDesc(x_shape);
  // A blocked source lets oneDNN pick Y's layout (the same blocking).
  dst_ = blocked_src != nullptr
             ? dnnl::memory::desc(dnnl::memory::dims(g.output_shape.begin(), g.output_shape.end()),
                                  dnnl::memory::data_type::f32, dnnl::memory::format_tag::any)
             : PlainDesc(g.output_shape);
  const auto algorithm = kind_ == PoolKind::kMax ? dnnl::algorithm::pooling_max
                         : count_include_pad_    ? dnnl::algorithm::pooling_avg_include_padding
                                                 : dnnl::algorithm::pooling_avg_exclude_padding;
  try {
    const bool backward = pass_ == Pass::kBackward;
    dnnl::pooling_v2_forward::primitive_desc forward_pd(
        dnnl::pooling_v2_forward::desc(
            backward ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference,
            algorithm, src_, dst_, d.strides, d.kernel, d.dilation, d.pad_l, d.pad_r),
        CpuEngine());
    if (!backward) {
      forward_ = dnnl::pooling_v2_forward(forward_pd);
      dst_ = forward_pd.dst_desc();
      dst_layout_ = LayoutFor(dst_, g.output_shape);
      return true;
    }
    backward_ = dnnl::pooling_v2_backward(dnnl::pooling_v2_backward::primitive_desc(
        dnnl::pooling_v2_backward::desc(algorithm, src_, dst_, d.strides, d.kernel, d.dilation,
                                        d.pad_l, d.pad_r),
        CpuEngine(), forward_pd));
    if (kind_ == PoolKind::kMax) {
      forward_ = dnnl::pooling_v2_forward(forward_pd);
      dst_scratch_ = dnnl::memory(dst_, CpuEngine());
      workspace_ = dnnl::memory(forward_pd.workspace_desc(), CpuEngine());
    }
  } catch (const dnnl::error&) {
    fits_ = false;  // a geometry oneDNN declines: the loops compute it
  }
  return fits_;
}

absl::Status DnnlPooling::Forward(const Tensor& x, Tensor& y) {
  try {
    // AsDnnlMemory wraps the buffer in the given (possibly blocked) layout.
    forward_.execute(CpuStream(), {{DNNL_ARG_SRC, AsDnnlMemory(src_, x)},
                                   {DNNL_ARG_DST, AsDnnlMemory(dst_, y)}});
    CpuStream().wait();
  } catch (const dnnl::error& e) {
    return DnnlError("pooling forward", e);
  }
  return absl::OkStatus();
}

absl::Status DnnlPooling::Backward(const Tensor& dy, const Tensor& x, Tensor& dx) {
  try {
    if (kind_ == PoolKind::kMax) {
      forward_.execute(CpuStream(), {{DNNL_ARG_SRC, AsDnnlMemory(src_, x)},
                                     {DNNL_ARG_DST, dst_scratch_},
                                     {DNNL_ARG_WORKSPACE, workspace_}});
      backward_.execute(CpuStream(), {{DNNL_ARG_DIFF_DST, AsDnnlMemory(dst_, dy)},
                                      {DNNL_ARG_DIFF_SRC, AsDnnlMemory(src_, dx)},
                                      {DNNL_ARG_WORKSPACE, workspace_}});
    } else {
      backward_.execute(CpuStream(), {{DNNL_ARG_DIFF_DST, AsDnnlMemory(dst_, dy)},
                                      {DNNL_ARG_DIFF_SRC, AsDnnlMemory(src_, dx)}});
    }
    CpuStream().wait();
  } catch (const dnnl::error& e) {
    return DnnlError("pooling backward", e);
  }
  return absl::OkStatus();
}

}  // namespace onyx::pool
