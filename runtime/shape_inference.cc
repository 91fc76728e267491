// InferShapes: one forward walk over the graph with each op's ShapeFn.
#include "runtime/shape_inference.h"

#include <deque>
#include <map>

#include "absl/strings/str_format.h"
#include "runtime/graph_order.h"
#include "runtime/kernel.h"
#include "runtime/op_registry.h"
#include "runtime/status_macros.h"

namespace onyx {

ShapeInferenceContext::ShapeInferenceContext(const Node& node, int64_t opset,
                                             std::vector<const TypeInfo*> inputs,
                                             std::vector<const Tensor*> input_values,
                                             std::vector<const SymbolicInts*> input_ints)
    : node_(node),
      opset_(opset),
      inputs_(std::move(inputs)),
      input_values_(std::move(input_values)),
      input_ints_(std::move(input_ints)),
      outputs_(node.outputs.size()),
      output_values_(node.outputs.size()),
      output_ints_(node.outputs.size()) {}

const TypeInfo* ShapeInferenceContext::input(int i) const {
  return i >= 0 && i < num_inputs() ? inputs_[i] : nullptr;
}

const Tensor* ShapeInferenceContext::input_value(int i) const {
  return i >= 0 && i < static_cast<int>(input_values_.size()) ? input_values_[i] : nullptr;
}

const SymbolicInts* ShapeInferenceContext::input_ints(int i) const {
  return i >= 0 && i < static_cast<int>(input_ints_.size()) ? input_ints_[i] : nullptr;
}

void ShapeInferenceContext::SetOutputValue(int i, Tensor value) {
  if (i < 0 || i >= static_cast<int>(outputs_.size())) return;
  output_values_[i] = std::move(value);
}

void ShapeInferenceContext::SetOutputInts(int i, SymbolicInts elements) {
  if (i < 0 || i >= static_cast<int>(outputs_.size())) return;
  output_ints_[i] = std::move(elements);
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

Dim UnknownDim() { return Dim{}; }

std::string DimsToString(const std::vector<Dim>& dims) {
  ValueInfo info;
  info.has_shape = true;
  info.dims = dims;
  return DimsToString(info);
}

std::optional<std::vector<int64_t>> FixedInts(const SymbolicInts* ints) {
  if (ints == nullptr) return std::nullopt;
  std::vector<int64_t> values;
  for (const SymbolicInt& e : *ints) {
    if (!e.fixed) return std::nullopt;
    values.push_back(e.value);
  }
  return values;
}

bool SameDim(const Dim& a, const Dim& b) {
  if (a.is_fixed() || b.is_fixed()) return a.is_fixed() && b.is_fixed() && a.value == b.value;
  return !a.param.empty() && a.param == b.param;
}

SymbolicInt FixedInt(int64_t value) {
  SymbolicInt e;
  e.fixed = true;
  e.value = value;
  return e;
}

SymbolicInt DimToInt(const Dim& dim) {
  if (dim.is_fixed()) return FixedInt(dim.value);
  SymbolicInt e;
  e.param = dim.param;
  return e;
}

Dim IntToDim(const SymbolicInt& element) {
  if (element.fixed) return element.value >= 0 ? FixedDim(element.value) : UnknownDim();
  Dim d;
  d.param = element.param;
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

namespace {

// Folding runs a node's CPU kernel when all its inputs are constants of at
// most this many elements, with outputs capped at kMaxFoldBytes: enough for
// shape arithmetic, never a real computation at load time.
constexpr int64_t kMaxFoldElements = 4096;
constexpr int64_t kMaxFoldBytes = int64_t{64} << 10;

bool IsIndexType(DataType t) { return t == DataType::kInt64 || t == DataType::kInt32; }

std::optional<SymbolicInts> IntsOf(const Tensor& t) {
  if (!IsIndexType(t.dtype()) || t.rank() > 1 || t.num_elements() > kMaxFoldElements) {
    return std::nullopt;
  }
  SymbolicInts out;
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    out.push_back(FixedInt(t.dtype() == DataType::kInt64 ? t.data<int64_t>()[i]
                                                         : t.data<int32_t>()[i]));
  }
  return out;
}

// Fills what inference left unknown from what the model declared.
TypeInfo MergeDeclared(TypeInfo inferred, const TypeInfo* declared) {
  if (declared == nullptr) return inferred;
  if (inferred.dtype == DataType::kUndefined) inferred.dtype = declared->dtype;
  if (!declared->has_shape) return inferred;
  if (!inferred.has_shape) {
    inferred.has_shape = true;
    inferred.dims = declared->dims;
  } else if (inferred.dims.size() == declared->dims.size()) {
    for (size_t d = 0; d < inferred.dims.size(); ++d) {
      Dim& dim = inferred.dims[d];
      const Dim& given = declared->dims[d];
      if (!dim.is_fixed() && (given.is_fixed() || dim.param.empty())) dim = given;
    }
  }
  return inferred;
}

// Ops whose outputs are not a function of their inputs are never folded.
bool Foldable(const Node& node) {
  if (!node.domain.empty()) return false;
  const std::string& op = node.op_type;
  return op.rfind("Random", 0) != 0 && op != "Bernoulli" && op != "Multinomial";
}

// Runs `node`'s CPU kernel on constant inputs; any failure just means "not folded".
std::optional<std::vector<Tensor>> Fold(const Node& node, int64_t opset,
                                        const OpRegistry& registry,
                                        const std::vector<const Tensor*>& values) {
  auto kernel = registry.CreateKernel(node, opset, Device::kCpu);
  if (!kernel.ok()) return std::nullopt;
  std::unique_ptr<bool[]> dies(new bool[values.size() + 1]());
  std::vector<Tensor> outputs(node.outputs.size());
  KernelContext ctx(node, values, absl::MakeConstSpan(dies.get(), values.size()),
                    absl::MakeSpan(outputs), kMaxFoldBytes);
  if (!(*kernel)->Compute(ctx).ok()) return std::nullopt;
  for (size_t o = 0; o < outputs.size(); ++o) {
    if (!node.outputs[o].empty() && outputs[o].empty()) return std::nullopt;
  }
  return outputs;
}

// What InferShapes knows while it walks the graph.
class InferenceState {
 public:
  std::map<std::string, TypeInfo> known;
  std::map<std::string, const TypeInfo*> declared;
  std::map<std::string, const Tensor*> constants;
  std::map<std::string, SymbolicInts> ints;

  void AddConstant(const std::string& name, Tensor value, bool set_type) {
    if (name.empty() || value.empty()) return;
    owned_.push_back(std::move(value));
    const Tensor& t = owned_.back();
    constants[name] = &t;
    if (auto elements = IntsOf(t)) ints[name] = std::move(*elements);
    if (set_type) known[name] = TypeOf(name, t);
  }

  static TypeInfo TypeOf(const std::string& name, const Tensor& t) {
    TypeInfo info;
    info.name = name;
    info.dtype = t.dtype();
    info.has_shape = true;
    for (int64_t d : t.shape()) info.dims.push_back(FixedDim(d));
    return info;
  }

  // Stores a ShapeFn's results for node output `o` named `name`.
  void Record(const ShapeInferenceContext& ctx, size_t o, const std::string& name) {
    if (name.empty()) return;
    if (const auto& out = ctx.outputs()[o]; out.has_value()) {
      auto d = declared.find(name);
      known[name] = MergeDeclared(*out, d == declared.end() ? nullptr : d->second);
    }
    if (const auto& value = ctx.output_values()[o]; value.has_value()) {
      AddConstant(name, *value, !ctx.outputs()[o].has_value());
    } else if (const auto& elements = ctx.output_ints()[o]; elements.has_value()) {
      ints[name] = *elements;
      bool all_fixed = true;
      std::vector<int64_t> fixed;
      for (const SymbolicInt& e : *elements) {
        all_fixed &= e.fixed;
        fixed.push_back(e.value);
      }
      if (!all_fixed) return;
      const auto& type = ctx.outputs()[o];
      const bool scalar = type && type->has_shape && type->dims.empty() && fixed.size() == 1;
      const Shape shape = scalar ? Shape{} : Shape{static_cast<int64_t>(fixed.size())};
      absl::StatusOr<Tensor> t;
      if (type && type->dtype == DataType::kInt32) {
        std::vector<int32_t> narrow(fixed.begin(), fixed.end());
        t = Tensor::FromVector<int32_t>(shape, narrow);
      } else {
        t = Tensor::FromVector<int64_t>(shape, fixed);
      }
      if (t.ok()) AddConstant(name, *std::move(t), !type.has_value());
    }
  }

 private:
  std::deque<Tensor> owned_;  // folded values (deque: pointers stay valid)
};

}  // namespace

absl::Status InferShapes(Graph& graph, const OpRegistry& registry) {
  InferenceState state;
  for (const ValueInfo& v : graph.inputs) state.known[v.name] = v;
  for (const ValueInfo& v : graph.value_info) {
    state.known[v.name] = v;
    state.declared[v.name] = &v;
  }
  for (const ValueInfo& v : graph.outputs) {
    if (!state.declared.contains(v.name)) state.declared[v.name] = &v;
  }
  for (const auto& [name, tensor] : graph.initializers) {
    state.known[name] = InferenceState::TypeOf(name, tensor);
    state.constants[name] = &tensor;
    if (auto elements = IntsOf(tensor)) state.ints[name] = std::move(*elements);
  }
  ONYX_ASSIGN_OR_RETURN(std::vector<int> order, TopologicalOrder(graph));
  absl::Status failure;
  for (int index : order) {
    const Node& node = graph.nodes[index];
    const int64_t opset = graph.OpsetFor(node.domain);
    std::vector<const TypeInfo*> inputs;
    std::vector<const Tensor*> values;
    std::vector<const SymbolicInts*> ints;
    bool all_constant = true;
    for (const std::string& name : node.inputs) {
      auto it = state.known.find(name);
      inputs.push_back(name.empty() || it == state.known.end() ? nullptr : &it->second);
      auto c = state.constants.find(name);
      const Tensor* value = name.empty() || c == state.constants.end() ? nullptr : c->second;
      values.push_back(value);
      all_constant &= name.empty() || (value != nullptr && value->num_elements() <= kMaxFoldElements);
      auto e = state.ints.find(name);
      ints.push_back(name.empty() || e == state.ints.end() ? nullptr : &e->second);
    }
    ShapeInferenceContext ctx(node, opset, std::move(inputs), values, std::move(ints));
    if (const ShapeFn* fn = registry.FindShapeFn(node.domain, node.op_type); fn != nullptr) {
      absl::Status status = (*fn)(ctx);
      if (!status.ok()) {
        const std::string prefix = node.Describe();
        std::string message(status.message());
        if (message.rfind(prefix, 0) != 0) message = prefix + ": " + message;
        failure = absl::Status(status.code(), message);
        break;
      }
    }
    bool any_value = false;
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      state.Record(ctx, o, node.outputs[o]);
      any_value |= state.constants.contains(node.outputs[o]);
    }
    if (any_value || !all_constant || opset < 0 || !Foldable(node)) continue;
    if (auto folded = Fold(node, opset, registry, values)) {
      // The kernel's result is the truth: it also fixes the type.
      for (size_t o = 0; o < folded->size(); ++o) {
        state.AddConstant(node.outputs[o], std::move((*folded)[o]), true);
      }
    }
  }
  // Store what was learned for every non-input value (also on failure: `onyx
  // info` shows the values up to the node that failed).
  std::map<std::string, size_t> existing;
  for (size_t i = 0; i < graph.value_info.size(); ++i) existing[graph.value_info[i].name] = i;
  for (const Node& node : graph.nodes) {
    for (const std::string& name : node.outputs) {
      auto it = state.known.find(name);
      if (name.empty() || it == state.known.end()) continue;
      auto e = existing.find(name);
      if (e == existing.end()) {
        existing[name] = graph.value_info.size();
        graph.value_info.push_back(it->second);
      } else {
        graph.value_info[e->second] = it->second;
      }
    }
  }
  return failure;
}

}  // namespace onyx
