#include "python_api.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "host/audio/audio_file.h"
#include "host/audio/clip_features.h"
#include "host/audio/resampler.h"
#include "host/detect/batch_scorer.h"
#include "host/detect/clip_json.h"
#include "host/eval/roc.h"
#include "host/eval/thresholds.h"
#include "host/io/default_model.h"
#include "host/io/file.h"
#include "host/io/sha1.h"

namespace micronet_ad::python {
namespace {

namespace fs = std::filesystem;

constexpr float kMaxAbsSample = 1000.0f;  // as the file decoder: beyond it the data is not audio

// A file operation failed with `message`: which OSError it is follows from what is at `path`.
FileError file_error(const std::string& path, const std::string& message) {
  std::error_code ec;
  if (!path.empty() && !fs::exists(path, ec)) return FileError(FileError::Reason::kNotFound, message);
  if (!path.empty() && fs::is_directory(path, ec)) return FileError(FileError::Reason::kIsDirectory, message);
  return FileError(FileError::Reason::kOther, message);
}

std::string model_sha1(const host::ModelFile& file) { return host::sha1_hex(file.bytes(), file.model.size()); }

// Runs `work`, turning the host layers' std::runtime_error (not ours) into invalid_argument:
// for these steps a failure means the arguments do not fit together (e.g. no machine ID).
template <typename Work>
auto as_value_error(Work&& work) -> decltype(work()) {
  try {
    return work();
  } catch (const FileError&) {
    throw;
  } catch (const AudioFileError&) {
    throw;
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument(e.what());
  }
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

std::vector<std::int64_t> tensor_shape(const TensorInfo& info) {
  return std::vector<std::int64_t>(info.shape.dims, info.shape.dims + info.shape.rank);
}

// Copies an int8 array of any strides into `out` in C order (dimension `dim` onwards).
void copy_strided(const std::int8_t* in, const std::vector<std::int64_t>& shape, const std::int64_t* strides,
                  std::size_t dim, std::int8_t*& out) {
  if (dim == shape.size()) {
    *out++ = *in;
    return;
  }
  for (std::int64_t i = 0; i < shape[dim]; ++i) copy_strided(in + i * strides[dim], shape, strides, dim + 1, out);
}

}  // namespace

std::int64_t ArrayView::elements() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

std::string ArrayView::dtype_name() const {
  switch (kind) {
    case 'i':
      return "int" + std::to_string(itemsize * 8);
    case 'u':
      return "uint" + std::to_string(itemsize * 8);
    case 'f':
      return "float" + std::to_string(itemsize * 8);
    case 'b':
      return "bool";
    case 'c':
      return "complex" + std::to_string(itemsize * 8);
    default:
      return std::string("dtype kind '") + kind + "'";
  }
}

std::shared_ptr<const host::ModelFile> load_model(const std::string& name_or_path) {
  std::string path = name_or_path;
  if (path.empty()) {
    const char* env = std::getenv(host::kModelEnvironmentVariable);
    path = env ? env : "";
  }
  path = path.empty() ? "" : host::resolve_model_path(path);
  try {
    return host::load_default_model(name_or_path);
  } catch (const std::runtime_error& e) {
    throw file_error(path, e.what());
  }
}

std::shared_ptr<const host::ModelFile> load_model_from_bytes(const std::uint8_t* data, std::size_t size) {
  try {
    return host::load_model_bytes(data, size, "<model bytes>");
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument(e.what());
  }
}

KernelSet parse_kernels(const std::string& name) {
  KernelSet set = KernelSet::kAuto;
  if (!parse_kernel_set(name.c_str(), &set))
    throw std::invalid_argument(
        "kernels '" + name + "' is not 'auto', 'reference', 'avx2', 'avxvnni', 'avx512vnni', 'neon' or 'neon_dotprod'");
  return set;
}

Framing parse_framing_name(const std::string& name) {
  Framing framing = Framing::kCentered;
  if (!parse_framing(name.c_str(), &framing))
    throw std::invalid_argument("framing '" + name + "' is not 'centered' or 'kit'");
  return framing;
}

Resize parse_resize_name(const std::string& name) {
  Resize resize = Resize::kAverage;
  if (!parse_resize(name.c_str(), &resize))
    throw std::invalid_argument("resize '" + name + "' is not 'average' or 'decimate'");
  return resize;
}

// ---------------------------------------------------------------------------------------------
// Runner

Runner::Runner(std::shared_ptr<const host::ModelFile> file, KernelSet kernels, bool band_fusion)
    : file_(std::move(file)) {
  InterpreterOptions options;
  options.kernels = kernels;
  options.band_fusion = band_fusion;
  if (!Interpreter::kernel_set_supported(kernels))
    throw std::invalid_argument(std::string("kernels '") + kernel_set_name(kernels) +
                                "' are not supported on this CPU");
  memory_.resize(Interpreter::required_memory(file_->model, options));
  const Status s = interpreter_.init(file_->model, memory_.data(), memory_.size(), options);
  if (!s) throw std::invalid_argument(s.message());
}

void Runner::set_input(const ArrayView& value, const std::int64_t* strides) {
  const TensorInfo in = input_info();
  const std::vector<std::int64_t> expected = tensor_shape(in);
  if (value.kind != 'i' || value.itemsize != 1 || value.shape != expected) {
    throw std::invalid_argument("set_tensor: input tensor " + std::to_string(in.index) + " is int8 " +
                                shape_text(expected) + ", got " + value.dtype_name() + " " + shape_text(value.shape));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  std::int8_t* out = interpreter_.input();
  copy_strided(static_cast<const std::int8_t*>(value.data), value.shape, strides, 0, out);
}

void Runner::invoke() {
  std::lock_guard<std::mutex> lock(mutex_);
  const Status s = interpreter_.invoke();
  if (!s) throw std::runtime_error(s.message());
  invoked_ = true;
}

std::vector<std::int8_t> Runner::tensor_bytes(int tensor_index) const {
  const Model& model = file_->model;
  std::lock_guard<std::mutex> lock(mutex_);
  const std::int8_t* data = nullptr;
  std::size_t bytes = 0;
  if (tensor_index == model.input_tensor()) {
    data = const_cast<Interpreter&>(interpreter_).input();  // input() is non-const in the core API
    bytes = interpreter_.input_bytes();
  } else if (tensor_index == model.output_tensor()) {
    data = interpreter_.output();
    bytes = interpreter_.output_bytes();
  } else if (tensor_index == model.embedding_tensor() && invoked_) {
    data = interpreter_.embedding();
    bytes = interpreter_.embedding_bytes();
  } else {
    throw std::invalid_argument("get_tensor: tensor " + std::to_string(tensor_index) + " is not kept: the input (" +
                                std::to_string(model.input_tensor()) + "), output (" +
                                std::to_string(model.output_tensor()) + ") and, after invoke(), the embedding (" +
                                std::to_string(model.embedding_tensor()) + ") are");
  }
  return std::vector<std::int8_t>(data, data + bytes);
}

void Runner::check_batch(const ArrayView& batch, const TensorInfo& input) {
  const std::vector<std::int64_t> item = tensor_shape(input);  // [1,32,32,1]
  std::vector<std::int64_t> expected = item;
  if (!batch.shape.empty()) expected[0] = batch.shape[0];
  if (batch.kind != 'i' || batch.itemsize != 1)
    throw std::invalid_argument("run: the batch must be int8, got " + batch.dtype_name());
  if (batch.shape != expected) {
    throw std::invalid_argument("run: the batch must be int8 [N," + shape_text(item).substr(3) + ", got " +
                                shape_text(batch.shape));
  }
  if (!batch.c_contiguous)
    throw std::invalid_argument("run: the batch must be C-contiguous (it is read in place): use np.ascontiguousarray");
}

void Runner::run(const ArrayView& batch, std::int8_t* out) {
  check_batch(batch, input_info());
  std::lock_guard<std::mutex> lock(mutex_);
  const std::size_t in_bytes = interpreter_.input_bytes(), out_bytes = interpreter_.output_bytes();
  const auto* in = static_cast<const std::int8_t*>(batch.data);
  for (std::int64_t n = 0; n < batch.shape[0]; ++n) {
    std::memcpy(interpreter_.input(), in + n * in_bytes, in_bytes);
    const Status s = interpreter_.invoke();
    if (!s) throw std::runtime_error(s.message());
    std::memcpy(out + n * out_bytes, interpreter_.output(), out_bytes);
  }
  invoked_ = invoked_ || batch.shape[0] > 0;
}

// ---------------------------------------------------------------------------------------------
// Audio and features

std::vector<float> samples_from_array(const ArrayView& audio, double sample_rate) {
  if (audio.shape.size() != 1) {
    throw std::invalid_argument("audio must be a 1-D array of mono samples, got shape " + shape_text(audio.shape) +
                                " (mix channels first, e.g. x.mean(axis=0))");
  }
  const bool is_float = audio.kind == 'f' && (audio.itemsize == 4 || audio.itemsize == 8);
  const bool is_int16 = audio.kind == 'i' && audio.itemsize == 2;
  if (!is_float && !is_int16)
    throw std::invalid_argument("audio must be float32, float64 (±1 full scale) or int16, got " + audio.dtype_name());
  if (!audio.c_contiguous) throw std::invalid_argument("audio must be C-contiguous: use np.ascontiguousarray");
  if (audio.shape[0] == 0) throw std::invalid_argument("audio has no samples");
  if (!(sample_rate >= host::kMinSourceRateHz && sample_rate <= 768000.0)) {
    std::ostringstream text;
    text << "sample_rate " << sample_rate << " is outside " << host::kMinSourceRateHz << "..768000 Hz";
    throw std::invalid_argument(text.str());
  }
  const auto n = static_cast<std::size_t>(audio.shape[0]);
  std::vector<float> samples(n);
  for (std::size_t i = 0; i < n; ++i) {
    double x = 0.0;
    if (is_int16)
      x = static_cast<const std::int16_t*>(audio.data)[i] / 32768.0;
    else if (audio.itemsize == 4)
      x = static_cast<const float*>(audio.data)[i];
    else
      x = static_cast<const double*>(audio.data)[i];
    if (!(std::fabs(x) <= kMaxAbsSample)) {
      std::ostringstream text;
      if (!std::isfinite(x))
        text << "audio: non-finite sample (NaN or infinity) at index " << i;
      else
        text << "audio: sample " << x << " at index " << i << " is beyond ±" << kMaxAbsSample << " full scale";
      throw std::invalid_argument(text.str());
    }
    samples[i] = static_cast<float>(x);
  }
  if (sample_rate == 16000.0) return samples;
  host::StreamResampler resampler(sample_rate, 1);
  std::vector<float> resampled;
  resampler.push(samples.data(), samples.size(), &resampled);
  resampler.finish(&resampled);
  return resampled;
}

std::vector<float> samples_from_file(const std::string& path, double max_seconds, double* seconds) {
  host::AudioLoadOptions options;
  options.max_seconds = max_seconds;
  try {
    host::Audio audio = host::load_audio(path, options);
    if (seconds) *seconds = audio.duration_seconds();
    return std::move(audio.samples);
  } catch (const host::AudioError& e) {
    if (e.kind() == host::AudioError::Kind::kUnreadable) {
      FileError error = file_error(path, e.what());
      if (error.reason() != FileError::Reason::kOther) throw error;
    }
    throw AudioFileError(host::to_string(e.kind()), e.what());
  }
}

Stage parse_stage(const std::string& name) {
  if (name == "logmel") return Stage::kLogmel;
  if (name == "patches") return Stage::kPatches;
  if (name == "input") return Stage::kInput;
  throw std::invalid_argument("stage '" + name + "' is not 'logmel', 'patches' or 'input'");
}

FeatureArray compute_features(const std::vector<float>& samples, Framing framing, Resize resize, Stage stage,
                              const host::ModelFile* model) {
  FrontendConfig config;
  config.framing = framing;
  config.resize = resize;
  config.input = {1.0f, 0};  // only the input stage depends on the model's quantization
  if (stage == Stage::kInput) {
    const TensorInfo in = model->model.tensor(model->model.input_tensor());
    config.input = {in.scale(), in.zero_point};
  }
  const host::ClipFeatures f = as_value_error([&] { return host::compute_clip_features(samples, config); });
  FeatureArray out;
  const auto windows = static_cast<std::int64_t>(f.windows.size());
  if (stage == Stage::kLogmel) {
    out.shape = {static_cast<std::int64_t>(f.logmel.size()), kMelBands};
    out.floats.reserve(f.logmel.size() * kMelBands);
    for (const auto& frame : f.logmel) out.floats.insert(out.floats.end(), frame.begin(), frame.end());
  } else if (stage == Stage::kPatches) {
    out.shape = {windows, kPatchSide, kPatchSide};
    out.floats.reserve(f.windows.size() * kPatchElements);
    for (const Window& w : f.windows) out.floats.insert(out.floats.end(), w.patch, w.patch + kPatchElements);
  } else {
    out.shape = {windows, kPatchSide, kPatchSide, 1};
    out.bytes.reserve(f.windows.size() * kPatchElements);
    for (const Window& w : f.windows) out.bytes.insert(out.bytes.end(), w.input, w.input + kPatchElements);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Profiles

ProfileHandle load_profile(const std::string& path, const host::ModelFile& model) {
  std::vector<std::uint8_t> bytes;
  try {
    bytes = host::read_file(path, std::size_t(64) << 20);
  } catch (const std::runtime_error& e) {
    throw file_error(path, e.what());
  }
  // A damaged file is a file problem (OSError); a sound one made for another model or front
  // end is a mismatch with the arguments (ValueError).
  Profile check;
  const Status s = Profile::load(bytes.data(), bytes.size(), &check);
  if (!s) throw FileError(FileError::Reason::kOther, path + ": " + s.message());
  ProfileHandle handle;
  const Framing framing = check.header().framing;
  const Resize resize = check.header().resize;
  handle.file = as_value_error(
      [&] { return std::make_shared<host::ProfileFile>(std::move(bytes), path, model_sha1(model), framing, resize); });
  return handle;
}

ProfileHandle fit_profile_samples(const host::ModelFile& model, const std::string& name,
                                  const host::EnrolSettings& settings, const std::vector<std::vector<float>>& clips) {
  host::ClipScorer scorer(model.model, settings.framing, settings.resize, settings.kernels);
  std::vector<host::ClipEmbeddings> embedded;
  embedded.reserve(clips.size());
  for (std::size_t i = 0; i < clips.size(); ++i)
    embedded.push_back(host::embed_audio(scorer, "clip " + std::to_string(i), clips[i]));
  const host::FitResult fit = host::fit_embeddings(model, name, settings, embedded);
  ProfileHandle handle;
  handle.file = std::make_shared<host::ProfileFile>(fit.bytes, "<fitted " + name + ">", model_sha1(model),
                                                    settings.framing, settings.resize);
  handle.loo_scores = fit.loo_scores;
  handle.warning = fit.warning;
  return handle;
}

ProfileHandle fit_profile_files(const host::ModelFile& model, const std::string& name,
                                const host::EnrolSettings& settings, const std::vector<std::string>& paths) {
  std::vector<std::vector<float>> clips;
  clips.reserve(paths.size());
  for (const std::string& path : paths) clips.push_back(samples_from_file(path, settings.max_seconds));
  return fit_profile_samples(model, name, settings, clips);
}

void save_profile(const ProfileHandle& profile, const std::string& path) {
  try {
    host::write_profile_file(path, profile.file->bytes());
  } catch (const std::runtime_error& e) {
    const fs::path parent = fs::path(path).parent_path();
    throw file_error(parent.empty() ? "." : parent.string(), e.what());
  }
}

// ---------------------------------------------------------------------------------------------
// Scoring

ScoreSession::ScoreSession(std::shared_ptr<const host::ModelFile> model, const ScoreSettings& settings)
    : model_(std::move(model)), settings_(settings) {
  const std::string sha1 = model_sha1(*model_);
  if (!settings_.profile_path.empty()) {
    try {
      profiles_ = std::make_unique<host::ProfileSet>(
          host::ProfileSet::load(settings_.profile_path, sha1, settings_.framing, settings_.resize));
    } catch (const std::runtime_error& e) {
      throw file_error(settings_.profile_path, e.what());
    }
    if (profiles_->names().empty())
      throw FileError(FileError::Reason::kOther,
                      settings_.profile_path + ": no profiles (*" + host::kProfileExtension + ") in the directory");
  }
  const bool has_profile = profiles_ || settings_.profile;
  const ScoreMethod method = settings_.score_kind.empty()
                                 ? (has_profile ? ScoreMethod::kDistance : ScoreMethod::kNegSoftmax)
                                 : host::parse_score_kind(settings_.score_kind);
  if (method == ScoreMethod::kDistance && !has_profile)
    throw std::invalid_argument("score_kind 'distance' needs a profile (enrol the machine first)");
  std::optional<host::ThresholdSet> thresholds;
  if (!settings_.thresholds_path.empty()) {
    try {
      thresholds = host::load_thresholds(settings_.thresholds_path, sha1, method);
    } catch (const std::runtime_error& e) {
      throw file_error(settings_.thresholds_path, e.what());
    }
  }
  judge_ = host::Judge(method, std::move(thresholds), settings_.thresholds_path);
}

const Profile* ScoreSession::profile_for(const std::string& label, const std::string& machine_id) const {
  if (settings_.profile) return &settings_.profile->profile();
  if (profiles_) return as_value_error([&] { return &profiles_->for_clip(label, machine_id).profile(); });
  return nullptr;
}

std::string ScoreSession::score_with(host::ClipScorer& scorer, const std::vector<float>& samples,
                                     const std::string& label, const std::string& machine_id, double seconds) const {
  return as_value_error([&] {
    const Profile* profile = profile_for(label, machine_id);
    const int output_index = host::clip_output_index(label, machine_id, profile != nullptr);
    const host::ClipResult result = scorer.score(samples.data(), samples.size(), output_index, 0, profile);
    const host::Verdict verdict = judge_.judge(result.clip, output_index, result.profile);
    nlohmann::ordered_json clip = host::clip_json(label, output_index, result, judge_.method());
    host::add_verdict_json(&clip, seconds, verdict, judge_.method());
    return clip.dump();
  });
}

std::string ScoreSession::score_file(const std::string& path, const std::string& machine_id) {
  // The machine (and its profile) is checked before decoding, as the CLI does.
  as_value_error([&] {
    host::clip_output_index(path, machine_id, profile_for(path, machine_id) != nullptr);
    return 0;
  });
  double seconds = 0.0;
  const std::vector<float> samples = samples_from_file(path, settings_.max_seconds, &seconds);
  std::lock_guard<std::mutex> lock(scorer_mutex_);
  if (!scorer_)
    scorer_ = std::make_unique<host::ClipScorer>(model_->model, settings_.framing, settings_.resize, settings_.kernels);
  return score_with(*scorer_, samples, path, machine_id, seconds);
}

std::string ScoreSession::score_samples(const std::vector<float>& samples, const std::string& label,
                                        const std::string& machine_id) {
  std::lock_guard<std::mutex> lock(scorer_mutex_);
  if (!scorer_)
    scorer_ = std::make_unique<host::ClipScorer>(model_->model, settings_.framing, settings_.resize, settings_.kernels);
  return score_with(*scorer_, samples, label, machine_id, static_cast<double>(samples.size()) / 16000.0);
}

std::vector<ScoreOutcome> ScoreSession::score_files(const std::vector<std::string>& paths,
                                                    const std::string& machine_id, int threads) {
  std::vector<ScoreOutcome> outcomes(paths.size());
  const int workers = host::batch_workers(threads, paths.size());
  // Scorers are built here, so a failure to build one is raised on the caller's thread.
  std::vector<std::unique_ptr<host::ClipScorer>> scorers;
  for (int w = 0; w < workers; ++w)
    scorers.push_back(
        std::make_unique<host::ClipScorer>(model_->model, settings_.framing, settings_.resize, settings_.kernels));
  std::atomic<std::size_t> next{0};
  auto work = [&](host::ClipScorer& scorer) {
    for (std::size_t i = next++; i < paths.size(); i = next++) {
      try {
        as_value_error([&] {
          host::clip_output_index(paths[i], machine_id, profile_for(paths[i], machine_id) != nullptr);
          return 0;
        });
        double seconds = 0.0;
        const std::vector<float> samples = samples_from_file(paths[i], settings_.max_seconds, &seconds);
        outcomes[i].json = score_with(scorer, samples, paths[i], machine_id, seconds);
      } catch (...) {
        outcomes[i] = outcome_from_current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int w = 1; w < workers; ++w) pool.emplace_back(work, std::ref(*scorers[w]));
  if (workers > 0) work(*scorers[0]);
  for (std::thread& t : pool) t.join();
  return outcomes;
}

ScoreOutcome outcome_from_current_exception() {
  ScoreOutcome o;
  using Type = ScoreOutcome::ErrorType;
  try {
    throw;
  } catch (const FileError& e) {
    o.error = e.what();
    o.type = e.reason() == FileError::Reason::kNotFound      ? Type::kFileNotFound
             : e.reason() == FileError::Reason::kIsDirectory ? Type::kIsDirectory
                                                             : Type::kFile;
  } catch (const AudioFileError& e) {
    o.error = e.what();
    o.type = Type::kAudio;
    o.audio_kind = e.kind();
  } catch (const std::invalid_argument& e) {
    o.error = e.what();
    o.type = Type::kValue;
  } catch (const std::exception& e) {
    o.error = e.what();
    o.type = Type::kRuntime;
  }
  return o;
}

void rethrow_outcome(const ScoreOutcome& o) {
  using Type = ScoreOutcome::ErrorType;
  switch (o.type) {
    case Type::kFileNotFound:
      throw FileError(FileError::Reason::kNotFound, o.error);
    case Type::kIsDirectory:
      throw FileError(FileError::Reason::kIsDirectory, o.error);
    case Type::kFile:
      throw FileError(FileError::Reason::kOther, o.error);
    case Type::kAudio:
      throw AudioFileError(o.audio_kind, o.error);
    case Type::kValue:
      throw std::invalid_argument(o.error);
    case Type::kRuntime:
    case Type::kNone:
      break;
  }
  throw std::runtime_error(o.error);
}

// ---------------------------------------------------------------------------------------------
// Metrics

namespace {
constexpr const char* kOneClass = "Only one class present in y_true. ROC AUC score is not defined in that case.";
}

double auc(const std::vector<bool>& anomalous, const std::vector<double>& scores) {
  const std::optional<double> value = host::roc_auc(anomalous, scores);
  if (!value) throw std::invalid_argument(kOneClass);
  return *value;
}

double pauc(const std::vector<bool>& anomalous, const std::vector<double>& scores, double max_fpr) {
  const std::optional<double> value = host::partial_roc_auc(anomalous, scores, max_fpr);
  if (!value) throw std::invalid_argument(kOneClass);
  return *value;
}

}  // namespace micronet_ad::python
