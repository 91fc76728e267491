// Shape functions of the activation family: every forward op keeps its
// input's type (PRelu checks that the slope broadcasts to X, Softmax that its
// axis exists); the com.onyx backward ops give dX the type of dY (PReluGrad
// also dSlope the type of slope).
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "ops/register_all.h"
#include "runtime/op_registry.h"
#include "runtime/status_macros.h"

namespace onyx {
namespace {

absl::Status SameAsInput0(ShapeInferenceContext& ctx) {
  ctx.PropagateInput(0, 0);
  return absl::OkStatus();
}

// Identity also passes a known shape value on (Shape -> Identity -> Reshape).
absl::Status IdentityFn(ShapeInferenceContext& ctx) {
  ctx.PropagateInput(0, 0);
  if (const Tensor* value = ctx.input_value(0)) ctx.SetOutputValue(0, *value);
  if (const SymbolicInts* ints = ctx.input_ints(0)) ctx.SetOutputInts(0, *ints);
  return absl::OkStatus();
}

// Softmax / LogSoftmax: the axis must exist; default 1 before opset 13, -1 after.
absl::Status SoftmaxFn(ShapeInferenceContext& ctx) {
  const Node& node = ctx.node();
  const int64_t opset = ctx.opset();
  ONYX_ASSIGN_OR_RETURN(int64_t axis, node.GetInt("axis", opset < 13 ? 1 : -1));
  const TypeInfo* x = ctx.input(0);
  if (x != nullptr && x->has_shape) {
    const int64_t rank = static_cast<int64_t>(x->dims.size());
    if (rank == 0 || axis < -rank || axis >= rank) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: axis %d is out of range for input %s", node.Describe(), axis, DimsToString(*x)));
    }
  }
  ctx.PropagateInput(0, 0);
  return absl::OkStatus();
}

// Slope must broadcast to X without growing it (right-aligned, each 1 or equal).
absl::Status CheckSlope(const Node& node, const TypeInfo* x, const TypeInfo* slope) {
  if (x == nullptr || slope == nullptr) return absl::OkStatus();
  if (x->dtype != DataType::kUndefined && slope->dtype != DataType::kUndefined &&
      x->dtype != slope->dtype) {
    return absl::InvalidArgumentError(absl::StrFormat("%s: X is %s but slope is %s",
                                                      node.Describe(), DataTypeName(x->dtype),
                                                      DataTypeName(slope->dtype)));
  }
  if (!x->has_shape || !slope->has_shape) return absl::OkStatus();
  bool ok = slope->dims.size() <= x->dims.size();
  const size_t lead = ok ? x->dims.size() - slope->dims.size() : 0;
  for (size_t i = 0; ok && i < slope->dims.size(); ++i) {
    const Dim& s = slope->dims[i];
    const Dim& d = x->dims[lead + i];
    ok = !s.is_fixed() || s.value == 1 || !d.is_fixed() || s.value == d.value;
  }
  if (!ok) {  // FailedPrecondition, as the kernel reports it
    return absl::FailedPreconditionError(
        absl::StrFormat("%s: slope %s does not broadcast to X %s", node.Describe(),
                        DimsToString(*slope), DimsToString(*x)));
  }
  return absl::OkStatus();
}

absl::Status PReluFn(ShapeInferenceContext& ctx) {
  ONYX_RETURN_IF_ERROR(CheckSlope(ctx.node(), ctx.input(0), ctx.input(1)));
  ctx.PropagateInput(0, 0);
  return absl::OkStatus();
}

// PReluGrad(dY, X, slope) -> (dX, dSlope).
absl::Status PReluGradFn(ShapeInferenceContext& ctx) {
  ONYX_RETURN_IF_ERROR(CheckSlope(ctx.node(), ctx.input(1), ctx.input(2)));
  ctx.PropagateInput(0, 1);
  ctx.PropagateInput(1, 2);
  return absl::OkStatus();
}

}  // namespace

void RegisterActivationShapeFns(OpRegistry& registry) {
  for (const char* op : {"Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softplus", "Elu", "Selu", "Celu",
                         "Gelu", "Mish", "HardSigmoid", "HardSwish", "Swish", "ThresholdedRelu"}) {
    registry.RegisterShapeFn(kOnnxDomain, op, SameAsInput0);
    registry.RegisterShapeFn(kOnyxDomain, std::string(op) + "Grad", SameAsInput0);
  }
  registry.RegisterShapeFn(kOnnxDomain, "Identity", IdentityFn);
  for (const char* op : {"Softmax", "LogSoftmax"}) {
    registry.RegisterShapeFn(kOnnxDomain, op, SoftmaxFn);
    // The backward ops are emitted by autograd: their axis was checked on the forward.
    registry.RegisterShapeFn(kOnyxDomain, std::string(op) + "Grad", SameAsInput0);
  }
  registry.RegisterShapeFn(kOnnxDomain, "PRelu", PReluFn);
  registry.RegisterShapeFn(kOnyxDomain, "PReluGrad", PReluGradFn);
}

}  // namespace onyx
