#include <cstring>

#include "host/audio/frame_decoder.h"

namespace micronet_ad::host {
namespace {

// libsndfile's mpeg_probe: frame sync, and no reserved version, layer, bitrate or sample rate.
bool is_mpeg_frame_header(const unsigned char* b) {
  return b[0] == 0xff && (b[1] & 0xe0) == 0xe0 && (b[1] & 0x18) != 0x08 && (b[1] & 0x06) != 0x00 &&
         (b[2] & 0xf0) != 0xf0 && (b[2] & 0x0c) != 0x0c;
}

// Bytes taken by an ID3v2 tag starting with `h` (10 header bytes), or 0 when it is not one.
std::int64_t id3v2_length(const unsigned char* h) {
  if (std::memcmp(h, "ID3", 3) != 0) return 0;
  std::int64_t size = 0;
  for (int i = 6; i < 10; ++i) size = (size << 7) | (h[i] & 0x7f);  // "syncsafe": 7 bits a byte
  const bool footer = (h[5] & 0x10) != 0;
  return 10 + size + (footer ? 10 : 0);
}

bool read_at(ByteSource* bytes, std::int64_t offset, unsigned char* out, std::int64_t count) {
  return bytes->seek(offset, SEEK_SET) == offset && bytes->read(out, count) == count;
}

}  // namespace

Container sniff_container(ByteSource* bytes) {
  unsigned char head[10] = {0};
  Container found = Container::kSndfile;
  if (read_at(bytes, 0, head, sizeof head) || bytes->size() >= 4) {
    unsigned char frame[4];
    const std::int64_t tag = id3v2_length(head);
    if (std::memcmp(head, "OggS", 4) == 0) {
      found = Container::kOgg;
    } else if (head[0] == 0xf0 && head[1] == 0x7e && head[3] == 0x01) {  // libsndfile's SDS test
      found = Container::kMidiSampleDump;
    } else if (read_at(bytes, tag, frame, 4) && is_mpeg_frame_header(frame)) {
      found = Container::kMpeg;
    }
  }
  bytes->seek(0, SEEK_SET);
  return found;
}

}  // namespace micronet_ad::host
