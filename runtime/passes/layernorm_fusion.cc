// LayerNormalization recognized from its op-by-op spelling (PyTorch and TF
// exports before opset 17):
//   m = ReduceMean(X, axes)   d = X - m   v = ReduceMean(Pow(d, 2), axes)
//   n = d / Sqrt(v + eps)     [n = n * scale]   [n = n + bias]
// over trailing axes -> LayerNormalization(X, scale, bias, axis = -len(axes)).
#include <algorithm>
#include <optional>
#include <vector>

#include "runtime/passes/graph_editor.h"
#include "runtime/passes/passes.h"
#include "runtime/passes/pattern_util.h"

namespace onyx::passes {
namespace {

// ReduceMean's axes as a count k of trailing axes (they must be the last k,
// keepdims on), or nullopt. Positive axes need the input's `rank` (-1: unknown).
std::optional<int> TrailingAxes(const GraphEditor& e, const Node& r, int64_t rank) {
  auto keep = r.GetInt("keepdims", 1);
  if (!keep.ok() || *keep != 1) return std::nullopt;
  std::vector<int64_t> axes;
  if (r.inputs.size() > 1 && !r.inputs[1].empty()) {
    const Tensor* t = e.Constant(r.inputs[1]);
    if (t == nullptr || t->dtype() != DataType::kInt64) return std::nullopt;
    axes.assign(t->data<int64_t>(), t->data<int64_t>() + t->num_elements());
  } else {
    auto attr = r.GetInts("axes", {});
    if (!attr.ok()) return std::nullopt;
    axes = *attr;
  }
  if (axes.empty()) return std::nullopt;
  for (int64_t& a : axes) {
    if (a >= 0) {
      if (rank < 0) return std::nullopt;
      a -= rank;
    }
  }
  std::sort(axes.begin(), axes.end());
  const int k = static_cast<int>(axes.size());
  for (int i = 0; i < k; ++i) {
    if (axes[i] != i - k) return std::nullopt;
  }
  return k;
}

// A constant scale/bias reshaped to the normalized shape (the last k dims of
// X), or nullopt when it would broadcast differently from LayerNormalization.
std::optional<Tensor> AsNormalizedShape(const Tensor& t, const Shape& normalized, int x_rank) {
  if (t.dtype() != DataType::kFloat32 || t.rank() > x_rank) return std::nullopt;
  Shape dims = t.shape();
  while (dims.size() > normalized.size() && dims.front() == 1) dims.erase(dims.begin());
  while (dims.size() < normalized.size()) dims.insert(dims.begin(), 1);
  if (dims != normalized) return std::nullopt;
  auto r = t.Reshaped(normalized);
  return r.ok() ? std::optional<Tensor>(*std::move(r)) : std::nullopt;
}

std::optional<Tensor> Filled(const Shape& shape, float value) {
  auto t = Tensor::Uninitialized(DataType::kFloat32, shape);
  if (!t.ok()) return std::nullopt;
  std::fill(t->data<float>(), t->data<float>() + t->num_elements(), value);
  return *std::move(t);
}

bool TryFuse(GraphEditor& e, const OpRegistry& registry, Device device, int r1) {
  const Node& mean_node = e.node(r1);
  if (mean_node.inputs.empty()) return false;
  const std::string x = mean_node.inputs[0];
  const ValueInfo* x_type = e.TypeOf(x);
  const int64_t x_rank_or_unknown =
      x_type != nullptr && x_type->has_shape ? static_cast<int64_t>(x_type->dims.size()) : -1;
  // Both ReduceMeans read tensors of X's rank (keepdims), so X's rank settles their axes.
  std::optional<int> k = TrailingAxes(e, mean_node, x_rank_or_unknown);
  std::optional<Shape> x_shape = e.StaticShape(x);
  if (!k.has_value() || e.DTypeOf(x) != DataType::kFloat32) return false;
  const int sub = SingleConsumerOp(e, mean_node.outputs[0], "Sub");
  if (sub < 0 || e.node(sub).inputs[0] != x) return false;
  const std::string& d = e.node(sub).outputs[0];
  const std::vector<int>& d_readers = e.Consumers(d);
  if (d_readers.size() != 2 || e.IsGraphOutput(d)) return false;
  int pow = d_readers[0], div = d_readers[1];
  if (!IsOnnxOp(e.node(pow), "Pow")) std::swap(pow, div);
  if (!IsOnnxOp(e.node(pow), "Pow") || !IsOnnxOp(e.node(div), "Div") ||
      e.node(pow).inputs[0] != d || e.node(div).inputs[0] != d ||
      ConstantOperand(e, pow, 2.0, 0) != 1) {
    return false;
  }
  const int r2 = SingleConsumerOp(e, e.node(pow).outputs[0], "ReduceMean");
  if (r2 < 0 || TrailingAxes(e, e.node(r2), x_rank_or_unknown) != k) return false;
  const int add_eps = SingleConsumerOp(e, e.node(r2).outputs[0], "Add");
  if (add_eps < 0) return false;
  const std::string eps_name = OtherInput(e.node(add_eps), e.node(r2).outputs[0]);
  const std::optional<double> eps = e.ScalarConstant(eps_name);
  if (!eps.has_value()) return false;
  const int sqrt = SingleConsumerOp(e, e.node(add_eps).outputs[0], "Sqrt");
  if (sqrt < 0 || e.node(div).inputs[1] != e.node(sqrt).outputs[0] ||
      !e.HasSingleUse(e.node(sqrt).outputs[0])) {
    return false;
  }
  std::vector<int> nodes = {r1, sub, pow, r2, add_eps, sqrt, div};
  int last = div;
  // Optional affine tail; the normalized shape must be static to shape it.
  if (!x_shape.has_value() || static_cast<int>(x_shape->size()) < *k) return false;
  const int x_rank = static_cast<int>(x_shape->size());
  const Shape normalized(x_shape->end() - *k, x_shape->end());
  std::optional<Tensor> scale, bias;
  const int mul = SingleConsumerOp(e, e.node(last).outputs[0], "Mul");
  if (mul >= 0) {
    const Tensor* g = e.Constant(OtherInput(e.node(mul), e.node(last).outputs[0]));
    if (g != nullptr && (scale = AsNormalizedShape(*g, normalized, x_rank)).has_value()) {
      nodes.push_back(mul);
      last = mul;
    }
  }
  const int add = SingleConsumerOp(e, e.node(last).outputs[0], "Add");
  if (add >= 0) {
    const Tensor* b = e.Constant(OtherInput(e.node(add), e.node(last).outputs[0]));
    if (b != nullptr && (bias = AsNormalizedShape(*b, normalized, x_rank)).has_value()) {
      nodes.push_back(add);
      last = add;
    }
  }
  if (!scale.has_value()) scale = Filled(normalized, 1.f);
  if (!scale.has_value()) return false;

  Node ln;
  ln.op_type = "LayerNormalization";
  if (e.graph().OpsetFor(kOnnxDomain) >= 17 && e.CanEmit(registry, device, kOnnxDomain, ln.op_type)) {
    ln.domain = kOnnxDomain;
  } else if (e.CanEmit(registry, device, "com.onyx", ln.op_type)) {
    ln.domain = "com.onyx";
    e.ImportOnyxDomain();
  } else {
    return false;
  }
  ln.name = e.UniqueName(e.node(last).name + "_LayerNormalization");
  ln.inputs = {x, e.AddInitializer(ln.name + "_scale", *std::move(scale))};
  if (bias.has_value()) ln.inputs.push_back(e.AddInitializer(ln.name + "_bias", *std::move(bias)));
  ln.outputs = {e.node(last).outputs[0]};
  Attribute axis, epsilon;
  axis.name = "axis";
  axis.type = AttrType::kInt;
  axis.i = -*k;
  epsilon.name = "epsilon";
  epsilon.type = AttrType::kFloat;
  epsilon.f = static_cast<float>(*eps);
  ln.attributes = {axis, epsilon};
  for (int n : nodes) {
    if (n != last) e.RemoveNode(n);
  }
  e.ReplaceNode(last, std::move(ln));
  return true;
}

}  // namespace

bool FuseLayerNorm(Graph& graph, const OpRegistry& registry, Device device) {
  if (!GraphEditor::HasOp(graph, "ReduceMean")) return false;
  GraphEditor e(graph);
  bool changed = false;
  for (int i = 0; i < e.num_nodes(); ++i) {
    if (e.removed(i) || !IsOnnxOp(e.node(i), "ReduceMean")) continue;
    changed |= TryFuse(e, registry, device, i);
  }
  e.Commit();
  return changed;
}

}  // namespace onyx::passes
