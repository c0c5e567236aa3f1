// Which file names are audio, by extension: for finding clips in folders (score, eval, calibrate,
// enrol). A plain name check, so that finding clips needs no decoder.
#pragma once

#include <string>

namespace micronet_ad::host {

// True for the extensions libsndfile (and its mp3 support) reads: .wav, .flac, .ogg, .aiff, ...
// (any case).
bool is_audio_extension(std::string extension);

}  // namespace micronet_ad::host
