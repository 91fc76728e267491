// Writing a rendered figure: SVG as is, PNG rasterized with librsvg + cairo
// when Onyx was built with them. Files are written to a temporary name in the
// same folder and renamed, so a reader (a browser watching a training plot)
// never sees a half-written file.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace onyx::plot {

// True when this build can write PNG (librsvg was found by CMake).
bool PngSupported();

// OK for a path ending in .svg, or .png when PngSupported(); InvalidArgument
// saying why otherwise. Cheap: lets a command reject bad usage before work.
absl::Status CheckOutputPath(const std::string& path);

// Writes `svg` to `path` (.svg) or its rasterization (.png), atomically.
absl::Status WriteFigure(const std::string& svg, const std::string& path);

// Writes `contents` to `path` through a temporary file and rename.
absl::Status WriteFileAtomically(const std::string& path, const std::string& contents);

}  // namespace onyx::plot
