// FlattenMatMulBatch: MatMul of a batched A by a constant 2-D B as one GEMM.
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "runtime/passes/graph_editor.h"
#include "runtime/passes/passes.h"

namespace onyx::passes {
namespace {

bool IsMatMul(const Node& n) {
  return (n.domain.empty() && n.op_type == "MatMul") ||
         (n.domain == kOnyxDomain && n.op_type == "FusedMatMul");
}

Tensor Int64s(const std::vector<int64_t>& v) {
  return Tensor::FromVector<int64_t>({static_cast<int64_t>(v.size())}, absl::MakeConstSpan(v))
      .value();
}

}  // namespace

bool FlattenMatMulBatch(Graph& graph, const OpRegistry& registry, Device device) {
  if (!GraphEditor::HasOp(graph, "MatMul") && !GraphEditor::HasOp(graph, "FusedMatMul", kOnyxDomain)) {
    return false;
  }
  GraphEditor e(graph);
  if (!e.CanEmit(registry, device, kOnnxDomain, "Reshape")) return false;
  bool changed = false;
  const int original = e.num_nodes();
  for (int i = 0; i < original; ++i) {
    if (e.removed(i) || !IsMatMul(e.node(i)) || e.node(i).inputs.size() < 2) continue;
    const Node& mm = e.node(i);
    const Tensor* b = e.Constant(mm.inputs[1]);
    const ValueInfo* a = e.TypeOf(mm.inputs[0]);
    if (b == nullptr || b->rank() != 2 || a == nullptr || !a->has_shape || a->dims.size() < 3 ||
        e.DTypeOf(mm.inputs[0]) != DataType::kFloat32) {
      continue;
    }
    // A's dims but the last, with its one symbolic dim (if any) as -1.
    std::vector<int64_t> lead;
    int symbolic = 0;
    for (size_t d = 0; d + 1 < a->dims.size(); ++d) {
      const Dim& dim = a->dims[d];
      symbolic += dim.is_fixed() ? 0 : 1;
      lead.push_back(dim.is_fixed() ? dim.value : -1);
    }
    const Dim& k_dim = a->dims.back();
    if (symbolic > 1 || !k_dim.is_fixed() || k_dim.value != b->dim(0)) continue;
    std::vector<int64_t> back = lead;
    back.push_back(b->dim(1));

    Node mm2d = mm;
    const std::string out = mm.outputs[0];
    const std::string a2d = e.UniqueName(mm.inputs[0] + "_2d");
    const std::string out2d = e.UniqueName(out + "_2d");
    Node flat;
    flat.op_type = "Reshape";
    flat.name = e.UniqueName(mm.name + "_flatten");
    flat.inputs = {mm.inputs[0], e.AddInitializer(mm.name + "_flat_shape", Int64s({-1, k_dim.value}))};
    flat.outputs = {a2d};
    Node unflat;
    unflat.op_type = "Reshape";
    unflat.name = e.UniqueName(mm.name + "_unflatten");
    unflat.inputs = {out2d, e.AddInitializer(mm.name + "_out_shape", Int64s(back))};
    unflat.outputs = {out};
    mm2d.inputs[0] = a2d;
    mm2d.outputs = {out2d};
    e.ReplaceNode(i, std::move(mm2d));
    e.AddNode(std::move(flat));
    e.AddNode(std::move(unflat));
    changed = true;
  }
  e.Commit();
  return changed;
}

}  // namespace onyx::passes
