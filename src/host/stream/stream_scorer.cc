#include "host/stream/stream_scorer.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <stdexcept>
#include <vector>

#include "host/audio/resampler.h"
#include "host/io/sha1.h"

namespace micronet_ad::host {
namespace {

void check(const Status& status, const char* what) {
  if (!status) throw std::runtime_error(std::string(what) + ": " + status.message());
}

constexpr double kMinLatencyMs = 1e-3;  // histogram range: 1 µs …
constexpr double kBinsPerDecade = 100.0;

// Frames read per call: read() returns what is there, up to this, so it never delays a window.
constexpr std::size_t kReadFrames = 4096;

}  // namespace

void LatencyHistogram::add(double ms) {
  const double position = ms > kMinLatencyMs ? std::log10(ms / kMinLatencyMs) * kBinsPerDecade : 0.0;
  const int bin = std::min(kBins - 1, static_cast<int>(position));
  ++bins_[static_cast<std::size_t>(bin)];
  ++count_;
  sum_ += ms;
  max_ = std::max(max_, ms);
}

double LatencyHistogram::percentile(double p) const {
  if (count_ == 0) return 0.0;
  const auto rank = static_cast<std::int64_t>(std::ceil(std::clamp(p, 0.0, 1.0) * static_cast<double>(count_)));
  std::int64_t seen = 0;
  for (int bin = 0; bin < kBins; ++bin) {
    seen += bins_[static_cast<std::size_t>(bin)];
    if (seen >= std::max<std::int64_t>(rank, 1)) {
      return std::min(max_, kMinLatencyMs * std::pow(10.0, (bin + 1) / kBinsPerDecade));
    }
  }
  return max_;
}

const char* to_string(StreamEnd end) {
  switch (end) {
    case StreamEnd::kEndOfInput:
      return "end_of_input";
    case StreamEnd::kSignal:
      return "signal";
    case StreamEnd::kMaxSeconds:
      return "max_seconds";
  }
  return "unknown";
}

StreamScorer::StreamScorer(const Model& model, const StreamOptions& options)
    : options_(options),
      engine_(model, options.kernels),
      frontend_(std::make_unique<Frontend>()),
      detector_(std::make_unique<Detector>()) {
  DetectorConfig config;
  config.framing = options.framing;
  config.resize = options.resize;
  config.output_index = options.output_index;
  check(detector_->init(config, model, &engine_.interpreter(), frontend_.get(), &fft_), "detector");
  check(detector_->set_profile(options.profile), "detector");
  detector_->set_window_observer(&StreamScorer::on_window, this);
}

StreamScorer::~StreamScorer() = default;

void StreamScorer::on_window(void* context, const Window& window, const std::int8_t*, const WindowScore& score) {
  auto* self = static_cast<StreamScorer*>(context);
  if (self->error_) return;  // the sink failed: nothing more is reported
  try {
    // Window k spans frames 20k … 20k+63 of the (centered: 512-sample padded) stream.
    const std::int64_t pad = self->options_.framing == Framing::kCentered ? kHopLength : 0;
    const std::int64_t first = window.first_frame * kHopLength - pad;
    const std::int64_t last = (window.first_frame + kWindowFrames - 1) * kHopLength + kFrameLength - pad;
    WindowEvent event;
    event.index = window.index;
    event.start_seconds = static_cast<double>(std::max<std::int64_t>(first, 0)) / kSampleRateHz;
    event.end_seconds = static_cast<double>(std::min(last, self->frontend_->samples_pushed())) / kSampleRateHz;
    event.score = score;
    event.running = self->detector_->result();
    if (self->options_.input_digest) event.input_sha1 = sha1_hex(window.input, kPatchElements);
    const auto now = std::chrono::steady_clock::now();
    event.latency_ms = std::chrono::duration<double, std::milli>(now - self->arrival_).count();
    self->summary_->latency.add(event.latency_ms);
    (*self->sink_)(event);
  } catch (...) {
    self->error_ = std::current_exception();  // never unwind through the core
  }
}

StreamSummary StreamScorer::run(PcmSource& source, const std::function<bool()>& stop,
                                const std::function<void(const WindowEvent&)>& sink) {
  StreamSummary summary;
  summary_ = &summary;
  sink_ = &sink;
  error_ = nullptr;
  detector_->reset();
  const PcmFormat format = source.format();
  StreamResampler resampler(format.rate, format.channels);
  std::vector<float> interleaved(kReadFrames * static_cast<std::size_t>(format.channels));
  std::vector<float> mono;  // reused: its size is bounded by one read
  const std::int64_t max_frames = options_.max_seconds > 0.0 ? std::llround(options_.max_seconds * format.rate) : -1;

  auto push = [&] {
    if (mono.empty()) return;
    summary.samples += static_cast<std::int64_t>(mono.size());
    check(detector_->push(mono.data(), mono.size()), "detector");
    if (error_) std::rethrow_exception(error_);
  };
  for (;;) {
    std::size_t want = kReadFrames;
    if (max_frames >= 0) {
      want = static_cast<std::size_t>(
          std::min<std::int64_t>(static_cast<std::int64_t>(want), max_frames - summary.source_frames));
      if (want == 0) {
        summary.end = StreamEnd::kMaxSeconds;
        break;
      }
    }
    std::size_t frames = 0;
    const ReadStatus status = source.read(interleaved.data(), want, &frames);
    if (status == ReadStatus::kInterrupted) {
      if (stop()) {
        summary.end = StreamEnd::kSignal;
        break;
      }
      continue;  // some other signal: keep reading
    }
    if (status == ReadStatus::kEnd) break;
    arrival_ = std::chrono::steady_clock::now();
    summary.source_frames += static_cast<std::int64_t>(frames);
    mono.clear();
    resampler.push(interleaved.data(), frames, &mono);
    push();
  }
  // The end of the input completes the last windows; their latency counts from here.
  arrival_ = std::chrono::steady_clock::now();
  mono.clear();
  resampler.finish(&mono);
  push();
  summary.dropped_bytes = source.dropped_bytes();
  summary.overruns = source.overruns();
  if (summary.samples == 0) throw std::runtime_error(source.name() + ": no audio before the end of the input");
  check(detector_->finish(), "detector");
  if (error_) std::rethrow_exception(error_);
  summary.clip = detector_->result();
  summary_ = nullptr;
  sink_ = nullptr;
  return summary;
}

}  // namespace micronet_ad::host
