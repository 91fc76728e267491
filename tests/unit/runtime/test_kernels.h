// A tiny op set for runtime tests, independent of ops/: "Inc" adds 1 to a
// float32 tensor (in place when allowed), "Pair" returns its two inputs' sum.
#pragma once

#include "runtime/kernel.h"
#include "runtime/op_registry.h"
#include "runtime/status_macros.h"

namespace onyx::testing {

class IncKernel : public Kernel {
 public:
  absl::Status Compute(KernelContext& ctx) override {
    ONYX_ASSIGN_OR_RETURN(const Tensor* x, ctx.RequiredInput(0));
    ONYX_ASSIGN_OR_RETURN(Tensor * y,
                          ctx.AllocateOutputMaybeInPlace(0, 0, x->dtype(), x->shape()));
    const float* in = x->data<float>();
    float* out = y->data<float>();
    for (int64_t i = 0; i < x->num_elements(); ++i) out[i] = in[i] + 1.f;
    return absl::OkStatus();
  }
};

inline OpRegistry MakeTestRegistry() {
  OpRegistry registry;
  registry.Register("", "Inc", 1, Device::kCpu,
                    [](const Node&, int64_t) -> absl::StatusOr<std::unique_ptr<Kernel>> {
                      return std::make_unique<IncKernel>();
                    });
  return registry;
}

inline Node MakeNode(std::string op, std::vector<std::string> in, std::vector<std::string> out,
                     std::string name = "") {
  Node node;
  node.op_type = std::move(op);
  node.name = name.empty() ? out.front() + "_node" : std::move(name);
  node.inputs = std::move(in);
  node.outputs = std::move(out);
  return node;
}

inline ValueInfo FloatValue(std::string name, std::vector<Dim> dims) {
  ValueInfo v;
  v.name = std::move(name);
  v.dtype = DataType::kFloat32;
  v.has_shape = true;
  v.dims = std::move(dims);
  return v;
}

}  // namespace onyx::testing
