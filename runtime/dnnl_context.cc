// oneDNN engine/stream singletons and small wrappers.
#include "runtime/dnnl_context.h"

#include "absl/strings/str_format.h"

namespace onyx {

dnnl::engine& CpuEngine() {
  static dnnl::engine* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

dnnl::stream& CpuStream() {
  thread_local dnnl::stream stream(CpuEngine());
  return stream;
}

absl::Status DnnlError(std::string_view what, const dnnl::error& e) {
  return absl::InternalError(absl::StrFormat("oneDNN failed in %s: %s (status %d)", what,
                                             e.what(), static_cast<int>(e.status)));
}

dnnl::memory::desc PlainDesc(const Shape& dims, dnnl::memory::data_type type) {
  dnnl::memory::dims d(dims.begin(), dims.end());
  if (d.empty()) d.push_back(1);  // oneDNN has no rank-0 tensors: use [1]
  dnnl::memory::dims strides(d.size(), 1);
  for (int i = static_cast<int>(d.size()) - 2; i >= 0; --i) {
    strides[i] = strides[i + 1] * std::max<dnnl::memory::dim>(d[i + 1], 1);
  }
  return dnnl::memory::desc(d, type, strides);
}

dnnl::memory AsDnnlMemory(const dnnl::memory::desc& desc, const Tensor& tensor) {
  return dnnl::memory(desc, CpuEngine(), const_cast<void*>(tensor.raw_data()));
}

}  // namespace onyx
