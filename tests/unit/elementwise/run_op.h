// Test helper of the elementwise and reduce suites: runs one ONNX node (inputs
// "x0", "x1", ..., output "y") through a Session with the default registry.
// Names are built with absl::StrCat (GCC 12's -Wrestrict misfires on inlined
// std::string concatenation).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "ops/register_all.h"
#include "runtime/graph.h"
#include "runtime/session.h"

namespace onyx::op_test {

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
inline Attribute IntsAttr(std::string name, std::vector<int64_t> v) {
  Attribute a;
  a.name = std::move(name);
  a.type = AttrType::kInts;
  a.ints = std::move(v);
  return a;
}

inline absl::StatusOr<Tensor> RunOneNode(const std::string& op_type, std::vector<Attribute> attrs,
                                         const std::vector<Tensor>& inputs, int64_t opset) {
  Graph g;
  g.name = "one_node";
  g.opset_imports[""] = opset;
  Node node;
  node.name = "n0";
  node.op_type = op_type;
  node.attributes = std::move(attrs);
  NamedTensors feeds;
  for (size_t i = 0; i < inputs.size(); ++i) {
    ValueInfo info;
    info.name = absl::StrCat("x", i);
    info.dtype = inputs[i].dtype();
    info.has_shape = true;
    for (int64_t d : inputs[i].shape()) info.dims.push_back(Dim{d, ""});
    g.inputs.push_back(info);
    node.inputs.push_back(info.name);
    feeds.push_back({info.name, inputs[i]});
  }
  node.outputs = {"y"};
  ValueInfo out;
  out.name = "y";
  g.outputs.push_back(out);
  g.nodes.push_back(std::move(node));
  auto session = Session::Create(std::move(g), DefaultRegistry());
  if (!session.ok()) return session.status();
  auto outputs = (*session)->Run(feeds);
  if (!outputs.ok()) return outputs.status();
  return (*outputs)[0];
}

}  // namespace onyx::op_test
