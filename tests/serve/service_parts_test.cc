// The service's parts without a server: the Prometheus text, --listen parsing, and decoding
// audio from memory (what request bodies go through) against decoding the same file from disk.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "host/audio/audio_file.h"
#include "host/serve/metrics.h"
#include "host/serve/service.h"
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
  const std::vector<std::uint8_t> bytes = test::shared_bytes("data/dcase2020_task2/slider/test/normal_id_00_00000000.wav");
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

}  // namespace
}  // namespace micronet_ad
