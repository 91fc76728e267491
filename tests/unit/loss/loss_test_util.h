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
#include "tests/unit/common/run_node.h"

namespace onyx::loss_test {

using testing_util::FloatAttr;
using testing_util::InputInfo;
using testing_util::IntAttr;
using testing_util::StringAttr;

// Runs op `op` of `domain` (node name "n") on `inputs` (an empty Tensor is an
// omitted optional input) and returns its first `num_outputs` outputs.
inline absl::StatusOr<std::vector<Tensor>> RunNode(const std::string& domain, const std::string& op,
                                                   const std::vector<Tensor>& inputs,
                                                   std::vector<Attribute> attrs = {},
                                                   int num_outputs = 1, int64_t opset = 13) {
  return testing_util::RunNodeSpec({.op_type = op,
                                    .domain = domain,
                                    .attrs = std::move(attrs),
                                    .opset = opset,
                                    .node_name = "n",
                                    .outputs = testing_util::NumberedNames("y", num_outputs),
                                    .imports = {kOnyxDomain}},
                                   inputs);
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
