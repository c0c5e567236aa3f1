// SHA-1 against the FIPS 180 examples and the models' published SHA1SUMS.
#include "host/io/sha1.h"

#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "host/io/shared_data.h"

namespace micronet_ad::host {
namespace {

TEST(Sha1, EmptyMessage) { EXPECT_EQ(sha1_hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709"); }

TEST(Sha1, Fips180Abc) { EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d"); }

TEST(Sha1, Fips180TwoBlockMessage448Bits) {
  EXPECT_EQ(sha1_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

TEST(Sha1, Fips180Message896Bits) {
  EXPECT_EQ(sha1_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
                     "mnopqrstnopqrstu"),
            "a49b2446a02c645bf419f995b67091253a04a259");
}

TEST(Sha1, Fips180OneMillionA) {
  EXPECT_EQ(sha1_hex(std::string(1'000'000, 'a')), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST(Sha1, IncrementalUpdatesInOddChunksMatchOneShot) {
  std::string message;
  for (int i = 0; i < 1000; ++i) message += static_cast<char>(i * 7 + 3);
  for (std::size_t chunk : {1u, 3u, 55u, 56u, 63u, 64u, 65u, 200u}) {
    Sha1 hasher;
    for (std::size_t at = 0; at < message.size(); at += chunk) hasher.update(message.substr(at, chunk));
    EXPECT_EQ(to_hex(hasher.digest()), sha1_hex(message)) << "chunk " << chunk;
  }
}

TEST(Sha1, PaddingBoundaryLengths) {
  // Lengths around the 56-byte padding boundary, against values from `sha1sum`.
  EXPECT_EQ(sha1_hex(std::string(55, 'a')), "c1c8bbdc22796e28c0e15163d20899b65621d65a");
  EXPECT_EQ(sha1_hex(std::string(56, 'a')), "c2db330f6083854c99d4b5bfb6e8f29f201be699");
  EXPECT_EQ(sha1_hex(std::string(64, 'a')), "0098ba824b5c16427bd7a1122a5a442a25ec644d");
}

TEST(Sha1, MovedHasherContinuesTheMessage) {
  Sha1 first;
  first.update("ab");
  first.update(nullptr, 0);
  Sha1 second = std::move(first);
  second.update("c");
  EXPECT_EQ(to_hex(second.digest()), "a9993e364706816aba3e25717850c26c9cd0d89d");
}

TEST(Sha1, DigestTwiceIsAnError) {
  Sha1 hasher;
  hasher.digest();
  EXPECT_THROW(hasher.digest(), std::logic_error);
  EXPECT_THROW(hasher.update("x"), std::logic_error);
}

TEST(Sha1, HexValidation) {
  EXPECT_TRUE(is_sha1_hex("6dc73515caea226065c3408d82d857b9908e3ffa"));
  EXPECT_TRUE(is_sha1_hex("6DC73515CAEA226065C3408D82D857B9908E3FFA"));
  EXPECT_FALSE(is_sha1_hex("6dc73515"));
  EXPECT_FALSE(is_sha1_hex("6dc73515caea226065c3408d82d857b9908e3ffg"));
}

TEST(Sha1, ModelFilesMatchSha1Sums) {
  std::ifstream sums(shared_path("models/SHA1SUMS"));
  ASSERT_TRUE(sums.good());
  std::string line;
  int checked = 0;
  while (std::getline(sums, line)) {
    std::istringstream fields(line);
    std::string expected, name;
    if (!(fields >> expected >> name)) continue;
    EXPECT_EQ(sha1_file_hex(shared_path("models/" + name)), expected) << name;
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

TEST(Sha1, MissingFileNamesThePath) {
  try {
    sha1_file_hex("/nonexistent/model.tflite");
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/model.tflite"), std::string::npos);
  }
}

}  // namespace
}  // namespace micronet_ad::host
