// Constant folding: nodes whose inputs are all known are run once, with their
// own kernels, and replaced by initializers.
#include <algorithm>
#include <memory>
#include <optional>
#include <set>

#include "absl/strings/str_format.h"
#include "runtime/graph_order.h"
#include "runtime/kernel.h"
#include "runtime/passes/graph_editor.h"
#include "runtime/passes/passes.h"
#include "runtime/shape_inference.h"
#include "runtime/status_macros.h"

namespace onyx::passes {
namespace {

// Ops whose result is not a function of their inputs, or that only make sense at run time.
bool NeverFold(const Node& node) {
  static const auto* ops = new std::set<std::string>{
      "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
      "Multinomial",  "Bernoulli",     "Dropout"};
  return !node.domain.empty() ? node.domain != "com.onyx" : ops->contains(node.op_type);
}

// Shape (with opset-15 start/end) or Size of a value whose dims are all fixed.
std::optional<Tensor> FoldShapeOf(const GraphEditor& editor, const Node& node) {
  if (node.inputs.empty() || node.outputs.empty()) return std::nullopt;
  std::optional<Shape> shape = editor.StaticShape(node.inputs[0]);
  if (!shape.has_value()) return std::nullopt;
  if (node.op_type == "Size") {
    const int64_t n = NumElements(*shape);
    auto t = Tensor::FromVector<int64_t>({}, absl::MakeConstSpan(&n, 1));
    return t.ok() ? std::optional<Tensor>(*std::move(t)) : std::nullopt;
  }
  const int64_t rank = static_cast<int64_t>(shape->size());
  auto start = node.GetInt("start", 0);
  auto end = node.GetInt("end", rank);
  if (!start.ok() || !end.ok()) return std::nullopt;
  auto clamp = [rank](int64_t v) { return std::clamp(v < 0 ? v + rank : v, int64_t{0}, rank); };
  const int64_t s = clamp(*start), e = std::max(clamp(*end), clamp(*start));
  Shape dims(shape->begin() + s, shape->begin() + e);
  auto t = Tensor::FromVector<int64_t>({static_cast<int64_t>(dims.size())}, dims);
  return t.ok() ? std::optional<Tensor>(*std::move(t)) : std::nullopt;
}

// Runs `node` on constant inputs; nullopt when it cannot (no kernel, an error,
// or a result too large to keep in the model).
std::optional<std::vector<Tensor>> Evaluate(const GraphEditor& editor, const Node& node,
                                            int64_t opset, const OpRegistry& registry,
                                            Device device, int64_t max_bytes) {
  if (opset < 0) return std::nullopt;
  auto kernel = registry.CreateKernel(node, opset, device);
  if (!kernel.ok()) return std::nullopt;
  std::vector<const Tensor*> inputs;
  for (const std::string& in : node.inputs) {
    inputs.push_back(in.empty() ? nullptr : editor.Constant(in));
  }
  std::vector<Tensor> outputs(node.outputs.size());
  std::unique_ptr<bool[]> dies(new bool[inputs.size() + 1]());  // nothing may be reused
  KernelContext ctx(node, inputs, absl::MakeConstSpan(dies.get(), inputs.size()),
                    absl::MakeSpan(outputs), max_bytes);
  if (!(*kernel)->Compute(ctx).ok()) return std::nullopt;
  for (size_t o = 0; o < outputs.size(); ++o) {
    if (node.outputs[o].empty()) continue;
    if (outputs[o].empty() || static_cast<int64_t>(outputs[o].byte_size()) > max_bytes) {
      return std::nullopt;
    }
  }
  return outputs;
}

}  // namespace

absl::StatusOr<bool> FoldConstants(Graph& graph, const OpRegistry& registry, Device device,
                                   int64_t max_bytes) {
  // Static shapes let Shape/Size fold; a model whose shapes cannot fit fails here.
  ONYX_RETURN_IF_ERROR(InferShapes(graph, registry));
  ONYX_ASSIGN_OR_RETURN(std::vector<int> order, TopologicalOrder(graph));
  GraphEditor editor(graph);
  bool changed = false;
  for (int index : order) {
    const Node& node = editor.node(index);
    if (NeverFold(node)) continue;
    std::vector<Tensor> results;
    const bool shape_op =
        node.domain.empty() && (node.op_type == "Shape" || node.op_type == "Size");
    if (shape_op && editor.Constant(node.inputs.empty() ? "" : node.inputs[0]) == nullptr) {
      std::optional<Tensor> t = FoldShapeOf(editor, node);
      if (!t.has_value()) continue;
      results.push_back(*std::move(t));
    } else {
      const bool is_constant = node.domain.empty() && node.op_type == "Constant";
      if (node.num_present_inputs() == 0 && !is_constant) continue;
      bool all_constant = true;
      for (const std::string& in : node.inputs) {
        all_constant &= in.empty() || editor.Constant(in) != nullptr;
      }
      if (!all_constant) continue;
      auto outputs =
          Evaluate(editor, node, graph.OpsetFor(node.domain), registry, device, max_bytes);
      if (!outputs.has_value()) continue;
      results = *std::move(outputs);
    }
    const Node folded = node;
    editor.RemoveNode(index);
    for (size_t o = 0; o < folded.outputs.size() && o < results.size(); ++o) {
      if (!folded.outputs[o].empty()) graph.initializers[folded.outputs[o]] = std::move(results[o]);
    }
    changed = true;
  }
  editor.Commit();
  return changed;
}

}  // namespace onyx::passes
