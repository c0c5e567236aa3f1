// Pure parsers for the parts of an HTTP request the service reads itself: the request target
// (path and query string) and multipart/form-data bodies. No I/O; every function reports a
// malformed input as a one-line message instead of throwing.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace micronet_ad::host {

// Decoded query parameters by name (a name given twice is an error, not a list).
using QueryParams = std::map<std::string, std::string>;

// %XX → the byte; with `plus_is_space` (query strings) '+' → ' '. False on a bad escape.
bool percent_decode(std::string_view text, bool plus_is_space, std::string* out);

// "a=1&b=x%20y&c" → {a: "1", b: "x y", c: ""}. Empty pieces ("a=1&&b=2") are skipped. False,
// with `error` set, on a bad escape or a repeated name.
bool parse_query(std::string_view query, QueryParams* params, std::string* error);

// "/v1/x?y=1" → path "/v1/x" (percent-decoded) and the query parsed as above.
bool parse_target(std::string_view target, std::string* path, QueryParams* params, std::string* error);

// Empty when every parameter is one of `accepted`; else a message naming the unknown ones and
// the ones accepted ("unknown query parameter 'x' (accepted: a, b)").
std::string unknown_parameters(const QueryParams& params, const std::vector<const char*>& accepted);

// Whether a Content-Type is multipart/form-data (case-insensitive, parameters ignored).
bool is_multipart_form_data(std::string_view content_type);

// The boundary parameter of a multipart Content-Type (quoted or not). False when absent or not
// 1..70 characters (RFC 2046 §5.1.1).
bool multipart_boundary(std::string_view content_type, std::string* boundary);

// One part of a multipart/form-data body; `bytes` points into the parsed body.
struct MultipartPart {
  std::string name;          // Content-Disposition name="..."
  std::string filename;      // Content-Disposition filename="..." ("" when absent)
  std::string content_type;  // the part's Content-Type ("" when absent)
  std::string_view bytes;
};

// Splits `body` at `boundary` (RFC 7578/2046): an optional preamble, then parts each with
// headers, the closing delimiter "--BOUNDARY--". Stops at more than `max_parts` parts; `error`
// says what is wrong unless kOk.
enum class MultipartStatus { kOk, kMalformed, kTooManyParts };
MultipartStatus parse_multipart(std::string_view body, std::string_view boundary, std::size_t max_parts,
                                std::vector<MultipartPart>* parts, std::string* error);

}  // namespace micronet_ad::host
