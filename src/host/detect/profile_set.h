// Machine profiles on the host: loading them from a file or a directory, checking they were made
// for the model and front end in use, and finding the one for a clip (docs/enrolment.md).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "micronet_ad/profile.h"

namespace micronet_ad::host {

inline constexpr const char* kProfileExtension = ".mnprof";

// One profile file in memory, validated, with the bytes it views.
class ProfileFile {
 public:
  // Validates `bytes` (Profile::load) and checks they match the model (SHA-1 hex), framing and
  // resize; throws std::runtime_error "<source>: <what is wrong>" naming which.
  ProfileFile(std::vector<std::uint8_t> bytes, const std::string& source, const std::string& model_sha1,
              Framing framing, Resize resize);
  const Profile& profile() const { return profile_; }
  const std::string& name() const { return name_; }
  const std::string& source() const { return source_; }
  const std::vector<std::uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<std::uint8_t> bytes_;
  Profile profile_;
  std::string name_;
  std::string source_;
};

// Reads and checks a profile file (at most 64 MiB).
std::shared_ptr<const ProfileFile> load_profile_file(const std::string& path, const std::string& model_sha1,
                                                     Framing framing, Resize resize);

// Writes bytes to `path` atomically: a temporary file in the same directory, flushed to disk and
// renamed over `path`, so a crash never leaves a half-written profile.
void write_profile_file(const std::string& path, const std::vector<std::uint8_t>& bytes);

// The machine name a clip is scored as: `machine` when given, else the DCASE ID of its file name
// ("id_00" from normal_id_00_00000000.wav), "" when it has none.
std::string clip_machine_name(const std::string& path, const std::string& machine);
// The names to look a clip up by, most specific first: for a DCASE clip under
// <type>/{train,test}/ "<type>_id_XX", then "id_XX"; else the machine name.
std::vector<std::string> clip_profile_keys(const std::string& path, const std::string& machine);

// The profiles a command scores with: `--profile FILE` (one profile for every clip) or
// `--profile DIR` (every *.mnprof in it, found by machine name).
class ProfileSet {
 public:
  static ProfileSet load(const std::string& path, const std::string& model_sha1, Framing framing, Resize resize);
  // The profile for a clip, or a runtime_error naming the clip, the names tried and those known.
  const ProfileFile& for_clip(const std::string& path, const std::string& machine) const;
  const ProfileFile* find(const std::string& name) const;
  std::vector<std::string> names() const;
  bool single() const { return single_ != nullptr; }
  void add(std::shared_ptr<const ProfileFile> file);

 private:
  std::shared_ptr<const ProfileFile> single_;
  std::map<std::string, std::shared_ptr<const ProfileFile>> by_name_;
  std::string source_;
};

}  // namespace micronet_ad::host
