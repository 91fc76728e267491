// Shape functions of the training optimizer ops. Inputs are R, T, then
// `groups` blocks of n tensors (X..., G..., states...); outputs are X_new...
// and the new states, each shaped like its source (output block 0 from input
// block 0, output block b > 0 from input block b + 1). Every tensor of a block
// must match its X.
#include <string>

#include "absl/strings/str_format.h"
#include "ops/optim/optim_cpu.h"
#include "runtime/op_registry.h"

namespace onyx {
namespace {

absl::Status OptimizerFn(ShapeInferenceContext& ctx, int groups, int out_groups) {
  const Node& node = ctx.node();
  const int num_in = static_cast<int>(node.inputs.size());
  const int num_out = static_cast<int>(node.outputs.size());
  if (num_in < 2 + groups || (num_in - 2) % groups != 0 ||
      num_out != out_groups * ((num_in - 2) / groups)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: expects R, T and %d groups of equally many tensors and %d outputs per tensor, got "
        "%d inputs and %d outputs",
        node.Describe(), groups, out_groups, num_in, num_out));
  }
  const int n = (num_in - 2) / groups;
  for (int j = 0; j < n; ++j) {
    const TypeInfo* x = ctx.input(2 + j);
    for (int g = 1; x != nullptr && x->has_shape && g < groups; ++g) {
      const TypeInfo* t = ctx.input(2 + g * n + j);
      if (t == nullptr || !t->has_shape) continue;
      bool ok = t->dims.size() == x->dims.size();
      for (size_t d = 0; ok && d < x->dims.size(); ++d) {
        ok = !x->dims[d].is_fixed() || !t->dims[d].is_fixed() ||
             x->dims[d].value == t->dims[d].value;
      }
      if (!ok) {
        return absl::FailedPreconditionError(absl::StrFormat(  // as the kernel reports it
            "%s: input %d has shape %s but X%d has shape %s", node.Describe(), 2 + g * n + j,
            DimsToString(*t), j, DimsToString(*x)));
      }
    }
    for (int o = 0; o < out_groups; ++o) ctx.PropagateInput(o * n + j, 2 + (o == 0 ? 0 : o + 1) * n + j);
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterOptimShapeFns(OpRegistry& registry) {
  registry.RegisterShapeFn(kTrainingDomain, "Adagrad",
                           [](ShapeInferenceContext& ctx) { return OptimizerFn(ctx, 3, 2); });
  registry.RegisterShapeFn(kTrainingDomain, "Adam",
                           [](ShapeInferenceContext& ctx) { return OptimizerFn(ctx, 4, 3); });
  registry.RegisterShapeFn(kTrainingDomain, "Momentum",
                           [](ShapeInferenceContext& ctx) { return OptimizerFn(ctx, 3, 2); });
}

}  // namespace onyx
