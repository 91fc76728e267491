// Tensor shapes: a list of non-negative dims, with overflow-checked element counts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace onyx {

using Shape = std::vector<int64_t>;

// Product of dims; InvalidArgument when a dim is negative or the product of the
// non-zero dims overflows (so every partial product of an accepted shape fits).
absl::StatusOr<int64_t> CheckedNumElements(absl::Span<const int64_t> dims);
// Product of dims for shapes already validated (no checks).
int64_t NumElements(absl::Span<const int64_t> dims);
// "[2,3,4]"
std::string ShapeToString(absl::Span<const int64_t> dims);
// Normalizes a possibly negative axis into [0, rank); InvalidArgument if outside.
absl::StatusOr<int> NormalizeAxis(int64_t axis, int rank);
// NumPy broadcast of two shapes; InvalidArgument when they are incompatible.
absl::StatusOr<Shape> BroadcastShapes(absl::Span<const int64_t> a,
                                      absl::Span<const int64_t> b);

}  // namespace onyx
