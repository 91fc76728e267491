// BatchNormalization folding (inference): y = s * (x - mean) + bias with
// s = scale / sqrt(var + eps) is affine per channel, so a Conv or Gemm feeding
// it can absorb it: W'[c] = s[c] * W[c], b'[c] = s[c] * (b[c] - mean[c]) + bias[c].
#include <cmath>
#include <optional>
#include <vector>

#include "runtime/passes/graph_editor.h"
#include "runtime/passes/passes.h"

namespace onyx::passes {
namespace {

// Per-channel factors of an inference-mode BN with constant float32 parameters.
struct BnAffine {
  std::vector<double> s, shift;  // y = s * x + shift
};

std::optional<BnAffine> ReadBn(const GraphEditor& editor, const Node& bn) {
  if (bn.inputs.size() != 5 || bn.outputs.empty()) return std::nullopt;
  for (size_t o = 1; o < bn.outputs.size(); ++o) {
    if (!bn.outputs[o].empty()) return std::nullopt;  // training-mode outputs wanted
  }
  auto training = bn.GetInt("training_mode", 0);
  auto spatial = bn.GetInt("spatial", 1);
  auto eps = bn.GetFloat("epsilon", 1e-5f);
  if (!training.ok() || *training != 0 || !spatial.ok() || *spatial != 1 || !eps.ok()) {
    return std::nullopt;
  }
  const Tensor* p[4];
  for (int i = 0; i < 4; ++i) {
    p[i] = editor.Constant(bn.inputs[i + 1]);
    if (p[i] == nullptr || p[i]->dtype() != DataType::kFloat32 || p[i]->rank() != 1 ||
        p[i]->num_elements() != p[0]->num_elements()) {
      return std::nullopt;
    }
  }
  BnAffine a;
  const int64_t c = p[0]->num_elements();
  a.s.resize(c);
  a.shift.resize(c);
  for (int64_t k = 0; k < c; ++k) {
    const double scale = p[0]->data<float>()[k], bias = p[1]->data<float>()[k];
    const double mean = p[2]->data<float>()[k], var = p[3]->data<float>()[k];
    a.s[k] = scale / std::sqrt(var + double{*eps});
    a.shift[k] = bias - a.s[k] * mean;
  }
  return a;
}

// Conv(X, W[, B]) -> BN: W scaled per output channel, new bias.
bool FoldIntoConv(GraphEditor& editor, int conv, int bn, const BnAffine& a) {
  const Node& c = editor.node(conv);
  if (c.inputs.size() < 2) return false;
  const Tensor* w = editor.Constant(c.inputs[1]);
  const Tensor* b = c.inputs.size() > 2 && !c.inputs[2].empty() ? editor.Constant(c.inputs[2])
                                                                 : nullptr;
  const bool has_b = c.inputs.size() > 2 && !c.inputs[2].empty();
  const int64_t m = static_cast<int64_t>(a.s.size());
  if (w == nullptr || w->dtype() != DataType::kFloat32 || w->rank() < 3 || w->dim(0) != m ||
      (has_b && (b == nullptr || b->dtype() != DataType::kFloat32 || b->num_elements() != m))) {
    return false;
  }
  auto w_new = Tensor::Uninitialized(DataType::kFloat32, w->shape());
  auto b_new = Tensor::Uninitialized(DataType::kFloat32, {m});
  if (!w_new.ok() || !b_new.ok()) return false;
  const int64_t per = w->num_elements() / std::max<int64_t>(m, 1);
  for (int64_t k = 0; k < m; ++k) {
    for (int64_t j = 0; j < per; ++j) {
      w_new->data<float>()[k * per + j] =
          static_cast<float>(a.s[k] * w->data<float>()[k * per + j]);
    }
    const double bias = has_b ? b->data<float>()[k] : 0.0;
    b_new->data<float>()[k] = static_cast<float>(a.s[k] * bias + a.shift[k]);
  }
  Node fused = c;
  fused.inputs.resize(3);
  fused.inputs[1] = editor.AddInitializer(c.inputs[1] + "_bn_folded", *std::move(w_new));
  fused.inputs[2] = editor.AddInitializer(
      (has_b ? c.inputs[2] : c.name + "_bias") + "_bn_folded", *std::move(b_new));
  fused.outputs = {editor.node(bn).outputs[0]};
  editor.RemoveNode(bn);
  editor.ReplaceNode(conv, std::move(fused));
  return true;
}

// Gemm(A, B[, C]) -> BN over columns: Y = alpha A'B' + beta C, so B' column n
// scales by s[n] and C becomes s * beta * C + shift (a [N] vector, beta 1).
bool FoldIntoGemm(GraphEditor& editor, int gemm, int bn, const BnAffine& a) {
  const Node& g = editor.node(gemm);
  const Tensor* w = g.inputs.size() > 1 ? editor.Constant(g.inputs[1]) : nullptr;
  const bool has_c = g.inputs.size() > 2 && !g.inputs[2].empty();
  const Tensor* c = has_c ? editor.Constant(g.inputs[2]) : nullptr;
  auto trans_b = g.GetInt("transB", 0);
  auto beta = g.GetFloat("beta", 1.f);
  const int64_t n = static_cast<int64_t>(a.s.size());
  if (w == nullptr || w->dtype() != DataType::kFloat32 || w->rank() != 2 || !trans_b.ok() ||
      !beta.ok() || w->dim(*trans_b ? 0 : 1) != n) {
    return false;
  }
  // C must be constant and broadcast along rows only: scalar, [N] or [1, N].
  if (has_c && (c == nullptr || c->dtype() != DataType::kFloat32 ||
                !(c->num_elements() == 1 || (c->num_elements() == n && c->dim(c->rank() - 1) == n &&
                                             c->rank() <= 2)))) {
    return false;
  }
  auto w_new = Tensor::Uninitialized(DataType::kFloat32, w->shape());
  auto c_new = Tensor::Uninitialized(DataType::kFloat32, {n});
  if (!w_new.ok() || !c_new.ok()) return false;
  const int64_t rows = w->dim(0), cols = w->dim(1);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t k = 0; k < cols; ++k) {
      const double s = a.s[*trans_b ? r : k];
      w_new->data<float>()[r * cols + k] = static_cast<float>(s * w->data<float>()[r * cols + k]);
    }
  }
  for (int64_t k = 0; k < n; ++k) {
    const double cv = has_c ? c->data<float>()[c->num_elements() == 1 ? 0 : k] : 0.0;
    c_new->data<float>()[k] = static_cast<float>(a.s[k] * double{*beta} * cv + a.shift[k]);
  }
  Node fused = g;
  fused.inputs.resize(3);
  fused.inputs[1] = editor.AddInitializer(g.inputs[1] + "_bn_folded", *std::move(w_new));
  fused.inputs[2] = editor.AddInitializer(
      (has_c ? g.inputs[2] : g.name + "_bias") + "_bn_folded", *std::move(c_new));
  std::erase_if(fused.attributes, [](const Attribute& at) { return at.name == "beta"; });
  fused.outputs = {editor.node(bn).outputs[0]};
  editor.RemoveNode(bn);
  editor.ReplaceNode(gemm, std::move(fused));
  return true;
}

}  // namespace

bool FoldBatchNormalization(Graph& graph) {
  if (!GraphEditor::HasOp(graph, "BatchNormalization")) return false;
  GraphEditor editor(graph);
  bool changed = false;
  for (int i = 0; i < editor.num_nodes(); ++i) {
    const Node& bn = editor.node(i);
    if (editor.removed(i) || bn.op_type != "BatchNormalization" || !bn.domain.empty() ||
        bn.inputs.empty() || !editor.HasSingleUse(bn.inputs[0])) {
      continue;
    }
    const int p = editor.Producer(bn.inputs[0]);
    if (p < 0 || !editor.node(p).domain.empty() || editor.node(p).outputs.size() != 1) continue;
    std::optional<BnAffine> a = ReadBn(editor, bn);
    if (!a.has_value()) continue;
    if (editor.node(p).op_type == "Conv") {
      changed |= FoldIntoConv(editor, p, i, *a);
    } else if (editor.node(p).op_type == "Gemm") {
      changed |= FoldIntoGemm(editor, p, i, *a);
    }
  }
  editor.Commit();
  return changed;
}

}  // namespace onyx::passes
