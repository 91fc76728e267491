// MaxPool, AveragePool and LpPool on CPU. float32 MaxPool without Indices and
// float32 AveragePool whose windows oneDNN divides the ONNX way run on oneDNN
// pooling_v2 (primitive cached per input shape); everything else runs the loops
// of pool_loops.h (float64, int8/uint8 MaxPool, Indices, LpPool, dilated or
// ceil-extended AveragePool).
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "ops/pool/pool_geometry.h"
#include "ops/pool/pool_kernels.h"
#include "ops/pool/pool_loops.h"
#include "runtime/dnnl_context.h"
#include "runtime/status_macros.h"

namespace onyx::pool {
namespace {

enum class PoolKind { kMax, kAverage, kLp };

// The oneDNN form of a geometry, or nothing when oneDNN would compute other values.
struct DnnlPoolDims {
  dnnl::memory::dims strides, kernel, dilation, pad_l, pad_r;
};

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

class WindowPoolKernel final : public Kernel {
 public:
  WindowPoolKernel(PoolKind kind, PoolAttrs attrs) : kind_(kind), attrs_(std::move(attrs)) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    const DataType dtype = x->dtype();
    const bool integer = dtype == DataType::kInt8 || dtype == DataType::kUInt8;
    if (dtype != DataType::kFloat32 && dtype != DataType::kFloat64 &&
        !(integer && kind_ == PoolKind::kMax)) {
      return absl::UnimplementedError(absl::StrFormat(
          "%s: no CPU kernel for input X of dtype %s (float32, float64%s)", node.Describe(),
          DataTypeName(dtype), kind_ == PoolKind::kMax ? ", int8, uint8" : ""));
    }
    ONYX_ASSIGN_OR_RETURN(const PoolGeometry g, MakePoolGeometry(node, attrs_, x->shape()));
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, dtype, g.output_shape));
    int64_t* indices = nullptr;
    if (kind_ == PoolKind::kMax && ctx.wants_output(1)) {
      ONYX_ASSIGN_OR_RETURN(Tensor * i, ctx.AllocateOutput(1, DataType::kInt64, g.output_shape));
      indices = i->data<int64_t>();
    }
    if (y->num_elements() == 0) return absl::OkStatus();
    if (dtype == DataType::kFloat32 && indices == nullptr) {
      ONYX_ASSIGN_OR_RETURN(const bool done, RunDnnl(node, g, *x, *y));
      if (done) return absl::OkStatus();
    }
    switch (dtype) {
      case DataType::kFloat32:
        Loop(g, x->data<float>(), y->data<float>(), indices);
        break;
      case DataType::kFloat64:
        Loop(g, x->data<double>(), y->data<double>(), indices);
        break;
      case DataType::kInt8:
        Loop(g, x->data<int8_t>(), y->data<int8_t>(), indices);
        break;
      default:
        Loop(g, x->data<uint8_t>(), y->data<uint8_t>(), indices);
        break;
    }
    return absl::OkStatus();
  }

 private:
  template <typename T>
  void Loop(const PoolGeometry& g, const T* x, T* y, int64_t* indices) {
    if constexpr (std::is_floating_point_v<T>) {
      if (kind_ != PoolKind::kMax) {
        AverageOrLpPoolLoop(g, kind_ == PoolKind::kLp ? Reduce::kLp : Reduce::kAverage,
                            attrs_.count_include_pad, attrs_.p, x, y);
        return;
      }
    }
    MaxPoolLoop(g, x, y, indices, attrs_.storage_order == 1);
  }

  // False when this geometry is not one oneDNN computes the ONNX way.
  absl::StatusOr<bool> RunDnnl(const Node& node, const PoolGeometry& g, const Tensor& x,
                               Tensor& y) {
    try {
      if (x.shape() != cached_shape_) {
        cached_shape_ = x.shape();
        DnnlPoolDims d;
        use_dnnl_ = ToDnnl(g, kind_, attrs_.count_include_pad, d);
        if (!use_dnnl_) return false;
        src_ = PlainDesc(x.shape());
        dst_ = PlainDesc(g.output_shape);
        const auto algorithm = kind_ == PoolKind::kMax ? dnnl::algorithm::pooling_max
                               : attrs_.count_include_pad
                                   ? dnnl::algorithm::pooling_avg_include_padding
                                   : dnnl::algorithm::pooling_avg_exclude_padding;
        try {
          dnnl::pooling_v2_forward::desc desc(dnnl::prop_kind::forward_inference, algorithm, src_,
                                              dst_, d.strides, d.kernel, d.dilation, d.pad_l,
                                              d.pad_r);
          primitive_ =
              dnnl::pooling_v2_forward(dnnl::pooling_v2_forward::primitive_desc(desc, CpuEngine()));
        } catch (const dnnl::error&) {
          use_dnnl_ = false;  // a geometry oneDNN declines: the loops compute it
          return false;
        }
      }
      if (!use_dnnl_) return false;
      primitive_.execute(CpuStream(), {{DNNL_ARG_SRC, AsDnnlMemory(src_, x)},
                                       {DNNL_ARG_DST, AsDnnlMemory(dst_, y)}});
      CpuStream().wait();
    } catch (const dnnl::error& e) {
      cached_shape_.clear();
      return DnnlError(absl::StrFormat("%s forward", node.Describe()), e);
    }
    return true;
  }

  PoolKind kind_;
  PoolAttrs attrs_;
  Shape cached_shape_;
  bool use_dnnl_ = false;
  dnnl::memory::desc src_, dst_;
  dnnl::primitive primitive_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Kernel>> CreateWindowPoolKernel(const Node& node,
                                                               int64_t /*opset*/) {
  PoolKind kind;
  if (node.op_type == "MaxPool") {
    kind = PoolKind::kMax;
  } else if (node.op_type == "AveragePool") {
    kind = PoolKind::kAverage;
  } else if (node.op_type == "LpPool") {
    kind = PoolKind::kLp;
  } else {
    return absl::UnimplementedError(
        absl::StrFormat("%s: not MaxPool, AveragePool or LpPool", node.Describe()));
  }
  ONYX_ASSIGN_OR_RETURN(PoolAttrs attrs, ParsePoolAttrs(node));
  return std::unique_ptr<Kernel>(new WindowPoolKernel(kind, std::move(attrs)));
}

}  // namespace onyx::pool
