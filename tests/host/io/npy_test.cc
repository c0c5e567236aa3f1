// .npy reading and writing: round trips, and hostile files rejected with a message.
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "host/io/npy.h"

namespace micronet_ad::host {
namespace {

std::vector<std::uint8_t> npy_with_header(const std::string& header, std::size_t data_bytes, int version = 1) {
  std::vector<std::uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<std::uint8_t>(version), 0};
  if (version == 1) {
    out.push_back(static_cast<std::uint8_t>(header.size() & 0xff));
    out.push_back(static_cast<std::uint8_t>(header.size() >> 8));
  } else {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(header.size() >> (8 * i)));
  }
  out.insert(out.end(), header.begin(), header.end());
  out.resize(out.size() + data_bytes, 7);
  return out;
}

std::string error_of(const std::vector<std::uint8_t>& bytes) {
  try {
    parse_npy(bytes.data(), bytes.size(), "x.npy");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(Npy, RoundTripInt8AndFloat) {
  const std::vector<std::int8_t> v = {1, -2, 3, -4, 5, -6};
  const auto bytes = encode_npy("i1", {2, 3}, v.data(), v.size());
  EXPECT_EQ((bytes.size() - v.size()) % 64, 0u);  // header padded to 64 like numpy
  const NpyArray a = parse_npy(bytes.data(), bytes.size(), "t");
  EXPECT_EQ(a.dtype, "i1");
  EXPECT_EQ(a.shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(0, std::memcmp(a.data.data(), v.data(), v.size()));
  const float f[2] = {1.5f, -2.25f};
  const auto fb = encode_npy("f4", {2}, f, sizeof(f));
  const NpyArray b = parse_npy(fb.data(), fb.size(), "t");
  EXPECT_EQ(b.dtype, "f4");
  EXPECT_EQ(b.shape, (std::vector<std::int64_t>{2}));
}

TEST(Npy, NumpyWrittenHeadersParse) {
  const auto bytes =
      npy_with_header("{'descr': '|i1', 'fortran_order': False, 'shape': (1, 32, 32, 1), }          \n", 1024);
  const NpyArray a = parse_npy(bytes.data(), bytes.size(), "t");
  EXPECT_EQ(a.shape, (std::vector<std::int64_t>{1, 32, 32, 1}));
  const auto v2 = npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }\n", 12, 2);
  EXPECT_EQ(parse_npy(v2.data(), v2.size(), "t").shape, (std::vector<std::int64_t>{3}));
  const auto scalar = npy_with_header("{'descr': '<i4', 'fortran_order': False, 'shape': (), }\n", 4);
  EXPECT_TRUE(parse_npy(scalar.data(), scalar.size(), "t").shape.empty());
}

TEST(Npy, HostileFilesAreRejectedWithAMessage) {
  EXPECT_NE(error_of({}).find("bad magic"), std::string::npos);
  EXPECT_NE(error_of({'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0}).find("bad magic"), std::string::npos);
  const std::string ok = "{'descr': '|i1', 'fortran_order': False, 'shape': (2, 2), }\n";
  EXPECT_NE(error_of(npy_with_header(ok, 3)).find("expected 4"), std::string::npos);  // truncated data
  EXPECT_NE(error_of(npy_with_header(ok, 5)).find("expected 4"), std::string::npos);  // trailing bytes
  auto truncated_header = npy_with_header(ok, 0);
  truncated_header.resize(20);
  EXPECT_NE(error_of(truncated_header).find("truncated"), std::string::npos);
  EXPECT_NE(
      error_of(npy_with_header("{'descr': '|i1', 'fortran_order': True, 'shape': (2, 2), }\n", 4)).find("Fortran"),
      std::string::npos);
  EXPECT_NE(
      error_of(npy_with_header("{'descr': '>i4', 'fortran_order': False, 'shape': (1,), }\n", 4)).find("big-endian"),
      std::string::npos);
  EXPECT_NE(error_of(npy_with_header("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }\n", 16))
                .find("not supported"),
            std::string::npos);
  EXPECT_NE(
      error_of(npy_with_header("{'descr': '|i1', 'fortran_order': False, 'shape': (99999999999999, 99999999), }\n", 0))
          .find("large"),
      std::string::npos);
  EXPECT_NE(
      error_of(npy_with_header("{'descr': '|i1', 'fortran_order': False, 'shape': (a, b), }\n", 0)).find("malformed"),
      std::string::npos);
  EXPECT_NE(error_of(npy_with_header("{'fortran_order': False, 'shape': (1,), }\n", 1)).find("descr"),
            std::string::npos);
  auto huge = npy_with_header(ok, 4, 2);
  huge[8] = huge[9] = huge[10] = huge[11] = 0xff;  // 4 GiB header length
  EXPECT_NE(error_of(huge).find("too large"), std::string::npos);
  auto version = npy_with_header(ok, 4);
  version[6] = 9;
  EXPECT_NE(error_of(version).find("version 9"), std::string::npos);
}

// A header whose value runs into its closing newline (or holds control bytes) once gave a message
// spanning two lines: "x.npy: npy shape (2, 2\n is malformed". Every message is now one printable
// line, whatever byte sits anywhere in the header.
TEST(Npy, EveryErrorIsOnePrintableLine) {
  const std::string unclosed = "{'descr': '|i1', 'fortran_order': False, 'shape': (2, 2\n";
  const std::string message = error_of(npy_with_header(unclosed, 4));
  EXPECT_EQ(message, "x.npy: npy shape (2, 2\\n is malformed");
  const std::string ok = "{'descr': '|i1', 'fortran_order': False, 'shape': (2, 2), }\n";
  int refused = 0;
  for (std::size_t at = 0; at < ok.size(); ++at) {
    for (char c : {'\n', '\r', '\0', '\x1b', '\xff', '}', ','}) {
      std::string header = ok;
      header[at] = c;
      const std::string error = error_of(npy_with_header(header, 4));
      if (error.empty()) continue;
      ++refused;
      EXPECT_EQ(error.rfind("x.npy: ", 0), 0u) << error;
      for (char e : error) ASSERT_TRUE(e >= 0x20 && e < 0x7f) << "byte " << int(e) << " in: " << error;
    }
  }
  EXPECT_GT(refused, 100);
}

}  // namespace
}  // namespace micronet_ad::host
