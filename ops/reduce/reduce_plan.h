// How a reduction walks its input: dims of size 1 dropped, adjacent kept
// (or reduced) dims merged. With at most one reduced group the input reads as
// [outer, reduce_size, inner] ("simple"); otherwise each output's elements are
// its kept offset plus every entry of ReducedOffsets().
#pragma once

#include <cstdint>
#include <vector>

#include "runtime/shape.h"

namespace onyx::reduce {

class ReducePlan {
 public:
  ReducePlan(const Shape& x, const std::vector<bool>& reduced_mask);

  bool simple = true;
  int64_t outer = 1, reduce_size = 1, inner = 1;
  int64_t num_outputs = 1;

  // Offsets (in elements) of every reduced position, row-major over the reduced dims.
  std::vector<int64_t> ReducedOffsets() const;
  // Offset of output element k's first input (k row-major over the kept dims).
  int64_t KeptOffset(int64_t k) const;

 private:
  struct Group {
    int64_t size, stride;
  };
  std::vector<Group> kept_, reduced_;
};

}  // namespace onyx::reduce
