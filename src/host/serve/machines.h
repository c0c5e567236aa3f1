// The service's enrolled machines: one profile per machine, kept as <dir>/<name>.mnprof (serve
// --profile DIR), loaded at start-up and replaced one machine at a time (PUT /v1/machines/NAME)
// while workers score with them.
//
// Readers take a snapshot (a shared_ptr) under a short lock and score with it unlocked: a
// replacement swaps the map entry, so a request sees either the old or the new profile, whole,
// and the old one lives until its last reader lets go. Writers (store, remove) are serialized,
// so the file on disk and the live entry always change together and in the same order.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/detect/profile_set.h"

namespace micronet_ad::host {

// An uploaded profile this service cannot use: its one-line reason, and whether the bytes are not
// a valid profile at all or a valid one made for something else (model, framing, resize, name).
class ProfileRejected : public std::runtime_error {
 public:
  enum class Kind { kInvalid, kMismatch };
  ProfileRejected(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

class MachineProfiles {
 public:
  // Creates `dir` when missing and loads every *.mnprof in it, each checked against the model
  // (SHA-1 hex), framing and resize, and named after its machine (<name>.mnprof). Throws
  // std::runtime_error naming the directory or the first bad file and what is wrong with it.
  MachineProfiles(std::string dir, std::string model_sha1, Framing framing, Resize resize);

  const std::string& dir() const { return dir_; }
  // The machine's profile now; nullptr when unknown. Stays valid while held.
  std::shared_ptr<const ProfileFile> find(const std::string& name) const;
  std::vector<std::shared_ptr<const ProfileFile>> all() const;  // by name
  std::vector<std::string> names() const;
  std::size_t size() const;

  // Checks `bytes` as a profile for machine `name` on this model and front end; throws
  // ProfileRejected "<source>: <reason>".
  std::shared_ptr<const ProfileFile> check(std::vector<std::uint8_t> bytes, const std::string& name,
                                           const std::string& source) const;
  // Writes a checked profile to <dir>/<name>.mnprof atomically (write_profile_file), then makes
  // it the live one. True when the machine is new, false when it replaced one. Throws
  // std::runtime_error when the file cannot be written (the live profile is then unchanged).
  bool store(std::shared_ptr<const ProfileFile> profile);
  // Deletes the machine's file and entry; false when unknown.
  bool remove(const std::string& name);

 private:
  std::string path_of(const std::string& name) const;

  const std::string dir_, model_sha1_;
  const Framing framing_;
  const Resize resize_;
  mutable std::mutex mutex_;  // guards by_name_; held only to look up or swap
  std::mutex write_mutex_;    // one store/remove at a time: file and entry change together
  std::map<std::string, std::shared_ptr<const ProfileFile>> by_name_;
};

}  // namespace micronet_ad::host
