// ReducePlan: grouping of kept and reduced dims.
#include "ops/reduce/reduce_plan.h"

namespace onyx::reduce {

ReducePlan::ReducePlan(const Shape& x, const std::vector<bool>& reduced_mask) {
  struct Run {
    bool reduced;
    int64_t size, stride;
  };
  std::vector<Run> runs;  // outermost first
  int64_t stride = 1;
  std::vector<Run> rev;
  for (int d = static_cast<int>(x.size()) - 1; d >= 0; --d) {
    const int64_t dim = x[d];
    if (dim != 1) {
      if (!rev.empty() && rev.back().reduced == reduced_mask[d]) {
        rev.back().size *= dim;  // contiguous with the inner run: merge
      } else {
        rev.push_back({reduced_mask[d], dim, stride});
      }
    }
    stride *= dim;
  }
  runs.assign(rev.rbegin(), rev.rend());
  int reduced_runs = 0;
  for (const Run& r : runs) {
    (r.reduced ? reduced_ : kept_).push_back({r.size, r.stride});
    reduced_runs += r.reduced;
    if (r.reduced) {
      reduce_size *= r.size;
    } else {
      num_outputs *= r.size;
    }
  }
  simple = reduced_runs <= 1;
  if (simple) {
    bool after = false;
    for (const Run& r : runs) {
      if (r.reduced) {
        after = true;
      } else {
        (after ? inner : outer) *= r.size;
      }
    }
  }
}

std::vector<int64_t> ReducePlan::ReducedOffsets() const {
  std::vector<int64_t> table(reduce_size);
  for (int64_t r = 0; r < reduce_size; ++r) {
    int64_t rest = r, off = 0;
    for (int g = static_cast<int>(reduced_.size()) - 1; g >= 0; --g) {
      off += (rest % reduced_[g].size) * reduced_[g].stride;
      rest /= reduced_[g].size;
    }
    table[r] = off;
  }
  return table;
}

int64_t ReducePlan::KeptOffset(int64_t k) const {
  int64_t off = 0;
  for (int g = static_cast<int>(kept_.size()) - 1; g >= 0; --g) {
    off += (k % kept_[g].size) * kept_[g].stride;
    k /= kept_[g].size;
  }
  return off;
}

}  // namespace onyx::reduce
