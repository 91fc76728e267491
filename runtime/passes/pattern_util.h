// Small matching helpers shared by the pattern and fusion passes.
#pragma once

#include <cmath>
#include <string>

#include "runtime/passes/graph_editor.h"

namespace onyx::passes {

inline bool IsOnnxOp(const Node& n, const char* op) {
  return n.domain.empty() && n.op_type == op;
}

// The input of binary node `n` that is not `value` ("" when both are, or neither).
inline std::string OtherInput(const Node& n, const std::string& value) {
  if (n.inputs.size() != 2) return "";
  if (n.inputs[0] == value && n.inputs[1] != value) return n.inputs[1];
  if (n.inputs[1] == value && n.inputs[0] != value) return n.inputs[0];
  return "";
}

// The only reader of `value` when it is ONNX op `op` and `value` has one use.
inline int SingleConsumerOp(const GraphEditor& e, const std::string& value, const char* op) {
  if (!e.HasSingleUse(value)) return -1;
  const int c = e.Consumers(value)[0];
  return IsOnnxOp(e.node(c), op) ? c : -1;
}

// Which input (0 or 1) of binary node `n` is a scalar constant within `tol`
// (relative) of `expected`, or -1.
inline int ConstantOperand(const GraphEditor& e, int n, double expected, double tol) {
  const Node& node = e.node(n);
  if (node.inputs.size() != 2) return -1;
  for (int i = 0; i < 2; ++i) {
    auto v = e.ScalarConstant(node.inputs[i]);
    if (v.has_value() && std::abs(*v - expected) <= tol * std::max(1.0, std::abs(expected))) {
      return i;
    }
  }
  return -1;
}

}  // namespace onyx::passes
