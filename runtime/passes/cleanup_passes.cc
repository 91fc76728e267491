// Level-1 cleanups: Identity / inference Dropout removal and dead-node elimination.
#include <algorithm>
#include <set>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "runtime/passes/graph_editor.h"
#include "runtime/passes/passes.h"

namespace onyx::passes {
namespace {

// Identity, or a Dropout that is the identity: inference mode and no mask read.
bool IsPassThrough(const GraphEditor& editor, const Node& node) {
  if (!node.domain.empty() || node.inputs.empty() || node.inputs[0].empty() ||
      node.outputs.empty() || node.outputs[0].empty()) {
    return false;
  }
  if (node.op_type == "Identity") return node.outputs.size() == 1;
  if (node.op_type != "Dropout") return false;
  if (node.outputs.size() > 1 && !node.outputs[1].empty()) {
    const std::string& mask = node.outputs[1];
    if (!editor.Consumers(mask).empty() || editor.IsGraphOutput(mask)) return false;
  }
  if (node.inputs.size() > 2 && !node.inputs[2].empty()) {
    const Tensor* mode = editor.Constant(node.inputs[2]);
    if (mode == nullptr || mode->dtype() != DataType::kBool || mode->num_elements() != 1 ||
        mode->data<bool>()[0]) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool RemoveIdentityNodes(Graph& graph) {
  if (!GraphEditor::HasOp(graph, "Identity") && !GraphEditor::HasOp(graph, "Dropout")) {
    return false;
  }
  GraphEditor editor(graph);
  std::set<std::string> graph_inputs;
  for (const ValueInfo& v : graph.inputs) graph_inputs.insert(v.name);
  bool changed = false;
  for (int i = 0; i < editor.num_nodes(); ++i) {
    if (editor.removed(i) || !IsPassThrough(editor, editor.node(i))) continue;
    const std::string x = editor.node(i).inputs[0];
    const std::string y = editor.node(i).outputs[0];
    if (!editor.IsGraphOutput(y)) {
      editor.RemoveNode(i);
      editor.ReplaceUses(y, x);
      changed = true;
      continue;
    }
    // y is a graph output and must keep its name: the producer of x writes y
    // directly, unless x itself must stay visible (graph input/output, constant).
    const int p = editor.Producer(x);
    if (p < 0 || editor.IsGraphOutput(x) || graph_inputs.contains(x)) continue;
    const std::vector<std::string>& outs = editor.node(p).outputs;
    const int slot = static_cast<int>(std::find(outs.begin(), outs.end(), x) - outs.begin());
    editor.RemoveNode(i);
    editor.RenameOutput(p, slot, y);
    changed = true;
  }
  editor.Commit();
  return changed;
}

bool EliminateDeadNodes(Graph& graph) {
  GraphEditor editor(graph);
  std::vector<bool> live(editor.num_nodes(), false);
  std::vector<std::string> work;
  absl::flat_hash_set<std::string> needed;
  for (const ValueInfo& v : graph.outputs) work.push_back(v.name);
  while (!work.empty()) {
    const std::string value = std::move(work.back());
    work.pop_back();
    if (value.empty() || !needed.insert(value).second) continue;
    const int p = editor.Producer(value);
    if (p < 0 || live[p]) continue;
    live[p] = true;
    for (const std::string& in : editor.node(p).inputs) work.push_back(in);
  }
  bool changed = false;
  for (int i = 0; i < editor.num_nodes(); ++i) {
    if (!live[i]) {
      editor.RemoveNode(i);
      changed = true;
    }
  }
  editor.Commit();
  // Initializers nothing reads go too (and their declarations as inputs).
  for (auto it = graph.initializers.begin(); it != graph.initializers.end();) {
    if (needed.contains(it->first)) {
      ++it;
      continue;
    }
    const std::string name = it->first;
    it = graph.initializers.erase(it);
    std::erase_if(graph.inputs, [&](const ValueInfo& v) { return v.name == name; });
    changed = true;
  }
  absl::flat_hash_set<std::string> produced;
  for (const Node& n : graph.nodes) produced.insert(n.outputs.begin(), n.outputs.end());
  std::erase_if(graph.value_info,
                [&](const ValueInfo& v) { return !produced.contains(v.name); });
  return changed;
}

}  // namespace onyx::passes
