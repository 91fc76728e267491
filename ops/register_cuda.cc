// The CUDA kernels of every family, registered under Device::kCuda. Nodes
// without one run on the CPU kernel with copies (runtime/session.cc).
#include "ops/register_all.h"

namespace onyx {
namespace cuda {
void RegisterActivationCudaOps(OpRegistry& registry);     // ops/activation
void RegisterSoftmaxCudaOps(OpRegistry& registry);        // ops/activation
void RegisterBinaryCudaOps(OpRegistry& registry);         // ops/math
void RegisterMatMulCudaOps(OpRegistry& registry);         // ops/math
void RegisterConvCudaOps(OpRegistry& registry);           // ops/conv (cuDNN)
void RegisterPoolCudaOps(OpRegistry& registry);           // ops/pool (cuDNN)
void RegisterLossCudaOps(OpRegistry& registry);           // ops/loss
void RegisterLayerNormCudaOps(OpRegistry& registry);      // ops/norm
void RegisterTransposeCudaOps(OpRegistry& registry);      // ops/tensor
void RegisterGatherCudaOps(OpRegistry& registry);         // ops/tensor
void RegisterConcatCudaOps(OpRegistry& registry);         // ops/tensor
void RegisterSliceCudaOps(OpRegistry& registry);          // ops/tensor (+ SliceGrad)
void RegisterCastCudaOps(OpRegistry& registry);           // ops/tensor
void RegisterUnaryCudaOps(OpRegistry& registry);          // ops/elementwise (Erf, ... + Grad)
void RegisterMathGradCudaOps(OpRegistry& registry);       // ops/math: MatMulT, MatMulGrad
void RegisterReduceToShapeCudaOps(OpRegistry& registry);  // ops/math
void RegisterShapeViewCudaOps(OpRegistry& registry);      // ops/tensor: views, Shape, Size
void RegisterClipCudaOps(OpRegistry& registry);           // ops/elementwise: Clip, ClipGrad
}  // namespace cuda

void RegisterCudaOps(OpRegistry& registry) {
  cuda::RegisterActivationCudaOps(registry);
  cuda::RegisterSoftmaxCudaOps(registry);
  cuda::RegisterBinaryCudaOps(registry);
  cuda::RegisterMatMulCudaOps(registry);
  cuda::RegisterConvCudaOps(registry);
  cuda::RegisterPoolCudaOps(registry);
  cuda::RegisterLossCudaOps(registry);
  cuda::RegisterLayerNormCudaOps(registry);
  cuda::RegisterTransposeCudaOps(registry);
  cuda::RegisterGatherCudaOps(registry);
  cuda::RegisterConcatCudaOps(registry);
  cuda::RegisterSliceCudaOps(registry);
  cuda::RegisterCastCudaOps(registry);
  cuda::RegisterUnaryCudaOps(registry);
  cuda::RegisterMathGradCudaOps(registry);
  cuda::RegisterReduceToShapeCudaOps(registry);
  cuda::RegisterShapeViewCudaOps(registry);
  cuda::RegisterClipCudaOps(registry);
}

}  // namespace onyx
