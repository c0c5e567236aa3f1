#include "host/io/npy.h"

#include <cstring>
#include <stdexcept>

#include "host/io/file.h"

namespace micronet_ad::host {
namespace {

constexpr std::size_t kMaxHeader = 65536;
constexpr std::size_t kMaxNpyBytes = std::size_t(1) << 31;

int item_size(const std::string& dtype) {
  if (dtype == "i1" || dtype == "u1") return 1;
  if (dtype == "i2") return 2;
  if (dtype == "i4" || dtype == "f4") return 4;
  if (dtype == "f8") return 8;
  return 0;
}

[[noreturn]] void fail(const std::string& label, const std::string& what) {
  throw std::runtime_error(label + ": " + what);
}

// Header text as it may appear inside a one-line error: control characters and bytes outside
// printable ASCII escaped (a header's own '\n' once split the message in two), at most 60 of them.
std::string printable(const std::string& text) {
  constexpr std::size_t kMaxShown = 60;
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n')
      out += "\\n";
    else if (c >= 0x20 && c < 0x7f)
      out += static_cast<char>(c);
    else
      out += std::string("\\x") + kHex[c >> 4] + kHex[c & 15];
  }
  if (text.size() > kMaxShown) out += "...";
  return out;
}

// Value of 'key' in the header dict, as raw text up to the next top-level ',' or '}'.
std::string dict_value(const std::string& header, const std::string& key, const std::string& label) {
  const std::string quoted[2] = {"'" + key + "'", "\"" + key + "\""};
  std::size_t pos = std::string::npos;
  for (const auto& q : quoted) {
    pos = header.find(q);
    if (pos != std::string::npos) {
      pos += q.size();
      break;
    }
  }
  if (pos == std::string::npos) fail(label, "npy header has no '" + key + "'");
  pos = header.find(':', pos);
  if (pos == std::string::npos) fail(label, "npy header is malformed near '" + key + "'");
  ++pos;
  while (pos < header.size() && header[pos] == ' ') ++pos;
  std::size_t end = pos;
  int depth = 0;
  while (end < header.size()) {
    const char c = header[end];
    if (c == '(' || c == '[') ++depth;
    if (c == ')' || c == ']') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
    ++end;
  }
  return header.substr(pos, end - pos);
}

std::string normalise_dtype(std::string descr, const std::string& label) {
  if (descr.size() < 2 || (descr.front() != '\'' && descr.front() != '"'))
    fail(label, "npy dtype " + printable(descr) + " is not a simple type");
  descr = descr.substr(1, descr.size() - 2);
  if (descr.size() == 3 && (descr[0] == '<' || descr[0] == '|' || descr[0] == '='))
    descr = descr.substr(1);
  else if (descr.size() == 3 && descr[0] == '>' && descr[2] != '1')
    fail(label, "big-endian npy data (" + printable(descr) + ") is not supported");
  else if (descr.size() == 3 && descr[0] == '>')
    descr = descr.substr(1);
  if (item_size(descr) == 0) fail(label, "npy dtype '" + printable(descr) + "' is not supported");
  return descr;
}

}  // namespace

std::int64_t NpyArray::elements() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

NpyArray parse_npy(const std::uint8_t* bytes, std::size_t size, const std::string& label) {
  static const char kMagic[] = "\x93NUMPY";
  if (size < 10 || std::memcmp(bytes, kMagic, 6) != 0) fail(label, "not a NumPy .npy file (bad magic)");
  const int major = bytes[6];
  std::size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = bytes[8] | (std::size_t(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) fail(label, "npy file is truncated in its header");
    header_len =
        bytes[8] | (std::size_t(bytes[9]) << 8) | (std::size_t(bytes[10]) << 16) | (std::size_t(bytes[11]) << 24);
    offset = 12;
  } else {
    fail(label, "npy format version " + std::to_string(major) + " is not supported");
  }
  if (header_len > kMaxHeader) fail(label, "npy header of " + std::to_string(header_len) + " bytes is too large");
  if (offset + header_len > size) fail(label, "npy file is truncated in its header");
  const std::string header(reinterpret_cast<const char*>(bytes) + offset, header_len);

  NpyArray a;
  a.dtype = normalise_dtype(dict_value(header, "descr", label), label);
  if (dict_value(header, "fortran_order", label) != "False") fail(label, "Fortran-order npy arrays are not supported");
  std::string shape = dict_value(header, "shape", label);
  if (shape.size() < 2 || shape.front() != '(' || shape.back() != ')')
    fail(label, "npy shape " + printable(shape) + " is malformed");
  shape = shape.substr(1, shape.size() - 2);
  std::size_t pos = 0;
  std::int64_t elements = 1;
  while (pos < shape.size()) {
    while (pos < shape.size() && (shape[pos] == ' ' || shape[pos] == ',')) ++pos;
    if (pos >= shape.size()) break;
    std::int64_t d = 0;
    std::size_t digits = 0;
    while (pos < shape.size() && shape[pos] >= '0' && shape[pos] <= '9') {
      d = d * 10 + (shape[pos] - '0');
      if (d > (std::int64_t{1} << 40)) fail(label, "npy dimension is absurdly large");
      ++pos;
      ++digits;
    }
    if (digits == 0) fail(label, "npy shape (" + printable(shape) + ") is malformed");
    if (a.shape.size() >= 8) fail(label, "npy array has more than 8 dimensions");
    a.shape.push_back(d);
    elements *= d;
    if (elements > std::int64_t(kMaxNpyBytes)) fail(label, "npy array is too large");
  }
  const std::size_t data_bytes = static_cast<std::size_t>(elements) * static_cast<std::size_t>(item_size(a.dtype));
  const std::size_t available = size - offset - header_len;
  if (available != data_bytes) {
    fail(label, "npy data has " + std::to_string(available) + " bytes, expected " + std::to_string(data_bytes) +
                    " for shape " + shape_string(a.shape) + " of " + a.dtype);
  }
  a.data.assign(bytes + offset + header_len, bytes + size);
  return a;
}

NpyArray read_npy(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_file(path, kMaxNpyBytes);
  return parse_npy(bytes.data(), bytes.size(), path);
}

std::vector<std::uint8_t> encode_npy(const std::string& dtype, const std::vector<std::int64_t>& shape, const void* data,
                                     std::size_t bytes) {
  const std::string prefix = (dtype == "i1" || dtype == "u1") ? "|" : "<";
  std::string dims;  // numpy's spelling: "(8,)", "(2, 8)"
  for (std::size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dims += ",";
  std::string header = "{'descr': '" + prefix + dtype + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Pad with spaces so that magic + length + header + newline is a multiple of 64 bytes.
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  static const std::uint8_t kPreamble[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  std::vector<std::uint8_t> out(10 + header.size() + bytes);
  std::memcpy(out.data(), kPreamble, 8);
  out[8] = static_cast<std::uint8_t>(header.size() & 0xff);
  out[9] = static_cast<std::uint8_t>(header.size() >> 8);
  std::memcpy(out.data() + 10, header.data(), header.size());
  if (bytes > 0) std::memcpy(out.data() + 10 + header.size(), data, bytes);
  return out;
}

void write_npy(const std::string& path, const std::string& dtype, const std::vector<std::int64_t>& shape,
               const void* data, std::size_t bytes) {
  const std::vector<std::uint8_t> encoded = encode_npy(dtype, shape, data, bytes);
  write_file(path, encoded.data(), encoded.size());
}

}  // namespace micronet_ad::host
