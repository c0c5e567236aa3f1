// What the Python module does, in plain C++: arrays come in as ArrayView (a description of a
// NumPy buffer), results go out as std::vectors and JSON text. Keeping pybind11 out of this layer
// lets a GoogleTest suite run all of it under AddressSanitizer, which a Python interpreter cannot
// load without preloading the sanitizer runtime.
//
// Errors are exceptions the module maps to Python's: std::invalid_argument → ValueError,
// FileError → OSError (FileNotFoundError, IsADirectoryError), AudioFileError → the module's
// AudioFileError (an OSError) with the decoder's kind. Messages are the CLI's one-liners.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "host/detect/clip_scorer.h"
#include "host/detect/enrolment.h"
#include "host/detect/judge.h"
#include "host/detect/profile_set.h"
#include "host/io/model_file.h"
#include "micronet_ad/frontend.h"

namespace micronet_ad::python {

// A file that is missing, unreadable or not what it should be (a model or profile file).
class FileError : public std::runtime_error {
 public:
  enum class Reason { kNotFound, kIsDirectory, kOther };
  FileError(Reason reason, const std::string& message) : std::runtime_error(message), reason_(reason) {}
  Reason reason() const { return reason_; }

 private:
  Reason reason_;
};

// An audio file that exists but cannot be used; kind as host::to_string(AudioError::Kind).
class AudioFileError : public std::runtime_error {
 public:
  AudioFileError(std::string kind, const std::string& message) : std::runtime_error(message), kind_(std::move(kind)) {}
  const std::string& kind() const { return kind_; }

 private:
  std::string kind_;
};

// A NumPy array as the buffer protocol describes it.
struct ArrayView {
  const void* data = nullptr;
  char kind = 'i';  // NumPy dtype kind: 'i' signed int, 'u' unsigned, 'f' float, 'b' bool, ...
  int itemsize = 1;
  std::vector<std::int64_t> shape;
  bool c_contiguous = true;
  std::int64_t elements() const;
  std::string dtype_name() const;  // "int8", "float32", ...
};

// Model: "small" | "medium" | "large" | a path; "" = the default (MICRONET_AD_MODEL, else the
// embedded ad_medium). Missing file → FileError kNotFound; invalid → FileError kOther.
std::shared_ptr<const host::ModelFile> load_model(const std::string& name_or_path);
// A model's bytes in memory; invalid → std::invalid_argument.
std::shared_ptr<const host::ModelFile> load_model_from_bytes(const std::uint8_t* data, std::size_t size);
KernelSet parse_kernels(const std::string& name);
Framing parse_framing_name(const std::string& name);
Resize parse_resize_name(const std::string& name);

// The engine behind micronet_ad.Interpreter. Calls are serialised by a mutex, so Python threads
// sharing one (with the GIL released) cannot interleave an input and another's invoke.
class Runner {
 public:
  Runner(std::shared_ptr<const host::ModelFile> file, KernelSet kernels, bool band_fusion);
  const host::ModelFile& file() const { return *file_; }
  TensorInfo input_info() const { return file_->model.tensor(file_->model.input_tensor()); }
  TensorInfo output_info() const { return file_->model.tensor(file_->model.output_tensor()); }
  const char* kernels() const { return kernel_set_name(interpreter_.kernel_set()); }
  std::size_t memory_bytes() const { return memory_.size(); }

  // TFLite's set_tensor: `value` must be int8 of exactly the input's shape (any strides: it is copied).
  void set_input(const ArrayView& value, const std::int64_t* strides);
  void invoke();
  std::vector<std::int8_t> tensor_bytes(int tensor_index) const;  // input, output or embedding
  // `batch` is int8 [N,32,32,1], C-contiguous (read in place); writes N × outputs into `out`.
  void run(const ArrayView& batch, std::int8_t* out);
  static void check_batch(const ArrayView& batch, const TensorInfo& input);

 private:
  std::shared_ptr<const host::ModelFile> file_;
  std::vector<std::uint8_t> memory_;
  Interpreter interpreter_;
  mutable std::mutex mutex_;
  bool invoked_ = false;
};

// 16 kHz mono samples in the int16 scale (x/32768) from a 1-D, C-contiguous float32, float64 or
// int16 array at `sample_rate` Hz (resampled like a file). NaN/inf or |x| > 1000 → invalid_argument.
std::vector<float> samples_from_array(const ArrayView& audio, double sample_rate);
// A file decoded as the CLI does (at most `max_seconds`, 0 = no limit), errors as above.
std::vector<float> samples_from_file(const std::string& path, double max_seconds, double* seconds = nullptr);

enum class Stage { kLogmel, kPatches, kInput };
Stage parse_stage(const std::string& name);
struct FeatureArray {
  std::vector<std::int64_t> shape;
  std::vector<float> floats;       // logmel, patches
  std::vector<std::int8_t> bytes;  // input
};
// The CLI's `features`: `model` only matters for the input stage (its quantization).
FeatureArray compute_features(const std::vector<float>& samples, Framing framing, Resize resize, Stage stage,
                              const host::ModelFile* model);

// A fitted or loaded profile, tied to the model, framing and resize it was made for.
struct ProfileHandle {
  std::shared_ptr<const host::ProfileFile> file;
  std::vector<double> loo_scores;  // empty when loaded from a file
  std::string warning;
};
// Loads a profile for `model` with the framing and resize its header records.
ProfileHandle load_profile(const std::string& path, const host::ModelFile& model);
// Fits a profile from clips (paths) or decoded audio; `settings` as `enrol`.
ProfileHandle fit_profile_files(const host::ModelFile& model, const std::string& name,
                                const host::EnrolSettings& settings, const std::vector<std::string>& paths);
ProfileHandle fit_profile_samples(const host::ModelFile& model, const std::string& name,
                                  const host::EnrolSettings& settings, const std::vector<std::vector<float>>& clips);
void save_profile(const ProfileHandle& profile, const std::string& path);

struct ScoreSettings {
  Framing framing = Framing::kCentered;
  Resize resize = Resize::kAverage;
  KernelSet kernels = KernelSet::kAuto;
  std::string profile_path;                          // a .mnprof file or a folder of them (as --profile)
  std::shared_ptr<const host::ProfileFile> profile;  // or one profile in memory
  std::string thresholds_path;                       // as --thresholds
  std::string score_kind;                            // "" = neg_softmax, distance with a profile
  double max_seconds = 3600.0;
};

// One clip's result: the JSON text `score --format json` prints for it, or an error.
struct ScoreOutcome {
  std::string json;
  std::string error;
  enum class ErrorType { kNone, kValue, kFileNotFound, kIsDirectory, kFile, kAudio, kRuntime } type = ErrorType::kNone;
  std::string audio_kind;
};

// Scores clips as `score` does. Single clips share one scorer behind a mutex (Python threads may
// call one cached session at once); score_files runs its own workers.
class ScoreSession {
 public:
  ScoreSession(std::shared_ptr<const host::ModelFile> model, const ScoreSettings& settings);
  std::string score_file(const std::string& path, const std::string& machine_id);
  std::string score_samples(const std::vector<float>& samples, const std::string& label, const std::string& machine_id);
  std::vector<ScoreOutcome> score_files(const std::vector<std::string>& paths, const std::string& machine_id,
                                        int threads);
  ScoreMethod method() const { return judge_.method(); }
  const host::ModelFile& model() const { return *model_; }

 private:
  std::string score_with(host::ClipScorer& scorer, const std::vector<float>& samples, const std::string& label,
                         const std::string& machine_id, double seconds) const;
  const Profile* profile_for(const std::string& label, const std::string& machine_id) const;

  std::shared_ptr<const host::ModelFile> model_;
  ScoreSettings settings_;
  std::unique_ptr<host::ProfileSet> profiles_;
  host::Judge judge_;
  std::unique_ptr<host::ClipScorer> scorer_;  // for single clips, made on first use
  std::mutex scorer_mutex_;                   // guards scorer_
};

// Rethrows the current exception as the outcome's error type.
ScoreOutcome outcome_from_current_exception();
// Throws what an outcome's error stands for (the inverse of outcome_from_current_exception).
[[noreturn]] void rethrow_outcome(const ScoreOutcome& outcome);

// scikit-learn's roc_auc_score(y, s) and roc_auc_score(y, s, max_fpr=p); invalid_argument when
// y holds one class only, the sizes differ or a score is not finite.
double auc(const std::vector<bool>& anomalous, const std::vector<double>& scores);
double pauc(const std::vector<bool>& anomalous, const std::vector<double>& scores, double max_fpr);

}  // namespace micronet_ad::python
