// Test helper of the elementwise and reduce suites: the shared one-node runner
// (tests/unit/common/run_node.h; inputs "x0", "x1", ..., output "y", default
// registry) under the names these tests use.
#pragma once

#include "tests/unit/common/run_node.h"

namespace onyx::op_test {

using testing_util::FloatAttr;
using testing_util::IntAttr;
using testing_util::IntsAttr;
using testing_util::RunOneNode;

}  // namespace onyx::op_test
