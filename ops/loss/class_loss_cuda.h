// Launchers of the CUDA class-index losses (SoftmaxCrossEntropyLoss,
// NegativeLogLikelihoodLoss, CrossEntropyLoss and their backward ops), float32
// scores, int32/int64 labels. Plain C++ so host code and tests can call them.
// Sums run in double, per block then in one final block in a fixed order:
// the result does not depend on thread timing.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace onyx::cuda {

enum class LossReduce { kNone, kSum, kMean };

struct ClassLossArgs {
  int64_t n = 0, c = 0, d = 1;  // scores [N, C, D], labels [N, D]
  bool softmax = true;          // false: scores are log-probabilities (NLL)
  LossReduce reduction = LossReduce::kMean;
  bool has_ignore = false;
  int64_t ignore_index = 0;
  double label_smoothing = 0;
  const float* weights = nullptr;  // [C] or null (all 1)
  bool labels_int64 = true;        // labels are int64 (else int32)
};

// Device scratch the launchers need, in doubles (`blocks` from ClassLossBlocks).
int ClassLossBlocks(const ClassLossArgs& args);
inline int64_t ClassLossScratchDoubles(int blocks) { return 2 * static_cast<int64_t>(blocks) + 2; }

// loss: [N, D] (none) or a scalar; log_prob: [N, C, D] or null (softmax only).
// `bad_row` (one device int64) receives the smallest row whose label lies
// outside [0, C) and is not ignore_index; it reads -1 (all bits set, set by
// the launcher) when every label is fine.
cudaError_t ClassLossForward(const ClassLossArgs& args, const float* x, const void* labels,
                             float* loss, float* log_prob, double* scratch, int blocks,
                             int64_t* bad_row, cudaStream_t stream);

// dx [N, C, D] from `in` (log-probabilities, or raw scores when `scores_input`;
// NLL: its log-probability input) and dloss ([N, D] for none, else one element;
// read on the device). `bad_row` as above.
cudaError_t ClassLossBackward(const ClassLossArgs& args, const float* dloss, const float* in,
                              bool scores_input, const void* labels, float* dx, double* scratch,
                              int blocks, int64_t* bad_row, cudaStream_t stream);

}  // namespace onyx::cuda
