// GraphEditor: producer/consumer index of a graph and the edits passes make.
#include "runtime/passes/graph_editor.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"

namespace onyx::passes {
namespace {

// Ops whose output 0 has the dtype of their input 0 (used when a value has no
// recorded type, before shape inference knows every op).
const std::set<std::string>& DTypePreservingOps() {
  static const auto* ops = new std::set<std::string>{
      "Add", "Sub", "Mul", "Div", "Pow", "MatMul", "Gemm", "Conv", "ConvTranspose", "Relu",
      "LeakyRelu", "Sigmoid", "Tanh", "Elu", "Selu", "Celu", "Gelu", "Mish", "Swish",
      "HardSwish", "HardSigmoid", "Softplus", "Clip", "Erf", "Sqrt", "Exp", "Log", "Neg",
      "Abs", "Reciprocal", "BatchNormalization", "LayerNormalization", "Identity", "Dropout",
      "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "MaxPool", "AveragePool",
      "GlobalAveragePool", "GlobalMaxPool", "Softmax", "LogSoftmax", "ReduceMean", "ReduceSum",
      "Concat", "Slice", "Pad", "Expand", "Tile", "FusedConv", "FusedMatMul", "FusedGemm"};
  return *ops;
}

ValueInfo InfoOf(const std::string& name, const Tensor& t) {
  ValueInfo info;
  info.name = name;
  info.dtype = t.dtype();
  info.has_shape = true;
  for (int64_t d : t.shape()) {
    Dim dim;
    dim.value = d;
    info.dims.push_back(dim);
  }
  return info;
}

}  // namespace

GraphEditor::GraphEditor(Graph& graph) : graph_(graph), removed_(graph.nodes.size(), false) {
  for (const ValueInfo& v : graph_.outputs) outputs_.insert(v.name);
  for (const ValueInfo& v : graph_.inputs) types_[v.name] = v;
  for (const ValueInfo& v : graph_.value_info) types_[v.name] = v;
  for (const auto& [name, t] : graph_.initializers) {
    types_[name] = InfoOf(name, t);
    names_.insert(name);
  }
  for (const ValueInfo& v : graph_.inputs) names_.insert(v.name);
  for (int i = 0; i < num_nodes(); ++i) {
    names_.insert(graph_.nodes[i].name);
    Index(i);
  }
}

void GraphEditor::Index(int index) {
  const Node& n = graph_.nodes[index];
  for (const std::string& in : n.inputs) {
    if (!in.empty()) consumers_[in].push_back(index);
  }
  for (const std::string& out : n.outputs) {
    if (out.empty()) continue;
    producer_[out] = index;
    names_.insert(out);
  }
}

void GraphEditor::Unindex(int index) {
  const Node& n = graph_.nodes[index];
  for (const std::string& in : n.inputs) {
    if (in.empty()) continue;
    auto& list = consumers_[in];
    auto it = std::find(list.begin(), list.end(), index);
    if (it != list.end()) list.erase(it);
  }
  for (const std::string& out : n.outputs) {
    auto it = producer_.find(out);
    if (!out.empty() && it != producer_.end() && it->second == index) producer_.erase(it);
  }
}

int GraphEditor::Producer(const std::string& value) const {
  auto it = producer_.find(value);
  return it == producer_.end() ? -1 : it->second;
}

const std::vector<int>& GraphEditor::Consumers(const std::string& value) const {
  static const std::vector<int> kNone;
  auto it = consumers_.find(value);
  return it == consumers_.end() ? kNone : it->second;
}

bool GraphEditor::HasSingleUse(const std::string& value) const {
  return !value.empty() && Consumers(value).size() == 1 && !IsGraphOutput(value);
}

int GraphEditor::ProducerOp(const std::string& value, const std::string& op_type,
                            const std::string& domain) const {
  const int p = Producer(value);
  if (p < 0) return -1;
  const Node& n = graph_.nodes[p];
  return n.op_type == op_type && n.domain == domain ? p : -1;
}

const Tensor* GraphEditor::Constant(const std::string& value) const {
  auto it = graph_.initializers.find(value);
  if (it != graph_.initializers.end()) return &it->second;
  const int p = ProducerOp(value, "Constant");
  if (p < 0) return nullptr;
  const Attribute* a = graph_.nodes[p].FindAttribute("value");
  return a != nullptr && a->type == AttrType::kTensor ? &a->t : nullptr;
}

std::optional<double> GraphEditor::ScalarConstant(const std::string& value) const {
  const Tensor* t = Constant(value);
  if (t == nullptr || t->num_elements() != 1 || t->rank() > 1) return std::nullopt;
  if (t->dtype() == DataType::kFloat32) return t->data<float>()[0];
  if (t->dtype() == DataType::kFloat64) return t->data<double>()[0];
  return std::nullopt;
}

const ValueInfo* GraphEditor::TypeOf(const std::string& value) const {
  auto it = types_.find(value);
  return it == types_.end() ? nullptr : &it->second;
}

DataType GraphEditor::DTypeOf(const std::string& value) const {
  std::vector<std::string> walked;
  std::string current = value;
  DataType found = DataType::kUndefined;
  while (!current.empty()) {
    auto memo = dtype_memo_.find(current);
    if (memo != dtype_memo_.end()) {
      found = memo->second;
      break;
    }
    walked.push_back(current);
    const ValueInfo* info = TypeOf(current);
    if (info != nullptr && info->dtype != DataType::kUndefined) {
      found = info->dtype;
      break;
    }
    if (const Tensor* t = Constant(current)) {
      found = t->dtype();
      break;
    }
    const int p = Producer(current);
    if (p < 0) break;
    const Node& n = graph_.nodes[p];
    const bool onyx_fused = n.domain == "com.onyx" && n.op_type.rfind("Fused", 0) == 0;
    if ((!n.domain.empty() && !onyx_fused) || !DTypePreservingOps().contains(n.op_type) ||
        n.inputs.empty() || walked.size() > graph_.nodes.size()) {
      break;
    }
    current = n.inputs[0];
  }
  for (const std::string& v : walked) dtype_memo_[v] = found;
  return found;
}

std::optional<Shape> GraphEditor::StaticShape(const std::string& value) const {
  if (const Tensor* t = Constant(value)) return t->shape();
  const ValueInfo* info = TypeOf(value);
  if (info == nullptr || !info->has_shape) return std::nullopt;
  Shape shape;
  for (const Dim& d : info->dims) {
    if (!d.is_fixed()) return std::nullopt;
    shape.push_back(d.value);
  }
  return shape;
}

bool GraphEditor::SameShape(const std::string& a, const std::string& b) const {
  if (auto sa = StaticShape(a), sb = StaticShape(b); sa.has_value() && sb.has_value()) {
    return *sa == *sb;
  }
  const ValueInfo* ia = TypeOf(a);
  const ValueInfo* ib = TypeOf(b);
  if (ia == nullptr || ib == nullptr || !ia->has_shape || !ib->has_shape ||
      ia->dims.size() != ib->dims.size()) {
    return false;
  }
  for (size_t i = 0; i < ia->dims.size(); ++i) {
    const Dim& da = ia->dims[i];
    const Dim& db = ib->dims[i];
    if (da.is_fixed() != db.is_fixed()) return false;
    if (da.is_fixed() ? da.value != db.value : da.param.empty() || da.param != db.param) {
      return false;
    }
  }
  return true;
}

std::string GraphEditor::UniqueName(const std::string& base) {
  std::string name = base;
  while (names_.contains(name)) name = absl::StrCat(base, "_", ++next_id_);
  names_.insert(name);
  return name;
}

std::string GraphEditor::AddInitializer(const std::string& base, Tensor tensor) {
  const std::string name = UniqueName(base);
  types_[name] = InfoOf(name, tensor);
  graph_.initializers[name] = std::move(tensor);
  return name;
}

void GraphEditor::ReplaceNode(int index, Node node) {
  Unindex(index);
  names_.insert(node.name);
  graph_.nodes[index] = std::move(node);
  removed_[index] = false;
  Index(index);
}

void GraphEditor::AddNode(Node node) {
  names_.insert(node.name);
  graph_.nodes.push_back(std::move(node));
  removed_.push_back(false);
  Index(num_nodes() - 1);
}

void GraphEditor::RemoveNode(int index) {
  if (removed_[index]) return;
  Unindex(index);
  removed_[index] = true;
}

void GraphEditor::ReplaceUses(const std::string& from, const std::string& to) {
  auto it = consumers_.find(from);
  if (it == consumers_.end()) return;
  std::vector<int> readers = it->second;
  std::sort(readers.begin(), readers.end());
  readers.erase(std::unique(readers.begin(), readers.end()), readers.end());
  for (int r : readers) {
    Node copy = graph_.nodes[r];
    for (std::string& in : copy.inputs) {
      if (in == from) in = to;
    }
    ReplaceNode(r, std::move(copy));
  }
}

void GraphEditor::RenameOutput(int index, int slot, const std::string& to) {
  const std::string from = graph_.nodes[index].outputs[slot];
  ReplaceUses(from, to);
  Node copy = graph_.nodes[index];
  copy.outputs[slot] = to;
  ReplaceNode(index, std::move(copy));
  auto type = types_.find(from);
  if (type != types_.end() && !types_.contains(to)) {
    ValueInfo info = type->second;
    info.name = to;
    types_[to] = std::move(info);
  }
}

bool GraphEditor::CanEmit(const OpRegistry& registry, Device device, const std::string& domain,
                          const std::string& op_type) const {
  int64_t opset = graph_.OpsetFor(domain);
  if (opset < 0) opset = 1;
  return registry.Find(domain, op_type, opset, device).ok();
}

void GraphEditor::ImportOnyxDomain() {
  if (!graph_.opset_imports.contains("com.onyx")) graph_.opset_imports["com.onyx"] = 1;
}

bool GraphEditor::HasOp(const Graph& graph, const std::string& op_type,
                        const std::string& domain) {
  for (const Node& n : graph.nodes) {
    if (n.op_type == op_type && n.domain == domain) return true;
  }
  return false;
}

void GraphEditor::Commit() {
  if (std::none_of(removed_.begin(), removed_.end(), [](bool r) { return r; })) return;
  std::vector<Node> kept;
  kept.reserve(graph_.nodes.size());
  for (size_t i = 0; i < graph_.nodes.size(); ++i) {
    if (!removed_[i]) kept.push_back(std::move(graph_.nodes[i]));
  }
  graph_.nodes = std::move(kept);
  removed_.assign(graph_.nodes.size(), false);
  producer_.clear();
  consumers_.clear();
  for (int i = 0; i < num_nodes(); ++i) Index(i);
}

}  // namespace onyx::passes
