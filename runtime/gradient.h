// Gradient builders: per forward op, a function that emits the backward nodes
// (ordinary graph nodes such as ReluGrad) computing input gradients from output
// gradients. Autograd (runtime/training/autograd.h) calls them in reverse order.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/graph.h"

namespace onyx {

// Domain of Onyx's own backward/loss ops (ReluGrad, ReduceToShape, ...).
inline constexpr char kOnyxDomain[] = "com.onyx";

struct GradientContext {
  const Node& node;                       // the forward node
  int64_t opset;                          // model opset of node.domain
  std::vector<std::string> output_grads;  // per forward output: dY's name, "" if none flows
  std::vector<bool> wants_input_grad;     // per forward input: is its gradient needed
  // Returns a value name unique in the graph, derived from `hint`.
  std::function<std::string(const std::string& hint)> fresh_name;
};

struct GradientNodes {
  std::vector<Node> nodes;               // backward nodes, in an order that runs
  std::vector<std::string> input_grads;  // per forward input: dX's name, "" if none
};

// Emits the backward of ctx.node. A builder reads only the forward values it
// needs (x or y), so autograd keeps exactly those alive for backward.
using GradientBuilder = std::function<absl::StatusOr<GradientNodes>(const GradientContext& ctx)>;

}  // namespace onyx
