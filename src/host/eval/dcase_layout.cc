#include "host/eval/dcase_layout.h"

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "host/eval/dcase_csv.h"
#include "host/io/audio_extension.h"

namespace micronet_ad::host {
namespace {

namespace fs = std::filesystem;

bool is_dir(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path, ec);
}

// The folder's own name, also for "slider/", "." or "test/..": resolved against the working
// directory first.
std::string folder_name(const fs::path& path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  if (ec) absolute = path;
  absolute = absolute.lexically_normal();
  if (absolute.filename().empty()) absolute = absolute.parent_path();
  return absolute.filename().string();
}

}  // namespace

std::vector<SplitDir> find_split_dirs(const std::string& root, const std::string& split) {
  const fs::path root_path(root);
  if (!is_dir(root_path)) throw std::runtime_error(root + ": not a directory");
  if (is_dir(root_path / split)) return {{folder_name(root_path), (root_path / split).string()}};
  if (folder_name(root_path) == split) {
    const std::string type = folder_name(root_path / "..");
    return {{type.empty() ? split : type, root}};
  }
  std::vector<SplitDir> found;
  std::error_code ec;
  for (fs::directory_iterator it(root_path, ec), end; !ec && it != end; it.increment(ec)) {
    if (is_dir(it->path()) && is_dir(it->path() / split)) {
      found.push_back({it->path().filename().string(), (it->path() / split).string()});
    }
  }
  if (ec) throw std::runtime_error(root + ": cannot list directory: " + ec.message());
  if (found.empty()) {
    throw std::runtime_error(root + ": no " + split + "/ folder: expected the DCASE layout <root>/<machine_type>/" +
                             split + "/, a machine type's folder holding " + split + "/, or a " + split +
                             "/ folder itself");
  }
  std::sort(found.begin(), found.end(), [](const SplitDir& a, const SplitDir& b) { return a.path < b.path; });
  return found;
}

SplitClips list_split_clips(const std::string& dir) {
  SplitClips clips;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code file_ec;
    if (!it->is_regular_file(file_ec) || !is_audio_extension(it->path().extension().string())) continue;
    const std::string path = it->path().string();
    (parse_clip_label(path) ? clips.labelled : clips.unlabelled).push_back(path);
  }
  if (ec) throw std::runtime_error(dir + ": cannot list directory: " + ec.message());
  std::sort(clips.labelled.begin(), clips.labelled.end());
  std::sort(clips.unlabelled.begin(), clips.unlabelled.end());
  return clips;
}

}  // namespace micronet_ad::host
