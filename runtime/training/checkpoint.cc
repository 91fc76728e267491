// Checkpoint file format (little-endian):
//   "ONYXCKPT" u32 version=2 | i64 epoch | i64 optimizer_step | str rng_state |
//   i64 epoch_micro_batches | i64 epoch_batch_rows | f64 epoch_loss_sum | str epoch_rng_state |
//   u32 count | count x (str name | i32 dtype | u32 rank | rank x i64 dim | u64 bytes | data)
//   | u64 FNV-1a checksum of everything before it
// where str = u32 length + bytes.
#include "runtime/training/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_format.h"
#include "runtime/status_macros.h"

namespace onyx {
namespace {

constexpr char kMagic[] = "ONYXCKPT";
constexpr uint32_t kVersion = 2;

uint64_t Fnv1a(const char* data, size_t size) {
  uint64_t hash = 1469598103934665603ull;
  for (size_t i = 0; i < size; ++i) {
    hash ^= static_cast<unsigned char>(data[i]);
    hash *= 1099511628211ull;
  }
  return hash;
}

template <typename T>
void Put(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof(T));
}
void PutString(std::string& out, const std::string& s) {
  Put<uint32_t>(out, static_cast<uint32_t>(s.size()));
  out += s;
}

class Reader {
 public:
  Reader(const std::string& data, const std::string& path) : data_(data), path_(path) {}
  template <typename T>
  absl::StatusOr<T> Get() {
    if (data_.size() - pos_ < sizeof(T)) return Truncated();
    T value;
    std::memcpy(&value, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  absl::StatusOr<std::string> GetBytes(uint64_t size) {
    if (data_.size() - pos_ < size) return Truncated();
    std::string s = data_.substr(pos_, size);
    pos_ += size;
    return s;
  }
  absl::StatusOr<std::string> GetString() {
    ONYX_ASSIGN_OR_RETURN(uint32_t size, Get<uint32_t>());
    return GetBytes(size);
  }
  absl::Status Truncated() const {
    return absl::InvalidArgumentError(
        absl::StrFormat("checkpoint %s is truncated or corrupt", path_));
  }

 private:
  const std::string& data_;
  const std::string& path_;
  size_t pos_ = 0;
};

}  // namespace

absl::Status WriteFileAtomically(const std::string& path, const std::string& bytes) {
  // Unique per process: two writers never share (and rename away) one temp file.
  const std::string tmp = absl::StrFormat("%s.tmp.%d", path, static_cast<int>(::getpid()));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("cannot write %s: %s", tmp, std::strerror(errno)));
  }
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(tmp.c_str());
      return absl::ResourceExhaustedError(absl::StrFormat("writing %s failed: %s", tmp, why));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return absl::ResourceExhaustedError(absl::StrFormat("flushing %s failed: %s", tmp, why));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(tmp.c_str());
    return absl::InvalidArgumentError(absl::StrFormat("cannot rename %s to %s: %s", tmp, path, why));
  }
  // Make the rename itself durable.
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return absl::OkStatus();
}

std::string SerializeCheckpoint(const Checkpoint& checkpoint) {
  std::string out(kMagic, 8);
  Put<uint32_t>(out, kVersion);
  Put<int64_t>(out, checkpoint.epoch);
  Put<int64_t>(out, checkpoint.optimizer_step);
  PutString(out, checkpoint.rng_state);
  Put<int64_t>(out, checkpoint.epoch_micro_batches);
  Put<int64_t>(out, checkpoint.epoch_batch_rows);
  Put<double>(out, checkpoint.epoch_loss_sum);
  PutString(out, checkpoint.epoch_rng_state);
  Put<uint32_t>(out, static_cast<uint32_t>(checkpoint.tensors.size()));
  for (const auto& [name, t] : checkpoint.tensors) {
    PutString(out, name);
    Put<int32_t>(out, static_cast<int32_t>(t.dtype()));
    Put<uint32_t>(out, static_cast<uint32_t>(t.rank()));
    for (int64_t d : t.shape()) Put<int64_t>(out, d);
    Put<uint64_t>(out, t.byte_size());
    out.append(static_cast<const char*>(t.raw_data()), t.byte_size());
  }
  Put<uint64_t>(out, Fnv1a(out.data(), out.size()));
  return out;
}

absl::Status WriteCheckpoint(const Checkpoint& checkpoint, const std::string& path) {
  return WriteFileAtomically(path, SerializeCheckpoint(checkpoint));
}

absl::StatusOr<Checkpoint> ReadCheckpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrFormat("cannot open checkpoint %s", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParseCheckpoint(buffer.str(), path);
}

absl::StatusOr<Checkpoint> ParseCheckpoint(const std::string& data, const std::string& path) {
  if (data.size() < 8 + sizeof(uint64_t) || data.compare(0, 8, kMagic) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat("%s is not an Onyx checkpoint", path));
  }
  uint64_t stored;
  std::memcpy(&stored, data.data() + data.size() - sizeof(stored), sizeof(stored));
  if (stored != Fnv1a(data.data(), data.size() - sizeof(stored))) {
    return absl::InvalidArgumentError(
        absl::StrFormat("checkpoint %s is truncated or corrupt (checksum mismatch)", path));
  }
  const std::string body = data.substr(8, data.size() - 8 - sizeof(stored));
  Reader r(body, path);
  Checkpoint c;
  ONYX_ASSIGN_OR_RETURN(uint32_t version, r.Get<uint32_t>());
  if (version != kVersion) {
    return absl::InvalidArgumentError(
        absl::StrFormat("checkpoint %s has unsupported version %d", path, version));
  }
  ONYX_ASSIGN_OR_RETURN(c.epoch, r.Get<int64_t>());
  ONYX_ASSIGN_OR_RETURN(c.optimizer_step, r.Get<int64_t>());
  ONYX_ASSIGN_OR_RETURN(c.rng_state, r.GetString());
  ONYX_ASSIGN_OR_RETURN(c.epoch_micro_batches, r.Get<int64_t>());
  ONYX_ASSIGN_OR_RETURN(c.epoch_batch_rows, r.Get<int64_t>());
  ONYX_ASSIGN_OR_RETURN(c.epoch_loss_sum, r.Get<double>());
  ONYX_ASSIGN_OR_RETURN(c.epoch_rng_state, r.GetString());
  if (c.epoch < 0 || c.epoch_micro_batches < 0) return r.Truncated();
  ONYX_ASSIGN_OR_RETURN(uint32_t count, r.Get<uint32_t>());
  for (uint32_t i = 0; i < count; ++i) {
    ONYX_ASSIGN_OR_RETURN(std::string name, r.GetString());
    ONYX_ASSIGN_OR_RETURN(int32_t dtype, r.Get<int32_t>());
    ONYX_ASSIGN_OR_RETURN(uint32_t rank, r.Get<uint32_t>());
    if (rank > 64) return r.Truncated();
    Shape shape;
    for (uint32_t d = 0; d < rank; ++d) {
      ONYX_ASSIGN_OR_RETURN(int64_t dim, r.Get<int64_t>());
      shape.push_back(dim);
    }
    ONYX_ASSIGN_OR_RETURN(uint64_t bytes, r.Get<uint64_t>());
    ONYX_ASSIGN_OR_RETURN(std::string raw, r.GetBytes(bytes));
    ONYX_ASSIGN_OR_RETURN(Tensor t, Tensor::Uninitialized(static_cast<DataType>(dtype), shape));
    if (t.byte_size() != bytes) return r.Truncated();
    std::memcpy(t.raw_data(), raw.data(), bytes);
    c.tensors.emplace_back(std::move(name), std::move(t));
  }
  return c;
}

}  // namespace onyx
