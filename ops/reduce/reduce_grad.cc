// Gradients of ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceSumSquare,
// ReduceL1, ReduceL2, ReduceLogSum, ReduceLogSumExp: one com.onyx ReduceGrad
// node (dY, X, Y or "", axes or "") carrying the forward's attributes plus `op`
// and `opset`. With dy, y read broadcast over X's shape (keepdims layout):
//   Sum: dy   Mean: dy / n   SumSquare: 2 x dy   L1: sign(x) dy
//   L2: x / y dy (0 where y == 0)   LogSum: dy / exp(y)   LogSumExp: exp(x - y) dy
//   Max/Min: dy / (number of ties) where x == y, else 0 (as torch.amax).
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "ops/elementwise/elementwise_util.h"
#include "ops/math/broadcast.h"
#include "ops/reduce/reduce_axes.h"
#include "runtime/gradient.h"
#include "runtime/status_macros.h"

namespace onyx::reduce {
namespace {

bool ReadsOutput(const std::string& op) {
  return op == "ReduceMax" || op == "ReduceMin" || op == "ReduceL2" || op == "ReduceLogSum" ||
         op == "ReduceLogSumExp";
}

absl::StatusOr<GradientNodes> ReduceGradient(const GradientContext& ctx) {
  const Node& fwd = ctx.node;
  if (fwd.inputs.empty() || fwd.inputs[0].empty() || fwd.outputs.empty() ||
      ctx.output_grads.empty() || ctx.output_grads[0].empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: needs input data, an output and its gradient", fwd.Describe()));
  }
  GradientNodes out;
  out.input_grads.assign(fwd.inputs.size(), "");
  if (ctx.wants_input_grad.empty() || !ctx.wants_input_grad[0]) return out;
  Node node;
  const std::string dx = ctx.fresh_name(fwd.inputs[0] + "_grad");
  node.name = ctx.fresh_name(dx + "_node");
  node.domain = kOnyxDomain;
  node.op_type = "ReduceGrad";
  node.inputs = {ctx.output_grads[0], fwd.inputs[0],
                 ReadsOutput(fwd.op_type) ? fwd.outputs[0] : "",
                 fwd.inputs.size() > 1 ? fwd.inputs[1] : ""};
  node.outputs = {dx};
  node.attributes = fwd.attributes;
  Attribute op;
  op.name = "op";
  op.type = AttrType::kString;
  op.s = fwd.op_type;
  node.attributes.push_back(op);
  Attribute opset;
  opset.name = "opset";
  opset.type = AttrType::kInt;
  opset.i = ctx.opset;
  node.attributes.push_back(opset);
  out.nodes.push_back(std::move(node));
  out.input_grads[0] = dx;
  return out;
}

class ReduceGradKernel final : public Kernel {
 public:
  ReduceGradKernel(std::string op, ReduceAttrs attrs) : op_(std::move(op)), attrs_(attrs) {}

  absl::Status Compute(KernelContext& ctx) override {
    const Node& node = ctx.node();
    ONYX_ASSIGN_OR_RETURN(const Tensor* dy, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(1));
    const Tensor* y = ctx.input(2);
    if (ReadsOutput(op_) && y == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrFormat("%s: %s's gradient needs the forward output Y", node.Describe(), op_));
    }
    ONYX_ASSIGN_OR_RETURN(const std::vector<int64_t> axes,
                          RawAxes(node, attrs_, attrs_.axes_from_input ? ctx.input(3) : nullptr));
    ONYX_ASSIGN_OR_RETURN(const std::vector<bool> mask,
                          ReducedMask(node, attrs_, axes, x->rank()));
    const Shape keep = ReducedShape(x->shape(), mask, /*keepdims=*/true);
    const int64_t kept = NumElements(keep);
    for (const Tensor* t : {dy, y}) {
      if (t != nullptr && (t->num_elements() != kept || t->dtype() != x->dtype())) {
        return absl::FailedPreconditionError(absl::StrFormat(
            "%s: dY/Y %s must be %s with %d elements (X %s reduced)", node.Describe(),
            t->DebugString(), DataTypeName(x->dtype()), kept, ShapeToString(x->shape())));
      }
    }
    const int64_t n = kept == 0 ? 0 : x->num_elements() / kept;
    ONYX_ASSIGN_OR_RETURN(Tensor * dx, ctx.AllocateOutput(0, x->dtype(), x->shape()));
    if (dx->num_elements() == 0) return absl::OkStatus();
    return elementwise::DispatchFloat(node, x->dtype(), [&](auto tag) -> absl::Status {
      using T = decltype(tag);
      const Shape& xs = x->shape();
      const std::vector<int64_t> plain = BroadcastStrides(xs, xs);
      const std::vector<int64_t> kstr = BroadcastStrides(keep, xs);
      const BroadcastLoop loop(xs, {plain, plain, kstr, kstr});
      const T* xp = x->data<T>();
      const T* dyp = dy->data<T>();
      const T* yp = y == nullptr ? dyp : y->data<T>();  // dyp: never read as y
      T* dxp = dx->data<T>();
      const int64_t sk = loop.inner_stride(2);
      const bool minmax = op_ == "ReduceMax" || op_ == "ReduceMin";
      std::vector<T> ties;
      if (minmax) {
        ties.assign(kept, T(0));
        // Serial: many x elements count into one output.
        ForEachBlock(loop, false, [&](const int64_t* off, int64_t len) {
          for (int64_t i = 0; i < len; ++i) {
            ties[off[2] + i * sk] += xp[off[1] + i] == yp[off[3] + i * sk] ? T(1) : T(0);
          }
        });
      }
      // One pass over X; the per-op formula is picked once, outside the loop.
      auto pass = [&](auto formula) {
        ForEachBlock(loop, true, [&](const int64_t* off, int64_t len) {
          for (int64_t i = 0; i < len; ++i) {
            const int64_t k = off[2] + i * sk;
            dxp[off[0] + i] = formula(xp[off[1] + i], dyp[k], yp[k], k);
          }
        });
      };
      const T count = static_cast<T>(n);
      if (op_ == "ReduceSum") {
        pass([](T, T g, T, int64_t) { return g; });
      } else if (op_ == "ReduceMean") {
        pass([count](T, T g, T, int64_t) { return g / count; });
      } else if (op_ == "ReduceSumSquare") {
        pass([](T xv, T g, T, int64_t) { return T(2) * xv * g; });
      } else if (op_ == "ReduceL1") {
        pass([](T xv, T g, T, int64_t) { return xv > T(0) ? g : (xv < T(0) ? -g : T(0)); });
      } else if (op_ == "ReduceL2") {
        pass([](T xv, T g, T yv, int64_t) { return yv == T(0) ? T(0) : g * xv / yv; });
      } else if (op_ == "ReduceLogSum") {
        pass([](T, T g, T yv, int64_t) { return g / std::exp(yv); });
      } else if (op_ == "ReduceLogSumExp") {
        pass([](T xv, T g, T yv, int64_t) { return g * std::exp(xv - yv); });
      } else {  // Max / Min
        pass([&ties](T xv, T g, T yv, int64_t k) { return xv == yv ? g / ties[k] : T(0); });
      }
      return absl::OkStatus();
    });
  }

 private:
  std::string op_;
  ReduceAttrs attrs_;
};

}  // namespace

void RegisterReduceGradients(OpRegistry& registry) {
  for (const char* op : {"ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceSumSquare",
                         "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp"}) {
    registry.RegisterGradient(kOnnxDomain, op, ReduceGradient);
  }
  registry.Register(
      kOnyxDomain, "ReduceGrad", 1, Device::kCpu,
      [](const Node& node, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
        ONYX_ASSIGN_OR_RETURN(std::string op, node.GetString("op", ""));
        ONYX_ASSIGN_OR_RETURN(int64_t opset, node.GetInt("opset", 18));
        if (op != "ReduceSum" && op != "ReduceMean" && op != "ReduceMax" && op != "ReduceMin" &&
            op != "ReduceSumSquare" && op != "ReduceL1" && op != "ReduceL2" &&
            op != "ReduceLogSum" && op != "ReduceLogSumExp") {
          return absl::InvalidArgumentError(
              absl::StrFormat("%s: attribute op \"%s\" is not a differentiable Reduce op",
                              node.Describe(), op));
        }
        Node fwd = node;
        fwd.attributes.clear();
        for (const Attribute& a : node.attributes) {
          if (a.name != "op" && a.name != "opset") fwd.attributes.push_back(a);
        }
        ONYX_ASSIGN_OR_RETURN(ReduceAttrs attrs, ParseReduceAttrs(fwd, op, opset));
        return std::make_unique<ReduceGradKernel>(op, attrs);
      });
}

}  // namespace onyx::reduce
