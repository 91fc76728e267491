// Kernel factories and registration helpers of the conv family (ops/conv).
#pragma once

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "runtime/kernel.h"
#include "runtime/op_registry.h"

namespace onyx::conv {

// Conv and com.onyx FusedConv (conv_cpu.cc).
absl::StatusOr<std::unique_ptr<Kernel>> CreateConvKernel(const Node& node, int64_t opset);
// com.onyx FusedConvDw: 1x1 conv + 3x3 depthwise conv (conv_dw_fused_cpu.cc).
absl::StatusOr<std::unique_ptr<Kernel>> CreateFusedConvDwKernel(const Node& node, int64_t opset);
// Tests only: FusedConvDw kernels created from now on run the two convolutions
// one after the other, as they do where oneDNN has no fused primitive.
void ForceUnfusedConvDwForTesting(bool on);
// ConvTranspose (conv_transpose_cpu.cc).
absl::StatusOr<std::unique_ptr<Kernel>> CreateConvTransposeKernel(const Node& node, int64_t opset);
// com.onyx ConvGrad (conv_grad_cpu.cc).
absl::StatusOr<std::unique_ptr<Kernel>> CreateConvGradKernel(const Node& node, int64_t opset);

void RegisterConvShapeFns(OpRegistry& registry);   // conv_shape.cc
void RegisterConvGradients(OpRegistry& registry);  // conv_grad.cc
void RegisterFusedConvDwShapeFn(OpRegistry& registry);  // conv_dw_fused_cpu.cc

}  // namespace onyx::conv
