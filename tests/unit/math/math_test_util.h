// Helpers for the math kernel tests: run a graph of one or two nodes through a
// Session, make deterministic random tensors, read tensors back as doubles.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ops/register_all.h"
#include "runtime/session.h"
#include "runtime/status_macros.h"
#include "runtime/tensor.h"

namespace onyx::math_test {

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

// Runs `op` named `name` on `inputs` (an empty Tensor is an omitted optional
// input) with the default registry and returns its single output.
inline absl::StatusOr<Tensor> RunOne(const std::string& op, const std::vector<Tensor>& inputs,
                                     std::vector<Attribute> attrs = {}, int64_t opset = 13,
                                     const std::string& name = "n") {
  Graph graph;
  graph.opset_imports[""] = opset;
  Node node;
  node.name = name;
  node.op_type = op;
  node.attributes = std::move(attrs);
  NamedTensors feeds;
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
    graph.inputs.push_back(info);
    node.inputs.push_back(info.name);
    feeds.emplace_back(info.name, inputs[i]);
  }
  node.outputs = {"y"};
  ValueInfo out;
  out.name = "y";
  graph.outputs.push_back(out);
  graph.nodes.push_back(std::move(node));
  ONYX_ASSIGN_OR_RETURN(auto session, Session::Create(std::move(graph), DefaultRegistry()));
  ONYX_ASSIGN_OR_RETURN(std::vector<Tensor> outs, session->Run(feeds));
  return outs.at(0);
}

// Deterministic values: floats uniform in [lo, hi], integers uniform in
// [lo, hi] rounded; `nonzero` skips 0 (divisors).
template <typename T>
Tensor Random(const Shape& shape, uint32_t seed, double lo = -3, double hi = 3,
              bool nonzero = false) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<T> values(NumElements(shape));
  for (T& v : values) {
    do {
      const double x = dist(gen);
      v = std::is_floating_point_v<T> ? static_cast<T>(x) : static_cast<T>(std::llround(x));
    } while (nonzero && v == T(0));
  }
  return Tensor::FromVector<T>(shape, values).value();
}

inline double ElementAsDouble(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DataType::kFloat32:
      return t.data<float>()[i];
    case DataType::kFloat64:
      return t.data<double>()[i];
    case DataType::kInt8:
      return t.data<int8_t>()[i];
    case DataType::kInt16:
      return t.data<int16_t>()[i];
    case DataType::kInt32:
      return t.data<int32_t>()[i];
    case DataType::kInt64:
      return static_cast<double>(t.data<int64_t>()[i]);
    case DataType::kUInt8:
      return t.data<uint8_t>()[i];
    case DataType::kUInt16:
      return t.data<uint16_t>()[i];
    case DataType::kUInt32:
      return t.data<uint32_t>()[i];
    case DataType::kUInt64:
      return static_cast<double>(t.data<uint64_t>()[i]);
    default:
      return 0;
  }
}

inline std::vector<double> AsDoubles(const Tensor& t) {
  std::vector<double> v(t.num_elements());
  for (int64_t i = 0; i < t.num_elements(); ++i) v[i] = ElementAsDouble(t, i);
  return v;
}

// Row-major multi-index of `linear` in `shape`.
inline std::vector<int64_t> Unravel(int64_t linear, const Shape& shape) {
  std::vector<int64_t> index(shape.size());
  for (int i = static_cast<int>(shape.size()) - 1; i >= 0; --i) {
    index[i] = linear % shape[i];
    linear /= shape[i];
  }
  return index;
}

// Linear index into `shape` of the element that NumPy broadcasting reads for
// output multi-index `out_index` (right-aligned; size-1 dims read index 0).
inline int64_t BroadcastSource(const std::vector<int64_t>& out_index, const Shape& shape) {
  int64_t linear = 0;
  const size_t pad = out_index.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) {
    linear = linear * shape[i] + (shape[i] == 1 ? 0 : out_index[pad + i]);
  }
  return linear;
}

}  // namespace onyx::math_test
