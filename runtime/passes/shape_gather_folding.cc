// FoldStaticShapeGathers: Gather(Shape(x), constant indices) where the indexed
// dims of x are fixed becomes a constant, even when other dims of x are symbolic.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "runtime/passes/graph_editor.h"
#include "runtime/passes/passes.h"
#include "runtime/passes/pattern_util.h"

namespace onyx::passes {
namespace {

// The dims Shape node `shape` reports for its input (its opset-15 start/end
// applied), or nullopt when the input's rank is unknown or an attribute is bad.
std::optional<std::vector<Dim>> ShapeDims(const GraphEditor& e, const Node& shape) {
  if (shape.inputs.empty()) return std::nullopt;
  const ValueInfo* info = e.TypeOf(shape.inputs[0]);
  if (info == nullptr || !info->has_shape) return std::nullopt;
  const int64_t rank = static_cast<int64_t>(info->dims.size());
  auto start = shape.GetInt("start", 0);
  auto end = shape.GetInt("end", rank);
  if (!start.ok() || !end.ok()) return std::nullopt;
  auto clamp = [rank](int64_t v) { return std::clamp(v < 0 ? v + rank : v, int64_t{0}, rank); };
  const int64_t s = clamp(*start), t = std::max(clamp(*end), s);
  return std::vector<Dim>(info->dims.begin() + s, info->dims.begin() + t);
}

// dims[indices] as an int64 tensor shaped like `indices` (rank 0 or 1), when
// every index is in range and every dim it reads is fixed.
std::optional<Tensor> GatherFixedDims(const std::vector<Dim>& dims, const Tensor& indices) {
  if (indices.rank() > 1) return std::nullopt;
  const int64_t n = static_cast<int64_t>(dims.size());
  std::vector<int64_t> values;
  for (int64_t i = 0; i < indices.num_elements(); ++i) {
    int64_t at;
    if (indices.dtype() == DataType::kInt64) {
      at = indices.data<int64_t>()[i];
    } else if (indices.dtype() == DataType::kInt32) {
      at = indices.data<int32_t>()[i];
    } else {
      return std::nullopt;
    }
    if (at < -n || at >= n) return std::nullopt;
    const Dim& d = dims[at < 0 ? at + n : at];
    if (!d.is_fixed()) return std::nullopt;
    values.push_back(d.value);
  }
  const Shape shape = indices.rank() == 0 ? Shape{} : Shape{indices.num_elements()};
  auto t = Tensor::FromVector<int64_t>(shape, absl::MakeConstSpan(values));
  return t.ok() ? std::optional<Tensor>(*std::move(t)) : std::nullopt;
}

}  // namespace

bool FoldStaticShapeGathers(Graph& graph) {
  if (!GraphEditor::HasOp(graph, "Shape") || !GraphEditor::HasOp(graph, "Gather")) return false;
  GraphEditor e(graph);
  bool changed = false;
  for (int i = 0; i < e.num_nodes(); ++i) {
    const Node& gather = e.node(i);
    if (e.removed(i) || !IsOnnxOp(gather, "Gather") || gather.inputs.size() != 2 ||
        gather.outputs.size() != 1 || e.IsGraphOutput(gather.outputs[0])) {
      continue;
    }
    auto axis = gather.GetInt("axis", 0);
    if (!axis.ok() || (*axis != 0 && *axis != -1)) continue;
    const int shape = e.ProducerOp(gather.inputs[0], "Shape");
    const Tensor* indices = e.Constant(gather.inputs[1]);
    if (shape < 0 || indices == nullptr) continue;
    std::optional<std::vector<Dim>> dims = ShapeDims(e, e.node(shape));
    if (!dims.has_value()) continue;
    std::optional<Tensor> folded = GatherFixedDims(*dims, *indices);
    if (!folded.has_value()) continue;
    const std::string out = gather.outputs[0];
    e.RemoveNode(i);
    graph.initializers[out] = *std::move(folded);
    changed = true;
  }
  e.Commit();
  return changed;
}

}  // namespace onyx::passes
