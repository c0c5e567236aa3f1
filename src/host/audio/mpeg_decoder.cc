// MPEG audio (MP3, MP2) with libmpg123 directly, told to stay quiet: through libsndfile it prints
// its own warnings on stderr before our one-line error, and libsndfile 1.2 cannot open MPEG
// through virtual I/O at all ("bad data offset"), so uploads of MP3 were refused.
#include <mpg123.h>
#include <sndfile.h>

#include <cstring>
#include <mutex>

#include "host/audio/frame_decoder.h"

namespace micronet_ad::host {
namespace {

using Kind = AudioError::Kind;

ByteSource* source(void* user) { return static_cast<ByteSource*>(user); }
ssize_t mpg_read(void* user, void* out, size_t count) {
  return static_cast<ssize_t>(source(user)->read(out, static_cast<std::int64_t>(count)));
}
off_t mpg_seek(void* user, off_t offset, int whence) { return static_cast<off_t>(source(user)->seek(offset, whence)); }

struct HandleDeleter {
  void operator()(mpg123_handle* handle) const { mpg123_delete(handle); }  // also closes
};

class MpegDecoder final : public FrameDecoder {
 public:
  // Throws AudioError naming `label`.
  MpegDecoder(ByteSource* bytes, const std::string& label) {
    static std::once_flag init;  // a no-op since libmpg123 1.27, required before
    std::call_once(init, [] { mpg123_init(); });
    int error = MPG123_OK;
    handle_.reset(mpg123_new(nullptr, &error));
    if (!handle_) fail(label, mpg123_plain_strerror(error));
    // As libsndfile configures it (mpeg_decode.c), so decoding gives the same floats, plus quiet.
    mpg123_param(handle_.get(), MPG123_REMOVE_FLAGS, MPG123_AUTO_RESAMPLE, 0.0);
    mpg123_param(handle_.get(), MPG123_ADD_FLAGS,
                 MPG123_FORCE_FLOAT | MPG123_GAPLESS | MPG123_NO_FRANKENSTEIN | MPG123_QUIET, 0.0);
    if (mpg123_replace_reader_handle(handle_.get(), &mpg_read, &mpg_seek, nullptr) != MPG123_OK ||
        mpg123_open_handle(handle_.get(), bytes) != MPG123_OK)
      fail(label, mpg123_strerror(handle_.get()));
    long rate = 0;
    int channels = 0, encoding = 0;
    if (mpg123_getformat(handle_.get(), &rate, &channels, &encoding) != MPG123_OK)
      fail(label, mpg123_strerror(handle_.get()));
    if (encoding != MPG123_ENC_FLOAT_32) fail(label, "the decoder gives no 32-bit float output");
    info_.rate = static_cast<int>(rate);
    info_.channels = channels;
    // Exact with a Xing/Info header (LAME writes one), else estimated from the file size; libsndfile
    // takes it as the declared length too, so a cut file is reported as truncated.
    const off_t length = mpg123_length(handle_.get());
    info_.frames = length > 0 ? static_cast<std::int64_t>(length) : -1;
    mpg123_frameinfo frame{};
    mpg123_info(handle_.get(), &frame);
    info_.format = format_name(SF_FORMAT_MPEG | (frame.layer == 1   ? SF_FORMAT_MPEG_LAYER_I
                                                 : frame.layer == 2 ? SF_FORMAT_MPEG_LAYER_II
                                                                    : SF_FORMAT_MPEG_LAYER_III));
  }

  std::int64_t read(float* out, std::int64_t frames) override {
    const std::size_t frame_bytes = sizeof(float) * static_cast<std::size_t>(info_.channels);
    std::size_t done_bytes = 0;
    const std::size_t want = frame_bytes * static_cast<std::size_t>(frames);
    while (done_bytes < want && !ended_) {
      std::size_t got = 0;
      const int status =
          mpg123_read(handle_.get(), reinterpret_cast<unsigned char*>(out) + done_bytes, want - done_bytes, &got);
      done_bytes += got;
      if (status == MPG123_DONE) {
        ended_ = true;
      } else if (status == MPG123_NEW_FORMAT) {
        long rate = 0;
        int channels = 0, encoding = 0;
        mpg123_getformat(handle_.get(), &rate, &channels, &encoding);
        if (rate != info_.rate || channels != info_.channels) stop("the sample rate or channel count changes");
      } else if (status != MPG123_OK) {
        stop(mpg123_strerror(handle_.get()));
      }
    }
    // A partial frame cannot happen with a fixed channel count; whole frames are reported.
    return static_cast<std::int64_t>(done_bytes / frame_bytes);
  }

  std::string damage(std::int64_t frames_read) const override {
    if (!error_.empty()) return error_ + " after " + std::to_string(frames_read) + " frames";
    if (info_.frames > 0 && frames_read < info_.frames)
      return "read " + std::to_string(frames_read) + " of the " + std::to_string(info_.frames) +
             " frames the file declares";
    return "";
  }

 private:
  [[noreturn]] static void fail(const std::string& label, const std::string& why) {
    throw AudioError(Kind::kNotAudio, label + ": cannot decode as MPEG audio (libmpg123: " + why + ")");
  }
  void stop(const std::string& why) {
    error_ = why;
    ended_ = true;
  }

  std::unique_ptr<mpg123_handle, HandleDeleter> handle_;
  bool ended_ = false;
  std::string error_;
};

}  // namespace

std::unique_ptr<FrameDecoder> open_mpeg(ByteSource* bytes, const std::string& label) {
  return std::make_unique<MpegDecoder>(bytes, label);
}

}  // namespace micronet_ad::host
