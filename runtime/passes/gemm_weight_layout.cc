// PretransposeGemmWeights: Gemm(A, B, C, transB=1) with a constant float32 B
// reads B^T, stored once as a new initializer, with transB=0. oneDNN's matmul
// takes a transposed B ("ba") by repacking it on every call (nn.Linear exports
// as Gemm with transB=1, so every fully connected layer paid it); a plain B is
// read in place.
#include <string>

#include "runtime/passes/graph_editor.h"
#include "runtime/passes/passes.h"
#include "runtime/passes/pattern_util.h"

namespace onyx::passes {

bool PretransposeGemmWeights(Graph& graph) {
  if (!GraphEditor::HasOp(graph, "Gemm")) return false;
  GraphEditor e(graph);
  bool changed = false;
  for (int i = 0; i < e.num_nodes(); ++i) {
    const Node& gemm = e.node(i);
    if (e.removed(i) || !IsOnnxOp(gemm, "Gemm") || gemm.inputs.size() < 2) continue;
    auto trans_b = gemm.GetInt("transB", 0);
    const Tensor* b = e.Constant(gemm.inputs[1]);
    if (!trans_b.ok() || *trans_b == 0 || b == nullptr || b->rank() != 2 ||
        b->dtype() != DataType::kFloat32 || b->num_elements() == 0) {
      continue;
    }
    const int64_t rows = b->dim(0), cols = b->dim(1);
    auto t = Tensor::Uninitialized(DataType::kFloat32, {cols, rows});
    if (!t.ok()) continue;
    const float* src = b->data<float>();
    float* dst = t->data<float>();
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) dst[c * rows + r] = src[r * cols + c];
    }
    Node plain = gemm;
    plain.inputs[1] = e.AddInitializer(gemm.inputs[1] + "_t", *std::move(t));
    for (Attribute& a : plain.attributes) {
      if (a.name == "transB") a.i = 0;
    }
    e.ReplaceNode(i, std::move(plain));
    changed = true;
  }
  e.Commit();
  return changed;
}

}  // namespace onyx::passes
