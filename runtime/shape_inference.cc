// InferShapes: one forward walk over the graph with each op's ShapeFn.
#include "runtime/shape_inference.h"

#include <map>

#include "absl/strings/str_format.h"
#include "runtime/graph_order.h"
#include "runtime/op_registry.h"
#include "runtime/status_macros.h"

namespace onyx {

ShapeInferenceContext::ShapeInferenceContext(const Node& node, int64_t opset,
                                             std::vector<const TypeInfo*> inputs,
                                             std::vector<const Tensor*> input_values)
    : node_(node),
      opset_(opset),
      inputs_(std::move(inputs)),
      input_values_(std::move(input_values)),
      outputs_(node.outputs.size()) {}

const TypeInfo* ShapeInferenceContext::input(int i) const {
  return i >= 0 && i < num_inputs() ? inputs_[i] : nullptr;
}

const Tensor* ShapeInferenceContext::input_value(int i) const {
  return i >= 0 && i < static_cast<int>(input_values_.size()) ? input_values_[i] : nullptr;
}

void ShapeInferenceContext::SetOutput(int i, DataType dtype, std::vector<Dim> dims) {
  if (i < 0 || i >= static_cast<int>(outputs_.size())) return;
  TypeInfo info;
  info.name = node_.outputs[i];
  info.dtype = dtype;
  info.has_shape = true;
  info.dims = std::move(dims);
  outputs_[i] = std::move(info);
}

void ShapeInferenceContext::SetOutputRankUnknown(int i, DataType dtype) {
  if (i < 0 || i >= static_cast<int>(outputs_.size())) return;
  TypeInfo info;
  info.name = node_.outputs[i];
  info.dtype = dtype;
  outputs_[i] = std::move(info);
}

void ShapeInferenceContext::PropagateInput(int output, int input_index) {
  const TypeInfo* in = input(input_index);
  if (in == nullptr) return;
  if (in->has_shape) {
    SetOutput(output, in->dtype, in->dims);
  } else {
    SetOutputRankUnknown(output, in->dtype);
  }
}

Dim FixedDim(int64_t value) {
  Dim d;
  d.value = value;
  return d;
}

absl::StatusOr<std::vector<Dim>> BroadcastDims(const std::vector<Dim>& a,
                                               const std::vector<Dim>& b) {
  const size_t rank = std::max(a.size(), b.size());
  std::vector<Dim> out(rank);
  for (size_t k = 0; k < rank; ++k) {
    const Dim* da = k < rank - a.size() ? nullptr : &a[k - (rank - a.size())];
    const Dim* db = k < rank - b.size() ? nullptr : &b[k - (rank - b.size())];
    if (da == nullptr || (da->is_fixed() && da->value == 1)) {
      out[k] = db ? *db : *da;
    } else if (db == nullptr || (db->is_fixed() && db->value == 1)) {
      out[k] = *da;
    } else if (da->is_fixed() && db->is_fixed()) {
      if (da->value != db->value) {
        return absl::InvalidArgumentError(
            absl::StrFormat("dims %d and %d do not broadcast", da->value, db->value));
      }
      out[k] = *da;
    } else if (da->is_fixed()) {
      out[k] = *da;  // a symbol that must equal (or be 1 and broadcast to) a fixed dim
    } else if (db->is_fixed()) {
      out[k] = *db;
    } else {
      out[k] = (!da->param.empty() && da->param == db->param) ? *da : Dim{};
    }
  }
  return out;
}

absl::Status InferShapes(Graph& graph, const OpRegistry& registry) {
  std::map<std::string, TypeInfo> known;
  std::map<std::string, const Tensor*> constants;
  for (const ValueInfo& v : graph.inputs) known[v.name] = v;
  for (const ValueInfo& v : graph.value_info) known[v.name] = v;
  for (const auto& [name, tensor] : graph.initializers) {
    TypeInfo info;
    info.name = name;
    info.dtype = tensor.dtype();
    info.has_shape = true;
    for (int64_t d : tensor.shape()) info.dims.push_back(FixedDim(d));
    known[name] = info;
    constants[name] = &tensor;
  }
  ONYX_ASSIGN_OR_RETURN(std::vector<int> order, TopologicalOrder(graph));
  for (int index : order) {
    const Node& node = graph.nodes[index];
    if (node.op_type == "Constant" && node.domain.empty() && !node.outputs.empty()) {
      const Attribute* value = node.FindAttribute("value");
      if (value != nullptr && value->type == AttrType::kTensor) {
        constants[node.outputs[0]] = &value->t;
      }
    }
    const ShapeFn* fn = registry.FindShapeFn(node.domain, node.op_type);
    if (fn == nullptr) continue;
    std::vector<const TypeInfo*> inputs;
    std::vector<const Tensor*> values;
    for (const std::string& name : node.inputs) {
      auto it = known.find(name);
      inputs.push_back(name.empty() || it == known.end() ? nullptr : &it->second);
      auto c = constants.find(name);
      values.push_back(name.empty() || c == constants.end() ? nullptr : c->second);
    }
    ShapeInferenceContext ctx(node, graph.OpsetFor(node.domain), std::move(inputs),
                              std::move(values));
    absl::Status status = (*fn)(ctx);
    if (!status.ok()) {
      const std::string prefix = node.Describe();
      std::string message(status.message());
      if (message.rfind(prefix, 0) != 0) message = prefix + ": " + message;
      return absl::Status(status.code(), message);
    }
    for (const auto& out : ctx.outputs()) {
      if (out.has_value() && !out->name.empty()) known[out->name] = *out;
    }
  }
  // Store what was learned for every non-input value.
  std::map<std::string, size_t> existing;
  for (size_t i = 0; i < graph.value_info.size(); ++i) existing[graph.value_info[i].name] = i;
  for (const Node& node : graph.nodes) {
    for (const std::string& name : node.outputs) {
      auto it = known.find(name);
      if (name.empty() || it == known.end()) continue;
      auto e = existing.find(name);
      if (e == existing.end()) {
        existing[name] = graph.value_info.size();
        graph.value_info.push_back(it->second);
      } else {
        graph.value_info[e->second] = it->second;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace onyx
