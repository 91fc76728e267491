// Which oneDNN convolution a forward Conv runs: algorithm (Winograd or direct)
// and activation layouts, chosen once per shape.
#pragma once

#include "oneapi/dnnl/dnnl.hpp"
#include "ops/conv/conv_params.h"
#include "runtime/shape.h"

namespace onyx::conv {

// The primitive descriptor for Y = conv(X, W) [+ B] with `attr` (post-ops,
// scratchpad mode). `bias` is an empty desc when there is no B. Throws
// dnnl::error when oneDNN has no implementation at all.
//
// Preference order (measured on ResNet-18 / MobileNetV2, AVX-512 Xeon):
//  1. Winograd F(2x2, 3x3) for 3x3 stride-1 undilated ungrouped 2-D convs with
//     outputs of at least 14x14: about 1.5x faster than the direct conv there.
//     Smaller outputs (7x7) gain little and the transformed weights grow to 4x
//     the plain ones, so they stay direct.
//  2. Direct conv on nChw16c activations (channels >= 16): oneDNN 2.6 runs it
//     with its jit_1x1 / jit_dw / jit kernels, faster on these models than the
//     brgconv kernels it picks for the nhwc layout format `any` gives, and it is
//     the layout the Winograd kernel uses, so no reorders between them.
//  3. Direct conv with format `any` (everything else: 1-D/3-D, few channels).
// A candidate whose implementation is oneDNN's reference loop is skipped.
dnnl::convolution_forward::primitive_desc ChooseConvPd(const ConvGeometry& g, const Shape& x,
                                                       const dnnl::primitive_attr& attr,
                                                       const dnnl::memory::desc& bias);

}  // namespace onyx::conv
