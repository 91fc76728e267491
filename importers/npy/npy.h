// NumPy .npy files (format 1.0/2.0/3.0, C order, little-endian) <-> Tensor.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "runtime/tensor.h"

namespace onyx {

// Reads a .npy file. InvalidArgument for malformed files (bad magic, header or
// sizes), Unimplemented for Fortran order, big-endian or unsupported dtypes.
absl::StatusOr<Tensor> ReadNpy(const std::string& path);
// Same, from the file's bytes.
absl::StatusOr<Tensor> ParseNpy(const std::string& bytes);

// Writes format 1.0 (2.0 when the header needs it), header padded so the data starts
// at a multiple of 64 bytes, as numpy does. bfloat16 has no NumPy dtype: Unimplemented.
absl::Status WriteNpy(const Tensor& t, const std::string& path);
// The bytes WriteNpy writes.
absl::StatusOr<std::string> SerializeNpy(const Tensor& t);

}  // namespace onyx
