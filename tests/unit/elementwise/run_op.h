// Test helper of the elementwise and reduce suites: the shared one-node runner
// (tests/unit/common/run_node.h; inputs "x0", "x1", ..., output "y", default
// registry) under the names these tests use.
#pragma once

#include <type_traits>
#include <vector>

#include "tests/unit/common/run_node.h"

namespace onyx::op_test {

// A tensor of shape `s` holding `v` (bool too: vector<bool> has no contiguous storage).
template <typename T>
Tensor Make(const Shape& s, std::vector<T> v) {
  if constexpr (std::is_same_v<T, bool>) {
    Tensor t = Tensor::Uninitialized(DataType::kBool, s).value();
    for (size_t i = 0; i < v.size(); ++i) t.data<bool>()[i] = v[i];
    return t;
  } else {
    return Tensor::FromVector<T>(s, v).value();
  }
}

// Every element of `t`, as T.
template <typename T>
std::vector<T> Values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.num_elements());
}

using testing_util::FloatAttr;
using testing_util::IntAttr;
using testing_util::IntsAttr;
using testing_util::RunOneNode;

}  // namespace onyx::op_test
