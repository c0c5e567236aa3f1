// Machine IDs ↔ model outputs (ML-zoo labels.txt: id0, id2, id4, id6 → outputs 0..3).
#include <cstring>

#include "micronet_ad/detector.h"

namespace micronet_ad {
namespace {

constexpr const char* kMachineIds[kNumMachineIds] = {"00", "02", "04", "06"};
constexpr const char* kKnownIdsText = "00, 02, 04, 06";

}  // namespace

const char* machine_id_of_output(int output_index) {
  return output_index >= 0 && output_index < kNumMachineIds ? kMachineIds[output_index] : nullptr;
}

Status output_of_machine_id(const char* machine_id, int* output_index) {
  if (machine_id == nullptr) return Status::Error("no machine ID given; known IDs: %s", kKnownIdsText);
  // Accept DCASE's own spelling "id_00" as well as "00".
  const char* id = std::strncmp(machine_id, "id_", 3) == 0 ? machine_id + 3 : machine_id;
  for (int i = 0; i < kNumMachineIds; ++i) {
    if (std::strcmp(id, kMachineIds[i]) == 0) {
      *output_index = i;
      return Status::Ok();
    }
  }
  return Status::Error("machine ID '%.32s' is unknown to the model; known IDs: %s", machine_id, kKnownIdsText);
}

Status machine_id_from_file_name(const char* path, char* out, std::size_t out_size) {
  const char* slash = std::strrchr(path, '/');
  const char* name = slash != nullptr ? slash + 1 : path;
  // DCASE: {normal,anomaly}_id_XX_NNNNNNNN.wav, the ID being the third `_` field. Other tools
  // keep the same `id_XX` token elsewhere (the kit's own sample: kit_random_id_00_000000.wav),
  // so take the first `_`-delimited field "id" followed by a field of digits.
  for (const char* field = name; *field != '\0';) {
    const char* digits = field + 3;
    const char* end = digits;
    while (*end >= '0' && *end <= '9') ++end;
    if (std::strncmp(field, "id_", 3) == 0 && end > digits && (*end == '_' || *end == '.' || *end == '\0')) {
      const std::size_t length = static_cast<std::size_t>(end - digits);
      if (length + 1 > out_size) return Status::Error("machine ID in '%.120s' is too long", name);
      std::memcpy(out, digits, length);
      out[length] = '\0';
      return Status::Ok();
    }
    const char* next = std::strchr(field, '_');
    if (next == nullptr) break;
    field = next + 1;
  }
  return Status::Error(
      "cannot read a machine ID from the file name '%.120s' (expected "
      "{normal,anomaly}_id_XX_NNNNNNNN.wav)",
      name);
}

}  // namespace micronet_ad
