// Shape arithmetic shared by the importer, kernels and the executor.
#include "runtime/shape.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace onyx {

absl::StatusOr<int64_t> CheckedNumElements(absl::Span<const int64_t> dims) {
  int64_t count = 1;
  // The product of the non-zero dims must fit too: then every partial product
  // (outer/inner sizes, strides) of an accepted shape fits, even when a 0 dim
  // makes the element count itself 0.
  int64_t nonzero = 1;
  for (int64_t d : dims) {
    if (d < 0) {
      return absl::InvalidArgumentError(
          absl::StrFormat("shape %s has a negative dim", ShapeToString(dims)));
    }
    if (__builtin_mul_overflow(nonzero, d == 0 ? 1 : d, &nonzero)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "shape %s has more elements than fit in 64 bits", ShapeToString(dims)));
    }
    count *= d;  // cannot overflow: |count| <= nonzero
  }
  return count;
}

int64_t NumElements(absl::Span<const int64_t> dims) {
  int64_t count = 1;
  for (int64_t d : dims) count *= d;
  return count;
}

std::string ShapeToString(absl::Span<const int64_t> dims) {
  return absl::StrCat("[", absl::StrJoin(dims, ","), "]");
}

absl::StatusOr<int> NormalizeAxis(int64_t axis, int rank) {
  if (axis < -rank || axis >= std::max(rank, 1)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("axis %d is out of range for rank %d", axis, rank));
  }
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

absl::StatusOr<Shape> BroadcastShapes(absl::Span<const int64_t> a,
                                      absl::Span<const int64_t> b) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) {
      return absl::InvalidArgumentError(
          absl::StrFormat("shapes %s and %s cannot be broadcast together",
                          ShapeToString(a), ShapeToString(b)));
    }
    out[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace onyx
