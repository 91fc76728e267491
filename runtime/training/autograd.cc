// Reverse-mode autodiff over the graph IR.
#include "runtime/training/autograd.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/graph_order.h"
#include "runtime/status_macros.h"

namespace onyx {
namespace {

// Hands out value names that collide with nothing already in the graph.
class NameSource {
 public:
  explicit NameSource(const Graph& graph) {
    for (const auto& [name, t] : graph.initializers) used_.insert(name);
    for (const ValueInfo& v : graph.inputs) used_.insert(v.name);
    for (const Node& n : graph.nodes) {
      for (const auto& o : n.outputs) used_.insert(o);
    }
  }
  std::string Fresh(const std::string& hint) {
    std::string name = hint;
    for (int i = 1; used_.contains(name); ++i) name = absl::StrCat(hint, "_", i);
    used_.insert(name);
    return name;
  }

 private:
  absl::flat_hash_set<std::string> used_;
};

}  // namespace

absl::StatusOr<GradientGraph> BuildGradientGraph(Graph graph, const std::string& loss,
                                                 const std::vector<std::string>& wrt,
                                                 const OpRegistry& registry) {
  ONYX_ASSIGN_OR_RETURN(std::vector<int> order, TopologicalOrder(graph));
  NameSource names(graph);

  // Values that depend on some `wrt` value (forward reachability).
  absl::flat_hash_set<std::string> depends(wrt.begin(), wrt.end());
  int loss_node = -1;
  for (int n : order) {
    const Node& node = graph.nodes[n];
    const bool any = std::any_of(node.inputs.begin(), node.inputs.end(),
                                 [&](const std::string& in) { return depends.contains(in); });
    for (const std::string& out : node.outputs) {
      if (any && !out.empty()) depends.insert(out);
      if (out == loss) loss_node = n;
    }
  }
  if (loss_node < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("loss \"%s\" is not produced by any node", loss));
  }

  // Gradient contributions per value, summed lazily when the value's producer is reached.
  absl::flat_hash_map<std::string, std::vector<std::string>> contributions;
  std::vector<Node> backward;
  auto add_node = [&](std::string op, std::vector<std::string> in, std::string out) {
    Node node;
    node.op_type = std::move(op);
    node.name = out + "_node";
    node.inputs = std::move(in);
    node.outputs = {std::move(out)};
    backward.push_back(std::move(node));
  };
  // The summed gradient of `value`, or "" when none reached it.
  auto total_grad = [&](const std::string& value) -> std::string {
    auto it = contributions.find(value);
    if (it == contributions.end() || it->second.empty()) return "";
    std::vector<std::string>& parts = it->second;
    while (parts.size() > 1) {
      const std::string sum = names.Fresh(absl::StrCat(value, "_grad_sum"));
      add_node("Add", {parts[parts.size() - 2], parts.back()}, sum);
      parts.pop_back();
      parts.back() = sum;
    }
    return parts.front();
  };

  // d(loss)/d(loss) = 1.
  const std::string seed = names.Fresh(absl::StrCat(loss, "_grad"));
  ONYX_ASSIGN_OR_RETURN(Tensor one, Tensor::Zeros(DataType::kFloat32, {}));
  one.data<float>()[0] = 1.f;
  graph.initializers[seed] = one;
  contributions[loss].push_back(seed);

  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const Node& node = graph.nodes[*it];
    GradientContext ctx{.node = node,
                        .opset = graph.OpsetFor(node.domain),
                        .output_grads = {},
                        .wants_input_grad = {},
                        .fresh_name = {}};
    bool any_output_grad = false;
    for (const std::string& out : node.outputs) {
      ctx.output_grads.push_back(out.empty() ? "" : total_grad(out));
      any_output_grad |= !ctx.output_grads.back().empty();
    }
    bool any_input_wanted = false;
    for (const std::string& in : node.inputs) {
      ctx.wants_input_grad.push_back(!in.empty() && depends.contains(in));
      any_input_wanted |= ctx.wants_input_grad.back();
    }
    if (!any_output_grad || !any_input_wanted) continue;
    const GradientBuilder* builder = registry.FindGradient(node.domain, node.op_type);
    if (builder == nullptr) {
      return absl::UnimplementedError(absl::StrFormat(
          "%s: op %s has no gradient, so the loss cannot be differentiated through it",
          node.Describe(), node.op_type));
    }
    ctx.fresh_name = [&names](const std::string& hint) { return names.Fresh(hint); };
    auto result = (*builder)(ctx);
    if (!result.ok()) {
      return absl::Status(result.status().code(), absl::StrFormat("%s: gradient: %s",
                                                                  node.Describe(),
                                                                  result.status().message()));
    }
    for (Node& b : result->nodes) backward.push_back(std::move(b));
    for (size_t i = 0; i < node.inputs.size() && i < result->input_grads.size(); ++i) {
      if (ctx.wants_input_grad[i] && !result->input_grads[i].empty()) {
        contributions[node.inputs[i]].push_back(result->input_grads[i]);
      }
    }
  }

  GradientGraph out;
  for (const std::string& v : wrt) out.grad_names.push_back(total_grad(v));
  for (Node& b : backward) graph.nodes.push_back(std::move(b));
  if (graph.OpsetFor(kOnyxDomain) < 0) graph.opset_imports[kOnyxDomain] = 1;

  graph.outputs.clear();
  ValueInfo loss_info;
  loss_info.name = loss;
  loss_info.dtype = DataType::kFloat32;
  graph.outputs.push_back(loss_info);
  for (const std::string& g : out.grad_names) {
    if (g.empty()) continue;
    ValueInfo info;
    info.name = g;
    info.dtype = DataType::kFloat32;
    graph.outputs.push_back(info);
  }
  out.graph = std::move(graph);
  return out;
}

}  // namespace onyx
