// OpRegistry: (domain, op_type, since_version, device) -> kernel factory.
// Filled explicitly by ops/register_all.cc; the runtime never includes ops/.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/gradient.h"
#include "runtime/graph.h"
#include "runtime/kernel.h"
#include "runtime/shape_inference.h"

namespace onyx {

enum class Device { kCpu, kCuda };
const char* DeviceName(Device device);

// Builds the kernel for one node; `opset` is the model's opset for the node's
// domain, so a factory can settle version-dependent semantics once.
using KernelFactory =
    std::function<absl::StatusOr<std::unique_ptr<Kernel>>(const Node& node, int64_t opset)>;

class OpRegistry {
 public:
  // The entry is in force from `since_version` up to the next registered version.
  void Register(std::string domain, std::string op_type, int since_version, Device device,
                KernelFactory factory);

  // Highest since_version <= opset; NotFound when the op is unknown,
  // Unimplemented (naming op, opset and device) when no version applies.
  absl::StatusOr<const KernelFactory*> Find(const std::string& domain,
                                            const std::string& op_type, int64_t opset,
                                            Device device) const;
  absl::StatusOr<std::unique_ptr<Kernel>> CreateKernel(const Node& node, int64_t opset,
                                                       Device device) const;
  bool Knows(const std::string& domain, const std::string& op_type) const;

  // Gradient builders are per (domain, op_type): backward math does not change
  // with opset for the ops we differentiate (a builder may read ctx.opset).
  void RegisterGradient(std::string domain, std::string op_type, GradientBuilder builder);
  // Null when the op is not differentiable (no builder registered).
  const GradientBuilder* FindGradient(const std::string& domain,
                                      const std::string& op_type) const;
  // Shape/type inference per (domain, op_type); the ShapeFn reads ctx.opset()
  // where semantics changed between versions.
  void RegisterShapeFn(std::string domain, std::string op_type, ShapeFn fn);
  // Null when the op has no shape function.
  const ShapeFn* FindShapeFn(const std::string& domain, const std::string& op_type) const;
  // Every registered "domain:op_type" (domain empty for ONNX), sorted.
  std::vector<std::string> OpNames() const;

 private:
  struct Entry {
    int since_version;
    KernelFactory factory;
  };
  // (domain, op_type, device) -> entries sorted by since_version.
  std::map<std::tuple<std::string, std::string, Device>, std::vector<Entry>> entries_;
  std::map<std::pair<std::string, std::string>, GradientBuilder> gradients_;
  std::map<std::pair<std::string, std::string>, ShapeFn> shape_fns_;
};

}  // namespace onyx
