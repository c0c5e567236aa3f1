#include "host/report/png.h"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <stdexcept>
#include <string>

namespace micronet_ad::host {
namespace {

// libpng reports errors by longjmp: keep its message, then jump back to write_png.
void on_png_error(png_structp png, png_const_charp message) {
  *static_cast<std::string*>(png_get_error_ptr(png)) = message;
  png_longjmp(png, 1);
}
void on_png_warning(png_structp, png_const_charp) {}

void append_bytes(png_structp png, png_bytep data, png_size_t size) {
  auto* out = static_cast<std::vector<std::uint8_t>*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + size);
}
void flush_nothing(png_structp) {}

class PngWriter {
 public:
  PngWriter() {
    png_ = png_create_write_struct(PNG_LIBPNG_VER_STRING, &error_, on_png_error, on_png_warning);
    if (png_ == nullptr) throw std::runtime_error("PNG encoding failed: out of memory");
    info_ = png_create_info_struct(png_);
    if (info_ == nullptr) {
      png_destroy_write_struct(&png_, nullptr);
      throw std::runtime_error("PNG encoding failed: out of memory");
    }
  }
  ~PngWriter() { png_destroy_write_struct(&png_, &info_); }
  PngWriter(const PngWriter&) = delete;
  PngWriter& operator=(const PngWriter&) = delete;
  png_structp png() { return png_; }
  png_infop info() { return info_; }
  const std::string& error() const { return error_; }

 private:
  std::string error_;  // libpng's last error message
  png_structp png_ = nullptr;
  png_infop info_ = nullptr;
};

// Everything libpng may longjmp out of, with no C++ object whose destructor the jump would skip.
bool write_png(png_structp png, png_infop info, int width, int height, const std::uint8_t* pixels, png_colorp colours,
               int colour_count, std::vector<std::uint8_t>* out) {
  if (setjmp(png_jmpbuf(png))) return false;
  png_set_write_fn(png, out, append_bytes, flush_nothing);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8, PNG_COLOR_TYPE_PALETTE,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_PLTE(png, info, colours, colour_count);
  png_set_compression_level(png, 9);
  png_write_info(png, info);
  for (int y = 0; y < height; ++y) {
    // libpng takes non-const row pointers but does not write through them.
    png_write_row(png, const_cast<png_bytep>(pixels + static_cast<std::size_t>(y) * static_cast<std::size_t>(width)));
  }
  png_write_end(png, nullptr);
  return true;
}

}  // namespace

std::vector<std::uint8_t> encode_indexed_png(int width, int height, const std::vector<std::uint8_t>& pixels,
                                             const std::vector<Rgb>& palette) {
  if (width <= 0 || height <= 0 ||
      pixels.size() != static_cast<std::size_t>(width) * static_cast<std::size_t>(height)) {
    throw std::invalid_argument("encode_indexed_png: pixel count does not match width x height");
  }
  if (palette.empty() || palette.size() > 256)
    throw std::invalid_argument("encode_indexed_png: palette needs 1..256 colours");
  for (std::uint8_t index : pixels) {
    if (index >= palette.size()) throw std::invalid_argument("encode_indexed_png: pixel index outside the palette");
  }
  std::vector<png_color> colours;
  for (const Rgb& c : palette) colours.push_back(png_color{c[0], c[1], c[2]});

  std::vector<std::uint8_t> out;
  PngWriter writer;
  if (!write_png(writer.png(), writer.info(), width, height, pixels.data(), colours.data(),
                 static_cast<int>(colours.size()), &out)) {
    throw std::runtime_error("PNG encoding failed: " + writer.error());
  }
  return out;
}

std::string base64_encode(const std::uint8_t* data, std::size_t size) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  for (std::size_t i = 0; i < size; i += 3) {
    const std::uint32_t b0 = data[i];
    const std::uint32_t b1 = i + 1 < size ? data[i + 1] : 0;
    const std::uint32_t b2 = i + 2 < size ? data[i + 2] : 0;
    const std::uint32_t triple = (b0 << 16) | (b1 << 8) | b2;
    out += kAlphabet[(triple >> 18) & 63];
    out += kAlphabet[(triple >> 12) & 63];
    out += i + 1 < size ? kAlphabet[(triple >> 6) & 63] : '=';
    out += i + 2 < size ? kAlphabet[triple & 63] : '=';
  }
  return out;
}

std::vector<Rgb> magma_palette() {
  // matplotlib's magma sampled at 0, 1/8, ..., 1; linear in between.
  static const double kAnchors[9][3] = {{0, 0, 4},      {28, 16, 68},   {79, 18, 123},   {129, 37, 129}, {181, 54, 122},
                                        {229, 80, 100}, {251, 135, 97}, {254, 194, 135}, {252, 253, 191}};
  std::vector<Rgb> palette(256);
  for (int i = 0; i < 256; ++i) {
    const double position = i / 255.0 * 8.0;
    const int k = std::min(7, static_cast<int>(position));
    const double t = position - k;
    for (int c = 0; c < 3; ++c) {
      palette[i][c] =
          static_cast<std::uint8_t>(std::lround(kAnchors[k][c] + t * (kAnchors[k + 1][c] - kAnchors[k][c])));
    }
  }
  return palette;
}

}  // namespace micronet_ad::host
