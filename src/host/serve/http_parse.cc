#include "host/serve/http_parse.h"

#include <algorithm>
#include <cctype>

namespace micronet_ad::host {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// At most `max` bytes of a request-supplied string, quoted, for an error message.
std::string quoted(std::string_view text, std::size_t max = 64) {
  return "'" + std::string(text.substr(0, max)) + (text.size() > max ? "...'" : "'");
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The value of parameter `name` in "type; a=1; b=\"x y\"" (quoted or token); false when absent.
bool header_parameter(std::string_view header, std::string_view name, std::string* value) {
  std::size_t at = header.find(';');
  while (at != std::string_view::npos) {
    std::string_view rest = trim(header.substr(at + 1));
    const std::size_t eq = rest.find('=');
    if (eq == std::string_view::npos) return false;
    const bool match = iequals(trim(rest.substr(0, eq)), name);
    rest = trim(rest.substr(eq + 1));
    std::string v;
    std::size_t end = 0;
    if (!rest.empty() && rest.front() == '"') {
      for (end = 1; end < rest.size() && rest[end] != '"'; ++end) {
        if (rest[end] == '\\' && end + 1 < rest.size()) ++end;
        v += rest[end];
      }
      if (end >= rest.size()) return false;  // unterminated quote
      ++end;
    } else {
      end = std::min(rest.find(';'), rest.size());
      v = std::string(trim(rest.substr(0, end)));
    }
    if (match) return (*value = std::move(v)), true;
    const std::size_t next = rest.find(';', end);
    if (next == std::string_view::npos) return false;
    at = static_cast<std::size_t>(rest.data() + next - header.data());
  }
  return false;
}

// One part's header block ("Name: value" lines) into `part`. False when a line has no colon or
// there is no form-data Content-Disposition.
bool parse_part_headers(std::string_view block, MultipartPart* part) {
  bool disposition = false;
  while (!block.empty()) {
    const std::size_t eol = block.find("\r\n");
    const std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view() : block.substr(eol + 2);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    const std::string_view name = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
    if (iequals(name, "Content-Disposition")) {
      if (!iequals(trim(value.substr(0, value.find(';'))), "form-data")) return false;
      disposition = true;
      header_parameter(value, "name", &part->name);
      header_parameter(value, "filename", &part->filename);
    } else if (iequals(name, "Content-Type")) {
      part->content_type = std::string(value);
    }
  }
  return disposition;
}

}  // namespace

bool percent_decode(std::string_view text, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      const int hi = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
      const int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out->push_back(plus_is_space && c == '+' ? ' ' : c);
    }
  }
  return true;
}

bool parse_query(std::string_view query, QueryParams* params, std::string* error) {
  params->clear();
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (piece.empty()) continue;
    const std::size_t eq = piece.find('=');
    std::string name, value;
    if (!percent_decode(piece.substr(0, eq), true, &name) ||
        (eq != std::string_view::npos && !percent_decode(piece.substr(eq + 1), true, &value))) {
      *error = "query parameter " + quoted(piece) + " has a bad percent-escape (expected %XX, X a hex digit)";
      return false;
    }
    if (!params->emplace(name, std::move(value)).second) {
      *error = "query parameter " + quoted(name) + " is given more than once";
      return false;
    }
  }
  return true;
}

bool parse_target(std::string_view target, std::string* path, QueryParams* params, std::string* error) {
  const std::size_t q = target.find('?');
  if (!percent_decode(target.substr(0, q), false, path)) {
    *error = "request path " + quoted(target.substr(0, q)) + " has a bad percent-escape (expected %XX)";
    return false;
  }
  if (q == std::string_view::npos) return params->clear(), true;
  return parse_query(target.substr(q + 1), params, error);
}

std::string unknown_parameters(const QueryParams& params, const std::vector<const char*>& accepted) {
  std::string unknown;
  std::size_t count = 0;
  for (const auto& param : params) {
    const std::string& name = param.first;  // not a structured binding: clang 14 cannot capture one
    if (std::find_if(accepted.begin(), accepted.end(), [&](const char* a) { return name == a; }) != accepted.end())
      continue;
    if (++count <= 5) unknown += (unknown.empty() ? "" : ", ") + quoted(name, 32);
  }
  if (count == 0) return "";
  if (count > 5) unknown += ", ... (" + std::to_string(count) + " in all)";
  std::string names;
  for (const char* a : accepted) names += (names.empty() ? "" : ", ") + std::string(a);
  return std::string(count == 1 ? "unknown query parameter " : "unknown query parameters ") + unknown +
         (accepted.size() == 0 ? " (this endpoint takes none)" : " (accepted: " + names + ")");
}

bool is_multipart_form_data(std::string_view content_type) {
  return iequals(trim(content_type.substr(0, content_type.find(';'))), "multipart/form-data");
}

bool multipart_boundary(std::string_view content_type, std::string* boundary) {
  return header_parameter(content_type, "boundary", boundary) && !boundary->empty() && boundary->size() <= 70;
}

MultipartStatus parse_multipart(std::string_view body, std::string_view boundary, std::size_t max_parts,
                                std::vector<MultipartPart>* parts, std::string* error) {
  parts->clear();
  const std::string delimiter = "--" + std::string(boundary);
  const std::string next_delimiter = "\r\n" + delimiter;
  // The first delimiter starts the body or follows a preamble.
  std::size_t at = delimiter.size();
  if (body.rfind(delimiter, 0) != 0) {
    at = body.find(next_delimiter);
    if (at == std::string_view::npos) {
      *error = "multipart/form-data body has no boundary line '" + delimiter.substr(0, 80) + "'";
      return MultipartStatus::kMalformed;
    }
    at += next_delimiter.size();
  }
  for (;;) {
    if (body.substr(at, 2) == "--") return MultipartStatus::kOk;  // the closing delimiter; an epilogue is ignored
    // Transport padding (spaces/tabs) may follow a delimiter before its CRLF.
    while (at < body.size() && (body[at] == ' ' || body[at] == '\t')) ++at;
    if (body.substr(at, 2) != "\r\n") {
      *error = "multipart/form-data body is malformed after part " + std::to_string(parts->size()) +
               " (a boundary line must end with CRLF or --)";
      return MultipartStatus::kMalformed;
    }
    at += 2;
    if (parts->size() == max_parts) {
      *error = "multipart/form-data body has more than " + std::to_string(max_parts) + " parts";
      return MultipartStatus::kTooManyParts;
    }
    const std::size_t headers_end = body.find("\r\n\r\n", at);
    const std::size_t data_end = body.find(next_delimiter, at);
    MultipartPart part;
    // A part with no headers at all starts with the blank line itself.
    const bool no_headers = body.substr(at, 2) == "\r\n";
    if (data_end == std::string_view::npos || no_headers || headers_end == std::string_view::npos ||
        headers_end > data_end || !parse_part_headers(body.substr(at, headers_end - at), &part)) {
      *error = "multipart/form-data part " + std::to_string(parts->size() + 1) +
               (data_end == std::string_view::npos ? " is truncated (no closing boundary)"
                                                   : " has no form-data Content-Disposition header");
      return MultipartStatus::kMalformed;
    }
    part.bytes = body.substr(headers_end + 4, data_end - headers_end - 4);
    parts->push_back(std::move(part));
    at = data_end + next_delimiter.size();
  }
}

}  // namespace micronet_ad::host
