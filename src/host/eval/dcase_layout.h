// Finding the clips of a DCASE 2020 Task 2 tree (docs/scores.md):
// <root>/<machine_type>/{train,test}/{normal,anomaly}_id_XX_NNNNNNNN.wav.
#pragma once

#include <string>
#include <vector>

namespace micronet_ad::host {

// One machine type's folder of a split ("train" or "test").
struct SplitDir {
  std::string machine_type;  // e.g. "slider": the folder holding the split
  std::string path;          // e.g. "<root>/slider/test"
};

// The split folders `root` names, accepting three forms:
//   <root>/<type>/<split>/ for every type that has one (a DCASE tree, types sorted),
//   <root>/<split>/ (one machine type's folder; the type is root's name),
//   <root> itself when it is named <split> (the type is its parent's name).
// Throws std::runtime_error "<root>: ..." when root is not a directory or has no such folder.
std::vector<SplitDir> find_split_dirs(const std::string& root, const std::string& split);

// The audio files directly in `dir` (not recursive), sorted, split into those whose names carry
// a DCASE label ({normal,anomaly}_id_XX_...) and the others. Throws std::runtime_error naming
// the folder when it cannot be listed.
struct SplitClips {
  std::vector<std::string> labelled;
  std::vector<std::string> unlabelled;
};
SplitClips list_split_clips(const std::string& dir);

}  // namespace micronet_ad::host
