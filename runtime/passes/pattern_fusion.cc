// Recognizes activation subgraphs that exporters spell out op by op and
// replaces each by one node: Gelu (erf form), Swish, Mish.
#include <cmath>
#include <optional>
#include <string>

#include "runtime/passes/graph_editor.h"
#include "runtime/passes/pattern_util.h"
#include "runtime/passes/passes.h"

namespace onyx::passes {
namespace {

// Matches the Erf-based GELU around Erf node `erf`:
//   a = x / sqrt(2)  (or x * (1/sqrt(2)))
//   b = Erf(a) + 1
//   y = (x * b) * 0.5  |  x * (b * 0.5)  |  (x * 0.5) * b   (Mul operands in either order)
// Returns (x, index of the last node) with every intermediate used once.
std::optional<std::pair<std::string, int>> MatchGelu(const GraphEditor& e, int erf,
                                                     std::vector<int>& nodes) {
  const Node& erf_node = e.node(erf);
  const std::string& a = erf_node.inputs.empty() ? "" : erf_node.inputs[0];
  if (!e.HasSingleUse(a)) return std::nullopt;
  std::string x;
  int scale = e.ProducerOp(a, "Div");
  if (scale >= 0 && ConstantOperand(e, scale, 1.4142135623730951, 1e-4) == 1) {
    x = e.node(scale).inputs[0];
  } else if ((scale = e.ProducerOp(a, "Mul")) >= 0) {
    const int c = ConstantOperand(e, scale, 0.7071067811865476, 1e-4);
    if (c < 0) return std::nullopt;
    x = e.node(scale).inputs[1 - c];
  } else {
    return std::nullopt;
  }
  const std::string& erf_out = erf_node.outputs[0];
  const int add = SingleConsumerOp(e, erf_out, "Add");
  if (add < 0 || ConstantOperand(e, add, 1.0, 1e-6) < 0) return std::nullopt;
  const std::string& b = e.node(add).outputs[0];
  const int m1 = SingleConsumerOp(e, b, "Mul");
  if (m1 < 0) return std::nullopt;
  nodes = {scale, erf, add, m1};
  const std::string other = OtherInput(e.node(m1), b);
  const std::string& m1_out = e.node(m1).outputs[0];
  if (other == x) {  // (x * b) * 0.5
    const int m2 = SingleConsumerOp(e, m1_out, "Mul");
    if (m2 < 0 || ConstantOperand(e, m2, 0.5, 1e-6) < 0) return std::nullopt;
    nodes.push_back(m2);
    return std::make_pair(x, m2);
  }
  if (e.ScalarConstant(other).has_value()) {  // x * (b * 0.5)
    if (ConstantOperand(e, m1, 0.5, 1e-6) < 0) return std::nullopt;
    const int m2 = SingleConsumerOp(e, m1_out, "Mul");
    if (m2 < 0 || OtherInput(e.node(m2), m1_out) != x) return std::nullopt;
    nodes.push_back(m2);
    return std::make_pair(x, m2);
  }
  const int half = e.ProducerOp(other, "Mul");  // (x * 0.5) * b
  if (half < 0 || !e.HasSingleUse(other)) return std::nullopt;
  const int c = ConstantOperand(e, half, 0.5, 1e-6);
  if (c < 0 || e.node(half).inputs[1 - c] != x) return std::nullopt;
  nodes.push_back(half);
  return std::make_pair(x, m1);
}

// Emits `op` (ONNX at `onnx_since` or later, else com.onyx) reading x and
// writing the output of node `last`; removes `nodes`. False when no kernel.
bool EmitUnary(GraphEditor& e, const OpRegistry& registry, Device device,
               const std::string& op, int onnx_since, const std::string& x, int last,
               const std::vector<int>& nodes) {
  Node fused;
  fused.op_type = op;
  if (e.graph().OpsetFor(kOnnxDomain) >= onnx_since &&
      e.CanEmit(registry, device, kOnnxDomain, op)) {
    fused.domain = kOnnxDomain;
  } else if (e.CanEmit(registry, device, "com.onyx", op)) {
    fused.domain = "com.onyx";
    e.ImportOnyxDomain();
  } else {
    return false;
  }
  fused.name = e.UniqueName(e.node(last).name + "_" + op);
  fused.inputs = {x};
  fused.outputs = {e.node(last).outputs[0]};
  for (int n : nodes) {
    if (n != last) e.RemoveNode(n);
  }
  e.ReplaceNode(last, std::move(fused));
  return true;
}

}  // namespace

bool FuseGelu(Graph& graph, const OpRegistry& registry, Device device) {
  if (!GraphEditor::HasOp(graph, "Erf")) return false;
  GraphEditor e(graph);
  bool changed = false;
  for (int i = 0; i < e.num_nodes(); ++i) {
    if (e.removed(i) || !IsOnnxOp(e.node(i), "Erf")) continue;
    std::vector<int> nodes;
    auto match = MatchGelu(e, i, nodes);
    if (!match.has_value()) continue;
    changed |= EmitUnary(e, registry, device, "Gelu", 20, match->first, match->second, nodes);
  }
  e.Commit();
  return changed;
}

bool FuseSwish(Graph& graph, const OpRegistry& registry, Device device) {
  if (!GraphEditor::HasOp(graph, "Sigmoid")) return false;
  GraphEditor e(graph);
  bool changed = false;
  for (int i = 0; i < e.num_nodes(); ++i) {
    if (e.removed(i) || !IsOnnxOp(e.node(i), "Sigmoid") || e.node(i).inputs.empty()) continue;
    const std::string x = e.node(i).inputs[0];
    const std::string& s = e.node(i).outputs[0];
    const int mul = SingleConsumerOp(e, s, "Mul");
    if (mul < 0 || OtherInput(e.node(mul), s) != x) continue;
    changed |= EmitUnary(e, registry, device, "Swish", 24, x, mul, {i, mul});
  }
  e.Commit();
  return changed;
}

bool FuseMish(Graph& graph, const OpRegistry& registry, Device device) {
  if (!GraphEditor::HasOp(graph, "Softplus")) return false;
  GraphEditor e(graph);
  bool changed = false;
  for (int i = 0; i < e.num_nodes(); ++i) {
    if (e.removed(i) || !IsOnnxOp(e.node(i), "Softplus") || e.node(i).inputs.empty()) continue;
    const std::string x = e.node(i).inputs[0];
    const int tanh = SingleConsumerOp(e, e.node(i).outputs[0], "Tanh");
    if (tanh < 0) continue;
    const std::string& t = e.node(tanh).outputs[0];
    const int mul = SingleConsumerOp(e, t, "Mul");
    if (mul < 0 || OtherInput(e.node(mul), t) != x) continue;
    changed |= EmitUnary(e, registry, device, "Mish", 18, x, mul, {i, tanh, mul});
  }
  e.Commit();
  return changed;
}

}  // namespace onyx::passes
