// FusePointwiseDepthwise: Conv/FusedConv 1x1 -> depthwise 3x3 Conv/FusedConv
// -> com.onyx FusedConvDw (MobileNet's inverted-residual expansion + depthwise
// pair). On the CPU the fused op is one oneDNN primitive (1x1 conv with a
// depthwise post-op), which skips writing the expanded intermediate and one
// OpenMP region per pair.
#include <optional>
#include <string>
#include <vector>

#include "runtime/passes/graph_editor.h"
#include "runtime/passes/passes.h"
#include "runtime/passes/pattern_util.h"

namespace onyx::passes {
namespace {

constexpr char kOnyx[] = "com.onyx";

// Conv, or FusedConv without a residual Z (the fused op has no Z input).
bool IsPlainConv(const Node& n) {
  if (IsOnnxOp(n, "Conv")) return true;
  return n.domain == kOnyx && n.op_type == "FusedConv" &&
         (n.inputs.size() < 4 || n.inputs[3].empty());
}

std::vector<int64_t> Ints(const Node& n, const char* name) {
  auto v = n.GetInts(name, {});
  return v.ok() ? *v : std::vector<int64_t>{-1};  // a mistyped attribute never matches
}

bool AllEqual(const std::vector<int64_t>& v, int64_t want, size_t n) {
  if (v.empty()) return true;  // absent: the ONNX default
  if (v.size() != n) return false;
  for (int64_t x : v) {
    if (x != want) return false;
  }
  return true;
}

// No auto_pad (or NOTSET): the explicit pads are what the conv uses.
bool ExplicitPads(const Node& n) {
  auto p = n.GetString("auto_pad", "NOTSET");
  return p.ok() && (*p == "NOTSET" || p->empty());
}

std::optional<Shape> ConstShape(const GraphEditor& e, const std::string& value) {
  const Tensor* t = e.Constant(value);
  if (t == nullptr || t->dtype() != DataType::kFloat32) return std::nullopt;
  return t->shape();
}

// 1x1 stride-1 unpadded undilated one-group 2-D conv with a constant W
// [M, C, 1, 1]; returns M.
std::optional<int64_t> PointwiseChannels(const GraphEditor& e, const Node& n) {
  if (!IsPlainConv(n) || n.inputs.size() < 2 || !ExplicitPads(n)) return std::nullopt;
  auto w = ConstShape(e, n.inputs[1]);
  if (!w || w->size() != 4 || (*w)[2] != 1 || (*w)[3] != 1) return std::nullopt;
  auto group = n.GetInt("group", 1);
  if (!group.ok() || *group != 1) return std::nullopt;
  if (!AllEqual(Ints(n, "kernel_shape"), 1, 2) || !AllEqual(Ints(n, "strides"), 1, 2) ||
      !AllEqual(Ints(n, "dilations"), 1, 2) || !AllEqual(Ints(n, "pads"), 0, 4)) {
    return std::nullopt;
  }
  return (*w)[0];
}

// 3x3 depthwise conv of M channels (group M, W [M, 1, 3, 3]), pads 1,
// undilated, stride 1 or 2 on both axes; returns the stride.
std::optional<int64_t> DepthwiseStride(const GraphEditor& e, const Node& n, int64_t m) {
  if (!IsPlainConv(n) || n.inputs.size() < 2 || !ExplicitPads(n)) return std::nullopt;
  auto w = ConstShape(e, n.inputs[1]);
  if (!w || *w != Shape{m, 1, 3, 3}) return std::nullopt;
  auto group = n.GetInt("group", 1);
  if (!group.ok() || *group != m) return std::nullopt;
  if (!AllEqual(Ints(n, "kernel_shape"), 3, 2) || !AllEqual(Ints(n, "dilations"), 1, 2)) {
    return std::nullopt;
  }
  const std::vector<int64_t> pads = Ints(n, "pads");
  if (pads.empty() || !AllEqual(pads, 1, 4)) return std::nullopt;  // absent pads are 0
  const std::vector<int64_t> strides = Ints(n, "strides");
  for (int64_t s : {1, 2}) {
    if (AllEqual(strides, s, 2) && (s == 1 || !strides.empty())) return s;
  }
  return std::nullopt;
}

// The activation attributes of `from` (activation, activation_params, ...),
// renamed with `prefix`.
void CopyActivation(const Node& from, const std::string& prefix, Node& to) {
  for (const Attribute& a : from.attributes) {
    if (a.name.rfind("activation", 0) != 0) continue;
    Attribute copy = a;
    copy.name = prefix + a.name;
    to.attributes.push_back(std::move(copy));
  }
}

}  // namespace

bool FusePointwiseDepthwise(Graph& graph, const OpRegistry& registry, Device device) {
  if (device != Device::kCpu) return false;
  if (!GraphEditor::HasOp(graph, "Conv") && !GraphEditor::HasOp(graph, "FusedConv", kOnyx)) {
    return false;
  }
  GraphEditor e(graph);
  if (!e.CanEmit(registry, device, kOnyx, "FusedConvDw")) return false;
  bool changed = false;
  for (int i = 0; i < e.num_nodes(); ++i) {
    if (e.removed(i)) continue;
    const Node& pw = e.node(i);
    if (pw.outputs.size() != 1 || e.DTypeOf(pw.inputs[0]) != DataType::kFloat32) continue;
    const std::optional<int64_t> m = PointwiseChannels(e, pw);
    if (!m || !e.HasSingleUse(pw.outputs[0])) continue;
    const int d = e.Consumers(pw.outputs[0])[0];
    const Node& dw = e.node(d);
    if (e.removed(d) || dw.inputs[0] != pw.outputs[0] || dw.outputs.size() != 1) continue;
    const std::optional<int64_t> stride = DepthwiseStride(e, dw, *m);
    if (!stride) continue;
    Node fused;
    fused.name = e.UniqueName(pw.name.empty() ? "pw_dw" : pw.name + "_dw");
    fused.op_type = "FusedConvDw";
    fused.domain = kOnyx;
    fused.inputs = {pw.inputs[0], pw.inputs[1], pw.inputs.size() > 2 ? pw.inputs[2] : "",
                    dw.inputs[1], dw.inputs.size() > 2 ? dw.inputs[2] : ""};
    fused.outputs = {dw.outputs[0]};
    CopyActivation(pw, "", fused);
    CopyActivation(dw, "dw_", fused);
    Attribute s;
    s.name = "dw_stride";
    s.type = AttrType::kInt;
    s.i = *stride;
    fused.attributes.push_back(std::move(s));
    e.ImportOnyxDomain();
    e.RemoveNode(d);
    e.ReplaceNode(i, std::move(fused));
    changed = true;
  }
  e.Commit();
  return changed;
}

}  // namespace onyx::passes
