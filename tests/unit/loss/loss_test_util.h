// Helpers for the loss tests: run one node (ONNX or com.onyx) through a Session
// with the default registry, build tensors, read them back as doubles.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "ops/register_all.h"
#include "runtime/gradient.h"
#include "runtime/session.h"
#include "runtime/tensor.h"

namespace onyx::loss_test {

inline Attribute IntAttr(const std::string& name, int64_t v) {
  Attribute a;
  a.name = name;
  a.type = AttrType::kInt;
  a.i = v;
  return a;
}
inline Attribute FloatAttr(const std::string& name, float v) {
  Attribute a;
  a.name = name;
  a.type = AttrType::kFloat;
  a.f = v;
  return a;
}
inline Attribute StringAttr(const std::string& name, const std::string& v) {
  Attribute a;
  a.name = name;
  a.type = AttrType::kString;
  a.s = v;
  return a;
}

// Declares `name` as a graph input of `t`'s dtype and shape.
inline ValueInfo InputInfo(const std::string& name, const Tensor& t) {
  ValueInfo info;
  info.name = name;
  info.dtype = t.dtype();
  info.has_shape = true;
  for (int64_t d : t.shape()) info.dims.push_back(Dim{d, ""});
  return info;
}

// Runs op `op` of `domain` (node name "n") on `inputs` (an empty Tensor is an
// omitted optional input) and returns its first `num_outputs` outputs.
inline absl::StatusOr<std::vector<Tensor>> RunNode(const std::string& domain, const std::string& op,
                                                   const std::vector<Tensor>& inputs,
                                                   std::vector<Attribute> attrs = {},
                                                   int num_outputs = 1, int64_t opset = 13) {
  Graph graph;
  graph.opset_imports[""] = opset;
  graph.opset_imports[kOnyxDomain] = 1;
  Node node;
  node.name = "n";
  node.op_type = op;
  node.domain = domain;
  node.attributes = std::move(attrs);
  NamedTensors feeds;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (inputs[i].empty()) {
      node.inputs.push_back("");
      continue;
    }
    const std::string name = "x" + std::to_string(i);
    graph.inputs.push_back(InputInfo(name, inputs[i]));
    node.inputs.push_back(name);
    feeds.emplace_back(name, inputs[i]);
  }
  for (int i = 0; i < num_outputs; ++i) {
    ValueInfo out;
    out.name = "y" + std::to_string(i);
    node.outputs.push_back(out.name);
    graph.outputs.push_back(out);
  }
  graph.nodes.push_back(std::move(node));
  auto session = Session::Create(std::move(graph), DefaultRegistry());
  if (!session.ok()) return session.status();
  return (*session)->Run(feeds);
}

// Like RunNode for a single output.
inline absl::StatusOr<Tensor> RunOne(const std::string& domain, const std::string& op,
                                     const std::vector<Tensor>& inputs,
                                     std::vector<Attribute> attrs = {}) {
  auto outs = RunNode(domain, op, inputs, std::move(attrs), 1);
  if (!outs.ok()) return outs.status();
  return (*outs)[0];
}

template <typename T>
Tensor Make(Shape shape, std::vector<T> values) {
  return Tensor::FromVector<T>(std::move(shape), absl::MakeConstSpan(values)).value();
}

// Converts float32/float64 data to doubles (other dtypes: empty).
inline std::vector<double> ToDoubles(const Tensor& t) {
  std::vector<double> out;
  if (t.dtype() == DataType::kFloat32) {
    for (float v : t.span<float>()) out.push_back(v);
  } else if (t.dtype() == DataType::kFloat64) {
    for (double v : t.span<double>()) out.push_back(v);
  }
  return out;
}

// Float tensor of `dtype` holding `values`.
inline Tensor FloatTensor(DataType dtype, Shape shape, const std::vector<double>& values) {
  if (dtype == DataType::kFloat64) return Make<double>(std::move(shape), values);
  return Make<float>(std::move(shape), std::vector<float>(values.begin(), values.end()));
}

}  // namespace onyx::loss_test
