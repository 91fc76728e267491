// Conv forward primitive choice: Winograd, blocked direct, or oneDNN's default.
#include "ops/conv/conv_choice.h"

#include <optional>
#include <string>

#include "ops/conv/conv_dnnl.h"
#include "runtime/dnnl_context.h"

namespace onyx::conv {
namespace {

using dnnl::algorithm;
using dnnl::memory;
using PrimitiveDesc = dnnl::convolution_forward::primitive_desc;

// Winograd's transformed weights may be at most this many times the plain ones
// (the 7x7 layers of ResNet-18 would take 4x: +110 MiB for a 5% gain).
constexpr size_t kMaxWinogradWeightGrowth = 2;
// Output rows and columns below this stay on the direct conv.
constexpr int64_t kMinWinogradOutput = 14;
// Channels below one block of 16 keep format `any` (a 3-channel image would be
// padded 5x, and oneDNN's first-layer kernels want it plain).
constexpr int64_t kBlock = 16;

bool WinogradCandidate(const ConvGeometry& g) {
  if (g.spatial != 2 || g.group != 1) return false;
  for (int i = 0; i < 2; ++i) {
    if (g.kernel[i] != 3 || g.strides[i] != 1 || g.dilations[i] != 1) return false;
    if (g.out[i] < kMinWinogradOutput) return false;
  }
  return true;
}

// nChw16c for a 4-D activation with at least one block of channels, else any.
memory::desc BlockedOrAny(const Shape& shape) {
  if (shape.size() == 4 && shape[1] >= kBlock) {
    return memory::desc(ToDnnlDims(shape), memory::data_type::f32, memory::format_tag::aBcd16b);
  }
  return ActivationDesc(shape, /*any=*/true);
}

bool IsReference(const PrimitiveDesc& pd) {
  return std::string(pd.impl_info_str()).rfind("ref", 0) == 0;
}

// nullopt when oneDNN has no implementation for this combination.
std::optional<PrimitiveDesc> TryPd(const ConvGeometry& g, algorithm alg, const memory::desc& src,
                                   const memory::desc& dst, const dnnl::primitive_attr& attr,
                                   const memory::desc& bias) {
  try {
    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, alg, src, ConvWeightsDesc(g, /*any=*/true), bias, dst,
        ToDnnlDims(g.strides), ToDnnlDims(g.DnnlDilations()), ToDnnlDims(g.pads_begin),
        ToDnnlDims(g.pads_end));
    return PrimitiveDesc(desc, attr, CpuEngine());
  } catch (const dnnl::error&) {
    return std::nullopt;
  }
}

}  // namespace

PrimitiveDesc ChooseConvPd(const ConvGeometry& g, const Shape& x, const dnnl::primitive_attr& attr,
                           const memory::desc& bias) {
  const Shape y = g.OutputShape();
  const memory::desc src = BlockedOrAny(x), dst = BlockedOrAny(y);
  if (WinogradCandidate(g)) {
    std::optional<PrimitiveDesc> pd =
        TryPd(g, algorithm::convolution_winograd, src, dst, attr, bias);
    if (pd && !IsReference(*pd) &&
        pd->weights_desc().get_size() <=
            kMaxWinogradWeightGrowth * ConvWeightsDesc(g, /*any=*/false).get_size()) {
      return *pd;
    }
  }
  std::optional<PrimitiveDesc> pd = TryPd(g, algorithm::convolution_direct, src, dst, attr, bias);
  if (pd && !IsReference(*pd)) return *pd;
  // oneDNN's own choice; throws when there is none.
  const dnnl::convolution_forward::desc desc(
      dnnl::prop_kind::forward_inference, algorithm::convolution_direct,
      ActivationDesc(x, /*any=*/true), ConvWeightsDesc(g, /*any=*/true), bias,
      ActivationDesc(y, /*any=*/true), ToDnnlDims(g.strides), ToDnnlDims(g.DnnlDilations()),
      ToDnnlDims(g.pads_begin), ToDnnlDims(g.pads_end));
  return PrimitiveDesc(desc, attr, CpuEngine());
}

}  // namespace onyx::conv
