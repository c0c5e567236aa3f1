// The service's parts without a server: the Prometheus text, --listen parsing, decoding audio
// from memory (what request bodies go through) against decoding the same file from disk, and the
// live set of machine profiles (snapshots, atomic replacement, files on disk).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "host/audio/audio_file.h"
#include "host/detect/enrolment.h"
#include "host/io/sha1.h"
#include "host/serve/machines.h"
#include "host/serve/metrics.h"
#include "host/serve/service.h"
#include "support/cli.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

using host::AudioError;

TEST(ServiceMetrics, PrometheusTextCountsAndCumulativeBuckets) {
  host::ServiceMetrics m;
  for (double seconds : {0.0005, 0.003, 0.003, 0.2, 30.0}) {
    m.request_started();
    m.request_finished("/v1/score", 200, seconds);
  }
  m.request_started();
  m.request_finished("/v1/score", 415, 0.0001);
  m.error("not_audio");
  m.request_finished("other", 400, -1.0);  // unparsable: counted, not timed, never started
  m.error("bad_request");
  m.clip_scored(13);
  m.clip_scored(2);
  m.request_started();  // one still running
  m.enrolled(4);
  m.enrolled(0);  // a profile file
  m.set_machines(1);
  const std::string text = m.prometheus_text();
  auto has = [&](const std::string& line) {
    EXPECT_NE(text.find("\n" + line + "\n"), std::string::npos) << line << "\n---\n" << text;
  };
  has("micronet_ad_http_requests_total{endpoint=\"/v1/score\",code=\"200\"} 5");
  has("micronet_ad_http_requests_total{endpoint=\"/v1/score\",code=\"415\"} 1");
  has("micronet_ad_http_requests_total{endpoint=\"other\",code=\"400\"} 1");
  has("micronet_ad_http_errors_total{kind=\"not_audio\"} 1");
  has("micronet_ad_http_errors_total{kind=\"bad_request\"} 1");
  // Six timed /v1/score requests: 0.0001, 0.0005 ≤ 1 ms; two 3 ms ≤ 5 ms; 0.2 s ≤ 0.25; 30 s only in +Inf.
  has("micronet_ad_http_request_duration_seconds_bucket{endpoint=\"/v1/score\",le=\"0.001\"} 2");
  has("micronet_ad_http_request_duration_seconds_bucket{endpoint=\"/v1/score\",le=\"0.0025\"} 2");
  has("micronet_ad_http_request_duration_seconds_bucket{endpoint=\"/v1/score\",le=\"0.005\"} 4");
  has("micronet_ad_http_request_duration_seconds_bucket{endpoint=\"/v1/score\",le=\"0.25\"} 5");
  has("micronet_ad_http_request_duration_seconds_bucket{endpoint=\"/v1/score\",le=\"10\"} 5");
  has("micronet_ad_http_request_duration_seconds_bucket{endpoint=\"/v1/score\",le=\"+Inf\"} 6");
  has("micronet_ad_http_request_duration_seconds_count{endpoint=\"/v1/score\"} 6");
  const std::string sum = "\nmicronet_ad_http_request_duration_seconds_sum{endpoint=\"/v1/score\"} ";
  ASSERT_NE(text.find(sum), std::string::npos) << text;
  EXPECT_NEAR(std::stod(text.substr(text.find(sum) + sum.size())), 0.0001 + 0.0005 + 0.003 + 0.003 + 0.2 + 30.0, 1e-9);
  EXPECT_EQ(text.find("endpoint=\"other\",le="), std::string::npos) << "untimed requests have no histogram";
  has("micronet_ad_clips_scored_total 2");
  has("micronet_ad_windows_scored_total 15");
  has("micronet_ad_http_requests_in_flight 1");
  has("micronet_ad_enrolments_total 2");
  has("micronet_ad_enrolment_clips_total 4");
  has("micronet_ad_machines 1");
  has("# TYPE micronet_ad_http_request_duration_seconds histogram");
}

TEST(ServiceConfig, ListenAddresses) {
  std::string host;
  int port = -1;
  host::parse_listen_address("127.0.0.1:8080", &host, &port);
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 8080);
  host::parse_listen_address("[::1]:0", &host, &port);
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);
  for (const char* bad : {"8080", ":8080", "localhost:", "localhost:http", "localhost:70000", "a:-1"}) {
    EXPECT_THROW(host::parse_listen_address(bad, &host, &port), std::invalid_argument) << bad;
  }
}

std::string clip_path() { return host::shared_path("data/dcase2020_task2/slider/test/normal_id_00_00000000.wav"); }

TEST(LoadAudioMemory, DecodesExactlyLikeTheFileLoader) {
  const std::vector<std::uint8_t> bytes =
      test::shared_bytes("data/dcase2020_task2/slider/test/normal_id_00_00000000.wav");
  const host::Audio from_memory = host::load_audio_memory(bytes.data(), bytes.size(), "body");
  const host::Audio from_file = host::load_audio(clip_path());
  EXPECT_EQ(from_memory.samples, from_file.samples);
  EXPECT_EQ(from_memory.source_rate, 16000);
  EXPECT_EQ(from_memory.source_frames, 160000);
  EXPECT_EQ(from_memory.format, from_file.format);
}

AudioError::Kind error_kind(const std::vector<std::uint8_t>& bytes, const host::AudioLoadOptions& options = {},
                            std::string* message = nullptr) {
  try {
    host::load_audio_memory(bytes.data(), bytes.size(), "body", options);
  } catch (const AudioError& e) {
    if (message) *message = e.what();
    return e.kind();
  }
  ADD_FAILURE() << "no error";
  return AudioError::Kind::kUnreadable;
}

TEST(LoadAudioMemory, EveryProblemHasItsKindAndNamesTheLabel) {
  std::vector<std::uint8_t> clip = test::shared_bytes("data/dcase2020_task2/slider/test/normal_id_00_00000000.wav");
  std::string message;
  EXPECT_EQ(error_kind({}, {}, &message), AudioError::Kind::kEmpty);
  EXPECT_EQ(message, "body: empty (0 bytes)");
  EXPECT_EQ(error_kind({'n', 'o', 't', ' ', 'a', 'u', 'd', 'i', 'o'}, {}, &message), AudioError::Kind::kNotAudio);
  EXPECT_EQ(message.rfind("body: cannot decode as audio", 0), 0u) << message;
  EXPECT_EQ(error_kind(std::vector<std::uint8_t>(clip.begin(), clip.begin() + 5000), {}, &message),
            AudioError::Kind::kTruncated);
  host::AudioLoadOptions short_limit;
  short_limit.max_seconds = 9.5;  // the clip has 10 s
  EXPECT_EQ(error_kind(clip, short_limit, &message), AudioError::Kind::kTooLong);
  EXPECT_NE(message.find("longer than the limit"), std::string::npos) << message;
  short_limit.max_seconds = 10.0;
  EXPECT_EQ(host::load_audio_memory(clip.data(), clip.size(), "body", short_limit).source_frames, 160000);
  // A file loader error is an AudioError too, with its kind.
  try {
    host::load_audio("/nonexistent/clip.wav");
    ADD_FAILURE() << "no error";
  } catch (const AudioError& e) {
    EXPECT_EQ(e.kind(), AudioError::Kind::kUnreadable);
    EXPECT_STREQ(host::to_string(e.kind()), "unreadable");
  }
}

TEST(MachineProfiles, SnapshotsOutliveReplacementAndTheFileFollowsTheLiveProfile) {
  const auto model = host::load_model_file(test::model_path("medium"));
  const std::string sha1 = host::sha1_file_hex(test::model_path("medium"));
  // Profiles for this model fitted on made-up window embeddings (the fit's input, without audio).
  const std::uint32_t d = host::embedding_size(model->model);
  std::mt19937 rng(3);
  std::vector<host::ClipEmbeddings> embeddings(3);
  for (host::ClipEmbeddings& clip : embeddings) {
    clip.name = "clip";
    for (std::size_t i = 0; i < 20 * d; ++i) clip.windows.push_back(static_cast<std::int8_t>(rng() % 64));
  }
  host::EnrolSettings settings;
  const host::FitResult full = host::fit_embeddings(*model, "fan", settings, embeddings);
  settings.rank = 8;
  const host::FitResult compact = host::fit_embeddings(*model, "fan", settings, embeddings);

  const std::string dir = test::temp_dir() + "/machine_profiles";
  host::MachineProfiles machines(dir, sha1, Framing::kCentered, Resize::kAverage);
  EXPECT_TRUE(std::filesystem::is_directory(dir));
  EXPECT_EQ(machines.size(), 0u);
  auto rejected = [&](std::vector<std::uint8_t> bytes, const std::string& name) {
    try {
      machines.check(std::move(bytes), name, "upload");
    } catch (const host::ProfileRejected& e) {
      EXPECT_EQ(std::string(e.what()).rfind("upload: ", 0), 0u) << e.what();
      return e.kind();
    }
    ADD_FAILURE() << "accepted";
    return host::ProfileRejected::Kind::kInvalid;
  };
  EXPECT_EQ(rejected(std::vector<std::uint8_t>(full.bytes.begin(), full.bytes.begin() + 300), "fan"),
            host::ProfileRejected::Kind::kInvalid);
  EXPECT_EQ(rejected(full.bytes, "pump"), host::ProfileRejected::Kind::kMismatch);

  EXPECT_TRUE(machines.store(machines.check(full.bytes, "fan", "upload")));
  const std::shared_ptr<const host::ProfileFile> before = machines.find("fan");
  ASSERT_NE(before, nullptr);
  EXPECT_FALSE(machines.store(machines.check(compact.bytes, "fan", "upload")));
  EXPECT_EQ(before->profile().header().rank, full.header.rank);  // still whole, still usable
  EXPECT_EQ(machines.find("fan")->profile().header().rank, 8u);
  EXPECT_EQ(test::slurp(dir + "/fan.mnprof"), std::string(compact.bytes.begin(), compact.bytes.end()));
  EXPECT_EQ(machines.names(), std::vector<std::string>{"fan"});

  // Readers racing a writer always get one of the two profiles, whole.
  const std::int8_t* window = embeddings[0].windows.data();
  const float distances[2] = {before->profile().distance(window), machines.find("fan")->profile().distance(window)};
  ASSERT_NE(distances[0], distances[1]);
  std::atomic<bool> done{false};
  std::atomic<int> wrong{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!done) {
        const auto p = machines.find("fan");
        const float d = p->profile().distance(window);
        if (d != distances[0] && d != distances[1]) ++wrong;
      }
    });
  }
  for (int i = 0; i < 10; ++i) machines.store(machines.check(i % 2 ? compact.bytes : full.bytes, "fan", "upload"));
  done = true;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(machines.find("fan")->profile().header().rank, 8u);

  // A restart loads what is on disk; removing deletes the file.
  host::MachineProfiles again(dir, sha1, Framing::kCentered, Resize::kAverage);
  EXPECT_EQ(again.find("fan")->bytes(), compact.bytes);
  EXPECT_TRUE(again.remove("fan"));
  EXPECT_FALSE(again.remove("fan"));
  EXPECT_EQ(again.find("fan"), nullptr);
  EXPECT_FALSE(std::filesystem::exists(dir + "/fan.mnprof"));
}

}  // namespace
}  // namespace micronet_ad
