// Test helper for the pool and norm families: runs one ONNX node (any number
// of outputs, "" omits one) through a Session with the default registry.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "ops/register_all.h"
#include "runtime/session.h"
#include "runtime/status_macros.h"

namespace onyx::pooltest {

inline Attribute Ints(std::string name, std::vector<int64_t> v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kInts;
  a.ints = std::move(v);
  return a;
}
inline Attribute Int(std::string name, int64_t v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kInt;
  a.i = v;
  return a;
}
inline Attribute Float(std::string name, float v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kFloat;
  a.f = v;
  return a;
}
inline Attribute String(std::string name, std::string v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kString;
  a.s = std::move(v);
  return a;
}

// Node "n0" = op(x0, x1, ...) -> outputs; inputs declared with their fixed shapes.
inline Graph NodeGraph(const std::string& op, std::vector<Attribute> attrs,
                       const std::vector<Tensor>& inputs, int64_t opset,
                       std::vector<std::string> outputs, const std::string& domain = "") {
  Graph g;
  g.opset_imports[""] = opset;
  if (!domain.empty()) g.opset_imports[domain] = 1;
  Node node;
  node.name = "n0";
  node.op_type = op;
  node.domain = domain;
  node.attributes = std::move(attrs);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].empty()) {
      node.inputs.push_back("");
      continue;
    }
    ValueInfo info;
    info.name = "x" + std::to_string(i);
    info.dtype = inputs[i].dtype();
    info.has_shape = true;
    for (int64_t d : inputs[i].shape()) info.dims.push_back(Dim{d, ""});
    g.inputs.push_back(info);
    node.inputs.push_back(info.name);
  }
  node.outputs = outputs;
  for (const std::string& o : outputs) {
    if (o.empty()) continue;
    ValueInfo info;
    info.name = o;
    g.outputs.push_back(info);
  }
  g.nodes.push_back(std::move(node));
  return g;
}

inline absl::StatusOr<std::vector<Tensor>> RunNode(const std::string& op,
                                                   std::vector<Attribute> attrs,
                                                   const std::vector<Tensor>& inputs, int64_t opset,
                                                   std::vector<std::string> outputs = {"y"},
                                                   const std::string& domain = "") {
  ONYX_ASSIGN_OR_RETURN(auto session, Session::Create(NodeGraph(op, std::move(attrs), inputs, opset,
                                                                std::move(outputs), domain),
                                                      DefaultRegistry()));
  NamedTensors feeds;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].empty()) feeds.emplace_back("x" + std::to_string(i), inputs[i]);
  }
  return session->Run(feeds);
}

}  // namespace onyx::pooltest
