// A vendor library (cuBLAS, cuDNN, NCCL) opened with dlopen on first use and its
// entry points resolved with dlsym: the one loader behind cublas_api, cudnn_api
// and nccl_api (cublas_api.h says why they are not linked).
#pragma once

#include <dlfcn.h>

#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace onyx::cuda {

class SharedLibrary {
 public:
  // Opens `soname` through the loader's search path (LD_LIBRARY_PATH,
  // ld.so.cache), then from `fallback_dir` (the toolkit folder the binary was
  // built against; null: none). FailedPrecondition "cannot load <soname>
  // (needed for <purpose>): <loader's reasons>" when both fail. The library
  // stays open for the life of the process.
  static absl::StatusOr<SharedLibrary> Open(const std::string& soname, const char* fallback_dir,
                                            const std::string& purpose);

  // Sets *fn to `symbol`'s address; a missing symbol is remembered for Check.
  template <typename Fn>
  void Resolve(const char* symbol, Fn* fn) {
    *fn = reinterpret_cast<Fn>(dlsym(handle_, symbol));
    if (*fn == nullptr) NoteMissing(symbol);
  }
  // FailedPrecondition naming every entry point Resolve did not find.
  absl::Status Check() const;

 private:
  SharedLibrary(void* handle, std::string soname) : handle_(handle), soname_(std::move(soname)) {}
  void NoteMissing(const char* symbol);

  void* handle_;
  std::string soname_;
  std::string missing_;
};

// Whether a library whose path contains `name` (e.g. "libcublas") is mapped into
// this process (read from /proc/self/maps).
bool LibraryMapped(const char* name);

}  // namespace onyx::cuda
