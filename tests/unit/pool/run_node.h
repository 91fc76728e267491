// Test helper for the pool and norm families: the shared one-node runner
// (tests/unit/common/run_node.h) under the names these tests use; a node has
// any number of outputs ("" omits one).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tests/unit/common/run_node.h"

namespace onyx::pooltest {

inline constexpr auto& Ints = testing_util::IntsAttr;
inline constexpr auto& Int = testing_util::IntAttr;
inline constexpr auto& Float = testing_util::FloatAttr;
inline constexpr auto& String = testing_util::StringAttr;

// Node "n0" = op(x0, x1, ...) -> outputs; inputs declared with their fixed shapes.
inline testing_util::NodeSpec PoolNodeSpec(const std::string& op, std::vector<Attribute> attrs,
                                           int64_t opset, std::vector<std::string> outputs,
                                           const std::string& domain) {
  return {.op_type = op,
          .domain = domain,
          .attrs = std::move(attrs),
          .opset = opset,
          .outputs = std::move(outputs)};
}

inline Graph NodeGraph(const std::string& op, std::vector<Attribute> attrs,
                       const std::vector<Tensor>& inputs, int64_t opset,
                       std::vector<std::string> outputs, const std::string& domain = "") {
  return testing_util::OneNodeGraph(
      PoolNodeSpec(op, std::move(attrs), opset, std::move(outputs), domain), inputs);
}

inline absl::StatusOr<std::vector<Tensor>> RunNode(const std::string& op,
                                                   std::vector<Attribute> attrs,
                                                   const std::vector<Tensor>& inputs, int64_t opset,
                                                   std::vector<std::string> outputs = {"y"},
                                                   const std::string& domain = "") {
  return testing_util::RunNodeSpec(
      PoolNodeSpec(op, std::move(attrs), opset, std::move(outputs), domain), inputs);
}

}  // namespace onyx::pooltest
