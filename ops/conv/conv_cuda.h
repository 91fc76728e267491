// Shared by the cuDNN Conv, ConvGrad and ConvTranspose kernels (conv_cuda.cc,
// conv_transpose_cuda.cc): one plan per (X, W) shape pair with the tensor and
// filter descriptors of cuDNN's convolution view and, per pass the kernel runs
// (forward, backward data, backward filter), its descriptor, algorithm and
// workspace size; built in conv_plan_cuda.cc.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ops/conv/conv_cuda_mapping.h"
#include "ops/conv/conv_params.h"
#include "runtime/cuda/cuda_backend.h"
#include "runtime/cuda/cudnn_api.h"
#include "runtime/cuda/cudnn_descriptors.h"
#include "runtime/kernel.h"

namespace onyx::cuda {

// Largest workspace an algorithm may ask for; faster ones that want more are skipped.
inline constexpr size_t kMaxConvWorkspaceBytes = size_t{512} << 20;

// X, Y (or dY), the bias as [1, M, 1...] and W of cuDNN's convolution.
struct ConvTensorDescs {
  TensorDesc x, y, bias;
  FilterDesc w;
};

absl::Status MakeConvTensorDescs(const conv::CudnnConvDims& d, ConvTensorDescs& descs);
// A convolution descriptor for `d`, checked to give its output dims d.y
// (Unimplemented when cuDNN derives others).
absl::StatusOr<ConvDesc> MakeCheckedConvDesc(const conv::CudnnConvDims& d,
                                             const ConvTensorDescs& descs);

// One cuDNN pass: its own convolution descriptor (the chosen algorithm sets
// its math type, which may differ between passes), algorithm and workspace.
template <typename Algo>
struct ConvPass {
  ConvDesc conv;
  Algo algo{};
  size_t workspace_bytes = 0;
};

// Which passes a plan prepares (bits of MakeConvPlan's `passes`).
enum ConvPassBits : unsigned {
  kForwardPass = 1u,
  kBackwardDataPass = 2u,
  kBackwardFilterPass = 4u,
};

struct ConvPlan {
  Shape x_shape, w_shape;    // the node's X and W the plan is for
  Shape y_shape;             // the ONNX output: Conv's / ConvTranspose's Y
  std::vector<int> cudnn_x;  // dims of cuDNN's convolution input (rank 4 or 5)
  ConvTensorDescs t;
  ConvPass<cudnnConvolutionFwdAlgo_t> forward;
  ConvPass<cudnnConvolutionBwdDataAlgo_t> backward_data;
  ConvPass<cudnnConvolutionBwdFilterAlgo_t> backward_filter;
};

// Keeps `plan` when it was made for shapes (x, w); else resolves the node's
// geometry (ResolveConv, or ResolveConvTranspose when attrs.transpose), maps
// it (MapConvToCudnn / MapConvTransposeToCudnn) and builds the descriptors and
// the `passes` asked for. Algorithms: from cuDNN's heuristic ranking, the
// first with FMA math (no TF32, so results stay within float rounding of the
// CPU kernels) within kMaxConvWorkspaceBytes, else the first that fits.
// Unimplemented (the session runs the CPU kernel) for what cuDNN cannot do;
// every error names the node.
absl::Status EnsureConvPlan(const Node& node, const CudnnContext& cudnn,
                            const conv::ConvAttrs& attrs, const Shape& x, const Shape& w,
                            unsigned passes, std::unique_ptr<ConvPlan>& plan);

// Unimplemented naming the node and input `name` unless `t` is float32.
absl::Status RequireFloat(const Node& node, const Tensor& t, const char* name);

// A device scratch buffer of `bytes` from the session's caching allocator
// (empty for 0). Freed when the Tensor goes, which stream order makes safe.
absl::StatusOr<Tensor> Workspace(CudaBackend& backend, size_t bytes);
inline void* Data(Tensor& t) { return t.empty() ? nullptr : t.raw_data(); }

// InvalidArgument naming the node unless `b` is null or has shape [channels].
absl::Status CheckBias(const Node& node, const Tensor* b, int64_t channels);
// y += b over the channel axis; `y_desc` describes y, `plan.t.bias` b.
absl::Status AddBias(const Node& node, const CudnnContext& cudnn, const ConvPlan& plan,
                     const TensorDesc& y_desc, const Tensor& b, Tensor& y);

// What Conv and ConvTranspose (inputs X, W, optional B) do before their cuDNN
// calls: float32 checks, cuDNN, `plan` kept or made for these shapes with
// `passes`, the bias checked against Y's channels and Y allocated (output 0,
// plan->y_shape). Errors as those of the functions above.
struct ConvRun {
  CudaBackend* backend = nullptr;
  const Tensor* x = nullptr;
  const Tensor* w = nullptr;
  const Tensor* b = nullptr;  // null when B is absent
  CudnnContext cudnn;
  Tensor* y = nullptr;
};
absl::StatusOr<ConvRun> StartConvRun(KernelContext& ctx, const conv::ConvAttrs& attrs,
                                     unsigned passes, std::unique_ptr<ConvPlan>& plan);

// Base of the Conv-family CUDA kernels: the node's attributes and the plan for
// the last (X, W) shapes.
class ConvCudaKernelBase : public Kernel {
 public:
  explicit ConvCudaKernelBase(conv::ConvAttrs attrs) : attrs_(std::move(attrs)) {}

 protected:
  conv::ConvAttrs attrs_;
  std::unique_ptr<ConvPlan> plan_;
};

// Kernel factory of the Conv-family CUDA kernels: `K` built from the node's
// Conv attributes (ConvTranspose's when `kTranspose`).
template <typename K, bool kTranspose>
absl::StatusOr<std::unique_ptr<Kernel>> MakeConvKernel(const Node& node, int64_t /*opset*/) {
  absl::StatusOr<conv::ConvAttrs> attrs = conv::ParseConvAttrs(node, kTranspose);
  if (!attrs.ok()) return attrs.status();
  return std::unique_ptr<Kernel>(new K(*std::move(attrs)));
}

// conv_transpose_cuda.cc, called from RegisterConvCudaOps.
void RegisterConvTransposeCudaOps(OpRegistry& registry);

}  // namespace onyx::cuda
