#include "host/eval/thresholds.h"

#include "micronet_ad/profile.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <stdexcept>

#include <set>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/eval/dcase_csv.h"
#include "host/io/file.h"
#include "host/io/sha1.h"

namespace micronet_ad::host {
namespace {

using nlohmann::json;

constexpr const char* kFormat = "micronet-ad-thresholds";
constexpr int kVersion = 1;

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  return text;
}

// Field access that names the file and the field in every error.
class Reader {
 public:
  explicit Reader(const std::string& source) : source_(source) {}

  [[noreturn]] void fail(const std::string& what) const { throw std::runtime_error(source_ + ": " + what); }

  const json& field(const json& object, const char* name, const std::string& where) const {
    if (!object.is_object()) fail(where + " is not a JSON object");
    const auto it = object.find(name);
    if (it == object.end()) fail(where + ": missing field '" + name + "'");
    return *it;
  }

  std::string string_field(const json& object, const char* name, const std::string& where) const {
    const json& value = field(object, name, where);
    if (!value.is_string()) fail(where + ": '" + name + "' must be a string");
    return value.get<std::string>();
  }

  double finite_number(const json& object, const char* name, const std::string& where) const {
    const json& value = field(object, name, where);
    if (!value.is_number() || !std::isfinite(value.get<double>())) {
      fail(where + ": '" + name + "' must be a finite number");
    }
    return value.get<double>();
  }

  double positive_number(const json& object, const char* name, const std::string& where) const {
    const double value = finite_number(object, name, where);
    if (!(value > 0.0)) fail(where + ": '" + name + "' must be positive");
    return value;
  }

 private:
  const std::string& source_;
};

// JSON allows a key twice and nlohmann keeps the last one: in a thresholds file (often merged by
// hand) that silently drops a machine's threshold, so a repeated key is refused, named.
json parse_refusing_duplicates(std::string_view text, const Reader& reader) {
  std::vector<std::set<std::string>> keys;  // one set per object being parsed
  const json::parser_callback_t check = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) keys.emplace_back();
    if (event == json::parse_event_t::object_end) keys.pop_back();
    if (event == json::parse_event_t::key && !keys.back().insert(parsed.get<std::string>()).second)
      reader.fail("key '" + parsed.get<std::string>() + "' appears twice in one object");
    return true;
  };
  return json::parse(text.begin(), text.end(), check);
}

GammaDistribution read_gamma(const Reader& reader, const json& object, const std::string& where) {
  return GammaDistribution{reader.positive_number(object, "shape", where), reader.finite_number(object, "loc", where),
                           reader.positive_number(object, "scale", where)};
}

MachineThreshold read_machine(const Reader& reader, const json& object, const std::string& where) {
  MachineThreshold machine;
  machine.threshold = reader.finite_number(object, "threshold", where);
  const json& clips = reader.field(object, "clips", where);
  if (!clips.is_number_unsigned() || clips.get<std::uint64_t>() < 1) {
    reader.fail(where + ": 'clips' must be a whole number >= 1");
  }
  machine.clips = clips.get<std::size_t>();
  if (object.contains("gamma")) machine.gamma = read_gamma(reader, object["gamma"], where + ".gamma");
  return machine;
}

template <typename Parse>
auto parse_enum(const Reader& reader, const std::string& text, Parse parse) {
  try {
    return parse(text);
  } catch (const std::invalid_argument& e) {
    reader.fail(e.what());
  }
}

json machine_to_json(const MachineThreshold& machine) {
  json object = {{"threshold", machine.threshold}, {"clips", machine.clips}};
  if (machine.gamma) {
    object["gamma"] = {{"shape", machine.gamma->shape}, {"loc", machine.gamma->loc}, {"scale", machine.gamma->scale}};
  }
  return object;
}

}  // namespace

std::string to_string(ScoreMethod method) { return score_method_name(method); }

ScoreMethod parse_score_kind(const std::string& text) {
  if (text == "neg_softmax") return ScoreMethod::kNegSoftmax;
  if (text == "nll") return ScoreMethod::kNll;
  if (text == "distance") return ScoreMethod::kDistance;
  throw std::invalid_argument("score kind '" + text + "' is not 'neg_softmax', 'nll' or 'distance'");
}

std::string thresholds_to_json(const ThresholdSet& set) {
  json machines = json::object();
  for (const auto& [id, machine] : set.machines) machines[id] = machine_to_json(machine);
  const json document = {{"format", kFormat},
                         {"version", kVersion},
                         {"model_sha1", lowercase(set.model_sha1)},
                         {"score_kind", to_string(set.score_kind)},
                         {"method", to_string(set.method)},
                         {"quantile", set.quantile},
                         {"machines", machines}};
  std::string text = document.dump(2) + "\n";
  try {
    parse_thresholds_json(text, "thresholds");  // refuse to write what could not be read back
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument(std::string("cannot save thresholds: ") + e.what());
  }
  return text;
}

ThresholdSet parse_thresholds_json(std::string_view text, const std::string& source) {
  const Reader reader(source);
  json document;
  try {
    document = parse_refusing_duplicates(text, reader);
  } catch (const json::parse_error& e) {
    reader.fail(std::string("not valid JSON: ") + e.what());
  }
  const std::string top = "thresholds file";
  if (reader.string_field(document, "format", top) != kFormat)
    reader.fail(std::string("'format' is not '") + kFormat + "'");
  const json& version = reader.field(document, "version", top);
  if (!version.is_number_integer() || version.get<int>() != kVersion) {
    reader.fail("unsupported 'version' (this build reads version " + std::to_string(kVersion) + ")");
  }
  ThresholdSet set;
  set.model_sha1 = reader.string_field(document, "model_sha1", top);
  if (!is_sha1_hex(set.model_sha1)) reader.fail("'model_sha1' must be 40 hexadecimal digits");
  set.model_sha1 = lowercase(set.model_sha1);
  set.score_kind = parse_enum(reader, reader.string_field(document, "score_kind", top), parse_score_kind);
  set.method = parse_enum(reader, reader.string_field(document, "method", top), parse_threshold_method);
  set.quantile = reader.finite_number(document, "quantile", top);
  if (!(set.quantile > 0.0 && set.quantile < 1.0)) reader.fail("'quantile' must be in (0, 1)");
  const json& machines = reader.field(document, "machines", top);
  if (!machines.is_object() || machines.empty()) reader.fail("'machines' must be a non-empty object");
  for (const auto& [id, machine] : machines.items()) {
    // Distance thresholds are per profile, named like their machine; the others per model output.
    if (set.score_kind == ScoreMethod::kDistance ? !is_valid_profile_name(id.c_str()) : !is_machine_id(id))
      reader.fail("machine '" + id + "' is not of the form " +
                  (set.score_kind == ScoreMethod::kDistance ? "a profile name" : "id_XX"));
    set.machines[id] = read_machine(reader, machine, "machines." + id);
  }
  return set;
}

void check_thresholds_match(const ThresholdSet& set, const std::string& model_sha1, ScoreMethod score_kind,
                            const std::string& source) {
  if (lowercase(set.model_sha1) != lowercase(model_sha1)) {
    throw std::runtime_error(source + ": thresholds were calibrated for the model with SHA-1 " + set.model_sha1 +
                             ", not for this model (SHA-1 " + lowercase(model_sha1) + "); recalibrate");
  }
  if (set.score_kind != score_kind) {
    throw std::runtime_error(source + ": thresholds were calibrated on '" + to_string(set.score_kind) +
                             "' scores, not on '" + to_string(score_kind) + "'");
  }
}

void write_thresholds(const std::string& path, const ThresholdSet& set) {
  const std::string text = thresholds_to_json(set);
  write_file(path, text.data(), text.size());
}

ThresholdSet load_thresholds(const std::string& path, const std::string& model_sha1, ScoreMethod score_kind) {
  const std::vector<std::uint8_t> bytes = read_file(path, std::size_t(16) << 20);
  ThresholdSet set =
      parse_thresholds_json(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path);
  check_thresholds_match(set, model_sha1, score_kind, path);
  return set;
}

ThresholdSet load_service_thresholds(const std::string& path, const std::string& model_sha1,
                                     const std::string& command) {
  const std::vector<std::uint8_t> bytes = read_file(path, std::size_t(1) << 20);
  ThresholdSet set =
      parse_thresholds_json(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), path);
  check_thresholds_match(set, model_sha1, set.score_kind, path);
  if (set.score_kind == ScoreMethod::kDistance)
    throw std::runtime_error(path + ": thresholds calibrated on distance scores; " + command +
                             " takes distance thresholds from the machine profiles (--profile), so give --thresholds "
                             "a neg_softmax or nll file");
  return set;
}

}  // namespace micronet_ad::host
