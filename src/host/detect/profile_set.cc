#include "host/detect/profile_set.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "host/io/file.h"
#include "host/io/sha1.h"
#include "micronet_ad/detector.h"

namespace micronet_ad::host {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxProfileBytes = std::size_t(64) << 20;

std::string hex(const std::uint8_t* bytes, std::size_t n) {
  static const char* const kDigits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 15];
  }
  return out;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

ProfileFile::ProfileFile(std::vector<std::uint8_t> bytes, const std::string& source, const std::string& model_sha1,
                         Framing framing, Resize resize)
    : bytes_(std::move(bytes)), source_(source) {
  // The vector's storage comes from operator new: aligned for floats, as Profile::load needs.
  const Status s = Profile::load(bytes_.data(), bytes_.size(), &profile_);
  if (!s) throw std::runtime_error(source + ": " + s.message());
  const ProfileHeader& h = profile_.header();
  name_ = h.name;
  const std::string made_for = hex(h.model_sha1, sizeof h.model_sha1);
  if (made_for != model_sha1)
    throw std::runtime_error(source + ": profile '" + name_ + "' was made for another model (SHA-1 " + made_for +
                             ", this model is " + model_sha1 + ")");
  if (h.framing != framing)
    throw std::runtime_error(source + ": profile '" + name_ + "' was made with --framing " + to_string(h.framing) +
                             ", not " + to_string(framing));
  if (h.resize != resize)
    throw std::runtime_error(source + ": profile '" + name_ + "' was made with --resize " + to_string(h.resize) +
                             ", not " + to_string(resize));
}

std::shared_ptr<const ProfileFile> load_profile_file(const std::string& path, const std::string& model_sha1,
                                                     Framing framing, Resize resize) {
  return std::make_shared<const ProfileFile>(read_file(path, kMaxProfileBytes), path, model_sha1, framing, resize);
}

void write_profile_file(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  const fs::path target(path);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string temp = (dir / ("." + target.filename().string() + ".XXXXXX")).string();
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) throw std::runtime_error(path + ": cannot create a temporary file: " + std::strerror(errno));
  // mkstemp makes the file 0600; a profile is an ordinary, world-readable file. (Not from the
  // umask: reading it means changing it, process-wide, under the service's threads.)
  ::fchmod(fd, 0644);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  const bool ok = done == bytes.size() && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    const int err = ok ? errno : saved;
    ::unlink(temp.c_str());
    throw std::runtime_error(path + ": cannot write: " + std::strerror(err));
  }
  // The rename is durable once the directory entry is.
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

std::string clip_machine_name(const std::string& path, const std::string& machine) {
  if (!machine.empty()) return all_digits(machine) ? "id_" + machine : machine;
  char id[16];
  if (!machine_id_from_file_name(path.c_str(), id, sizeof id)) return "";
  return std::string("id_") + id;
}

std::vector<std::string> clip_profile_keys(const std::string& path, const std::string& machine) {
  const std::string name = clip_machine_name(path, machine);
  std::vector<std::string> keys;
  if (name.empty()) return keys;
  const fs::path parent = fs::path(path).parent_path();
  const std::string split = parent.filename().string();
  if (machine.empty() && (split == "train" || split == "test") && parent.has_parent_path()) {
    const std::string type = parent.parent_path().filename().string();
    if (!type.empty() && type != "." && type != "..") keys.push_back(type + "_" + name);
  }
  keys.push_back(name);
  return keys;
}

ProfileSet ProfileSet::load(const std::string& path, const std::string& model_sha1, Framing framing, Resize resize) {
  ProfileSet set;
  set.source_ = path;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    set.single_ = load_profile_file(path, model_sha1, framing, resize);
    return set;
  }
  std::vector<std::string> files;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == kProfileExtension && it->is_regular_file(ec)) files.push_back(it->path().string());
  }
  if (ec) throw std::runtime_error(path + ": cannot list directory: " + ec.message());
  std::sort(files.begin(), files.end());
  for (const std::string& f : files) set.add(load_profile_file(f, model_sha1, framing, resize));
  return set;
}

void ProfileSet::add(std::shared_ptr<const ProfileFile> file) {
  const std::string name = file->name();
  const auto it = by_name_.find(name);
  if (it != by_name_.end() && it->second->source() != file->source())
    throw std::runtime_error(file->source() + ": machine '" + name + "' also has a profile in " + it->second->source());
  by_name_[name] = std::move(file);
}

const ProfileFile* ProfileSet::find(const std::string& name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second.get();
}

std::vector<std::string> ProfileSet::names() const {
  if (single_) return {single_->name()};
  std::vector<std::string> out;
  for (const auto& [name, file] : by_name_) out.push_back(name);
  return out;
}

const ProfileFile& ProfileSet::for_clip(const std::string& path, const std::string& machine) const {
  if (single_) return *single_;
  const std::vector<std::string> keys = clip_profile_keys(path, machine);
  for (const std::string& key : keys) {
    if (const ProfileFile* f = find(key)) return *f;
  }
  std::string tried, known;
  for (const std::string& k : keys) tried += (tried.empty() ? "" : ", ") + k;
  for (const std::string& k : names()) known += (known.empty() ? "" : ", ") + k;
  if (keys.empty())
    throw std::runtime_error(path + ": no machine name (--machine-id) and none in the file name to find a profile by");
  throw std::runtime_error(path + ": no profile for machine " + tried + " in " + source_ +
                           " (it has: " + (known.empty() ? "none" : known) + ")");
}

}  // namespace micronet_ad::host
