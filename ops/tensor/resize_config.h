// Upsample / Resize attributes and output sizes, shared by the kernel
// (resize_cpu.cc) and the shape function (shape_fns_resize.cc).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "runtime/graph.h"
#include "runtime/op_registry.h"
#include "runtime/shape.h"

namespace onyx::tensor {

enum class Coord { kAsymmetric, kHalfPixel, kPytorchHalfPixel, kAlignCorners, kTfHalfPixelForNn };
enum class Rounding { kLegacy, kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil };

struct ResizeConfig {
  bool upsample = false;  // Upsample, not Resize
  bool linear = false;
  Coord coord = Coord::kAsymmetric;
  Rounding rounding = Rounding::kLegacy;
  std::vector<int64_t> axes;      // Resize-18 axes attribute (empty: all)
  std::string aspect = "stretch";  // Resize-18 keep_aspect_ratio_policy
};

// The node's mode, coordinate transformation and rounding for `opset`
// (Upsample and Resize-10: asymmetric, floor up / ceil down). Unimplemented
// for cubic, tf_crop_and_resize, half_pixel_symmetric and antialias.
absl::StatusOr<ResizeConfig> ReadConfig(const Node& node, int64_t opset, bool upsample);

// Per axis of the input: the scale used for coordinates and the output length.
struct AxisResize {
  double scale = 1;
  int64_t out = 0;
};

// Output lengths and scales from `scales` or `sizes` (one entry per resized
// axis; exactly one of the two is non-null). Errors name the node.
absl::StatusOr<std::vector<AxisResize>> ResolveAxes(const Node& node, const ResizeConfig& cfg,
                                                    const Shape& in,
                                                    const std::vector<float>* scales,
                                                    const std::vector<int64_t>* sizes);

// A 1-D float32 scales tensor.
absl::StatusOr<std::vector<float>> ReadScales(const Node& node, const Tensor& t);

// shape_fns_resize.cc: shape functions of Upsample and Resize.
void RegisterResizeShapeFns(OpRegistry& registry);

}  // namespace onyx::tensor
