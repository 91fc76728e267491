#include "runtime/cuda/shared_library.h"

#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace onyx::cuda {

absl::StatusOr<SharedLibrary> SharedLibrary::Open(const std::string& soname,
                                                  const char* fallback_dir,
                                                  const std::string& purpose) {
  if (void* handle = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL)) {
    return SharedLibrary(handle, soname);
  }
  std::string error = dlerror();
  if (fallback_dir != nullptr) {
    const std::string in_toolkit = absl::StrCat(fallback_dir, "/", soname);
    if (void* handle = dlopen(in_toolkit.c_str(), RTLD_NOW | RTLD_LOCAL)) {
      return SharedLibrary(handle, soname);
    }
    absl::StrAppend(&error, "; ", dlerror());
  }
  return absl::FailedPreconditionError(
      absl::StrFormat("cannot load %s (needed for %s): %s", soname, purpose, error));
}

void SharedLibrary::NoteMissing(const char* symbol) { absl::StrAppend(&missing_, " ", symbol); }

absl::Status SharedLibrary::Check() const {
  if (missing_.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrFormat("%s lacks the entry points:%s", soname_, missing_));
}

bool LibraryMapped(const char* name) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find(name) != std::string::npos) return true;
  }
  return false;
}

}  // namespace onyx::cuda
