// The activation table shared by the forward and backward CPU kernels: how each
// elementwise op runs on oneDNN (and its functor fallback), attributes resolved.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "runtime/graph.h"

namespace onyx {

// One oneDNN eltwise pass: y = alg(x; alpha, beta).
struct DnnlStep {
  dnnl::algorithm alg;
  float alpha = 0.f;
  float beta = 0.f;
};

template <typename T>
using ForwardLoop = std::function<void(const T* x, T* y, int64_t n)>;
// dx[i] = f'(...) * dy[i], where `saved` is x or y as the functor's kSaved says.
template <typename T>
using BackwardLoop = std::function<void(const T* dy, const T* saved, T* dx, int64_t n)>;

struct EltwiseSpec {
  // Forward: `steps` (first x -> y, the rest in place on y) when non-empty,
  // otherwise the functor loop; float64 always uses the functor loop.
  std::vector<DnnlStep> steps;
  ForwardLoop<float> float_loop;
  ForwardLoop<double> double_loop;
  // Backward: oneDNN eltwise_backward with `backward_step` when set (its
  // *_use_dst_for_bwd form where the saved tensor is y), else the functor loop.
  bool saves_output = false;
  std::optional<DnnlStep> backward_step;
  BackwardLoop<float> float_backward;
  BackwardLoop<double> double_backward;
};

// The spec of elementwise activation `op_type` with `node`'s attributes (ONNX
// defaults applied); InvalidArgument for bad attributes, NotFound for other ops.
absl::StatusOr<EltwiseSpec> MakeEltwiseSpec(const Node& node, const std::string& op_type);

}  // namespace onyx
