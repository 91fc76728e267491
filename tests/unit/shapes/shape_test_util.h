// Graph building and the check behind the shape-inference tests: the shapes
// InferShapes predicts against the shapes a session actually produces.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ops/register_all.h"
#include "runtime/gradient.h"
#include "runtime/session.h"
#include "runtime/shape_inference.h"
#include "tests/status_matchers.h"
#include "tests/unit/common/graph_builder.h"

namespace onyx::shape_testing {

// A dim spec: a number (fixed) or a name (symbolic).
struct D {
  D(int v) : dim(FixedDim(v)) {}  // NOLINT: implicit on purpose
  D(const char* name) { dim.param = name; }  // NOLINT
  Dim dim;
};

using testing_util::FloatAttr;
using testing_util::FloatsAttr;
using testing_util::IntAttr;
using testing_util::IntsAttr;
using testing_util::TensorAttr;
inline Attribute StrAttr(const std::string& name, const std::string& v) {
  return testing_util::StringAttr(name, v);
}

inline Tensor Ints(std::vector<int64_t> values, bool scalar = false) {
  Shape shape = scalar ? Shape{} : Shape{static_cast<int64_t>(values.size())};
  return Tensor::FromVector<int64_t>(shape, values).value();
}

inline Tensor Floats(Shape shape, std::vector<float> values) {
  return Tensor::FromVector<float>(std::move(shape), values).value();
}

// Deterministic float data of `shape` (values in [-1, 1)).
inline Tensor Filled(Shape shape, DataType dtype = DataType::kFloat32) {
  Tensor t = Tensor::Zeros(dtype, std::move(shape)).value();
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    const double v = static_cast<double>((i * 37 + 11) % 64) / 32.0 - 1.0;
    if (dtype == DataType::kFloat32) t.data<float>()[i] = static_cast<float>(v);
    if (dtype == DataType::kFloat64) t.data<double>()[i] = v;
    if (dtype == DataType::kInt64) t.data<int64_t>()[i] = i % 3;
    if (dtype == DataType::kBool) t.data<bool>()[i] = i % 2 == 0;
  }
  return t;
}

class GraphBuilder : public testing_util::GraphBuilderBase<GraphBuilder> {
 public:
  explicit GraphBuilder(int64_t opset) : GraphBuilderBase(opset) {
    graph_.opset_imports[kOnyxDomain] = 1;
    graph_.opset_imports["ai.onnx.preview.training"] = 1;
  }
  GraphBuilder& Input(const std::string& name, DataType dtype, std::vector<D> dims) {
    ValueInfo v;
    v.name = name;
    v.dtype = dtype;
    v.has_shape = true;
    for (const D& d : dims) v.dims.push_back(d.dim);
    graph_.inputs.push_back(v);
    return *this;
  }
};

// The inferred type of `name` after InferShapes on `graph` (fails the test when
// inference fails).
inline ValueInfo Inferred(Graph graph, const std::string& name) {
  const absl::Status status = InferShapes(graph, DefaultRegistry());
  EXPECT_TRUE(status.ok()) << status;
  for (const ValueInfo& v : graph.value_info) {
    if (v.name == name) return v;
  }
  ADD_FAILURE() << "no inferred type for " << name;
  return ValueInfo{};
}

inline std::string InferredDims(const Graph& graph, const std::string& name) {
  return DimsToString(Inferred(graph, name));
}

// Runs `graph` with every node output exposed as a graph output and checks
// each value the inference typed: dtype equal, rank equal, fixed dims equal,
// and one size per symbol (symbols of the inputs bound by the feeds). Returns
// how many values had every dim known (fixed or a bound symbol), so a caller
// can assert that the comparison was not vacuous.
inline int ExpectInferenceMatchesRun(Graph graph, const NamedTensors& feeds) {
  std::vector<std::string> names;
  graph.outputs.clear();
  for (const Node& node : graph.nodes) {
    for (const std::string& out : node.outputs) {
      if (out.empty()) continue;
      ValueInfo v;
      v.name = out;
      graph.outputs.push_back(v);
      names.push_back(out);
    }
  }
  // Graph passes off: every value must stay in the graph to be compared.
  SessionOptions options;
  options.opt_level = 0;
  auto session = Session::Create(graph, DefaultRegistry(), options);
  EXPECT_TRUE(session.ok()) << session.status();
  if (!session.ok()) return 0;
  std::map<std::string, const ValueInfo*> inferred;
  for (const ValueInfo& v : (*session)->graph().value_info) inferred[v.name] = &v;
  auto outputs = (*session)->Run(feeds);
  EXPECT_TRUE(outputs.ok()) << outputs.status();
  if (!outputs.ok()) return 0;
  std::map<std::string, int64_t> symbols;
  for (const ValueInfo& in : graph.inputs) {
    for (const auto& [name, t] : feeds) {
      if (name != in.name || !in.has_shape) continue;
      for (size_t d = 0; d < in.dims.size(); ++d) {
        if (!in.dims[d].param.empty()) symbols[in.dims[d].param] = t.dim(static_cast<int>(d));
      }
    }
  }
  int fully_known = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    const Tensor& actual = (*outputs)[i];
    auto it = inferred.find(names[i]);
    if (it == inferred.end()) continue;
    const ValueInfo& info = *it->second;
    SCOPED_TRACE(absl::StrCat("value ", names[i], " inferred ", DimsToString(info), " actual ",
                              actual.DebugString()));
    if (info.dtype != DataType::kUndefined) {
      EXPECT_EQ(info.dtype, actual.dtype());
    }
    if (!info.has_shape) continue;
    EXPECT_EQ(info.dims.size(), static_cast<size_t>(actual.rank()));
    if (info.dims.size() != static_cast<size_t>(actual.rank())) continue;
    bool known = true;
    for (int d = 0; d < actual.rank(); ++d) {
      const Dim& dim = info.dims[d];
      if (dim.is_fixed()) {
        EXPECT_EQ(dim.value, actual.dim(d)) << "dim " << d;
      } else if (!dim.param.empty()) {
        auto [bound, inserted] = symbols.try_emplace(dim.param, actual.dim(d));
        EXPECT_EQ(bound->second, actual.dim(d)) << "symbol " << dim.param;
      } else {
        known = false;
      }
    }
    fully_known += known;
  }
  return fully_known;
}

}  // namespace onyx::shape_testing
