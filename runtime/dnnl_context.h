// The process-wide oneDNN CPU engine and a per-thread stream. oneDNN errors are
// caught inside kernels and turned into Internal statuses.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "oneapi/dnnl/dnnl.hpp"
#include "runtime/tensor.h"

namespace onyx {

dnnl::engine& CpuEngine();
dnnl::stream& CpuStream();

// Internal status from a caught dnnl::error, naming what was being done.
absl::Status DnnlError(std::string_view what, const dnnl::error& e);

// Plain row-major ("abc...") memory descriptor of f32 data with `dims`.
dnnl::memory::desc PlainDesc(const Shape& dims,
                             dnnl::memory::data_type type = dnnl::memory::data_type::f32);

// Wraps a tensor's buffer (no copy) as oneDNN memory with a plain layout.
dnnl::memory AsDnnlMemory(const dnnl::memory::desc& desc, const Tensor& tensor);

}  // namespace onyx
