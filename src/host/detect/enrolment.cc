#include "host/detect/enrolment.h"

#include <filesystem>
#include <stdexcept>

#include "host/io/sha1.h"

namespace micronet_ad::host {

std::uint32_t embedding_size(const Model& model) {
  if (model.embedding_tensor() < 0)
    throw std::runtime_error("the model has no CONV_2D, so no embedding to enrol with (SPEC §7)");
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
  std::vector<ClipEmbeddings> clips;
  std::string errors;
  std::size_t failed = 0;
  score_clips(model, options, inputs, [&](std::size_t i, ClipOutcome& o) {
    if (o.result) {
      clips.push_back({std::filesystem::path(paths[i]).filename().string(), std::move(o.result->embeddings)});
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

FitResult enrol_clips(const ModelFile& file, const std::string& name, const EnrolSettings& settings,
                      const std::vector<std::string>& paths, const std::function<void(std::size_t)>& progress) {
  if (!is_valid_profile_name(name.c_str()))
    throw std::invalid_argument("machine name '" + name + "' must be 1..31 characters of A-Z a-z 0-9 _ . -");
  const std::vector<ClipEmbeddings> clips = embed_clips(file.model, settings, paths, progress);
  return fit_profile(clips, embedding_size(file.model), fit_options(file, name, settings));
}

}  // namespace micronet_ad::host
