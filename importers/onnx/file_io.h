// Whole-file reads with a size cap and crash-safe writes (temp file, fsync, rename),
// shared by the ONNX and .npy readers/writers.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace onyx {

// Reads all of `path`. NotFound when it does not exist, InvalidArgument when it
// is not a regular file or is larger than `max_bytes`.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path, int64_t max_bytes);

// Writes `bytes` to `path + ".tmp"`, fsyncs it, then renames it over `path`, so an
// existing `path` is never left half-written.
absl::Status WriteFileAtomically(const std::string& path, absl::string_view bytes);
// Same, with the file made of `parts` in order (no concatenated copy).
absl::Status WriteFileAtomically(const std::string& path,
                                 absl::Span<const absl::string_view> parts);

// Directory part of `path` ("." when it has none).
std::string DirName(const std::string& path);

}  // namespace onyx
