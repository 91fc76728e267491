// .npy reader/writer. The header is a Python dict literal, e.g.
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// parsed here by a small hand-written scanner that rejects anything unexpected.
#include "importers/npy/npy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "importers/onnx/file_io.h"
#include "runtime/status_macros.h"

namespace onyx {
namespace {

static_assert(std::endian::native == std::endian::little, "npy I/O assumes little-endian");

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
// numpy refuses headers over 10000 bytes by default; leave generous room.
constexpr uint32_t kMaxHeaderBytes = 1 << 20;
constexpr size_t kAlignment = 64;

struct NpyHeader {
  DataType dtype = DataType::kUndefined;
  Shape shape;
  size_t data_offset = 0;  // bytes before the array data
};

absl::Status Malformed(const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("malformed .npy: ", why));
}

// One descr per supported dtype: what WriteNpy writes and ReadNpy accepts.
struct DescrEntry {
  const char* code;  // descr without its byte-order character
  DataType dtype;
};
constexpr DescrEntry kDescrs[] = {
    {"f4", DataType::kFloat32}, {"f8", DataType::kFloat64}, {"f2", DataType::kFloat16},
    {"i8", DataType::kInt64},   {"i4", DataType::kInt32},   {"i2", DataType::kInt16},
    {"i1", DataType::kInt8},    {"u1", DataType::kUInt8},   {"u2", DataType::kUInt16},
    {"u4", DataType::kUInt32},  {"u8", DataType::kUInt64},  {"b1", DataType::kBool},
};

absl::StatusOr<DataType> DtypeFromDescr(const std::string& descr) {
  if (descr.size() >= 2) {
    const char order = descr[0];
    const std::string code = descr.substr(1);
    for (const DescrEntry& e : kDescrs) {
      if (code != e.code) continue;
      const bool single_byte = DataTypeSize(e.dtype) == 1;
      if (order == '<' || order == '|' || order == '=') return e.dtype;
      if (order == '>') {
        if (single_byte) return e.dtype;
        return absl::UnimplementedError(absl::StrFormat(
            ".npy dtype '%s' is big-endian; only little-endian data is supported", descr));
      }
    }
  }
  return absl::UnimplementedError(absl::StrFormat("unsupported .npy dtype '%s'", descr));
}

// Scanner over the header dict text.
class HeaderScanner {
 public:
  explicit HeaderScanner(absl::string_view text) : text_(text) {}

  void SkipSpace() {
    while (pos_ < text_.size() && absl::ascii_isspace(static_cast<unsigned char>(text_[pos_]))) {
      ++pos_;
    }
  }
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool Peek(char c) {
    SkipSpace();
    return pos_ < text_.size() && text_[pos_] == c;
  }
  bool AtEnd() {
    SkipSpace();
    return pos_ == text_.size();
  }

  absl::StatusOr<std::string> String() {
    SkipSpace();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
      return Malformed("expected a quoted string in the header");
    }
    const char quote = text_[pos_++];
    const size_t end = text_.find(quote, pos_);
    if (end == absl::string_view::npos) return Malformed("unterminated string in the header");
    std::string value(text_.substr(pos_, end - pos_));
    if (value.find('\\') != std::string::npos) return Malformed("escapes in header strings");
    pos_ = end + 1;
    return value;
  }

  absl::StatusOr<bool> Bool() {
    SkipSpace();
    for (const auto& [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      const size_t n = std::strlen(word);
      if (text_.substr(pos_, n) == word) {
        pos_ += n;
        return value;
      }
    }
    return Malformed("fortran_order must be True or False");
  }

  // "(2, 3)", "(3,)", "()" (or a list), non-negative ints, optional Python 2 'L'.
  absl::StatusOr<Shape> Tuple() {
    char close = ')';
    if (!Consume('(')) {
      if (!Consume('[')) return Malformed("shape must be a tuple");
      close = ']';
    }
    Shape shape;
    while (!Consume(close)) {
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == '-') {
        return Malformed("shape has a negative dimension");
      }
      if (pos_ >= text_.size() || !absl::ascii_isdigit(static_cast<unsigned char>(text_[pos_]))) {
        return Malformed("shape must hold non-negative integers");
      }
      int64_t value = 0;
      while (pos_ < text_.size() && absl::ascii_isdigit(static_cast<unsigned char>(text_[pos_]))) {
        if (__builtin_mul_overflow(value, int64_t{10}, &value) ||
            __builtin_add_overflow(value, int64_t{text_[pos_] - '0'}, &value)) {
          return Malformed("shape dimension overflows int64");
        }
        ++pos_;
      }
      if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;
      shape.push_back(value);
      if (!Consume(',') && !Peek(close)) return Malformed("bad shape tuple");
    }
    return shape;
  }

 private:
  absl::string_view text_;
  size_t pos_ = 0;
};

absl::Status ParseDict(absl::string_view text, NpyHeader* header) {
  HeaderScanner scan(text);
  if (!scan.Consume('{')) return Malformed("header is not a dict");
  std::optional<std::string> descr;
  std::optional<bool> fortran;
  std::optional<Shape> shape;
  while (!scan.Consume('}')) {
    ONYX_ASSIGN_OR_RETURN(std::string key, scan.String());
    if (!scan.Consume(':')) return Malformed("expected ':' after a header key");
    if (key == "descr" && !descr) {
      ONYX_ASSIGN_OR_RETURN(descr, scan.String());
    } else if (key == "fortran_order" && !fortran) {
      ONYX_ASSIGN_OR_RETURN(fortran, scan.Bool());
    } else if (key == "shape" && !shape) {
      ONYX_ASSIGN_OR_RETURN(shape, scan.Tuple());
    } else {
      return Malformed(absl::StrFormat("unexpected or repeated header key '%s'", key));
    }
    if (!scan.Consume(',') && !scan.Peek('}')) return Malformed("expected ',' or '}'");
  }
  if (!scan.AtEnd()) return Malformed("text after the header dict");
  if (!descr || !fortran || !shape) {
    return Malformed("header needs 'descr', 'fortran_order' and 'shape'");
  }
  if (*fortran) {
    return absl::UnimplementedError("Fortran-order .npy arrays are not supported");
  }
  ONYX_ASSIGN_OR_RETURN(header->dtype, DtypeFromDescr(*descr));
  header->shape = *std::move(shape);
  return absl::OkStatus();
}

// Parses the preamble and header dict from the first bytes of a file. NotFound-free:
// every problem is InvalidArgument or Unimplemented.
absl::StatusOr<NpyHeader> ParseHeader(absl::string_view prefix) {
  if (prefix.size() < kMagicSize + 2 || prefix.substr(0, kMagicSize) != kMagic) {
    return Malformed("bad magic (not a .npy file)");
  }
  const int major = static_cast<unsigned char>(prefix[6]);
  size_t len_size = 0;
  if (major == 1) {
    len_size = 2;
  } else if (major == 2 || major == 3) {
    len_size = 4;
  } else {
    return absl::UnimplementedError(absl::StrFormat(".npy format version %d", major));
  }
  const size_t start = kMagicSize + 2 + len_size;
  if (prefix.size() < start) return Malformed("truncated header length");
  uint32_t header_len = 0;
  for (size_t i = 0; i < len_size; ++i) {
    header_len |= static_cast<uint32_t>(static_cast<unsigned char>(prefix[8 + i])) << (8 * i);
  }
  if (header_len > kMaxHeaderBytes) {
    return Malformed(absl::StrFormat("header length %d is over the %d-byte limit", header_len,
                                     kMaxHeaderBytes));
  }
  if (prefix.size() - start < header_len) {
    return Malformed(absl::StrFormat("header length %d runs past the end of the file",
                                     header_len));
  }
  NpyHeader header;
  ONYX_RETURN_IF_ERROR(ParseDict(prefix.substr(start, header_len), &header));
  header.data_offset = start + header_len;
  return header;
}

// Checks the data bytes present against the header, then copies them into a tensor.
absl::StatusOr<int64_t> ExpectedBytes(const NpyHeader& header) {
  auto count = CheckedNumElements(header.shape);
  int64_t bytes = 0;
  if (!count.ok() || __builtin_mul_overflow(*count, int64_t(DataTypeSize(header.dtype)), &bytes)) {
    return Malformed(absl::StrFormat("shape %s overflows", ShapeToString(header.shape)));
  }
  return bytes;
}

absl::Status CheckDataSize(const NpyHeader& header, int64_t expected, int64_t actual) {
  if (expected == actual) return absl::OkStatus();
  return Malformed(absl::StrFormat("%s%s needs %d data bytes, the file holds %d",
                                   DataTypeName(header.dtype), ShapeToString(header.shape),
                                   expected, actual));
}

void NormalizeBools(Tensor* t) {
  if (t->dtype() != DataType::kBool) return;
  uint8_t* p = t->data<uint8_t>();
  for (int64_t i = 0; i < t->num_elements(); ++i) p[i] = p[i] != 0;
}

const char* DescrFor(DataType dtype) {
  switch (dtype) {
    case DataType::kFloat32: return "<f4";
    case DataType::kFloat64: return "<f8";
    case DataType::kFloat16: return "<f2";
    case DataType::kInt64: return "<i8";
    case DataType::kInt32: return "<i4";
    case DataType::kInt16: return "<i2";
    case DataType::kInt8: return "|i1";
    case DataType::kUInt8: return "|u1";
    case DataType::kUInt16: return "<u2";
    case DataType::kUInt32: return "<u4";
    case DataType::kUInt64: return "<u8";
    case DataType::kBool: return "|b1";
    default: return nullptr;
  }
}

// Magic, version, length and the padded header dict, as numpy writes them.
absl::StatusOr<std::string> HeaderBytes(const Tensor& t) {
  const char* descr = DescrFor(t.dtype());
  if (descr == nullptr) {
    return absl::UnimplementedError(
        absl::StrFormat("dtype %s has no .npy equivalent", DataTypeName(t.dtype())));
  }
  // Python tuple repr: (), (3,), (2, 3).
  std::string shape = absl::StrCat("(", absl::StrJoin(t.shape(), ", "),
                                   t.rank() == 1 ? ",)" : ")");
  std::string dict = absl::StrFormat("{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                                     descr, shape);
  for (int major : {1, 2}) {
    const size_t len_size = major == 1 ? 2 : 4;
    const size_t preamble = kMagicSize + 2 + len_size;
    // +1 for the closing '\n'; pad with spaces to the alignment.
    const size_t padding = (kAlignment - (preamble + dict.size() + 1) % kAlignment) % kAlignment;
    const size_t header_len = dict.size() + padding + 1;
    if (major == 1 && header_len > 0xFFFF) continue;
    std::string out(kMagic, kMagicSize);
    out.push_back(static_cast<char>(major));
    out.push_back('\0');
    for (size_t i = 0; i < len_size; ++i) out.push_back(static_cast<char>(header_len >> (8 * i)));
    out += dict;
    out.append(padding, ' ');
    out.push_back('\n');
    return out;
  }
  return absl::InvalidArgumentError("npy header too long");
}

}  // namespace

absl::StatusOr<Tensor> ParseNpy(const std::string& bytes) {
  ONYX_ASSIGN_OR_RETURN(NpyHeader header, ParseHeader(bytes));
  ONYX_ASSIGN_OR_RETURN(int64_t expected, ExpectedBytes(header));
  ONYX_RETURN_IF_ERROR(CheckDataSize(
      header, expected, static_cast<int64_t>(bytes.size() - header.data_offset)));
  ONYX_ASSIGN_OR_RETURN(Tensor t, Tensor::Uninitialized(header.dtype, header.shape));
  if (expected > 0) std::memcpy(t.raw_data(), bytes.data() + header.data_offset, expected);
  NormalizeBools(&t);
  return t;
}

absl::StatusOr<Tensor> ReadNpy(const std::string& path) {
  auto with_path = [&](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrFormat("%s: %s", path, std::string(s.message())));
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const std::string message = absl::StrFormat("cannot open \"%s\": %s", path, std::strerror(errno));
    return errno == ENOENT ? absl::NotFoundError(message) : absl::InvalidArgumentError(message);
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrFormat("\"%s\" is not a regular file", path));
  }
  const int64_t file_size = st.st_size;
  auto read_at = [&](void* dst, int64_t n, int64_t offset) -> bool {
    int64_t done = 0;
    while (done < n) {
      const ssize_t r = ::pread(fd, static_cast<char*>(dst) + done, n - done, offset + done);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      done += r;
    }
    return true;
  };
  // The preamble and header first; the data goes straight into the tensor.
  std::string prefix(static_cast<size_t>(std::min<int64_t>(file_size, 12)), '\0');
  if (!read_at(prefix.data(), prefix.size(), 0)) {
    return with_path(absl::InvalidArgumentError("read failed"));
  }
  if (prefix.size() >= 12) {
    const bool v1 = prefix[6] == 1;
    uint32_t header_len = static_cast<unsigned char>(prefix[8]) |
                          static_cast<unsigned char>(prefix[9]) << 8;
    if (!v1) {
      header_len |= static_cast<uint32_t>(static_cast<unsigned char>(prefix[10])) << 16 |
                    static_cast<uint32_t>(static_cast<unsigned char>(prefix[11])) << 24;
    }
    const int64_t want =
        std::min<int64_t>(file_size, (v1 ? 10 : 12) + std::min(header_len, kMaxHeaderBytes + 1));
    prefix.resize(static_cast<size_t>(want));
    if (!read_at(prefix.data(), want, 0)) {
      return with_path(absl::InvalidArgumentError("read failed"));
    }
  }
  auto header = ParseHeader(prefix);
  if (!header.ok()) return with_path(header.status());
  auto expected = ExpectedBytes(*header);
  if (!expected.ok()) return with_path(expected.status());
  absl::Status size_ok =
      CheckDataSize(*header, *expected, file_size - static_cast<int64_t>(header->data_offset));
  if (!size_ok.ok()) return with_path(size_ok);
  auto t = Tensor::Uninitialized(header->dtype, header->shape);
  if (!t.ok()) return with_path(t.status());
  if (!read_at(t->raw_data(), *expected, header->data_offset)) {
    return with_path(absl::InvalidArgumentError("read failed"));
  }
  NormalizeBools(&*t);
  return t;
}

absl::StatusOr<std::string> SerializeNpy(const Tensor& t) {
  ONYX_ASSIGN_OR_RETURN(std::string out, HeaderBytes(t));
  out.append(static_cast<const char*>(t.raw_data()), t.byte_size());
  return out;
}

absl::Status WriteNpy(const Tensor& t, const std::string& path) {
  ONYX_ASSIGN_OR_RETURN(std::string header, HeaderBytes(t));
  const absl::string_view parts[] = {
      header, absl::string_view(static_cast<const char*>(t.raw_data()), t.byte_size())};
  return WriteFileAtomically(path, parts);
}

}  // namespace onyx
