// The service's own request parsers (host/serve/http_parse.h): query strings and multipart
// bodies, checked against hand-built inputs whose decoding is known.
#include "host/serve/http_parse.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace micronet_ad::host {
namespace {

TEST(HttpParse, PercentDecoding) {
  std::string out;
  ASSERT_TRUE(percent_decode("a%20b+c%2Fd%00e%ff", true, &out));
  EXPECT_EQ(out, std::string("a b c/d\0e\xff", 10));
  ASSERT_TRUE(percent_decode("a+b%2B", false, &out));  // paths keep '+'
  EXPECT_EQ(out, "a+b+");
  for (const char* bad : {"%", "%2", "%zz", "a%g0", "%%"}) EXPECT_FALSE(percent_decode(bad, true, &out)) << bad;
}

TEST(HttpParse, QueryStrings) {
  QueryParams q;
  std::string error;
  ASSERT_TRUE(parse_query("machine_id=00&name=my+clip%2Ewav&&flag&empty=", &q, &error)) << error;
  EXPECT_EQ(q, (QueryParams{{"machine_id", "00"}, {"name", "my clip.wav"}, {"flag", ""}, {"empty", ""}}));
  ASSERT_TRUE(parse_query("", &q, &error));
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(parse_query("a=1&b=2&a=3", &q, &error));
  EXPECT_NE(error.find("'a' is given more than once"), std::string::npos) << error;
  EXPECT_FALSE(parse_query("%61=1&a=2", &q, &error));  // the same name once decoded
  EXPECT_FALSE(parse_query("a=%4", &q, &error));
  EXPECT_NE(error.find("bad percent-escape"), std::string::npos) << error;

  std::string path;
  ASSERT_TRUE(parse_target("/v1/machines/a%2Fb?rank=compact", &path, &q, &error));
  EXPECT_EQ(path, "/v1/machines/a/b");
  EXPECT_EQ(q, (QueryParams{{"rank", "compact"}}));
  ASSERT_TRUE(parse_target("/healthz", &path, &q, &error));
  EXPECT_EQ(path, "/healthz");
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(parse_target("/v1/%zz", &path, &q, &error));
}

TEST(HttpParse, UnknownParametersNameTheAcceptedOnes) {
  EXPECT_EQ(unknown_parameters({{"machine_id", "00"}, {"name", "x"}}, {"machine_id", "machine", "name"}), "");
  EXPECT_EQ(unknown_parameters({{"machine_id", "00"}, {"machineid", "00"}}, {"machine_id", "machine", "name"}),
            "unknown query parameter 'machineid' (accepted: machine_id, machine, name)");
  EXPECT_EQ(unknown_parameters({{"b", ""}, {"a", ""}}, {}),
            "unknown query parameters 'a', 'b' (this endpoint takes none)");
}

TEST(HttpParse, MultipartBoundaries) {
  std::string b;
  ASSERT_TRUE(multipart_boundary("multipart/form-data; boundary=abc123", &b));
  EXPECT_EQ(b, "abc123");
  ASSERT_TRUE(multipart_boundary("Multipart/Form-Data;charset=utf-8; BOUNDARY=\"a b;c\"", &b));
  EXPECT_EQ(b, "a b;c");
  EXPECT_TRUE(is_multipart_form_data("MULTIPART/form-data ; boundary=x"));
  EXPECT_FALSE(is_multipart_form_data("audio/wav"));
  EXPECT_FALSE(is_multipart_form_data("multipart/mixed; boundary=x"));
  EXPECT_FALSE(multipart_boundary("multipart/form-data", &b));
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=", &b));
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=\"unterminated", &b));
  EXPECT_FALSE(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'x'), &b));
}

// A body as curl -F writes it.
std::string form(const std::vector<std::pair<std::string, std::string>>& files) {
  std::string body = "preamble is ignored\r\n";
  for (const auto& [filename, bytes] : files) {
    body += "--XyZ\r\nContent-Disposition: form-data; name=\"clip\"; filename=\"" + filename +
            "\"\r\nContent-Type: audio/wav\r\n\r\n" + bytes + "\r\n";
  }
  return body + "--XyZ--\r\nepilogue";
}

TEST(HttpParse, MultipartPartsKeepTheirExactBytes) {
  // Bytes that look like delimiters but are not: a CRLF, "--XyZ" without a preceding CRLF, NULs.
  const std::string tricky = std::string("\r\n-XyZ--XyZ\0\r\n", 15);
  std::vector<MultipartPart> parts;
  std::string error;
  const std::string body = form({{"a.wav", "RIFF1"}, {"b.wav", tricky}, {"c.wav", ""}});
  ASSERT_EQ(parse_multipart(body, "XyZ", 10, &parts, &error), MultipartStatus::kOk) << error;
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].name, "clip");
  EXPECT_EQ(parts[0].filename, "a.wav");
  EXPECT_EQ(parts[0].content_type, "audio/wav");
  EXPECT_EQ(parts[0].bytes, "RIFF1");
  EXPECT_EQ(parts[1].bytes, tricky);
  EXPECT_EQ(parts[2].bytes, "");
  // No preamble; a field without a filename.
  ASSERT_EQ(parse_multipart("--b\r\ncontent-disposition: form-data; name=x\r\n\r\n1\r\n--b--", "b", 10, &parts, &error),
            MultipartStatus::kOk)
      << error;
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].name, "x");
  EXPECT_EQ(parts[0].filename, "");
  EXPECT_EQ(parts[0].bytes, "1");
  EXPECT_EQ(parse_multipart(body, "XyZ", 2, &parts, &error), MultipartStatus::kTooManyParts);
}

TEST(HttpParse, MalformedMultipartIsAnErrorNotACrash) {
  const std::string good = form({{"a.wav", "RIFF1"}});
  std::vector<MultipartPart> parts;
  std::string error;
  for (const std::string& bad : {std::string(), std::string("no boundary at all"), good.substr(0, good.size() - 18),
                                 std::string("--XyZ\r\n\r\nno headers\r\n--XyZ--"),
                                 std::string("--XyZ\r\nContent-Type: a/b\r\n\r\nno disposition\r\n--XyZ--"),
                                 std::string("--XyZ\r\nContent-Disposition: attachment\r\n\r\nx\r\n--XyZ--"),
                                 std::string("--XyZ\r\nno colon\r\n\r\nx\r\n--XyZ--"), std::string("--XyZjunk\r\n"),
                                 std::string("--XyZ\r\nContent-Disposition: form-data")}) {
    EXPECT_EQ(parse_multipart(bad, "XyZ", 10, &parts, &error), MultipartStatus::kMalformed) << bad;
    EXPECT_FALSE(error.empty()) << bad;
    EXPECT_EQ(error.find('\n'), std::string::npos) << error;  // one line
  }
  for (std::size_t cut = 0; cut + 10 < good.size(); ++cut) {  // every cut before the closing "--"
    EXPECT_NE(parse_multipart(good.substr(0, cut), "XyZ", 10, &parts, &error), MultipartStatus::kOk) << cut;
  }
}

}  // namespace
}  // namespace micronet_ad::host
