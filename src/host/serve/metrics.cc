#include "host/serve/metrics.h"

#include <fmt/core.h>

namespace micronet_ad::host {

void ServiceMetrics::request_started() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++in_flight_;
}

void ServiceMetrics::request_finished(const std::string& endpoint, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_[{endpoint, status}];
  if (seconds >= 0.0) {
    --in_flight_;  // only requests that were started (parsed) are in flight
    Histogram& h = latency_[endpoint];
    std::size_t bucket = 0;
    while (bucket < kLatencyBuckets.size() && seconds > kLatencyBuckets[bucket]) ++bucket;
    if (bucket < kLatencyBuckets.size()) ++h.buckets[bucket];
    ++h.count;
    h.sum += seconds;
  }
}

void ServiceMetrics::error(const std::string& kind) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++errors_[kind];
}

void ServiceMetrics::clip_scored(std::int64_t windows) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++clips_;
  windows_ += windows;
}

void ServiceMetrics::enrolled(std::int64_t clips) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++enrolments_;
  enrolment_clips_ += clips;
}

void ServiceMetrics::set_machines(std::int64_t machines) {
  std::lock_guard<std::mutex> lock(mutex_);
  machines_ = machines;
}

std::string ServiceMetrics::prometheus_text() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  out += "# HELP micronet_ad_http_requests_total HTTP requests answered, by endpoint and status code.\n";
  out += "# TYPE micronet_ad_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out += fmt::format("micronet_ad_http_requests_total{{endpoint=\"{}\",code=\"{}\"}} {}\n", key.first, key.second, n);
  }
  out += "# HELP micronet_ad_http_errors_total Requests answered with an error, by kind.\n";
  out += "# TYPE micronet_ad_http_errors_total counter\n";
  for (const auto& [kind, n] : errors_)
    out += fmt::format("micronet_ad_http_errors_total{{kind=\"{}\"}} {}\n", kind, n);
  out +=
      "# HELP micronet_ad_http_request_duration_seconds Time from routing a request to its answer being ready to "
      "write.\n";
  out += "# TYPE micronet_ad_http_request_duration_seconds histogram\n";
  for (const auto& [endpoint, h] : latency_) {
    std::int64_t cumulative = 0;
    for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      cumulative += h.buckets[i];
      out += fmt::format("micronet_ad_http_request_duration_seconds_bucket{{endpoint=\"{}\",le=\"{}\"}} {}\n", endpoint,
                         kLatencyBuckets[i], cumulative);
    }
    out += fmt::format("micronet_ad_http_request_duration_seconds_bucket{{endpoint=\"{}\",le=\"+Inf\"}} {}\n", endpoint,
                       h.count);
    out += fmt::format("micronet_ad_http_request_duration_seconds_sum{{endpoint=\"{}\"}} {}\n", endpoint, h.sum);
    out += fmt::format("micronet_ad_http_request_duration_seconds_count{{endpoint=\"{}\"}} {}\n", endpoint, h.count);
  }
  out += "# HELP micronet_ad_clips_scored_total Clips scored.\n# TYPE micronet_ad_clips_scored_total counter\n";
  out += fmt::format("micronet_ad_clips_scored_total {}\n", clips_);
  out +=
      "# HELP micronet_ad_windows_scored_total Model windows scored.\n# TYPE micronet_ad_windows_scored_total "
      "counter\n";
  out += fmt::format("micronet_ad_windows_scored_total {}\n", windows_);
  out += "# HELP micronet_ad_http_requests_in_flight Requests being handled.\n";
  out += "# TYPE micronet_ad_http_requests_in_flight gauge\n";
  out += fmt::format("micronet_ad_http_requests_in_flight {}\n", in_flight_);
  out += "# HELP micronet_ad_enrolments_total Machine profiles stored by PUT /v1/machines/NAME.\n";
  out += "# TYPE micronet_ad_enrolments_total counter\n";
  out += fmt::format("micronet_ad_enrolments_total {}\n", enrolments_);
  out += "# HELP micronet_ad_enrolment_clips_total Uploaded clips machine profiles were fitted on.\n";
  out += "# TYPE micronet_ad_enrolment_clips_total counter\n";
  out += fmt::format("micronet_ad_enrolment_clips_total {}\n", enrolment_clips_);
  out += "# HELP micronet_ad_machines Machines with a profile.\n# TYPE micronet_ad_machines gauge\n";
  out += fmt::format("micronet_ad_machines {}\n", machines_);
  return out;
}

}  // namespace micronet_ad::host
