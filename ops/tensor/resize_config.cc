// Upsample / Resize attributes and output sizes (see resize_config.h).
#include "ops/tensor/resize_config.h"

#include <cmath>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ops/tensor/tensor_util.h"
#include "runtime/status_macros.h"

namespace onyx::tensor {

absl::StatusOr<ResizeConfig> ReadConfig(const Node& node, int64_t opset, bool upsample) {
  ResizeConfig cfg;
  cfg.upsample = upsample;
  ONYX_ASSIGN_OR_RETURN(std::string mode, node.GetString("mode", "nearest"));
  if (mode == "linear" || (upsample && mode == "bilinear")) {
    cfg.linear = true;
  } else if (mode != "nearest") {
    return absl::UnimplementedError(
        absl::StrFormat("%s: mode \"%s\" is not supported (nearest, linear)", node.Describe(), mode));
  }
  if (upsample || opset < 11) return cfg;
  ONYX_ASSIGN_OR_RETURN(std::string coord,
                        node.GetString("coordinate_transformation_mode", "half_pixel"));
  if (coord == "half_pixel") {
    cfg.coord = Coord::kHalfPixel;
  } else if (coord == "asymmetric") {
    cfg.coord = Coord::kAsymmetric;
  } else if (coord == "pytorch_half_pixel") {
    cfg.coord = Coord::kPytorchHalfPixel;
  } else if (coord == "align_corners") {
    cfg.coord = Coord::kAlignCorners;
  } else if (coord == "tf_half_pixel_for_nn" && opset < 13) {
    cfg.coord = Coord::kTfHalfPixelForNn;
  } else {
    return absl::UnimplementedError(absl::StrFormat(
        "%s: coordinate_transformation_mode \"%s\" is not supported", node.Describe(), coord));
  }
  ONYX_ASSIGN_OR_RETURN(std::string nearest, node.GetString("nearest_mode", "round_prefer_floor"));
  if (nearest == "round_prefer_floor") {
    cfg.rounding = Rounding::kRoundPreferFloor;
  } else if (nearest == "round_prefer_ceil") {
    cfg.rounding = Rounding::kRoundPreferCeil;
  } else if (nearest == "floor") {
    cfg.rounding = Rounding::kFloor;
  } else if (nearest == "ceil") {
    cfg.rounding = Rounding::kCeil;
  } else {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: unknown nearest_mode \"%s\"", node.Describe(), nearest));
  }
  ONYX_ASSIGN_OR_RETURN(int64_t antialias, node.GetInt("antialias", 0));
  if (antialias != 0) {
    return absl::UnimplementedError(
        absl::StrFormat("%s: antialias is not supported", node.Describe()));
  }
  if (opset >= 18) {
    ONYX_ASSIGN_OR_RETURN(cfg.axes, node.GetInts("axes", {}));
    ONYX_ASSIGN_OR_RETURN(cfg.aspect, node.GetString("keep_aspect_ratio_policy", "stretch"));
    if (cfg.aspect != "stretch" && cfg.aspect != "not_larger" && cfg.aspect != "not_smaller") {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: unknown keep_aspect_ratio_policy \"%s\"", node.Describe(), cfg.aspect));
    }
  }
  return cfg;
}

absl::StatusOr<std::vector<AxisResize>> ResolveAxes(const Node& node, const ResizeConfig& cfg,
                                                    const Shape& in,
                                                    const std::vector<float>* scales,
                                                    const std::vector<int64_t>* sizes) {
  const int rank = static_cast<int>(in.size());
  std::vector<int> axes;
  if (cfg.axes.empty()) {
    for (int i = 0; i < rank; ++i) axes.push_back(i);
  } else {
    ONYX_ASSIGN_OR_RETURN(axes, NormalizeAxes(node, cfg.axes, rank));
  }
  const size_t count = scales ? scales->size() : sizes->size();
  if (count != axes.size()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: %s has %d entries but the input has rank %d%s", node.Describe(),
        scales ? "scales" : "sizes", count, rank, cfg.axes.empty() ? "" : " (axes given)"));
  }
  std::vector<AxisResize> result(rank);
  for (int i = 0; i < rank; ++i) result[i].out = in[i];
  if (scales) {
    for (size_t k = 0; k < axes.size(); ++k) {
      const double s = (*scales)[k];
      const double out = std::floor(static_cast<double>(in[axes[k]]) * s);
      if (!(s > 0) || !(out < 9.2e18)) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: scales [%s] must be positive and finite", node.Describe(),
            absl::StrJoin(*scales, ",")));
      }
      result[axes[k]] = {s, static_cast<int64_t>(out)};
    }
    return result;
  }
  double common = cfg.aspect == "not_larger" ? 1e300 : 0;
  for (size_t k = 0; k < axes.size(); ++k) {
    if ((*sizes)[k] < 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: sizes [%s] has a negative entry", node.Describe(), absl::StrJoin(*sizes, ",")));
    }
    const double s = in[axes[k]] == 0 ? 1 : static_cast<double>((*sizes)[k]) / in[axes[k]];
    result[axes[k]] = {s, (*sizes)[k]};
    common = cfg.aspect == "not_larger" ? std::min(common, s) : std::max(common, s);
  }
  if (cfg.aspect != "stretch") {
    for (int a : axes) result[a] = {common, static_cast<int64_t>(std::round(in[a] * common))};
  }
  return result;
}

// Source coordinate of output index j.

absl::StatusOr<std::vector<float>> ReadScales(const Node& node, const Tensor& t) {
  if (t.dtype() != DataType::kFloat32 || t.rank() != 1) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: scales must be a 1-D float32 tensor, got %s", node.Describe(), t.DebugString()));
  }
  return std::vector<float>(t.data<float>(), t.data<float>() + t.num_elements());
}

}  // namespace onyx::tensor
