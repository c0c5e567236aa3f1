#include "host/serve/machines.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace micronet_ad::host {

namespace fs = std::filesystem;

MachineProfiles::MachineProfiles(std::string dir, std::string model_sha1, Framing framing, Resize resize)
    : dir_(std::move(dir)), model_sha1_(std::move(model_sha1)), framing_(framing), resize_(resize) {
  std::error_code ec;
  if (fs::exists(dir_, ec) && !fs::is_directory(dir_, ec))
    throw std::runtime_error("--profile " + dir_ + ": not a directory (serve keeps one <machine>" + kProfileExtension +
                             " file per machine in a directory)");
  fs::create_directories(dir_, ec);
  if (ec) throw std::runtime_error("--profile " + dir_ + ": cannot create the profile directory: " + ec.message());
  std::vector<std::string> files;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == kProfileExtension && it->is_regular_file(ec)) files.push_back(it->path().string());
  }
  if (ec) throw std::runtime_error("--profile " + dir_ + ": cannot list the directory: " + ec.message());
  std::sort(files.begin(), files.end());
  for (const std::string& path : files) {
    std::shared_ptr<const ProfileFile> file = load_profile_file(path, model_sha1_, framing_, resize_);
    const std::string stem = fs::path(path).stem().string();
    if (file->name() != stem)
      throw std::runtime_error(path + ": holds the profile of machine '" + file->name() + "'; serve --profile keeps " +
                               "each machine in <name>" + kProfileExtension + " (rename it " + file->name() +
                               kProfileExtension + ")");
    by_name_[stem] = std::move(file);
  }
}

std::string MachineProfiles::path_of(const std::string& name) const {
  return (fs::path(dir_) / (name + kProfileExtension)).string();
}

std::shared_ptr<const ProfileFile> MachineProfiles::find(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const ProfileFile>> MachineProfiles::all() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::shared_ptr<const ProfileFile>> out;
  out.reserve(by_name_.size());
  for (const auto& [name, file] : by_name_) out.push_back(file);
  return out;
}

std::vector<std::string> MachineProfiles::names() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  out.reserve(by_name_.size());
  for (const auto& [name, file] : by_name_) out.push_back(name);
  return out;
}

std::size_t MachineProfiles::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return by_name_.size();
}

std::shared_ptr<const ProfileFile> MachineProfiles::check(std::vector<std::uint8_t> bytes, const std::string& name,
                                                          const std::string& source) const {
  {
    Profile profile;  // the format first: its reasons are "not a profile", ProfileFile's "not for us"
    if (const Status s = Profile::load(bytes.data(), bytes.size(), &profile); !s)
      throw ProfileRejected(ProfileRejected::Kind::kInvalid, source + ": " + s.message());
  }
  std::shared_ptr<const ProfileFile> file;
  try {
    file = std::make_shared<const ProfileFile>(std::move(bytes), source, model_sha1_, framing_, resize_);
  } catch (const std::runtime_error& e) {
    throw ProfileRejected(ProfileRejected::Kind::kMismatch, e.what());
  }
  if (file->name() != name)
    throw ProfileRejected(ProfileRejected::Kind::kMismatch,
                          source + ": the profile is machine '" + file->name() + "', not '" + name +
                              "' (PUT it to /v1/machines/" + file->name() + ", or enrol it with --name " + name + ")");
  return file;
}

bool MachineProfiles::store(std::shared_ptr<const ProfileFile> profile) {
  const std::string name = profile->name();
  std::lock_guard<std::mutex> write(write_mutex_);
  write_profile_file(path_of(name), profile->bytes());  // no lock held for readers meanwhile
  std::lock_guard<std::mutex> lock(mutex_);
  auto& slot = by_name_[name];
  const bool created = slot == nullptr;
  slot.swap(profile);  // `profile` now holds the old one: freed after the lock, by its last holder
  return created;
}

bool MachineProfiles::remove(const std::string& name) {
  std::lock_guard<std::mutex> write(write_mutex_);
  if (find(name) == nullptr) return false;
  const std::string path = path_of(name);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    throw std::runtime_error(path + ": cannot delete: " + std::strerror(errno));
  std::lock_guard<std::mutex> lock(mutex_);
  by_name_.erase(name);
  return true;
}

}  // namespace micronet_ad::host
