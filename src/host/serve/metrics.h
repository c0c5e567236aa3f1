// The service's counters and latency histogram, exposed as Prometheus text (format 0.0.4):
//
//   micronet_ad_http_requests_total{endpoint="/v1/score",code="200"} 12
//   micronet_ad_http_errors_total{kind="not_audio"} 3          (kind "overloaded": 503, queue full)
//   micronet_ad_http_request_duration_seconds_bucket{endpoint="/v1/score",le="0.05"} 10   (+ _sum, _count)
//   micronet_ad_clips_scored_total 9
//   micronet_ad_windows_scored_total 117
//   micronet_ad_http_requests_in_flight 1
//   micronet_ad_enrolments_total 2               (profiles stored by PUT /v1/machines/NAME)
//   micronet_ad_enrolment_clips_total 8          (clips those enrolments were fitted on)
//   micronet_ad_machines 1                       (machines with a profile now)
//
// Thread-safe; label values come from fixed sets chosen by the service (never from requests), so
// the number of series stays bounded.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace micronet_ad::host {

class ServiceMetrics {
 public:
  // Upper bounds (seconds) of the latency buckets; +Inf is implicit.
  static constexpr std::array<double, 12> kLatencyBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                             0.1,   0.25,   0.5,   1.0,  2.5,   10.0};

  void request_started();
  // One answered request. `seconds` < 0: unknown (the request line could not be parsed) — it is
  // counted but not observed in the histogram.
  void request_finished(const std::string& endpoint, int status, double seconds);
  void error(const std::string& kind);
  void clip_scored(std::int64_t windows);
  // A profile stored by enrolment, fitted on `clips` uploaded clips (0: uploaded as a file).
  void enrolled(std::int64_t clips);
  void set_machines(std::int64_t machines);

  std::string prometheus_text() const;

 private:
  struct Histogram {
    std::array<std::int64_t, kLatencyBuckets.size()> buckets{};  // not cumulative; summed on output
    std::int64_t count = 0;
    double sum = 0.0;
  };
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::int64_t> requests_;  // (endpoint, status)
  std::map<std::string, std::int64_t> errors_;                    // by kind
  std::map<std::string, Histogram> latency_;                      // by endpoint
  std::int64_t clips_ = 0, windows_ = 0, in_flight_ = 0;
  std::int64_t enrolments_ = 0, enrolment_clips_ = 0, machines_ = 0;
};

}  // namespace micronet_ad::host
