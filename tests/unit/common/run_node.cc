// Bodies of the shared unit-test helpers (see run_node.h).
#include "tests/unit/common/run_node.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace onyx::testing_util {

Attribute IntAttr(std::string name, int64_t v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kInt;
  a.i = v;
  return a;
}

Attribute FloatAttr(std::string name, float v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kFloat;
  a.f = v;
  return a;
}

Attribute StringAttr(std::string name, std::string v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kString;
  a.s = std::move(v);
  return a;
}

Attribute IntsAttr(std::string name, std::vector<int64_t> v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kInts;
  a.ints = std::move(v);
  return a;
}

Attribute FloatsAttr(std::string name, std::vector<float> v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kFloats;
  a.floats = std::move(v);
  return a;
}

Attribute TensorAttr(std::string name, Tensor t) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kTensor;
  a.t = std::move(t);
  return a;
}

Node MakeNode(const std::string& op, std::vector<std::string> inputs,
              std::vector<std::string> outputs, std::vector<Attribute> attrs,
              const std::string& domain, size_t index) {
  Node node;
  node.name = absl::StrCat(op, "_", index);
  node.op_type = op;
  node.domain = domain;
  node.inputs = std::move(inputs);
  node.outputs = std::move(outputs);
  node.attributes = std::move(attrs);
  return node;
}

ValueInfo InputInfo(const std::string& name, DataType dtype, const Shape& shape) {
  ValueInfo info;
  info.name = name;
  info.dtype = dtype;
  info.has_shape = true;
  for (int64_t d : shape) info.dims.push_back(Dim{d, ""});
  return info;
}

ValueInfo InputInfo(const std::string& name, const Tensor& t) {
  return InputInfo(name, t.dtype(), t.shape());
}

// absl::StrCat: GCC 12 -O3 reports a false -Wrestrict in "x" + std::to_string(i).
std::string InputName(size_t i) { return absl::StrCat("x", i); }

std::vector<std::string> NumberedNames(const std::string& prefix, int n) {
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) names.push_back(absl::StrCat(prefix, i));
  return names;
}

Graph OneNodeGraph(const NodeSpec& spec, const std::vector<Tensor>& inputs) {
  Graph g;
  g.name = spec.graph_name;
  g.opset_imports[""] = spec.opset;
  if (!spec.domain.empty()) g.opset_imports[spec.domain] = 1;
  for (const std::string& domain : spec.imports) g.opset_imports[domain] = 1;
  Node node;
  node.name = spec.node_name;
  node.op_type = spec.op_type;
  node.domain = spec.domain;
  node.attributes = spec.attrs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].empty()) {
      node.inputs.push_back("");
      continue;
    }
    g.inputs.push_back(InputInfo(InputName(i), inputs[i]));
    node.inputs.push_back(InputName(i));
  }
  node.outputs = spec.outputs;
  for (const std::string& name : spec.outputs) {
    if (name.empty()) continue;
    ValueInfo out;
    out.name = name;
    g.outputs.push_back(out);
  }
  g.nodes.push_back(std::move(node));
  return g;
}

NamedTensors InputFeeds(const std::vector<Tensor>& inputs) {
  NamedTensors feeds;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].empty()) feeds.emplace_back(InputName(i), inputs[i]);
  }
  return feeds;
}

absl::StatusOr<std::vector<Tensor>> RunNodeSpec(const NodeSpec& spec,
                                                const std::vector<Tensor>& inputs,
                                                const OpRegistry& registry) {
  auto session = Session::Create(OneNodeGraph(spec, inputs), registry);
  if (!session.ok()) return session.status();
  return (*session)->Run(InputFeeds(inputs));
}

absl::StatusOr<Tensor> RunNodeSpecFirst(const NodeSpec& spec, const std::vector<Tensor>& inputs,
                                        const OpRegistry& registry) {
  auto outputs = RunNodeSpec(spec, inputs, registry);
  if (!outputs.ok()) return outputs.status();
  return outputs->at(0);
}

Graph OneNodeGraph(const std::string& op_type, std::vector<Attribute> attrs,
                   const std::vector<Tensor>& inputs, int64_t opset, const std::string& domain) {
  return OneNodeGraph(NodeSpec{.op_type = op_type,
                               .domain = domain,
                               .attrs = std::move(attrs),
                               .opset = opset,
                               .graph_name = "one_node"},
                      inputs);
}

absl::StatusOr<Tensor> RunOneNode(const std::string& op_type, std::vector<Attribute> attrs,
                                  const std::vector<Tensor>& inputs, int64_t opset,
                                  const std::string& domain) {
  return RunNodeSpecFirst(NodeSpec{.op_type = op_type,
                                   .domain = domain,
                                   .attrs = std::move(attrs),
                                   .opset = opset,
                                   .graph_name = "one_node"},
                          inputs);
}

double ElementAsDouble(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DataType::kFloat32:
      return t.data<float>()[i];
    case DataType::kFloat64:
      return t.data<double>()[i];
    case DataType::kInt8:
      return t.data<int8_t>()[i];
    case DataType::kInt16:
      return t.data<int16_t>()[i];
    case DataType::kInt32:
      return t.data<int32_t>()[i];
    case DataType::kInt64:
      return static_cast<double>(t.data<int64_t>()[i]);
    case DataType::kUInt8:
      return t.data<uint8_t>()[i];
    case DataType::kUInt16:
      return t.data<uint16_t>()[i];
    case DataType::kUInt32:
      return t.data<uint32_t>()[i];
    case DataType::kUInt64:
      return static_cast<double>(t.data<uint64_t>()[i]);
    default:
      return 0;
  }
}

std::vector<double> ToDoubles(const Tensor& t) {
  std::vector<double> v(t.num_elements());
  for (int64_t i = 0; i < t.num_elements(); ++i) v[i] = ElementAsDouble(t, i);
  return v;
}

std::vector<int64_t> Unravel(int64_t linear, const Shape& shape) {
  std::vector<int64_t> index(shape.size());
  for (int i = static_cast<int>(shape.size()) - 1; i >= 0; --i) {
    index[i] = linear % shape[i];
    linear /= shape[i];
  }
  return index;
}

Shape BroadcastShape(const Shape& a, const Shape& b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    out[i] = da == 1 ? db : da;
  }
  return out;
}

int64_t BroadcastSource(const std::vector<int64_t>& index, const Shape& shape) {
  int64_t linear = 0;
  const size_t pad = index.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) {
    linear = linear * shape[i] + (shape[i] == 1 ? 0 : index[pad + i]);
  }
  return linear;
}

}  // namespace onyx::testing_util
