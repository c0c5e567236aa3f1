// Enrolment as users run it (docs/enrolment.md): enrol → profile file → score/eval by distance,
// checked against a double-precision distance computed here from the profile's own arrays and
// the embeddings the library gives, and the errors users meet on bad profiles and inputs.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "host/audio/audio_file.h"
#include "host/detect/clip_scorer.h"
#include "host/io/file.h"
#include "host/io/model_file.h"
#include "support/cli.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

using test::run_cli;

std::string fan(const std::string& relative) { return host::shared_path("data/mimii/fan/" + relative); }
std::string slider(const std::string& relative) { return host::shared_path("data/dcase2020_task2/slider/" + relative); }

// The profile's arrays read straight from the bytes (docs/profile-format.md), in double.
struct ProfileArrays {
  std::uint32_t d = 0, k = 0;
  double residual_precision = 0, scale = 0, threshold = 0;
  int zero_point = 0, aggregate = 0;
  std::vector<double> mean, precisions, components;
};

double f32_at(const std::string& b, std::size_t offset) {
  float f;
  std::memcpy(&f, b.data() + offset, 4);
  return f;
}
std::uint32_t u32_at(const std::string& b, std::size_t offset) {
  std::uint32_t v;
  std::memcpy(&v, b.data() + offset, 4);
  return v;
}

ProfileArrays read_arrays(const std::string& path) {
  const std::string b = test::slurp(path);
  ProfileArrays p;
  p.aggregate = static_cast<unsigned char>(b.at(42));
  p.d = u32_at(b, 44);
  p.k = u32_at(b, 48);
  p.threshold = f32_at(b, 60);
  p.residual_precision = f32_at(b, 68);
  p.scale = f32_at(b, 76);
  p.zero_point = static_cast<std::int32_t>(u32_at(b, 80));
  std::size_t at = 128;
  for (std::uint32_t j = 0; j < p.d; ++j, at += 4) p.mean.push_back(f32_at(b, at));
  for (std::uint32_t i = 0; i < p.k; ++i, at += 4) p.precisions.push_back(f32_at(b, at));
  for (std::size_t i = 0; i < std::size_t(p.k) * p.d; ++i, at += 4) p.components.push_back(f32_at(b, at));
  EXPECT_EQ(at, b.size());
  return p;
}

// Σ pᵢ²/λᵢ + (‖d‖² − Σ pᵢ²)/σ² for a dequantized embedding x, all in double.
double distance(const ProfileArrays& p, const std::vector<double>& x) {
  double norm2 = 0, weighted = 0, explained = 0;
  for (std::uint32_t j = 0; j < p.d; ++j) norm2 += (x[j] - p.mean[j]) * (x[j] - p.mean[j]);
  for (std::uint32_t i = 0; i < p.k; ++i) {
    double proj = 0;
    for (std::uint32_t j = 0; j < p.d; ++j) proj += p.components[i * p.d + j] * (x[j] - p.mean[j]);
    weighted += p.precisions[i] * proj * proj;
    explained += proj * proj;
  }
  return weighted + std::max(0.0, norm2 - explained) * p.residual_precision;
}

// The clip's distance as the profile aggregates it, from the library's embeddings of the clip.
double clip_distance(const ProfileArrays& p, const std::string& model, const std::string& clip) {
  const auto file = host::load_model_file(model);
  host::ClipScorer scorer(file->model, Framing::kCentered, Resize::kAverage);
  host::Audio audio;
  host::load_audio(clip, {}, &audio);
  const host::ClipResult r = scorer.score(audio.samples, 0);
  const std::size_t windows = r.embeddings.size() / p.d;
  std::vector<double> mean(p.d, 0.0);
  double mean_of_distances = 0;
  for (std::size_t w = 0; w < windows; ++w) {
    std::vector<double> x(p.d);
    for (std::uint32_t j = 0; j < p.d; ++j) x[j] = p.scale * (r.embeddings[w * p.d + j] - p.zero_point);
    for (std::uint32_t j = 0; j < p.d; ++j) mean[j] += x[j] / static_cast<double>(windows);
    mean_of_distances += distance(p, x) / static_cast<double>(windows);
  }
  return p.aggregate == 1 ? distance(p, mean) : mean_of_distances;
}

std::string out(const std::string& name) { return test::temp_dir() + "/" + name; }

// One enrolment of the MIMII fan train/ clips, shared by the tests (enrolling is the slow part).
const std::string& fan_profile() {
  static const std::string path = [] {
    const std::string p = out("fan.mnprof");
    const auto r = run_cli("enrol --model medium --output " + p + " " + fan("train"));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return p;
  }();
  return path;
}

TEST(CliEnrol, ScoreByDistanceEqualsAnIndependentDistance) {
  const ProfileArrays p = read_arrays(fan_profile());
  ASSERT_EQ(p.d, 276u);
  EXPECT_EQ(p.k, 276u);
  const auto r = run_cli("score --model medium --format json --profile " + fan_profile() + " " +
                         fan("test/anomaly_id_00_00000000.wav") + " " + fan("test/normal_id_00_00000010.wav"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto clips = nlohmann::json::parse(r.out)["clips"];
  ASSERT_EQ(clips.size(), 2u);
  for (const auto& clip : clips) {
    const double expected = clip_distance(p, "medium", clip["path"].get<std::string>());
    EXPECT_EQ(clip["score_method"], "distance");
    EXPECT_NEAR(clip["score"].get<double>(), expected, 1e-4 * expected) << clip["path"];
    EXPECT_EQ(clip["distance"], clip["score"]);
    EXPECT_EQ(clip["profile"], "id_00");
    EXPECT_NEAR(clip["threshold"].get<double>(), p.threshold, 1e-6 * p.threshold);
    // Named as the service names it (host::add_verdict_json).
    EXPECT_EQ(clip["score_kind"], "distance");
    EXPECT_EQ(clip["decision"], clip["score"].get<double>() > p.threshold ? "anomalous" : "normal");
  }
  // The anomaly is farther from the fan's normal sound than this normal clip.
  EXPECT_GT(clips[0]["score"].get<double>(), clips[1]["score"].get<double>());
}

TEST(CliEnrol, CompactProfileIsSmallAndStillSeparates) {
  const std::string compact = out("fan_compact.mnprof");
  const auto e = run_cli("enrol --model medium --compact --output " + compact + " " + fan("train"));
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const ProfileArrays p = read_arrays(compact);
  EXPECT_LT(p.k, p.d);
  EXPECT_GT(p.residual_precision, 0.0);
  struct stat st {};
  ASSERT_EQ(::stat(compact.c_str(), &st), 0);
  EXPECT_LE(st.st_size, 64 * 1024);
  const double a = clip_distance(p, "medium", fan("test/anomaly_id_00_00000000.wav"));
  const auto r =
      run_cli("score --model medium --format json --profile " + compact + " " + fan("test/anomaly_id_00_00000000.wav"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(nlohmann::json::parse(r.out)["clips"][0]["score"].get<double>(), a, 1e-4 * a);
}

TEST(CliEnrol, EvalEnrolFitsEveryTypeAndDetects) {
  // A DCASE tree of two machine types made of links to the shared clips.
  const std::string root = out("tree");
  for (const char* d : {"", "/fan", "/fan/train", "/fan/test", "/slider", "/slider/train", "/slider/test"})
    ::mkdir((root + d).c_str(), 0755);
  auto link = [](const std::string& target, const std::string& at) {
    ASSERT_EQ(::symlink(target.c_str(), at.c_str()), 0);
  };
  for (int i = 0; i < 10; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "normal_id_00_%08d.wav", i);
    link(fan(std::string("train/") + name), root + "/fan/train/" + name);
    link(slider(std::string("train/") + name), root + "/slider/train/" + name);
  }
  for (const char* c : {"anomaly_id_00_00000000.wav", "anomaly_id_00_00000001.wav", "normal_id_00_00000010.wav",
                        "normal_id_00_00000011.wav", "normal_id_00_00000012.wav"})
    link(fan(std::string("test/") + c), root + "/fan/test/" + c);
  for (const char* c : {"anomaly_id_00_00000000.wav", "normal_id_00_00000000.wav"})
    link(slider(std::string("test/") + c), root + "/slider/test/" + c);
  const std::string result = out("eval_enrol");
  const auto r = run_cli("eval --model medium --enrol --out " + result + " " + root);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* f : {"/profiles/fan_id_00.mnprof", "/profiles/slider_id_00.mnprof", "/anomaly_score_fan_id_00.csv",
                        "/anomaly_score_slider_id_00.csv", "/decision_result_slider_id_00.csv", "/result.csv"}) {
    EXPECT_EQ(::access((result + f).c_str(), R_OK), 0) << f;
  }
  // The slider anomaly scores above its normal (the same ranking the model's softmax gives).
  const std::string slider_scores = test::slurp(result + "/anomaly_score_slider_id_00.csv");
  double anomaly = 0, normal = 0;
  std::sscanf(slider_scores.c_str(), "anomaly_id_00_00000000.wav,%lf\nnormal_id_00_00000000.wav,%lf", &anomaly,
              &normal);
  EXPECT_GT(anomaly, normal) << slider_scores;
  // Scores in the CSV are the profile's distances.
  const ProfileArrays p = read_arrays(result + "/profiles/slider_id_00.mnprof");
  const double expected = clip_distance(p, "medium", slider("test/anomaly_id_00_00000000.wav"));
  EXPECT_NEAR(anomaly, expected, 1e-4 * expected);
}

TEST(CliEnrol, BadProfilesAndInputsFailClearly) {
  auto expect_error = [](const std::string& args, const std::string& message) {
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << args << "\nstderr: " << r.err;
  };
  const std::string clip = fan("test/anomaly_id_00_00000000.wav");
  // Made for ad_medium: refused by ad_small, and by another framing or resize.
  expect_error("score --model small --profile " + fan_profile() + " " + clip, "made for another model");
  expect_error("score --model medium --framing kit --profile " + fan_profile() + " " + clip, "--framing centered");
  expect_error("score --model medium --resize decimate --profile " + fan_profile() + " " + clip, "--resize average");
  // Truncated and corrupted files.
  const std::string bytes = test::slurp(fan_profile());
  const std::string truncated = out("truncated.mnprof"), corrupt = out("corrupt.mnprof"), empty = out("none");
  host::write_file(truncated, bytes.data(), bytes.size() - 1);
  std::string flipped = bytes;
  flipped[1000] = static_cast<char>(flipped[1000] ^ 0x40);
  host::write_file(corrupt, flipped.data(), flipped.size());
  expect_error("score --model medium --profile " + truncated + " " + clip, "truncated");
  expect_error("score --model medium --profile " + corrupt + " " + clip, "checksum");
  expect_error("score --model medium --profile " + clip + " " + clip, "not a micronet-ad profile");
  // A directory of profiles without one for the clip's machine names what it has.
  ::mkdir(empty.c_str(), 0755);
  expect_error("score --model medium --profile " + empty + " " + clip, "no profiles");
  // Too few clips to fit and calibrate.
  expect_error("enrol --model medium --output " + out("one.mnprof") + " " + fan("train/normal_id_00_00000000.wav"),
               "at least 2");
  expect_error("score --model medium --score-kind distance " + clip, "needs --profile");
}

TEST(CliEnrol, ClipsWithoutAnIdInTheirNameEnrolUnderTheGivenName) {
  const std::string dir = out("plain");
  ::mkdir(dir.c_str(), 0755);
  for (int i = 0; i < 3; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "normal_id_00_%08d.wav", i);
    ASSERT_EQ(
        ::symlink(fan(std::string("train/") + name).c_str(), (dir + "/pump_" + std::to_string(i) + ".wav").c_str()), 0);
  }
  const std::string profile = out("pump.mnprof");
  const auto e = run_cli("enrol --model medium --name pump --output " + profile + " " + dir);
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const auto r = run_cli("score --model medium --format json --profile " + profile + " " + dir + "/pump_0.wav");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto clip = nlohmann::json::parse(r.out)["clips"][0];
  EXPECT_EQ(clip["profile"], "pump");
  EXPECT_EQ(clip["machine_id"], "-");
  EXPECT_TRUE(clip["neg_softmax"].is_null());
}

TEST(CliEnrol, ProfileDirectoryFindsTheMachineByName) {
  const std::string dir = out("profiles");
  ::mkdir(dir.c_str(), 0755);
  // --output DIR: one profile per DCASE machine ID found, named id_XX.
  const auto e = run_cli("enrol --model medium --output " + dir + " " + fan("train/normal_id_00_00000000.wav") + " " +
                         fan("train/normal_id_00_00000001.wav") + " " + fan("train/normal_id_00_00000002.wav"));
  ASSERT_EQ(e.exit_code, 0) << e.err;
  EXPECT_EQ(::access((dir + "/id_00.mnprof").c_str(), R_OK), 0);
  const auto ok =
      run_cli("score --model medium --format json --profile " + dir + " " + fan("test/normal_id_00_00000010.wav"));
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(nlohmann::json::parse(ok.out)["clips"][0]["profile"], "id_00");
  const auto missing =
      run_cli("score --model medium --machine-id pump7 --profile " + dir + " " + fan("test/normal_id_00_00000010.wav"));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no profile for machine pump7"), std::string::npos) << missing.err;
  EXPECT_NE(missing.err.find("id_00"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace micronet_ad
