// GlobalAveragePool / GlobalMaxPool straight from a conv's nChw16c output
// (layout propagation), without first reordering it to plain NCHW.
#pragma once

#include "runtime/tensor.h"

namespace onyx::pool {

// True when `x` is float32 [N, C, H, W] in oneDNN's nChw16c layout.
bool IsChannelBlocked16(const Tensor& x);

// y [N, C] (plain) = mean (or max) over H*W of x, which IsChannelBlocked16.
// Sums in double, like the plain loop.
void GlobalPoolBlocked16(bool max, const Tensor& x, float* y);

}  // namespace onyx::pool
