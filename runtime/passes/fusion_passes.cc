// Producer-consumer fusions into com.onyx ops whose kernels run the extra work
// as oneDNN post-ops: MatMul + bias, Conv + residual Add, and an activation
// after Conv / MatMul / Gemm.
#include <limits>
#include <optional>
#include <string>

#include "runtime/passes/graph_editor.h"
#include "runtime/passes/passes.h"
#include "runtime/passes/pattern_util.h"

namespace onyx::passes {
namespace {

constexpr char kOnyx[] = "com.onyx";

Attribute StringAttr(const char* name, std::string value) {
  Attribute a;
  a.name = name;
  a.type = AttrType::kString;
  a.s = std::move(value);
  return a;
}
Attribute FloatAttr(const char* name, float value) {
  Attribute a;
  a.name = name;
  a.type = AttrType::kFloat;
  a.f = value;
  return a;
}

struct Activation {
  explicit Activation(std::string n, std::optional<float> a = std::nullopt,
                      std::optional<float> b = std::nullopt)
      : name(std::move(n)), alpha(a), beta(b) {}
  std::string name;  // the FusedConv/FusedMatMul/FusedGemm "activation" value
  std::optional<float> alpha, beta;
};

// The fusable activation node `n` is, with its parameters; nullopt otherwise.
std::optional<Activation> ActivationOf(const GraphEditor& e, const Node& n) {
  if ((!n.domain.empty() && n.domain != kOnyx) || n.inputs.empty() || n.outputs.size() != 1) {
    return std::nullopt;
  }
  const std::string& op = n.op_type;
  auto attr = [&](const char* name, float def) -> std::optional<float> {
    auto v = n.GetFloat(name, def);
    return v.ok() ? std::optional<float>(*v) : std::nullopt;
  };
  if (n.domain == kOnyx && op != "Gelu" && op != "Swish" && op != "Mish") return std::nullopt;
  if (op == "Relu" || op == "Sigmoid" || op == "Tanh" || op == "Mish" || op == "HardSwish") {
    return Activation{op};
  }
  if (op == "LeakyRelu" || op == "Elu" || op == "Swish") {
    auto alpha = attr("alpha", op == "LeakyRelu" ? 0.01f : 1.f);
    if (!alpha.has_value()) return std::nullopt;
    return Activation{op, alpha};
  }
  if (op == "Gelu") {
    auto approx = n.GetString("approximate", "none");
    if (!approx.ok() || (*approx != "none" && *approx != "tanh")) return std::nullopt;
    return Activation{*approx == "tanh" ? "GeluTanh" : "Gelu"};
  }
  if (op == "Clip") {
    float lo = std::numeric_limits<float>::lowest(), hi = std::numeric_limits<float>::max();
    if (e.graph().OpsetFor(kOnnxDomain) < 11) {
      auto min = attr("min", lo), max = attr("max", hi);
      if (!min.has_value() || !max.has_value()) return std::nullopt;
      lo = *min;
      hi = *max;
    } else {
      for (int i = 1; i < 3; ++i) {
        if (static_cast<int>(n.inputs.size()) <= i || n.inputs[i].empty()) continue;
        const Tensor* t = e.Constant(n.inputs[i]);
        if (t == nullptr || t->dtype() != DataType::kFloat32 || t->num_elements() != 1) {
          return std::nullopt;
        }
        (i == 1 ? lo : hi) = t->data<float>()[0];
      }
    }
    if (!(lo <= hi)) return std::nullopt;  // left to Clip's own semantics
    return Activation{"Clip", lo, hi};
  }
  return std::nullopt;
}

bool HasAttr(const Node& n, const char* name) { return n.FindAttribute(name) != nullptr; }

// The producer of `value` when it is a fusion target the activation can join:
// ONNX Conv/MatMul/Gemm or a com.onyx Fused* op without an activation yet.
int FusionTarget(const GraphEditor& e, const std::string& value) {
  if (!e.HasSingleUse(value)) return -1;
  const int p = e.Producer(value);
  if (p < 0 || e.node(p).outputs.size() != 1) return -1;
  const Node& n = e.node(p);
  if (n.domain.empty()) {
    return n.op_type == "Conv" || n.op_type == "MatMul" || n.op_type == "Gemm" ? p : -1;
  }
  const bool fused = n.op_type == "FusedConv" || n.op_type == "FusedMatMul" ||
                     n.op_type == "FusedGemm";
  return n.domain == kOnyx && fused && !HasAttr(n, "activation") ? p : -1;
}

// The com.onyx op the target becomes, or "" when there is no kernel for it or
// its dtype is not float32.
std::string FusedOpFor(const GraphEditor& e, const OpRegistry& registry, Device device,
                       const Node& target) {
  std::string op = target.domain.empty() ? "Fused" + target.op_type : target.op_type;
  if (!e.CanEmit(registry, device, kOnyx, op)) return "";
  if (e.DTypeOf(target.inputs[0]) != DataType::kFloat32) return "";
  return op;
}

}  // namespace

bool FuseMatMulBias(Graph& graph, const OpRegistry& registry, Device device) {
  if (!GraphEditor::HasOp(graph, "MatMul")) return false;
  GraphEditor e(graph);
  if (!e.CanEmit(registry, device, kOnyx, "FusedMatMul")) return false;
  bool changed = false;
  for (int i = 0; i < e.num_nodes(); ++i) {
    const Node& mm = e.node(i);
    if (e.removed(i) || !IsOnnxOp(mm, "MatMul") || mm.inputs.size() != 2) continue;
    const int add = SingleConsumerOp(e, mm.outputs[0], "Add");
    if (add < 0) continue;
    const std::string bias_name = OtherInput(e.node(add), mm.outputs[0]);
    const Tensor* bias = e.Constant(bias_name);
    const std::optional<Shape> b_shape = e.StaticShape(mm.inputs[1]);
    const ValueInfo* a_type = e.TypeOf(mm.inputs[0]);
    if (bias == nullptr || bias->dtype() != DataType::kFloat32 || bias->rank() == 0 ||
        !b_shape.has_value() || b_shape->size() < 2 ||
        e.DTypeOf(mm.inputs[0]) != DataType::kFloat32) {
      continue;
    }
    // The bias must add one value per output column and not raise the rank.
    const int64_t n = b_shape->back();
    size_t out_rank = b_shape->size();
    if (a_type != nullptr && a_type->has_shape) out_rank = std::max(out_rank, a_type->dims.size());
    if (bias->shape().back() != n || bias->num_elements() != n ||
        static_cast<size_t>(bias->rank()) > out_rank) {
      continue;
    }
    std::string bias_input = bias_name;
    if (bias->rank() != 1) {
      auto flat = bias->Reshaped({n});
      if (!flat.ok()) continue;
      bias_input = e.AddInitializer(bias_name + "_flat", *std::move(flat));
    }
    Node fused;
    fused.op_type = "FusedMatMul";
    fused.domain = kOnyx;
    fused.name = e.UniqueName(mm.name + "_bias");
    fused.inputs = {mm.inputs[0], mm.inputs[1], bias_input};
    fused.outputs = {e.node(add).outputs[0]};
    e.ImportOnyxDomain();
    e.RemoveNode(i);
    e.ReplaceNode(add, std::move(fused));
    changed = true;
  }
  e.Commit();
  return changed;
}

bool FuseActivations(Graph& graph, const OpRegistry& registry, Device device) {
  GraphEditor e(graph);
  bool changed = false;
  // Conv + Add(Z) -> FusedConv(X, W, B, Z) when Z has the conv output's shape
  // (the residual is summed in place, so it cannot broadcast).
  if (e.CanEmit(registry, device, kOnyx, "FusedConv")) {
    for (int i = 0; i < e.num_nodes(); ++i) {
      const Node& add = e.node(i);
      if (e.removed(i) || !IsOnnxOp(add, "Add") || add.inputs.size() != 2) continue;
      for (int side = 0; side < 2; ++side) {
        const int conv = FusionTarget(e, add.inputs[side]);
        if (conv < 0) continue;
        const Node& c = e.node(conv);
        if (!(IsOnnxOp(c, "Conv") || (c.op_type == "FusedConv" && c.inputs.size() < 4))) continue;
        const std::string& z = add.inputs[1 - side];
        // Symbolic dims count as equal when named alike (a dynamic batch).
        if (!e.SameShape(add.inputs[side], z) || e.DTypeOf(z) != DataType::kFloat32 ||
            FusedOpFor(e, registry, device, c).empty()) {
          continue;
        }
        Node fused = c;
        fused.op_type = "FusedConv";
        fused.domain = kOnyx;
        fused.inputs.resize(3);  // "" marks an omitted bias
        fused.inputs.push_back(z);
        fused.outputs = {add.outputs[0]};
        e.ImportOnyxDomain();
        e.RemoveNode(i);
        e.ReplaceNode(conv, std::move(fused));
        changed = true;
        break;
      }
    }
  }
  for (int i = 0; i < e.num_nodes(); ++i) {
    if (e.removed(i)) continue;
    std::optional<Activation> act = ActivationOf(e, e.node(i));
    if (!act.has_value()) continue;
    const int target = FusionTarget(e, e.node(i).inputs[0]);
    if (target < 0) continue;
    const std::string op = FusedOpFor(e, registry, device, e.node(target));
    if (op.empty()) continue;
    Node fused = e.node(target);
    if (fused.domain.empty()) fused.name = e.UniqueName(fused.name + "_" + act->name);
    fused.op_type = op;
    fused.domain = kOnyx;
    fused.attributes.push_back(StringAttr("activation", act->name));
    if (act->alpha.has_value()) fused.attributes.push_back(FloatAttr("activation_alpha", *act->alpha));
    if (act->beta.has_value()) fused.attributes.push_back(FloatAttr("activation_beta", *act->beta));
    fused.outputs = {e.node(i).outputs[0]};
    e.ImportOnyxDomain();
    e.RemoveNode(i);
    e.ReplaceNode(target, std::move(fused));
    changed = true;
  }
  e.Commit();
  return changed;
}

}  // namespace onyx::passes
