// Tensors whose bytes live in a file beside the model (TensorProto.external_data).
// The path must stay inside the model folder: no absolute paths, no "..", and its
// canonical location (after symlinks) must be under the canonical model folder.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "importers/onnx/tensor_proto.h"
#include "runtime/status_macros.h"

namespace onyx::onnx_internal {
namespace {

struct ExternalRef {
  std::string location;
  int64_t offset = 0;
  int64_t length = -1;  // -1: to the end of the file
};

absl::StatusOr<ExternalRef> ParseEntries(const onnx::TensorProto& proto,
                                         const std::string& label) {
  ExternalRef ref;
  bool has_location = false;
  for (const auto& entry : proto.external_data()) {
    if (entry.key() == "location") {
      ref.location = entry.value();
      has_location = true;
    } else if (entry.key() == "offset" || entry.key() == "length") {
      int64_t value = 0;
      if (!absl::SimpleAtoi(entry.value(), &value) || value < 0) {
        return absl::InvalidArgumentError(absl::StrFormat(
            "%s: external data %s \"%s\" is not a non-negative integer", label, entry.key(),
            entry.value()));
      }
      (entry.key() == "offset" ? ref.offset : ref.length) = value;
    }  // "checksum" and unknown keys are ignored
  }
  if (!has_location || ref.location.empty()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: external data has no location", label));
  }
  return ref;
}

absl::Status CheckRelativePath(absl::string_view location, const std::string& label) {
  if (absl::StartsWith(location, "/") || absl::StartsWith(location, "\\")) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: external data path \"%s\" is absolute; it must be relative to the model folder",
        label, location));
  }
  if (location.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: external data path \"%s\" contains a NUL byte", label, location));
  }
  for (absl::string_view part : absl::StrSplit(location, absl::ByAnyChar("/\\"))) {
    if (part == "..") {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: external data path \"%s\" leaves the model folder (\"..\")", label, location));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RealPath(const std::string& path, const std::string& label) {
  char buffer[PATH_MAX];
  if (::realpath(path.c_str(), buffer) == nullptr) {
    const std::string message = absl::StrFormat("%s: cannot resolve external data path \"%s\": %s",
                                                label, path, std::strerror(errno));
    return errno == ENOENT ? absl::NotFoundError(message) : absl::InvalidArgumentError(message);
  }
  return std::string(buffer);
}

}  // namespace

absl::StatusOr<Tensor> ReadExternalTensor(const onnx::TensorProto& proto, DataType dtype,
                                          const Shape& shape, int64_t expected_bytes,
                                          const TensorReadOptions& options) {
  const std::string label = absl::StrFormat("tensor \"%s\"", proto.name());
  if (options.base_dir.empty()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s uses external data, which is refused when the model folder is unknown", label));
  }
  ONYX_ASSIGN_OR_RETURN(ExternalRef ref, ParseEntries(proto, label));
  ONYX_RETURN_IF_ERROR(CheckRelativePath(ref.location, label));
  const std::string joined = options.base_dir + "/" + ref.location;
  ONYX_ASSIGN_OR_RETURN(std::string base, RealPath(options.base_dir, label));
  ONYX_ASSIGN_OR_RETURN(std::string canonical, RealPath(joined, label));
  const std::string prefix = base == "/" ? base : base + "/";
  if (canonical.compare(0, prefix.size(), prefix) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: external data path \"%s\" resolves to \"%s\", outside the model folder \"%s\"",
        label, joined, canonical, base));
  }
  // O_NOFOLLOW: the canonical path has no symlinks; one appearing now is an attack.
  const int fd = ::open(canonical.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: cannot open external data \"%s\": %s", label, joined, std::strerror(errno)));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: external data \"%s\" is not a regular file", label, joined));
  }
  const int64_t file_size = st.st_size;
  if (ref.offset > file_size) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: external data offset %d is beyond the end of \"%s\" (%d bytes)", label,
        ref.offset, joined, file_size));
  }
  const int64_t length = ref.length < 0 ? file_size - ref.offset : ref.length;
  if (length > file_size - ref.offset) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: external data range [%d, %d+%d) is beyond the end of \"%s\" (%d bytes)", label,
        ref.offset, ref.offset, length, joined, file_size));
  }
  if (length != expected_bytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "%s: external data in \"%s\" holds %d bytes but %s%s needs %d bytes", label, joined,
        length, DataTypeName(dtype), ShapeToString(shape), expected_bytes));
  }
  ONYX_ASSIGN_OR_RETURN(Tensor tensor,
                        Tensor::Uninitialized(dtype, shape, options.max_tensor_bytes));
  char* dst = static_cast<char*>(tensor.raw_data());
  int64_t done = 0;
  while (done < length) {
    const ssize_t n = ::pread(fd, dst + done, static_cast<size_t>(length - done),
                              static_cast<off_t>(ref.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: reading external data \"%s\" failed after %d of %d bytes", label, joined, done,
          length));
    }
    done += n;
  }
  return tensor;
}

}  // namespace onyx::onnx_internal
