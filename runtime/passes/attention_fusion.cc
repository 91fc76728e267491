// FuseAttention: the multi-head self-attention block of nn.MultiheadAttention
// exports (batch_first or not, after FoldStaticShapeGathers) -> com.onyx
// PackedAttention. The matched block, for a packed projection P [L, N, 3E]:
//   q = Transpose<1,0,2>(Reshape(Slice(P, 0, E, axis 2), [L, ?, d]))   [N*H, L, d]
//   k = Transpose<1,2,0>(Reshape(Slice(P, E, 2E), [L, ?, d]))          [N*H, d, L]
//   v = Transpose<1,0,2>(Reshape(Slice(P, 2E, 3E), [L, ?, d]))         [N*H, L, d]
//   Y = Transpose<1,0,2>(MatMul(Softmax(MatMul(q [/ c | * c], k)), v))   [L, N*H, d]
// The Reshape targets are constants or a Concat of three one-element parts whose
// first (L) and last (d) are constants; the middle one can only be N*H (or -1)
// for the original graph to run, since the first and last fix the element count.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/passes/graph_editor.h"
#include "runtime/passes/passes.h"
#include "runtime/passes/pattern_util.h"

namespace onyx::passes {
namespace {

std::optional<std::vector<int64_t>> ConstInts(const GraphEditor& e, const std::string& value) {
  const Tensor* t = e.Constant(value);
  if (t == nullptr || t->rank() > 1) return std::nullopt;
  std::vector<int64_t> out;
  for (int64_t i = 0; i < t->num_elements(); ++i) {
    if (t->dtype() == DataType::kInt64) {
      out.push_back(t->data<int64_t>()[i]);
    } else if (t->dtype() == DataType::kInt32) {
      out.push_back(t->data<int32_t>()[i]);
    } else {
      return std::nullopt;
    }
  }
  return out;
}

bool HasPerm(const Node& n, const std::vector<int64_t>& perm) {
  auto p = n.GetInts("perm", {});
  return p.ok() && *p == perm;
}

// The single-use producer of `value` if it is ONNX `op`, else -1.
int OnlyFrom(const GraphEditor& e, const std::string& value, const char* op) {
  if (!e.HasSingleUse(value)) return -1;
  return e.ProducerOp(value, op);
}

struct Branch {
  std::vector<int> nodes;  // Slice, Reshape, Transpose
  std::string packed;      // P
  int64_t start = 0, end = 0, l = 0, d = 0;
};

// Transpose(perm) <- Reshape([L, ?, d]) <- Slice(P, start, end, last axis).
std::optional<Branch> MatchBranch(const GraphEditor& e, const std::string& value,
                                  const std::vector<int64_t>& perm) {
  Branch b;
  const int t = OnlyFrom(e, value, "Transpose");
  if (t < 0 || !HasPerm(e.node(t), perm)) return std::nullopt;
  const int r = OnlyFrom(e, e.node(t).inputs[0], "Reshape");
  if (r < 0 || e.node(r).inputs.size() != 2) return std::nullopt;
  const int s = OnlyFrom(e, e.node(r).inputs[0], "Slice");
  if (s < 0) return std::nullopt;
  b.nodes = {s, r, t};
  // Reshape target: constant [L, x, d] or Concat(const [L], one element, const [d]).
  const std::string& target = e.node(r).inputs[1];
  std::optional<std::vector<int64_t>> dims = ConstInts(e, target);
  if (dims.has_value()) {
    if (dims->size() != 3) return std::nullopt;
    b.l = (*dims)[0];
    b.d = (*dims)[2];
  } else {
    const int c = e.ProducerOp(target, "Concat");
    if (c < 0 || e.node(c).inputs.size() != 3) return std::nullopt;
    auto axis = e.node(c).GetInt("axis", 0);
    if (!axis.ok() || (*axis != 0 && *axis != -1)) return std::nullopt;
    const ValueInfo* mid = e.TypeOf(e.node(c).inputs[1]);
    if (mid == nullptr || !mid->has_shape || mid->dims.size() != 1 || !mid->dims[0].is_fixed() ||
        mid->dims[0].value != 1) {
      return std::nullopt;
    }
    auto first = ConstInts(e, e.node(c).inputs[0]);
    auto last = ConstInts(e, e.node(c).inputs[2]);
    if (!first || !last || first->size() != 1 || last->size() != 1) return std::nullopt;
    b.l = (*first)[0];
    b.d = (*last)[0];
  }
  if (b.l <= 0 || b.d <= 0) return std::nullopt;
  // Slice(P, start, end, axes = last, steps = 1).
  const Node& slice = e.node(s);
  if (slice.inputs.size() < 4) return std::nullopt;
  auto starts = ConstInts(e, slice.inputs[1]);
  auto ends = ConstInts(e, slice.inputs[2]);
  auto axes = ConstInts(e, slice.inputs[3]);
  if (!starts || !ends || !axes || starts->size() != 1 || ends->size() != 1 ||
      axes->size() != 1 || ((*axes)[0] != 2 && (*axes)[0] != -1)) {
    return std::nullopt;
  }
  if (slice.inputs.size() > 4 && !slice.inputs[4].empty()) {
    auto steps = ConstInts(e, slice.inputs[4]);
    if (!steps || steps->size() != 1 || (*steps)[0] != 1) return std::nullopt;
  }
  b.packed = slice.inputs[0];
  b.start = (*starts)[0];
  b.end = (*ends)[0];
  return b;
}

}  // namespace

bool FuseAttention(Graph& graph, const OpRegistry& registry, Device device) {
  if (!GraphEditor::HasOp(graph, "Softmax")) return false;
  GraphEditor e(graph);
  if (!e.CanEmit(registry, device, kOnyxDomain, "PackedAttention")) return false;
  const bool new_softmax = graph.OpsetFor(kOnnxDomain) >= 13;
  bool changed = false;
  for (int i = 0; i < e.num_nodes(); ++i) {
    const Node& sm = e.node(i);
    if (e.removed(i) || !IsOnnxOp(sm, "Softmax") || sm.inputs.size() != 1) continue;
    auto axis = sm.GetInt("axis", new_softmax ? -1 : 1);
    if (!axis.ok() || (*axis != -1 && *axis != 2)) continue;
    const int mm1 = OnlyFrom(e, sm.inputs[0], "MatMul");
    const int mm2 = SingleConsumerOp(e, sm.outputs[0], "MatMul");
    if (mm1 < 0 || mm2 < 0 || e.node(mm2).inputs[0] != sm.outputs[0]) continue;
    const int out_t = SingleConsumerOp(e, e.node(mm2).outputs[0], "Transpose");
    if (out_t < 0 || !HasPerm(e.node(out_t), {1, 0, 2})) continue;
    // q, optionally scaled by a scalar constant.
    std::string q = e.node(mm1).inputs[0];
    double scale = 1.0;
    std::vector<int> nodes = {i, mm1, mm2, out_t};
    for (const char* op : {"Div", "Mul"}) {
      const int sc = OnlyFrom(e, q, op);
      if (sc < 0) continue;
      auto c = e.ScalarConstant(e.node(sc).inputs[1]);
      if (!c.has_value() || *c == 0.0) break;
      scale = op[0] == 'D' ? 1.0 / *c : *c;
      nodes.push_back(sc);
      q = e.node(sc).inputs[0];
      break;
    }
    auto bq = MatchBranch(e, q, {1, 0, 2});
    auto bk = MatchBranch(e, e.node(mm1).inputs[1], {1, 2, 0});
    auto bv = MatchBranch(e, e.node(mm2).inputs[1], {1, 0, 2});
    if (!bq || !bk || !bv || bq->packed != bk->packed || bq->packed != bv->packed) continue;
    const ValueInfo* p = e.TypeOf(bq->packed);
    if (p == nullptr || !p->has_shape || p->dims.size() != 3 || !p->dims[0].is_fixed() ||
        !p->dims[2].is_fixed() || p->dims[2].value % 3 != 0 ||
        e.DTypeOf(bq->packed) != DataType::kFloat32) {
      continue;
    }
    const int64_t l = p->dims[0].value, emb = p->dims[2].value / 3, d = bq->d;
    bool ok = emb % d == 0;
    for (const Branch* b : {&*bq, &*bk, &*bv}) ok &= b->l == l && b->d == d;
    ok &= bq->start == 0 && bq->end == emb && bk->start == emb && bk->end == 2 * emb &&
          bv->start == 2 * emb && bv->end >= 3 * emb;
    if (!ok) continue;
    Node fused;
    fused.op_type = "PackedAttention";
    fused.domain = kOnyxDomain;
    fused.name = e.UniqueName(e.node(out_t).name + "_attention");
    fused.inputs = {bq->packed};
    fused.outputs = {e.node(out_t).outputs[0]};
    Attribute heads;
    heads.name = "num_heads";
    heads.type = AttrType::kInt;
    heads.i = emb / d;
    Attribute sc;
    sc.name = "scale";
    sc.type = AttrType::kFloat;
    sc.f = static_cast<float>(scale);
    fused.attributes = {heads, sc};
    for (const Branch* b : {&*bq, &*bk, &*bv}) nodes.insert(nodes.end(), b->nodes.begin(), b->nodes.end());
    for (int n : nodes) {
      if (n != out_t) e.RemoveNode(n);
    }
    e.ImportOnyxDomain();
    e.ReplaceNode(out_t, std::move(fused));
    changed = true;
  }
  e.Commit();
  return changed;
}

}  // namespace onyx::passes
