// Helpers for the pass tests: build small graphs, run them unoptimized, and
// compare a graph's outputs before and after a pass on the same random inputs.
#pragma once

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ops/register_all.h"
#include "runtime/session.h"
#include "runtime/status_macros.h"
#include "tests/status_matchers.h"
#include "tests/unit/common/graph_builder.h"

namespace onyx::pass_test {

// The default ops plus naive reference kernels (reference_ops.cc) for ops the
// patterns need whose families are not built in yet (Erf, Sqrt, Pow, Clip,
// ReduceMean, LayerNormalization, BatchNormalization, Conv): each is added
// only when the registry has no kernel of that name.
const OpRegistry& Registry();

using testing_util::FloatAttr;
using testing_util::IntAttr;
using testing_util::IntsAttr;
using testing_util::StringAttr;
using testing_util::TensorAttr;

inline Dim Fixed(int64_t v) {
  Dim d;
  d.value = v;
  return d;
}
// A declared value of `dtype` with fixed `shape`.
inline ValueInfo Declared(const std::string& name, DataType dtype, const Shape& shape) {
  ValueInfo v;
  v.name = name;
  v.dtype = dtype;
  v.has_shape = true;
  for (int64_t d : shape) v.dims.push_back(Fixed(d));
  return v;
}
inline SessionOptions AtLevel(int opt_level) {
  SessionOptions options;
  options.opt_level = opt_level;
  return options;
}

inline Tensor RandomTensor(const Shape& shape, uint32_t seed, float lo = -2.f, float hi = 2.f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  Tensor t = Tensor::Uninitialized(DataType::kFloat32, shape).value();
  for (float& v : t.span<float>()) v = dist(gen);
  return t;
}
inline Tensor Scalar(float v) { return Tensor::FromVector<float>({}, {v}).value(); }
inline Tensor Floats(const Shape& shape, std::vector<float> v) {
  return Tensor::FromVector<float>(shape, v).value();
}
inline Tensor Ints(const Shape& shape, std::vector<int64_t> v) {
  return Tensor::FromVector<int64_t>(shape, v).value();
}

// A graph under construction with one float32 feed per Input().
class GraphBuilder : public testing_util::GraphBuilderBase<GraphBuilder> {
 public:
  explicit GraphBuilder(int64_t opset = 13) : GraphBuilderBase(opset) {}

  GraphBuilder& Input(const std::string& name, const Shape& shape) {
    graph_.inputs.push_back(Declared(name, DataType::kFloat32, shape));
    feeds_.emplace_back(name, RandomTensor(shape, 1234 + static_cast<uint32_t>(feeds_.size())));
    return *this;
  }
  const NamedTensors& feeds() const { return feeds_; }

 private:
  NamedTensors feeds_;
};

inline absl::StatusOr<std::vector<Tensor>> RunGraph(Graph graph, const NamedTensors& feeds,
                                                    int opt_level = 0) {
  ONYX_ASSIGN_OR_RETURN(auto session,
                        Session::Create(std::move(graph), Registry(), AtLevel(opt_level)));
  return session->Run(feeds);
}

inline int CountOps(const Graph& g, const std::string& op, const std::string& domain = "") {
  int n = 0;
  for (const Node& node : g.nodes) n += node.op_type == op && node.domain == domain;
  return n;
}

inline const Node* FindOp(const Graph& g, const std::string& op, const std::string& domain = "") {
  for (const Node& node : g.nodes) {
    if (node.op_type == op && node.domain == domain) return &node;
  }
  return nullptr;
}

// Outputs of `before` and `after` (both run without further optimization) agree
// within `tol` relative to max(1, |reference|), and the graph outputs keep their
// names and order.
inline void ExpectSameOutputs(const Graph& before, const Graph& after, const NamedTensors& feeds,
                              double tol = 1e-5) {
  ASSERT_EQ(before.outputs.size(), after.outputs.size());
  for (size_t i = 0; i < before.outputs.size(); ++i) {
    EXPECT_EQ(before.outputs[i].name, after.outputs[i].name);
  }
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> want, RunGraph(before, feeds));
  ASSERT_OK_AND_ASSIGN(std::vector<Tensor> got, RunGraph(after, feeds));
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(want[i].shape(), got[i].shape()) << "output " << i;
    ASSERT_EQ(want[i].dtype(), got[i].dtype()) << "output " << i;
    if (want[i].dtype() != DataType::kFloat32) continue;
    const float* w = want[i].data<float>();
    const float* g = got[i].data<float>();
    double worst = 0;
    for (int64_t k = 0; k < want[i].num_elements(); ++k) {
      const double err = std::abs(double{w[k]} - g[k]) / std::max(1.0, std::abs(double{w[k]}));
      worst = std::max(worst, std::isnan(err) ? INFINITY : err);
    }
    EXPECT_LE(worst, tol) << "output " << before.outputs[i].name;
  }
}

}  // namespace onyx::pass_test
