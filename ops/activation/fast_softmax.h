// Softmax and LogSoftmax over the last (contiguous) axis of float32 rows, fused
// per row: max, exp(x - max) and its sum into an L1/L2 row buffer, then the
// scaled row written out (non-temporal stores for outputs larger than the caches).
// Built for AVX-512, AVX2 and baseline x86-64 like fast_loops.h.
#pragma once

#include <cstdint>

#include "ops/activation/fast_loops.h"

namespace onyx::fast {

// y[r, :] = softmax(x[r, :]) for `rows` rows of `cols` floats; `isa` must be
// supported. x == y (in place) is allowed. NaN in a row gives NaN for the row;
// a row of -inf gives NaN (0 / 0), as the formula does.
void SoftmaxLastAxis(const float* x, float* y, int64_t rows, int64_t cols, Isa isa,
                     bool stream);

// The choice the kernel makes: best ISA, streaming when the output is large and
// not in place.
void SoftmaxLastAxis(const float* x, float* y, int64_t rows, int64_t cols);

// y[r, :] = log_softmax(x[r, :]) = x - max - log(sum(exp(x - max))): a max pass,
// an exp-sum pass (nothing stored) and the output pass, the last two over a row
// still in L1/L2. NaN in a row, or a row of -inf, gives NaN for the row.
void LogSoftmaxLastAxis(const float* x, float* y, int64_t rows, int64_t cols, Isa isa,
                        bool stream);
void LogSoftmaxLastAxis(const float* x, float* y, int64_t rows, int64_t cols);

}  // namespace onyx::fast
