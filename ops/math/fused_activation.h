// The activation of com.onyx FusedMatMul / FusedGemm (same attributes as
// FusedConv): `activation` (Relu, LeakyRelu, Sigmoid, Tanh, Elu, Gelu,
// GeluTanh, Mish, Swish, HardSwish, Clip), `activation_alpha`,
// `activation_beta`; run as a oneDNN eltwise post-op, or in a scalar loop
// where oneDNN does not take the problem.
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "runtime/graph.h"

namespace onyx::math {

struct FusedActivation {
  std::string name;  // "" when the node has no activation
  dnnl::algorithm alg = dnnl::algorithm::undef;
  float alpha = 0.f, beta = 0.f;

  bool present() const { return !name.empty(); }
  // The same function in float, for the fallback loop.
  float Apply(float x) const;
  void ApplyInPlace(float* y, int64_t n) const;
};

// Reads the node's activation attributes, ONNX-style defaults applied
// (LeakyRelu alpha 0.01; Elu and Swish alpha 1; Clip bounds ±FLT_MAX);
// InvalidArgument naming the node for an unknown activation.
absl::StatusOr<FusedActivation> ReadFusedActivation(const Node& node);

// Appends the activation (if any) as an eltwise post-op.
void AppendActivation(const FusedActivation& act, dnnl::post_ops& ops);

}  // namespace onyx::math
