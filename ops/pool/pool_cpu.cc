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
#include "ops/pool/pool_dnnl.h"
#include "ops/pool/pool_geometry.h"
#include "ops/pool/pool_kernels.h"
#include "ops/pool/pool_loops.h"
#include "runtime/status_macros.h"
#include "runtime/tensor_layout.h"

namespace onyx::pool {
namespace {

class WindowPoolKernel final : public Kernel {
 public:
  WindowPoolKernel(PoolKind kind, PoolAttrs attrs)
      : kind_(kind),
        attrs_(std::move(attrs)),
        dnnl_(kind, attrs_.count_include_pad, DnnlPooling::Pass::kForward) {}

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
    // A blocked X (layout propagation from a conv) stays blocked through the
    // oneDNN primitive; the loops and Indices need it plain.
    Tensor x_plain;
    if (!x->is_plain()) {
      const bool blocked_ok = ctx.blocked_outputs_allowed() && !ctx.wants_output(1) &&
                              NumElements(g.output_shape) > 0 &&
                              dnnl_.Prepare(g, x->shape(), &x->layout()->desc);
      if (blocked_ok) {
        ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutputWithLayout(
                                              0, dtype, g.output_shape, dnnl_.dst_layout()));
        return dnnl_.Forward(*x, *y);
      }
      ONYX_ASSIGN_OR_RETURN(x_plain, EnsurePlain(*x));
      x = &x_plain;
    }
    ONYX_ASSIGN_OR_RETURN(Tensor * y, ctx.AllocateOutput(0, dtype, g.output_shape));
    int64_t* indices = nullptr;
    if (kind_ == PoolKind::kMax && ctx.wants_output(1)) {
      ONYX_ASSIGN_OR_RETURN(Tensor * i, ctx.AllocateOutput(1, DataType::kInt64, g.output_shape));
      indices = i->data<int64_t>();
    }
    if (y->num_elements() == 0) return absl::OkStatus();
    if (dtype == DataType::kFloat32 && indices == nullptr && dnnl_.Prepare(g, x->shape())) {
      return dnnl_.Forward(*x, *y);
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

  // X may arrive blocked from a conv (layout propagation).
  bool AcceptsBlockedInputs() const override { return true; }

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

  PoolKind kind_;
  PoolAttrs attrs_;
  DnnlPooling dnnl_;
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
