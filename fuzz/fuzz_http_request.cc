// libFuzzer target for the service's request path (host/serve/http_server.cc, http_parse.h).
// The first byte picks what the rest is:
//   0: a raw HTTP request through Beast's request parser with the server's limits (smaller here,
//      so mutants reach them), then our target/query parsing, the unknown-parameter check and,
//      for a multipart Content-Type, the boundary extraction and the multipart parser;
//   1: a multipart/form-data body with boundary "XyZ";
//   2: a query string.
// Checks: no crash or sanitizer report, and every part's bytes lie inside the parsed body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include "host/serve/http_parse.h"

namespace {

namespace http = boost::beast::http;
using namespace micronet_ad::host;

void check_multipart(std::string_view body, std::string_view boundary) {
  std::vector<MultipartPart> parts;
  std::string error;
  if (parse_multipart(body, boundary, 16, &parts, &error) != MultipartStatus::kOk && error.empty()) std::abort();
  for (const MultipartPart& part : parts) {
    if (part.bytes.data() < body.data() || part.bytes.data() + part.bytes.size() > body.data() + body.size()) {
      std::abort();
    }
  }
}

void check_request(const std::uint8_t* data, std::size_t size) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(4096);
  parser.body_limit(65536);
  boost::beast::error_code ec;
  std::size_t used = 0;
  // Two pieces, as reads split a request.
  for (std::size_t piece : {size / 2, size}) {
    while (used < piece && !parser.is_done()) {
      const std::size_t n = parser.put(boost::asio::buffer(data + used, piece - used), ec);
      used += n;
      if (ec == http::error::need_more) {
        ec = {};
        break;
      }
      if (ec) return;
      if (n == 0) break;
    }
  }
  if (!parser.is_header_done()) return;
  const http::request<http::string_body>& message = parser.get();
  std::string path, error;
  QueryParams query;
  const auto target = message.target();
  if (parse_target(std::string_view(target.data(), target.size()), &path, &query, &error)) {
    unknown_parameters(query, {"machine_id", "machine", "name"});
  } else if (error.empty()) {
    std::abort();
  }
  const auto content_type = message[http::field::content_type];
  const std::string_view type(content_type.data(), content_type.size());
  std::string boundary;
  if (parser.is_done() && is_multipart_form_data(type) && multipart_boundary(type, &boundary)) {
    check_multipart(message.body(), boundary);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0:
      check_request(data + 1, size - 1);
      break;
    case 1:
      check_multipart(rest, "XyZ");
      break;
    default: {
      QueryParams query;
      std::string error;
      if (!parse_query(rest, &query, &error) && error.empty()) std::abort();
    }
  }
  return 0;
}
