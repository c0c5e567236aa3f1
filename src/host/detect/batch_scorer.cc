#include "host/detect/batch_scorer.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <mutex>
#include <thread>

#include "host/audio/audio_file.h"
#include "host/audio/clip_features.h"
#include "host/io/audio_extension.h"

namespace micronet_ad::host {
namespace {

namespace fs = std::filesystem;

// `audio` is the worker's decode buffer, reused from clip to clip.
ClipOutcome score_one(ClipScorer& scorer, const BatchOptions& options, const ClipInput& input, Audio& audio) {
  ClipOutcome o;
  if (!input.error.empty()) {
    o.error = input.error;
    return o;
  }
  try {
    const Profile* profile = nullptr;
    if (options.profiles != nullptr) profile = &options.profiles->for_clip(input.path, options.machine_id).profile();
    o.output_index = clip_output_index(input.path, options.machine_id, profile != nullptr || options.any_machine);
    AudioLoadOptions load;
    load.max_seconds = options.max_seconds;
    load_audio(input.path, load, &audio);
    o.seconds = audio.duration_seconds();
    o.source_rate = audio.source_rate;
    const std::size_t chunk = options.clip_progress ? kProgressSamples : 0;
    o.result = scorer.score(audio.samples.data(), audio.samples.size(), o.output_index, chunk, profile);
    if (options.keep_logmel) {
      // The scorer's front end does not keep frames; a second pass costs a few ms per clip.
      FrontendConfig config;
      config.framing = options.framing;
      config.resize = options.resize;
      config.input = {1.0f, 0};  // the log-mel does not depend on the model's quantization
      o.logmel = compute_clip_features(audio.samples, config).logmel;
    }
  } catch (const std::exception& e) {
    o.result.reset();
    o.error = e.what();
  }
  return o;
}

}  // namespace

std::vector<ClipInput> expand_audio_inputs(const std::vector<std::string>& args) {
  std::vector<ClipInput> inputs;
  for (const std::string& arg : args) {
    std::error_code ec;
    if (!fs::is_directory(arg, ec)) {
      inputs.push_back({arg, ""});  // a file named explicitly is tried whatever its extension
      continue;
    }
    std::vector<std::string> found;
    for (fs::recursive_directory_iterator it(arg, fs::directory_options::skip_permission_denied, ec), end;
         !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec) && is_audio_extension(it->path().extension().string())) {
        found.push_back(it->path().string());
      }
    }
    if (ec) {
      inputs.push_back({arg, arg + ": cannot list directory: " + ec.message()});
      continue;
    }
    if (found.empty()) {
      inputs.push_back({arg, arg + ": directory contains no audio files (.wav, .flac, .ogg, .aiff, ...)"});
      continue;
    }
    std::sort(found.begin(), found.end());
    for (std::string& f : found) inputs.push_back({std::move(f), ""});
  }
  return inputs;
}

int batch_workers(int requested, std::size_t inputs) {
  const std::size_t wanted =
      requested > 0 ? static_cast<std::size_t>(requested) : std::max(1u, std::thread::hardware_concurrency());
  return static_cast<int>(std::min(wanted, std::max<std::size_t>(inputs, 1)));
}

void score_clips(const Model& model, const BatchOptions& options, const std::vector<ClipInput>& inputs,
                 const std::function<void(std::size_t, ClipOutcome&)>& emit) {
  std::vector<std::optional<ClipOutcome>> outcomes(inputs.size());
  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  std::condition_variable done;
  std::string setup_error;
  auto worker = [&] {
    std::optional<ClipScorer> scorer;
    Audio audio;
    try {
      scorer.emplace(model, options.framing, options.resize, options.kernels);
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(mutex);
      setup_error = e.what();
    }
    for (std::size_t i; (i = next++) < inputs.size();) {
      ClipOutcome o;
      if (scorer) {
        if (options.clip_progress) {
          scorer->set_progress(
              [&options, i](std::size_t done, std::size_t total) { options.clip_progress(i, done, total); });
        }
        o = score_one(*scorer, options, inputs[i], audio);
      } else {
        std::lock_guard<std::mutex> lock(mutex);
        o.error = inputs[i].path + ": " + setup_error;
      }
      std::lock_guard<std::mutex> lock(mutex);
      outcomes[i] = std::move(o);
      done.notify_all();
    }
  };
  std::vector<std::thread> pool;  // this thread emits while the workers score
  const int workers = batch_workers(options.threads, inputs.size());
  for (int t = 0; t < workers; ++t) pool.emplace_back(worker);
  try {
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      std::unique_lock<std::mutex> lock(mutex);
      done.wait(lock, [&] { return outcomes[i].has_value(); });
      ClipOutcome o = std::move(*outcomes[i]);
      outcomes[i].reset();
      lock.unlock();
      emit(i, o);
    }
  } catch (...) {
    next = inputs.size();  // workers finish their current clip and stop
    for (std::thread& t : pool) t.join();
    throw;
  }
  for (std::thread& t : pool) t.join();
}

}  // namespace micronet_ad::host
