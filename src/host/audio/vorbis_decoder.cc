// Ogg/Vorbis with libvorbisfile, which frees its state when it fails to open a single Vorbis
// stream (ov_open_callbacks) and in ov_clear, unlike libsndfile 1.2's Vorbis reader (see
// frame_decoder.h). The streams on which libvorbisfile itself leaks (chains, multiplexed or
// non-Vorbis streams) are kept from it: see open_vorbis.
#include <ogg/ogg.h>
#include <sndfile.h>
#include <vorbis/vorbisfile.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <set>
#include <vector>

#include "host/audio/frame_decoder.h"

namespace micronet_ad::host {
namespace {

using Kind = AudioError::Kind;

ByteSource* source(void* user) { return static_cast<ByteSource*>(user); }
size_t ov_read_bytes(void* out, size_t size, size_t count, void* user) {
  errno = 0;  // libvorbisfile takes 0 bytes with errno set as a read error, else as the end
  const std::int64_t got = source(user)->read(out, static_cast<std::int64_t>(size * count));
  return size == 0 ? 0 : static_cast<size_t>(got) / size;
}
int ov_seek_bytes(void* user, ogg_int64_t offset, int whence) {
  return source(user)->seek(offset, whence) < 0 ? -1 : 0;
}
long ov_tell_bytes(void* user) { return static_cast<long>(source(user)->tell()); }

std::string vorbis_error(int code) {
  switch (code) {
    case OV_EREAD:
      return "read error";
    case OV_ENOTVORBIS:
      return "not Vorbis data";
    case OV_EVERSION:
      return "unsupported Vorbis version";
    case OV_EBADHEADER:
      return "invalid Vorbis header";
    case OV_EFAULT:
      return "internal decoder error";
    case OV_EBADLINK:
      return "invalid stream section";
    case OV_EINVAL:
      return "invalid data";
    case OV_EIMPL:
      return "unsupported feature";
    case OV_HOLE:
      return "data missing (a gap between pages)";
    default:
      return "error " + std::to_string(code);
  }
}

// Whether the stream's last page is whole and marked end-of-stream: a cut file ends without one.
// The last page is found from the end (a page is at most 65,307 bytes) as the "OggS" whose header
// and lacing values add up to exactly the remaining bytes.
bool ends_with_eos_page(ByteSource* bytes) {
  constexpr std::int64_t kMaxPage = 27 + 255 + 255 * 255;
  const std::int64_t size = bytes->size();
  const std::int64_t start = std::max<std::int64_t>(0, size - kMaxPage);
  std::vector<unsigned char> tail(static_cast<std::size_t>(size - start));
  if (bytes->seek(start, SEEK_SET) != start ||
      bytes->read(tail.data(), static_cast<std::int64_t>(tail.size())) != static_cast<std::int64_t>(tail.size()))
    return false;
  for (std::size_t i = tail.size() >= 27 ? tail.size() - 27 + 1 : 0; i-- > 0;) {
    if (std::memcmp(&tail[i], "OggS", 4) != 0) continue;
    const std::size_t segments = tail[i + 26];
    if (i + 27 + segments > tail.size()) continue;
    std::size_t length = 27 + segments;
    for (std::size_t s = 0; s < segments; ++s) length += tail[i + 27 + s];
    if (i + length == tail.size()) return (tail[i + 5] & 0x04) != 0;
  }
  return false;
}

// Whether the first page of the stream starts a Vorbis stream (its first packet is a Vorbis
// identification header). Only then is libvorbisfile used: it leaks a little on some streams
// that are not Vorbis at all (a serial number list, found by fuzz_audio_decoder on Opus input).
bool starts_with_vorbis(ByteSource* bytes) {
  unsigned char page[27 + 255 + 7];
  bytes->seek(0, SEEK_SET);
  const std::int64_t got = bytes->read(page, sizeof page);
  if (got < 27 || std::memcmp(page, "OggS", 4) != 0 || (page[5] & 0x02) == 0) return false;
  const std::int64_t packet = 27 + page[26];
  return got >= packet + 7 && std::memcmp(page + packet, "\x01vorbis", 7) == 0;
}

// The number of logical streams (distinct serial numbers of whole, checksummed pages, as libogg
// finds them) and of beginning-of-stream pages. libvorbisfile leaks the headers of a chained
// link and its serial number lists when a later link is damaged, so only a single stream is
// decoded; chains and multiplexed streams are refused.
struct OggStreams {
  std::size_t serials = 0;
  std::size_t bos_pages = 0;
};
OggStreams count_ogg_streams(ByteSource* bytes) {
  ogg_sync_state sync;
  ogg_sync_init(&sync);
  std::set<int> serials;
  OggStreams found;
  bytes->seek(0, SEEK_SET);
  for (;;) {
    char* buffer = ogg_sync_buffer(&sync, 1 << 16);
    const std::int64_t got = buffer != nullptr ? bytes->read(buffer, 1 << 16) : 0;
    ogg_sync_wrote(&sync, static_cast<long>(got));
    ogg_page page;
    for (int status; (status = ogg_sync_pageout(&sync, &page)) != 0;) {
      if (status < 0) continue;  // bytes skipped to the next page, as libvorbisfile skips them
      serials.insert(ogg_page_serialno(&page));
      if (ogg_page_bos(&page)) ++found.bos_pages;
    }
    if (got <= 0) break;
  }
  ogg_sync_clear(&sync);
  found.serials = serials.size();
  return found;
}

class VorbisDecoder final : public FrameDecoder {
 public:
  explicit VorbisDecoder(bool complete) : complete_(complete) {}
  // ov_open_callbacks' status. On failure it has freed what it allocated (vorbisfile.c: _ov_open1
  // and _ov_open2 call ov_clear) and the decoder must not clear again. The file is opened in place:
  // libvorbis keeps pointers into OggVorbis_File, which therefore never moves.
  int open(ByteSource* bytes) {
    const ov_callbacks callbacks{&ov_read_bytes, &ov_seek_bytes, nullptr, &ov_tell_bytes};
    const int status = ov_open_callbacks(bytes, &file_, nullptr, 0, callbacks);
    if (status != 0) return status;
    opened_ = true;
    const vorbis_info* vi = ov_info(&file_, -1);
    info_.rate = static_cast<int>(std::min<long>(vi->rate, INT_MAX));
    info_.channels = vi->channels;
    const ogg_int64_t total = ov_pcm_total(&file_, -1);
    info_.frames = total >= 0 ? total : -1;
    info_.format = format_name(SF_FORMAT_OGG | SF_FORMAT_VORBIS);
    return 0;
  }
  ~VorbisDecoder() override {
    if (opened_) ov_clear(&file_);
  }
  VorbisDecoder(const VorbisDecoder&) = delete;
  VorbisDecoder& operator=(const VorbisDecoder&) = delete;

  std::int64_t read(float* out, std::int64_t frames) override {
    std::int64_t done = 0;
    while (done < frames && error_.empty()) {
      float** pcm = nullptr;
      const long got =
          ov_read_float(&file_, &pcm, static_cast<int>(std::min<std::int64_t>(frames - done, 4096)), &section_);
      if (got == 0) break;
      if (got < 0) {
        error_ = vorbis_error(static_cast<int>(got));
        break;
      }
      // A chained stream may change its format between links; such a file is refused.
      const vorbis_info* link = ov_info(&file_, -1);
      if (link->channels != info_.channels || link->rate != info_.rate) {
        error_ = "the sample rate or channel count changes within the stream";
        break;
      }
      for (long f = 0; f < got; ++f) {
        for (int c = 0; c < info_.channels; ++c) out[(done + f) * info_.channels + c] = pcm[c][f];
      }
      done += got;
    }
    return done;
  }

  std::string damage(std::int64_t frames_read) const override {
    if (!error_.empty()) return error_ + " after " + std::to_string(frames_read) + " frames";
    if (!complete_) return "the stream ends without its last page after " + std::to_string(frames_read) + " frames";
    if (info_.frames > 0 && frames_read < info_.frames)
      return "read " + std::to_string(frames_read) + " of the " + std::to_string(info_.frames) +
             " frames the file declares";
    return "";
  }

 private:
  OggVorbis_File file_{};
  bool opened_ = false;
  bool complete_;
  int section_ = 0;
  std::string error_;
};

}  // namespace

std::unique_ptr<FrameDecoder> open_vorbis(ByteSource* bytes, const std::string& label) {
  if (!starts_with_vorbis(bytes)) return nullptr;
  const OggStreams streams = count_ogg_streams(bytes);
  if (streams.serials > 1 || streams.bos_pages > 1)
    throw AudioError(Kind::kNotAudio, label + ": chained or multiplexed Ogg streams are not supported (" +
                                          std::to_string(std::max(streams.serials, streams.bos_pages)) +
                                          " logical streams)");
  auto decoder = std::make_unique<VorbisDecoder>(ends_with_eos_page(bytes));
  bytes->seek(0, SEEK_SET);
  const int status = decoder->open(bytes);
  if (status != 0)
    throw AudioError(Kind::kNotAudio, label + ": cannot decode as Ogg Vorbis (" + vorbis_error(status) + ")");
  return decoder;
}

}  // namespace micronet_ad::host
