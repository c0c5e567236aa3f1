// Enrolment in `micronet-ad serve --profile DIR` (a real process on loopback): a machine enrolled
// from uploaded clips scores exactly as the library's enrol_clips + ClipScorer path does, persists
// across restarts, can be replaced while other clients score (each answer from one whole profile),
// and uploads, names and profile directories that do not fit are refused with clear errors.
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/audio/audio_file.h"
#include "host/detect/clip_scorer.h"
#include "host/detect/enrolment.h"
#include "host/io/file.h"
#include "host/io/model_file.h"
#include "host/io/sha1.h"
#include "host/serve/serve_support.h"
#include "support/cli.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::error_json;
using test::file_bytes;
using test::make_wav;
using test::metric;
using test::Server;

std::string fan(const std::string& name) { return host::shared_path("data/mimii/fan/" + name); }

// Four of the ten fan training clips (10 s each): enough to fit, quick under ASan.
std::vector<std::string> enrol_paths(std::size_t n = 4) {
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < n; ++i) paths.push_back(fan("train/normal_id_00_0000000" + std::to_string(i) + ".wav"));
  return paths;
}

// The first 3 s of `n` fan training clips from the `first`-th: a profile for a quarter of the
// work (the tests that need a profile, not a good one).
std::vector<std::string> short_paths(std::size_t n, std::size_t first = 0) {
  std::vector<std::string> paths;
  for (std::size_t i = first; i < first + n; ++i) {
    const std::string name = "normal_id_00_0000000" + std::to_string(i) + ".wav";
    paths.push_back(make_wav(fan("train/" + name), 3.0, "3s_" + name));
  }
  return paths;
}

// A clear pair (checked below: the anomaly's distance is far above the normal clip's).
const std::string kAnomaly = "test/anomaly_id_00_00000000.wav";
const std::string kNormal = "test/normal_id_00_00000010.wav";

const host::ModelFile& medium() {
  static const auto file = host::load_model_file(test::model_path("medium"));
  return *file;
}

host::FitResult enrol(const host::ModelFile& model, const std::vector<std::string>& paths, std::uint32_t rank = 0,
                      double quantile = host::kDefaultEnrolQuantile, const std::string& name = "fan") {
  host::EnrolSettings settings;
  settings.rank = rank;
  settings.quantile = quantile;
  settings.threads = 1;
  return host::enrol_clips(model, name, settings, paths);
}

std::string as_string(const std::vector<std::uint8_t>& b) { return std::string(b.begin(), b.end()); }

// The clip scored by distance from `profile_bytes` with the library (the reference answer).
host::ClipResult reference(const std::string& clip, const std::vector<std::uint8_t>& profile_bytes) {
  Profile profile;
  const Status s = Profile::load(profile_bytes.data(), profile_bytes.size(), &profile);
  EXPECT_TRUE(s) << s.message();
  host::ClipScorer scorer(medium().model, Framing::kCentered, Resize::kAverage);
  host::ClipResult r = scorer.score(host::load_audio(clip).samples, -1, &profile);
  r.profile = nullptr;  // `profile` dies here
  return r;
}

httplib::MultipartFormDataItems clip_form(const std::vector<std::string>& paths) {
  httplib::MultipartFormDataItems items;
  for (const std::string& p : paths)
    items.push_back({"clip", file_bytes(p), fs::path(p).filename().string(), "audio/wav"});
  return items;
}

httplib::Result post_machine(httplib::Client& c, const std::string& clip_bytes, const std::string& machine) {
  return c.Post(("/v1/score?machine=" + machine).c_str(), clip_bytes, "audio/wav");
}

httplib::Result put_profile(httplib::Client& c, const std::string& name, const std::string& bytes) {
  return c.Put(("/v1/machines/" + name).c_str(), bytes, "application/octet-stream");
}

json ok_json(const httplib::Result& r, int status = 200) {
  EXPECT_TRUE(r);
  if (!r) return json::object();
  EXPECT_EQ(r->status, status) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  const json j = json::parse(r->body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r->body;
  return j.is_discarded() ? json::object() : j;
}

// The metadata the service gives for a profile, from the library's fit.
void expect_metadata(const json& got, const host::FitResult& fit) {
  const ProfileHeader& h = fit.header;
  EXPECT_EQ(got["name"], h.name);
  EXPECT_EQ(got["clips"], h.clips);
  EXPECT_EQ(got["windows"], h.windows);
  EXPECT_EQ(got["rank"], h.rank);
  EXPECT_EQ(got["embedding_size"], h.embedding_size);
  EXPECT_EQ(got["threshold"].get<double>(), static_cast<double>(h.threshold));
  EXPECT_EQ(got["threshold_quantile"].get<double>(), static_cast<double>(h.threshold_quantile));
  EXPECT_EQ(got["shrinkage"].get<double>(), static_cast<double>(h.shrinkage));
  EXPECT_EQ(got["bytes"], fit.bytes.size());
  EXPECT_EQ(got["model_sha1"], host::sha1_file_hex(test::model_path("medium")));
  EXPECT_EQ(got["framing"], "centered");
  EXPECT_EQ(got["resize"], "average");
}

// A distance answer equals the library's score of the same clip with the same profile.
void expect_distance_answer(const json& got, const host::ClipResult& want, const ProfileHeader& profile,
                            const std::string& clip) {
  const double distance = want.clip[ScoreMethod::kDistance];
  EXPECT_EQ(got["score_method"], "distance") << clip;
  EXPECT_EQ(got["profile"], profile.name) << clip;
  EXPECT_EQ(got["distance"].get<double>(), distance) << clip;
  EXPECT_EQ(got["score"].get<double>(), distance) << clip;
  EXPECT_EQ(got["windows"], want.clip.windows) << clip;
  EXPECT_EQ(got["window_scores"], json(want.window_scores_of(ScoreMethod::kDistance))) << clip;
  EXPECT_EQ(got["machine_id"], "-") << clip;
  EXPECT_EQ(got["threshold"].get<double>(), static_cast<double>(profile.threshold)) << clip;
  EXPECT_EQ(got["score_kind"], "distance") << clip;
  EXPECT_EQ(got["decision"], is_anomalous(distance, profile.threshold) ? "anomalous" : "normal") << clip;
}

// A path under the test's temporary directory that no earlier test (or --gtest_repeat) used.
std::string fresh_path(const std::string& name) {
  static int counter = 0;
  return test::temp_dir() + "/" + name + "_" + std::to_string(counter++);
}

std::string write_text(const std::string& path, const std::string& text) {
  host::write_file(path, text.data(), text.size());
  return path;
}

TEST(ServeEnrol, EnrolledFromClipsScoresLikeTheLibraryAndPersistsAcrossRestarts) {
  const std::string dir = fresh_path("machines_persist");  // missing: serve creates it
  const std::vector<std::string> paths = enrol_paths(), others = short_paths(3, 4);
  const host::FitResult full = enrol(medium(), paths);
  const host::FitResult compact = enrol(medium(), others, host::kCompactRank, 0.9);
  const std::string thresholds = write_text(test::temp_dir() + "/t_enrol.json",
                                            json{{"format", "micronet-ad-thresholds"},
                                                 {"version", 1},
                                                 {"model_sha1", host::sha1_file_hex(test::model_path("medium"))},
                                                 {"score_kind", "neg_softmax"},
                                                 {"method", "empirical"},
                                                 {"quantile", 0.9},
                                                 {"machines", {{"id_00", {{"threshold", -0.5}, {"clips", 10}}}}}}
                                                .dump());
  const std::string anomaly = file_bytes(fan(kAnomaly)), normal = file_bytes(fan(kNormal));

  json compact_answer;
  {
    Server server({"--workers", "2", "--profile", dir, "--thresholds", thresholds});
    auto c = server.client();
    EXPECT_EQ(ok_json(c->Get("/v1/machines")), json::parse(R"({"machines":[]})"));

    const auto put = c->Put("/v1/machines/fan", clip_form(paths));
    ASSERT_TRUE(put);
    const json created = ok_json(put, 201);
    EXPECT_EQ(put->get_header_value("Location"), "/v1/machines/fan");
    expect_metadata(created, full);
    EXPECT_EQ(created.value("warning", ""), full.warning);
    // The stored file is the library's profile, byte for byte.
    EXPECT_EQ(test::slurp(dir + "/fan.mnprof"), as_string(full.bytes));

    // Scores by distance equal the library's, and the pair is clear.
    const host::ClipResult anomaly_want = reference(fan(kAnomaly), full.bytes);
    const host::ClipResult normal_want = reference(fan(kNormal), full.bytes);
    const json a = ok_json(post_machine(*c, anomaly, "fan"));
    const json n = ok_json(post_machine(*c, normal, "fan"));
    expect_distance_answer(a, anomaly_want, full.header, kAnomaly);
    expect_distance_answer(n, normal_want, full.header, kNormal);
    EXPECT_GT(a["distance"].get<double>(), 2 * n["distance"].get<double>()) << a << "\n" << n;

    // ?machine_id=00 is untouched: the model's output, with the thresholds file's decision.
    const json by_id = ok_json(c->Post("/v1/score?machine_id=00", anomaly, "audio/wav"));
    EXPECT_EQ(by_id["score_method"], "neg_softmax");
    EXPECT_EQ(by_id["machine_id"], "00");
    EXPECT_FALSE(by_id.contains("profile"));
    EXPECT_EQ(by_id["score_kind"], "neg_softmax");
    EXPECT_EQ(by_id["threshold"].get<double>(), -0.5);
    EXPECT_EQ(by_id["decision"], by_id["score"].get<double>() > -0.5 ? "anomalous" : "normal");

    // Enrolling again replaces the machine: 200, a compact profile with its own quantile.
    const json replaced = ok_json(c->Put("/v1/machines/fan?rank=compact&quantile=0.9", clip_form(others)), 200);
    expect_metadata(replaced, compact);
    EXPECT_EQ(replaced["rank"], host::kCompactRank);
    EXPECT_EQ(test::slurp(dir + "/fan.mnprof"), as_string(compact.bytes));
    compact_answer = ok_json(post_machine(*c, anomaly, "fan"));
    expect_distance_answer(compact_answer, reference(fan(kAnomaly), compact.bytes), compact.header, kAnomaly);
    EXPECT_NE(compact_answer["distance"], a["distance"]);

    const auto m = c->Get("/metrics");
    ASSERT_TRUE(m);
    EXPECT_EQ(metric(m->body, "micronet_ad_enrolments_total"), 2);
    EXPECT_EQ(metric(m->body, "micronet_ad_enrolment_clips_total"), 7);
    EXPECT_EQ(metric(m->body, "micronet_ad_machines"), 1);
    EXPECT_EQ(metric(m->body, "micronet_ad_http_requests_total{endpoint=\"/v1/machines/{name}\",code=\"201\"}"), 1);
    EXPECT_EQ(server.stop(), 0) << server.stderr_text();
  }

  // A new server on the same directory has the machine, and scores exactly as before.
  Server server({"--workers", "1", "--profile", dir});
  auto c = server.client();
  const json list = ok_json(c->Get("/v1/machines"));
  ASSERT_EQ(list["machines"].size(), 1u) << list;
  expect_metadata(list["machines"][0], compact);
  expect_metadata(ok_json(c->Get("/v1/machines/fan")), compact);
  EXPECT_EQ(ok_json(post_machine(*c, anomaly, "fan")), compact_answer);
  const auto m = c->Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(metric(m->body, "micronet_ad_machines"), 1);
  EXPECT_EQ(server.stop(), 0) << server.stderr_text();
}

TEST(ServeEnrol, ScoringWhileTheProfileIsReplacedSeesOneWholeProfile) {
  const std::vector<std::string> paths = short_paths(3);
  host::EnrolSettings settings;
  settings.threads = 1;
  const std::vector<host::ClipEmbeddings> embeddings = host::embed_clips(medium().model, settings, paths);
  const host::FitResult full = host::fit_embeddings(medium(), "fan", settings, embeddings);
  settings.rank = host::kCompactRank;
  const host::FitResult compact = host::fit_embeddings(medium(), "fan", settings, embeddings);
  const std::string clip_path = make_wav(fan(kAnomaly), 3.0, "fan3.wav");
  const std::string clip = file_bytes(clip_path);
  // What an answer from each profile holds.
  struct Expected {
    double distance, threshold;
  };
  const Expected want[2] = {
      {reference(clip_path, full.bytes).clip[ScoreMethod::kDistance], full.header.threshold},
      {reference(clip_path, compact.bytes).clip[ScoreMethod::kDistance], compact.header.threshold}};
  ASSERT_NE(want[0].distance, want[1].distance);

  const std::string dir = fresh_path("machines_swap");
  Server server({"--workers", "2", "--profile", dir});
  auto c = server.client();
  ok_json(put_profile(*c, "fan", as_string(full.bytes)), 201);

  // PUT i (0-based) makes profile (i + 1) % 2 live: compact (the first by enrolment from the
  // clips, then as a file), full as a file.
  constexpr int kPuts = 6;
  std::atomic<int> puts_started{0}, puts_answered{0};
  std::atomic<int> stable_answers[kPuts + 1] = {};  // answers known to come after PUT i and before i + 1
  std::atomic<bool> done{false};
  std::atomic<int> wrong{0}, answers{0};
  std::mutex log_mutex;
  std::string log;
  auto fail = [&](const std::string& what) {
    ++wrong;
    std::lock_guard<std::mutex> lock(log_mutex);
    if (log.size() < 4000) log += what + "\n";
  };

  std::vector<std::thread> scorers;
  for (int t = 0; t < 3; ++t) {
    scorers.emplace_back([&] {
      auto client = server.client();
      while (!done) {
        const int answered_before = puts_answered, started_before = puts_started;
        const httplib::Result r = post_machine(*client, clip, "fan");
        const int started_after = puts_started;
        ++answers;
        if (!r || r->status != 200) {
          fail(r ? std::to_string(r->status) + " " + r->body : "no answer: " + httplib::to_string(r.error()));
          continue;
        }
        const json j = json::parse(r->body);
        const double distance = j["distance"].get<double>(), threshold = j["threshold"].get<double>();
        int which = -1;
        for (int p = 0; p < 2; ++p) {
          if (distance == want[p].distance && threshold == want[p].threshold) which = p;
        }
        if (which < 0) {
          fail("an answer from neither profile (or from parts of both): " + r->body);
          continue;
        }
        // No PUT ran during this request: it must have seen the last one answered.
        if (answered_before == started_before && started_before == started_after) {
          if (which != answered_before % 2) {
            fail("after PUT " + std::to_string(answered_before) + " an answer from the older profile");
          }
          ++stable_answers[answered_before];
        }
      }
    });
  }
  // Until profile i has given two answers on its own (or something went wrong): true if it has.
  auto wait_for_answers = [&](int i) {
    for (int wait = 0; stable_answers[i] < 2 && wrong == 0 && wait < 2000; ++wait) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return stable_answers[i] >= 2;
  };
  int put_failures = 0, puts = 0;
  for (int i = 0; i < kPuts && put_failures == 0; ++i, ++puts) {
    // Each profile serves some requests on its own before the next PUT.
    if (!wait_for_answers(i)) {
      ADD_FAILURE() << "no answers between PUTs " << i << " and " << i + 1;
      break;
    }
    ++puts_started;
    const bool to_compact = i % 2 == 0;
    const httplib::Result r = i == 0       ? c->Put("/v1/machines/fan?rank=compact", clip_form(paths))
                              : to_compact ? put_profile(*c, "fan", as_string(compact.bytes))
                                           : put_profile(*c, "fan", as_string(full.bytes));
    if (!r || r->status != 200) {
      ++put_failures;
      ADD_FAILURE() << "PUT " << i << ": " << (r ? r->body : httplib::to_string(r.error()));
    }
    ++puts_answered;
  }
  if (puts == kPuts) {
    EXPECT_TRUE(wait_for_answers(kPuts)) << "no answers after the last PUT";
  }
  done = true;
  for (std::thread& t : scorers) t.join();
  EXPECT_EQ(wrong.load(), 0) << log;
  // The last PUT (a file) left the full profile, on disk as live.
  EXPECT_EQ(ok_json(c->Get("/v1/machines/fan"))["rank"], full.header.rank);
  EXPECT_EQ(test::slurp(dir + "/fan.mnprof"), as_string(full.bytes));
  const auto m = c->Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(metric(m->body, "micronet_ad_enrolments_total"), kPuts + 1);
  EXPECT_EQ(metric(m->body, "micronet_ad_http_requests_total{endpoint=\"/v1/score\",code=\"200\"}"), answers.load());
  EXPECT_EQ(server.stop(), 0) << server.stderr_text();
}

TEST(ServeEnrol, UploadsNamesAndRequestsThatDoNotFitAreRefused) {
  const std::string dir = fresh_path("machines_checks");
  const std::vector<std::string> two = short_paths(2);
  const host::FitResult medium_fan = enrol(medium(), two);
  const auto small = host::load_model_file(test::model_path("small"));
  const std::string small_fan = as_string(enrol(*small, two).bytes);
  const std::string good = as_string(medium_fan.bytes);
  const std::string clip = file_bytes(fan(kNormal));

  Server server({"--workers", "2", "--profile", dir, "--max-enrol-clips", "3", "--max-seconds", "12"});
  auto c = server.client();
  // A profile made with another model: its SHA-1 named.
  const json other_model = error_json(put_profile(*c, "fan", small_fan), 422, "profile_mismatch");
  EXPECT_NE(other_model.value("error", "").find("another model"), std::string::npos) << other_model;
  EXPECT_NE(other_model.value("error", "").find(host::sha1_file_hex(test::model_path("small"))), std::string::npos);
  // Not a whole, intact profile.
  const json truncated = error_json(put_profile(*c, "fan", good.substr(0, good.size() / 2)), 422, "bad_profile");
  EXPECT_NE(truncated.value("error", "").find("truncated"), std::string::npos) << truncated;
  std::string corrupt = good;
  corrupt[corrupt.size() - 5] ^= 0x40;
  const json checksum = error_json(put_profile(*c, "fan", corrupt), 422, "bad_profile");
  EXPECT_NE(checksum.value("error", "").find("checksum"), std::string::npos) << checksum;
  // A good profile under another machine's name.
  const json renamed = error_json(put_profile(*c, "pump", good), 422, "profile_mismatch");
  EXPECT_NE(renamed.value("error", "").find("'fan', not 'pump'"), std::string::npos) << renamed;
  // Names that are not machine names, whatever the body; nothing is written outside the directory.
  for (const std::string& bad :
       std::vector<std::string>{"../x", "..", "a%2Fb", "%2E%2E", "a%20b", "", std::string(32, 'a'), "x%00y"}) {
    const json j = error_json(put_profile(*c, bad, good), 400, "bad_name");
    EXPECT_NE(j.value("error", "").find("1..31 characters"), std::string::npos) << bad << ": " << j;
  }
  EXPECT_FALSE(fs::exists(test::temp_dir() + "/x.mnprof"));
  // Bodies that are neither a profile nor clips.
  error_json(put_profile(*c, "fan", ""), 400, "empty_body");
  error_json(put_profile(*c, "fan", "hello, not a profile"), 415, "unsupported_body");
  // Clip uploads: too few, not audio (the part named), too many, too long; bad fit parameters.
  const json one = error_json(c->Put("/v1/machines/fan", clip_form(short_paths(1))), 400, "too_few_clips");
  EXPECT_NE(one.value("error", "").find("at least 2"), std::string::npos) << one;
  httplib::MultipartFormDataItems mixed = clip_form(two);
  mixed.push_back({"clip", "definitely not audio", "notes.txt", "text/plain"});
  const json not_audio = error_json(c->Put("/v1/machines/fan", mixed), 415, "not_audio");
  EXPECT_NE(not_audio.value("error", "").find("part 3 ('notes.txt')"), std::string::npos) << not_audio;
  error_json(c->Put("/v1/machines/fan", clip_form(short_paths(4))), 413, "too_many_clips");
  httplib::MultipartFormDataItems long_clip = clip_form(two);
  long_clip.push_back({"clip", file_bytes(make_wav(fan(kNormal), 15.0, "fan15.wav")), "long.wav", "audio/wav"});
  error_json(c->Put("/v1/machines/fan", long_clip), 413, "too_long");
  for (const char* query : {"rank=abc", "rank=277", "rank=-1", "quantile=0.2", "quantile=1.5", "quantile=x"}) {
    error_json(c->Put(("/v1/machines/fan?" + std::string(query)).c_str(), clip_form(two)), 400, "bad_parameter");
  }
  error_json(c->Put("/v1/machines/fan?rank=compact", good, "application/octet-stream"), 400, "bad_parameter");
  // Nothing was stored by any of that.
  EXPECT_EQ(ok_json(c->Get("/v1/machines")), json::parse(R"({"machines":[]})"));
  EXPECT_TRUE(fs::is_empty(dir));

  // The good profile file is stored as uploaded.
  expect_metadata(ok_json(put_profile(*c, "fan", good), 201), medium_fan);
  EXPECT_EQ(test::slurp(dir + "/fan.mnprof"), good);
  // Scoring requests that do not fit.
  const json unknown = error_json(post_machine(*c, clip, "pump"), 404, "unknown_machine");
  EXPECT_EQ(unknown["machines"], json::parse(R"(["fan"])"));
  EXPECT_NE(unknown.value("error", "").find("(enrolled: fan)"), std::string::npos) << unknown;
  error_json(c->Post("/v1/score?machine=fan&machine_id=00", clip, "audio/wav"), 400, "conflicting_machine");
  error_json(c->Post("/v1/score?machine_id=00", clip_form(two)), 415, "not_audio");  // a form, not a file
  error_json(c->Post("/v1/score?machine=fan", "", "audio/wav"), 400, "empty_body");
  // A file name that is not UTF-8 is echoed (replaced), not a server error.
  const json odd_name = ok_json(c->Post("/v1/score?machine=fan&name=%FFclip.wav", clip, "audio/wav"));
  EXPECT_EQ(odd_name["path"],
            "\xEF\xBF\xBD"
            "clip.wav");
  error_json(c->Get("/v1/machines/pump"), 404, "unknown_machine");
  error_json(c->Delete("/v1/machines/pump"), 404, "unknown_machine");
  // Deleting removes the machine and its file.
  EXPECT_EQ(ok_json(c->Delete("/v1/machines/fan")), json::parse(R"({"deleted":"fan"})"));
  EXPECT_FALSE(fs::exists(dir + "/fan.mnprof"));
  error_json(post_machine(*c, clip, "fan"), 404, "unknown_machine");
  const auto m = c->Get("/metrics");
  ASSERT_TRUE(m);
  EXPECT_EQ(metric(m->body, "micronet_ad_machines"), 0);
  EXPECT_EQ(metric(m->body, "micronet_ad_enrolments_total"), 1);
  EXPECT_EQ(metric(m->body, "micronet_ad_http_errors_total{kind=\"bad_name\"}"), 8);
  EXPECT_EQ(server.stop(), 0) << server.stderr_text();
}

// `serve <args>` that must fail before listening: its exit code and stderr.
test::CliResult failed_startup(const std::vector<std::string>& args) {
  static int counter = 0;
  const std::string err = test::temp_dir() + "/startup" + std::to_string(counter++) + ".err";
  std::vector<std::string> argv = {test::cli_path(), "serve", "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), args.begin(), args.end());
  test::ChildProcess child(argv, err, true);
  const std::string line = child.read_line();
  if (!line.empty()) {
    ADD_FAILURE() << "serve started: " << line;
    ::kill(child.pid(), SIGTERM);
  }
  test::CliResult r;
  r.exit_code = child.wait();
  r.err = test::slurp(err);
  return r;
}

TEST(ServeEnrol, ProfileDirectoriesAreCheckedAtStartup) {
  const std::vector<std::string> two = short_paths(2);
  const std::string good = as_string(enrol(medium(), two).bytes);
  const auto small = host::load_model_file(test::model_path("small"));
  auto dir_with = [](const std::string& name, const std::string& file, const std::string& bytes) {
    const std::string dir = fresh_path(name);
    fs::create_directories(dir);
    write_text(dir + "/" + file, bytes);
    return dir;
  };
  auto expect_refused = [](const std::string& dir, const std::vector<std::string>& words) {
    const test::CliResult r = failed_startup({"--profile", dir});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    for (const std::string& w : words) EXPECT_NE(r.err.find(w), std::string::npos) << w << "\nstderr: " << r.err;
  };
  std::string d = dir_with("start_truncated", "fan.mnprof", good.substr(0, 200));
  expect_refused(d, {d + "/fan.mnprof", "truncated"});
  d = dir_with("start_small", "fan.mnprof", as_string(enrol(*small, two).bytes));
  expect_refused(d, {d + "/fan.mnprof", "another model"});
  d = dir_with("start_renamed", "pump.mnprof", good);
  expect_refused(d, {d + "/pump.mnprof", "machine 'fan'", "rename it fan.mnprof"});
  const std::string file = write_text(fresh_path("not_a_dir"), "x");
  expect_refused(file, {file, "not a directory"});

  // Other files are not profiles; a directory of good ones starts.
  d = dir_with("start_good", "fan.mnprof", good);
  write_text(d + "/README.txt", "not a profile");
  Server server({"--profile", d});
  auto c = server.client();
  EXPECT_EQ(ok_json(c->Get("/v1/machines"))["machines"].size(), 1u);
  EXPECT_EQ(server.stop(), 0) << server.stderr_text();

  // Without --profile: no machines, and enrolment says how to get them.
  Server bare({"--workers", "1"});
  auto b = bare.client();
  EXPECT_EQ(ok_json(b->Get("/v1/machines")), json::parse(R"({"machines":[]})"));
  const json no_dir = error_json(put_profile(*b, "fan", good), 409, "no_profile_dir");
  EXPECT_NE(no_dir.value("error", "").find("--profile DIR"), std::string::npos) << no_dir;
  const json unknown = error_json(post_machine(*b, file_bytes(fan(kNormal)), "fan"), 404, "unknown_machine");
  EXPECT_NE(unknown.value("error", "").find("--profile DIR"), std::string::npos) << unknown;
  EXPECT_EQ(bare.stop(), 0) << bare.stderr_text();
}

}  // namespace
}  // namespace micronet_ad
