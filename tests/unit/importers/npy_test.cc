// .npy reader against bytes laid out exactly as numpy 1.24 writes them, writer
// round trips for every dtype, and hostile headers.
#include "importers/npy/npy.h"

#include <cstring>
#include <random>

#include "gtest/gtest.h"
#include "tests/status_matchers.h"
#include "tests/unit/importers/test_files.h"

namespace onyx {
namespace {

using testing_util::WriteBytes;

// A v1.0 file as np.save writes small arrays: the dict padded with spaces and a
// '\n' to a 118-byte header, so the data starts at byte 128.
std::string NumpyV1(const std::string& dict, const std::string& data) {
  const size_t header_len = 118;
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(header_len & 0xff));
  out.push_back(static_cast<char>(header_len >> 8));
  out += dict;
  out.append(header_len - dict.size() - 1, ' ');
  out += '\n';
  return out + data;
}

// Version 2.0: a 4-byte header length, same dict.
std::string NumpyV2(const std::string& dict, const std::string& data) {
  std::string header = dict + "\n";
  header.insert(header.size() - 1, (64 - (12 + header.size()) % 64) % 64, ' ');
  std::string out("\x93NUMPY\x02\x00", 8);
  const uint32_t n = static_cast<uint32_t>(header.size());
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(n >> (8 * i)));
  return out + header + data;
}

template <typename T>
std::string Bytes(std::initializer_list<T> values) {
  std::string out;
  for (T v : values) out.append(reinterpret_cast<const char*>(&v), sizeof(T));
  return out;
}

void ExpectError(const absl::StatusOr<Tensor>& result, absl::StatusCode code,
                 const char* part) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), code) << result.status();
  EXPECT_NE(std::string(result.status().message()).find(part), std::string::npos)
      << "missing \"" << part << "\" in " << result.status();
}

TEST(Npy, ReadsNumpyBytes) {
  // np.save(f, np.arange(6, dtype='<f4').reshape(2, 3))
  ASSERT_OK_AND_ASSIGN(
      Tensor a, ParseNpy(NumpyV1("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                                 Bytes<float>({0, 1, 2, 3, 4, 5}))));
  EXPECT_EQ(a.dtype(), DataType::kFloat32);
  EXPECT_EQ(a.shape(), Shape({2, 3}));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(a.data<float>()[i], float(i));

  // np.save(f, np.array(3.5)): a rank-0 scalar.
  ASSERT_OK_AND_ASSIGN(
      Tensor s, ParseNpy(NumpyV1("{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
                                 Bytes<double>({3.5}))));
  EXPECT_EQ(s.dtype(), DataType::kFloat64);
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(s.data<double>()[0], 3.5);

  // np.save(f, np.array([1, -2, 3], dtype='i2'))
  ASSERT_OK_AND_ASSIGN(
      Tensor i, ParseNpy(NumpyV1("{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }",
                                 Bytes<int16_t>({1, -2, 3}))));
  EXPECT_EQ(i.dtype(), DataType::kInt16);
  EXPECT_EQ(i.shape(), Shape({3}));
  EXPECT_EQ(i.data<int16_t>()[1], -2);

  // np.save(f, np.array([True, False])); a stray 2 byte still reads as true (1).
  ASSERT_OK_AND_ASSIGN(
      Tensor b, ParseNpy(NumpyV1("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }",
                                 std::string("\x01\x00\x02", 3))));
  EXPECT_EQ(b.dtype(), DataType::kBool);
  EXPECT_EQ(b.data<uint8_t>()[0], 1);
  EXPECT_EQ(b.data<uint8_t>()[1], 0);
  EXPECT_EQ(b.data<uint8_t>()[2], 1);

  // Version 2.0 and an older, unpadded spelling with a Python 2 long and no trailing comma.
  ASSERT_OK_AND_ASSIGN(
      Tensor v2, ParseNpy(NumpyV2("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
                                  Bytes<int64_t>({-1, INT64_MAX}))));
  EXPECT_EQ(v2.data<int64_t>()[1], INT64_MAX);
  ASSERT_OK_AND_ASSIGN(
      Tensor old, ParseNpy(std::string("\x93NUMPY\x01\x00\x3a\x00", 10) +
                           "{\"descr\":\"|u1\",\"fortran_order\":False,\"shape\":(2L, 1L)}   \n" +
                           "\x07\x08"));
  EXPECT_EQ(old.shape(), Shape({2, 1}));
  EXPECT_EQ(old.data<uint8_t>()[1], 8);
}

template <typename T>
void RoundTrip(const std::string& dir, Shape shape, std::initializer_list<T> values) {
  ASSERT_OK_AND_ASSIGN(Tensor t, Tensor::FromVector<T>(shape, absl::Span<const T>(values.begin(), values.size())));
  const std::string path = dir + "/t.npy";
  ASSERT_OK(WriteNpy(t, path));
  ASSERT_OK_AND_ASSIGN(Tensor back, ReadNpy(path));
  EXPECT_EQ(back.dtype(), t.dtype());
  EXPECT_EQ(back.shape(), t.shape());
  ASSERT_EQ(back.byte_size(), t.byte_size());
  EXPECT_EQ(std::memcmp(back.raw_data(), t.raw_data(), t.byte_size()), 0) << t.DebugString();
  // Data starts on a 64-byte boundary with a '\n'-terminated header.
  const std::string bytes = testing_util::ReadBytes(path);
  const size_t offset = bytes.size() - t.byte_size();
  EXPECT_EQ(offset % 64, 0u);
  EXPECT_EQ(bytes[offset - 1], '\n');
  EXPECT_EQ(bytes.substr(0, 8), std::string("\x93NUMPY\x01\x00", 8));
}

TEST(Npy, RoundTripsEveryDtype) {
  testing_util::ScopedTempDir tmp;
  const std::string& dir = tmp.path();
  RoundTrip<float>(dir, {2, 3}, {1.5f, -0.f, 3e38f, -1e-38f, 0.f, 7.f});
  RoundTrip<double>(dir, {}, {-2.25});
  RoundTrip<int64_t>(dir, {2}, {INT64_MIN, INT64_MAX});
  RoundTrip<int32_t>(dir, {1, 1, 3}, {-5, 0, 2147483647});
  RoundTrip<int16_t>(dir, {2}, {-32768, 12});
  RoundTrip<int8_t>(dir, {3}, {-128, 0, 127});
  RoundTrip<uint8_t>(dir, {2, 2}, {0, 1, 254, 255});
  RoundTrip<uint16_t>(dir, {1}, {65535});
  RoundTrip<uint32_t>(dir, {2}, {4000000000u, 3});
  RoundTrip<uint64_t>(dir, {2}, {UINT64_MAX, 0});
  RoundTrip<bool>(dir, {3}, {true, false, true});
  RoundTrip<float>(dir, {0, 4}, {});
  // float16 has no C++ type here: raw bit patterns.
  ASSERT_OK_AND_ASSIGN(Tensor h, Tensor::Zeros(DataType::kFloat16, {2}));
  h.data<uint16_t>()[0] = 0x3C00;
  h.data<uint16_t>()[1] = 0xFC00;
  ASSERT_OK(WriteNpy(h, dir + "/h.npy"));
  ASSERT_OK_AND_ASSIGN(Tensor hb, ReadNpy(dir + "/h.npy"));
  EXPECT_EQ(hb.dtype(), DataType::kFloat16);
  EXPECT_EQ(hb.data<uint16_t>()[1], 0xFC00);
  ASSERT_OK_AND_ASSIGN(Tensor bf, Tensor::Zeros(DataType::kBFloat16, {2}));
  EXPECT_EQ(WriteNpy(bf, dir + "/bf.npy").code(), absl::StatusCode::kUnimplemented);
}

// The writer's header text is numpy's (minus numpy's optional growth padding).
TEST(Npy, WriterHeaderText) {
  ASSERT_OK_AND_ASSIGN(Tensor t, Tensor::Zeros(DataType::kFloat32, {2, 3}));
  ASSERT_OK_AND_ASSIGN(std::string bytes, SerializeNpy(t));
  ASSERT_EQ(bytes.size(), 128u + 24u);
  EXPECT_EQ(bytes.substr(0, 10), std::string("\x93NUMPY\x01\x00\x76\x00", 10));
  EXPECT_EQ(bytes.substr(10, 59), "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
  EXPECT_EQ(bytes.substr(69, 58), std::string(58, ' '));
  EXPECT_EQ(bytes[127], '\n');
  ASSERT_OK_AND_ASSIGN(Tensor one, Tensor::Zeros(DataType::kInt8, {5}));
  ASSERT_OK_AND_ASSIGN(std::string b1, SerializeNpy(one));
  EXPECT_NE(b1.find("{'descr': '|i1', 'fortran_order': False, 'shape': (5,), }"),
            std::string::npos);
  ASSERT_OK_AND_ASSIGN(Tensor scalar, Tensor::Zeros(DataType::kUInt16, {}));
  ASSERT_OK_AND_ASSIGN(std::string b0, SerializeNpy(scalar));
  EXPECT_NE(b0.find("'shape': (), }"), std::string::npos);
}

TEST(Npy, HostileHeaders) {
  const std::string good_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  const std::string data = Bytes<float>({1, 2});
  auto with_dict = [&](const std::string& dict) { return ParseNpy(NumpyV1(dict, data)); };
  ASSERT_OK(ParseNpy(NumpyV1(good_dict, data)));

  ExpectError(ParseNpy("\x93NUMPX\x01\x00" + NumpyV1(good_dict, data).substr(8)),
              absl::StatusCode::kInvalidArgument, "magic");
  ExpectError(ParseNpy(""), absl::StatusCode::kInvalidArgument, "magic");
  ExpectError(ParseNpy(std::string("\x93NUMPY\x01\x00\x76", 9)),
              absl::StatusCode::kInvalidArgument, "truncated");
  ExpectError(ParseNpy(NumpyV1(good_dict, data).substr(0, 60)),
              absl::StatusCode::kInvalidArgument, "past the end");
  ExpectError(ParseNpy(std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12) + good_dict),
              absl::StatusCode::kInvalidArgument, "header length");
  ExpectError(ParseNpy(std::string("\x93NUMPY\x04\x00\x10\x00", 10) + good_dict),
              absl::StatusCode::kUnimplemented, "version 4");

  const auto kBad = absl::StatusCode::kInvalidArgument;
  ExpectError(with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }"), kBad,
              "shape");
  ExpectError(with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2 1), }"), kBad,
              "shape");
  ExpectError(with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2,"), kBad, "");
  ExpectError(with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': 2, }"), kBad,
              "tuple");
  ExpectError(with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }"), kBad,
              "negative");
  ExpectError(with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': "
                        "(99999999999999999999,), }"),
              kBad, "overflow");
  ExpectError(with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': "
                        "(4294967296, 4294967296), }"),
              kBad, "overflow");
  // Declared sizes that fit int64 but not the data present: no big allocation.
  ExpectError(with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }"),
              kBad, "4000000000000 data bytes");
  ExpectError(with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"), kBad,
              "holds 8");
  ExpectError(with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }"), kBad,
              "holds 8");
  ExpectError(with_dict("{'descr': '<f4', 'shape': (2,), }"), kBad, "needs");
  ExpectError(with_dict("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
                        "'shape': (2,), }"),
              kBad, "repeated");
  ExpectError(with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}"),
              kBad, "'x'");
  ExpectError(with_dict("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }"), kBad,
              "True or False");
  ExpectError(with_dict("['descr']"), kBad, "dict");
  ExpectError(with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } junk"),
              kBad, "after");
  ExpectError(with_dict("{'descr': '<f4, 'fortran_order': False, 'shape': (2,), }"), kBad, "");

  const auto kUnimpl = absl::StatusCode::kUnimplemented;
  ExpectError(with_dict("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }"), kUnimpl,
              "Fortran");
  ExpectError(with_dict("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }"), kUnimpl,
              "big-endian");
  ExpectError(with_dict("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }"), kUnimpl,
              "'<c8'");
  ExpectError(with_dict("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }"),
              kBad, "string");
}

// Every prefix and random corruption of a valid file fails cleanly or parses.
TEST(Npy, TruncationAndCorruptionNeverCrash) {
  const std::string good =
      NumpyV1("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }",
              Bytes<int32_t>({1, 2, 3, 4}));
  for (size_t n = 0; n < good.size(); ++n) EXPECT_FALSE(ParseNpy(good.substr(0, n)).ok()) << n;
  std::mt19937 rng(7);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string bad = good;
    for (int k = 0; k < 3; ++k) bad[rng() % 80] = static_cast<char>(rng());
    (void)ParseNpy(bad);
  }
}

TEST(Npy, FileErrorsNameThePath) {
  testing_util::ScopedTempDir tmp;
  const std::string& dir = tmp.path();
  EXPECT_EQ(ReadNpy(dir + "/missing.npy").status().code(), absl::StatusCode::kNotFound);
  WriteBytes(dir + "/short.npy",
             NumpyV1("{'descr': '<f4', 'fortran_order': False, 'shape': (8,), }", "abcd"));
  ExpectError(ReadNpy(dir + "/short.npy"), absl::StatusCode::kInvalidArgument, "short.npy");
  WriteBytes(dir + "/tiny.npy", "\x93NUM");
  ExpectError(ReadNpy(dir + "/tiny.npy"), absl::StatusCode::kInvalidArgument, "magic");
  WriteBytes(dir + "/cut.npy", std::string("\x93NUMPY\x01\x00\xff\x00{'descr'", 17));
  ExpectError(ReadNpy(dir + "/cut.npy"), absl::StatusCode::kInvalidArgument, "past the end");
}

}  // namespace
}  // namespace onyx
