// Test helper: runs a single ONNX node through a Session with the default registry.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "ops/register_all.h"
#include "runtime/graph.h"
#include "runtime/session.h"

namespace onyx::testing_util {

inline Attribute FloatAttr(std::string name, float v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kFloat;
  a.f = v;
  return a;
}
inline Attribute IntAttr(std::string name, int64_t v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kInt;
  a.i = v;
  return a;
}
inline Attribute StringAttr(std::string name, std::string v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kString;
  a.s = std::move(v);
  return a;
}

// A graph with one node `op_type` named "n0", inputs "x0", "x1", ... and output "y".
// `domain` other than ONNX's is imported at version 1 besides ONNX at `opset`.
inline Graph OneNodeGraph(const std::string& op_type, std::vector<Attribute> attrs,
                          const std::vector<Tensor>& inputs, int64_t opset,
                          const std::string& domain = "") {
  Graph g;
  g.name = "one_node";
  g.opset_imports[""] = opset;
  if (!domain.empty()) g.opset_imports[domain] = 1;
  Node node;
  node.domain = domain;
  node.name = "n0";
  node.op_type = op_type;
  node.attributes = std::move(attrs);
  for (size_t i = 0; i < inputs.size(); ++i) {
    ValueInfo info;
    info.name = "x" + std::to_string(i);
    info.dtype = inputs[i].dtype();
    info.has_shape = true;
    for (int64_t d : inputs[i].shape()) info.dims.push_back(Dim{d, ""});
    g.inputs.push_back(info);
    node.inputs.push_back(info.name);
  }
  node.outputs = {"y"};
  ValueInfo out;
  out.name = "y";
  g.outputs.push_back(out);
  g.nodes.push_back(std::move(node));
  return g;
}

inline absl::StatusOr<Tensor> RunOneNode(const std::string& op_type,
                                         std::vector<Attribute> attrs,
                                         const std::vector<Tensor>& inputs, int64_t opset,
                                         const std::string& domain = "") {
  auto session = Session::Create(OneNodeGraph(op_type, std::move(attrs), inputs, opset, domain),
                                 DefaultRegistry());
  if (!session.ok()) return session.status();
  NamedTensors feeds;
  for (size_t i = 0; i < inputs.size(); ++i) feeds.push_back({"x" + std::to_string(i), inputs[i]});
  auto outputs = (*session)->Run(feeds);
  if (!outputs.ok()) return outputs.status();
  return (*outputs)[0];
}

}  // namespace onyx::testing_util
