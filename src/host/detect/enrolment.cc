#include "host/detect/enrolment.h"

#include <filesystem>
#include <stdexcept>

#include "host/io/sha1.h"

namespace micronet_ad::host {
namespace {

void check_machine_name(const std::string& name) {
  if (!is_valid_profile_name(name.c_str()))
    throw std::invalid_argument("machine name '" + name + "' must be 1..31 characters of A-Z a-z 0-9 _ . -");
}

constexpr const char* kNoEmbedding = "the model has no CONV_2D, so no embedding to enrol with (docs/enrolment.md)";

// A scored clip's embeddings, moved out of its result.
ClipEmbeddings take_embeddings(std::string name, ClipResult& result) {
  return {std::move(name), std::move(result.embeddings)};
}

}  // namespace

std::uint32_t embedding_size(const Model& model) {
  if (model.embedding_tensor() < 0) throw std::runtime_error(kNoEmbedding);
  return static_cast<std::uint32_t>(model.tensor(model.embedding_tensor()).bytes);
}

FitOptions fit_options(const ModelFile& file, const std::string& name, const EnrolSettings& settings) {
  FitOptions o;
  o.name = name;
  Sha1 sha1;
  sha1.update(file.bytes(), file.model.size());
  o.model_sha1 = sha1.digest();
  o.framing = settings.framing;
  o.resize = settings.resize;
  const TensorInfo e = file.model.tensor(file.model.embedding_tensor());
  o.embedding_scale = e.scale();
  o.embedding_zero_point = e.zero_point;
  o.rank = settings.rank;
  o.quantile = settings.quantile;
  return o;
}

std::vector<ClipEmbeddings> embed_clips(const Model& model, const EnrolSettings& settings,
                                        const std::vector<std::string>& paths,
                                        const std::function<void(std::size_t)>& progress) {
  embedding_size(model);
  std::vector<ClipInput> inputs;
  for (const std::string& p : paths) inputs.push_back({p, ""});
  BatchOptions options;
  options.framing = settings.framing;
  options.resize = settings.resize;
  options.threads = settings.threads;
  options.max_seconds = settings.max_seconds;
  options.kernels = settings.kernels;
  options.any_machine = true;  // a pump named pump_2024-01-03.wav is enrolled like a DCASE clip
  std::vector<ClipEmbeddings> clips;
  std::string errors;
  std::size_t failed = 0;
  score_clips(model, options, inputs, [&](std::size_t i, ClipOutcome& o) {
    if (o.result) {
      clips.push_back(take_embeddings(std::filesystem::path(paths[i]).filename().string(), *o.result));
    } else if (failed++ < 3) {
      errors += (errors.empty() ? "" : "; ") + o.error;
    }
    if (progress) progress(i + 1);
  });
  if (failed > 0)
    throw std::runtime_error(std::to_string(failed) + " enrolment clip(s) could not be read: " + errors +
                             (failed > 3 ? "; ..." : ""));
  return clips;
}

ClipEmbeddings embed_audio(ClipScorer& scorer, const std::string& name, const std::vector<float>& samples) {
  if (scorer.interpreter().embedding_bytes() == 0) throw std::runtime_error(kNoEmbedding);
  ClipResult result = scorer.score(samples, -1);  // embeddings need no machine output
  return take_embeddings(name, result);
}

FitResult fit_embeddings(const ModelFile& file, const std::string& name, const EnrolSettings& settings,
                         const std::vector<ClipEmbeddings>& clips) {
  check_machine_name(name);
  return fit_profile(clips, embedding_size(file.model), fit_options(file, name, settings));
}

FitResult enrol_clips(const ModelFile& file, const std::string& name, const EnrolSettings& settings,
                      const std::vector<std::string>& paths, const std::function<void(std::size_t)>& progress) {
  check_machine_name(name);  // before the clips are scored
  return fit_embeddings(file, name, settings, embed_clips(file.model, settings, paths, progress));
}

}  // namespace micronet_ad::host
