// `micronet-ad stream`: raw PCM through a pipe in odd-sized chunks gives the same windows as
// `score` on the file (byte-equal int8 inputs, equal scores); stereo, other rates, short and
// stalled inputs, signals, ALSA errors and the ALSA capture path.
#include <sndfile.h>

#include <gtest/gtest.h>

#include <cmath>
#include <csignal>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "host/audio/audio_file.h"
#include "host/audio/host_real_fft.h"
#include "host/io/model_file.h"
#include "host/io/sha1.h"
#include "host/stream/pcm_source.h"
#include "host/stream/stream_scorer.h"
#include "micronet_ad/detector.h"
#include "support/child_process.h"
#include "support/cli.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

using nlohmann::json;
using test::ChildProcess;

std::string slider(const std::string& name) { return host::shared_path("data/dcase2020_task2/slider/" + name); }

// The file's 16-bit samples, read by libsndfile independently of the code under test.
std::vector<std::int16_t> read_s16(const std::string& path, int* rate = nullptr) {
  SF_INFO info{};
  SNDFILE* f = sf_open(path.c_str(), SFM_READ, &info);
  EXPECT_NE(f, nullptr) << path;
  if (!f) return {};
  std::vector<std::int16_t> s(static_cast<std::size_t>(info.frames * info.channels));
  EXPECT_EQ(sf_readf_short(f, s.data(), info.frames), info.frames);
  sf_close(f);
  if (rate) *rate = info.samplerate;
  return s;
}

void write_wav(const std::string& path, const std::vector<std::int16_t>& samples, int rate, int channels = 1) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  ASSERT_NE(f, nullptr) << path;
  ASSERT_EQ(sf_writef_short(f, samples.data(), static_cast<sf_count_t>(samples.size() / channels)),
            static_cast<sf_count_t>(samples.size() / channels));
  sf_close(f);
}

std::vector<unsigned char> s16le_bytes(const std::vector<std::int16_t>& s) {
  std::vector<unsigned char> b(2 * s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    b[2 * i] = static_cast<unsigned char>(static_cast<std::uint16_t>(s[i]) & 0xff);
    b[2 * i + 1] = static_cast<unsigned char>(static_cast<std::uint16_t>(s[i]) >> 8);
  }
  return b;
}

struct StreamRun {
  int exit_code = -1;
  std::vector<json> windows;
  json summary;
  std::string err;
};

// Runs `stream - <args>` feeding `bytes` in chunks cycling through odd sizes (splitting samples
// and frames anywhere), then closes stdin.
StreamRun run_stream(const std::vector<std::string>& args, const std::vector<unsigned char>& bytes,
                     bool close_input = true) {
  static int counter = 0;
  const std::string err_path = test::temp_dir() + "/stream" + std::to_string(counter++) + ".err";
  std::vector<std::string> argv = {test::cli_path(), "stream", "-"};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess child(argv, err_path);
  StreamRun run;
  std::thread reader([&] {
    for (std::string line; !(line = child.read_line()).empty();) {
      json j = json::parse(line);
      if (j["type"] == "window")
        run.windows.push_back(j);
      else
        run.summary = j;
    }
  });
  static const std::size_t kChunks[] = {1, 3, 7, 333, 4097, 10001, 65537};
  std::size_t at = 0;
  for (std::size_t i = 0; at < bytes.size(); ++i) {
    const std::size_t n = std::min(kChunks[i % 7], bytes.size() - at);
    if (!child.write_stdin(bytes.data() + at, n)) break;
    at += n;
  }
  if (close_input) child.close_stdin();
  reader.join();
  run.exit_code = child.wait();
  run.err = test::slurp(err_path);
  return run;
}

json score_json(const std::string& path, const std::string& extra = "") {
  const test::CliResult r = test::run_cli("score --format json --machine-id 00 " + extra + " " + path);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return json::parse(r.out)["clips"][0];
}

// SHA-1 of every window's int8 model input, computed in-process from the file as `score`
// decodes it (libsndfile floats), through the core Detector.
std::vector<std::string> window_input_digests(const std::string& path) {
  const auto model = host::load_model_file(test::model_path("medium"));
  host::Engine engine(model->model);
  host::HostRealFft fft;
  auto frontend = std::make_unique<Frontend>();
  auto detector = std::make_unique<Detector>();
  EXPECT_TRUE(detector->init(DetectorConfig{}, model->model, &engine.interpreter(), frontend.get(), &fft));
  std::vector<std::string> digests;
  detector->set_window_observer(
      [](void* context, const Window& w, const std::int8_t*, const WindowScore&) {
        static_cast<std::vector<std::string>*>(context)->push_back(host::sha1_hex(w.input, kPatchElements));
      },
      &digests);
  const host::Audio audio = host::load_audio(path);
  EXPECT_TRUE(detector->push(audio.samples.data(), audio.samples.size()));
  EXPECT_TRUE(detector->finish());
  return digests;
}

// Every window line and the summary agree with `score`'s JSON for the same audio.
void expect_same_as_score(const StreamRun& run, const json& clip) {
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto& scores = clip["window_scores"];
  ASSERT_EQ(run.windows.size(), scores.size());
  for (std::size_t k = 0; k < scores.size(); ++k) {
    EXPECT_EQ(run.windows[k]["window"].get<int>(), static_cast<int>(k));
    EXPECT_EQ(run.windows[k]["score"].get<double>(), scores[k].get<double>()) << "window " << k;
    EXPECT_EQ(run.windows[k]["windows"].get<int>(), static_cast<int>(k + 1));
    EXPECT_GE(run.windows[k]["latency_ms"].get<double>(), 0.0);
  }
  EXPECT_EQ(run.summary["type"], "summary");
  EXPECT_EQ(run.summary["end"], "end_of_input");
  EXPECT_EQ(run.summary["windows"], clip["windows"]);
  EXPECT_DOUBLE_EQ(run.summary["clip_score"].get<double>(), clip["score"].get<double>());
  EXPECT_DOUBLE_EQ(run.summary["clip_nll"].get<double>(), clip["nll"].get<double>());
  EXPECT_EQ(run.summary["predicted_machine_id"], clip["predicted_machine_id"]);
  EXPECT_DOUBLE_EQ(run.windows.back()["clip_score"].get<double>(), clip["score"].get<double>());
}

TEST(StreamCli, PipedClipsInOddChunksMatchScoreByteForByte) {
  for (const char* name : {"test/normal_id_00_00000000.wav", "test/anomaly_id_00_00000000.wav"}) {
    SCOPED_TRACE(name);
    const std::string path = slider(name);
    const StreamRun run = run_stream({"--machine-id", "00", "--input-digest"}, s16le_bytes(read_s16(path)));
    expect_same_as_score(run, score_json(path));
    const std::vector<std::string> digests = window_input_digests(path);
    ASSERT_EQ(digests.size(), run.windows.size());
    for (std::size_t k = 0; k < digests.size(); ++k) {
      EXPECT_EQ(run.windows[k]["input_sha1"].get<std::string>(), digests[k]) << "window " << k << " int8 input differs";
    }
    EXPECT_EQ(run.summary["source_frames"].get<int>(), 160000);
    EXPECT_EQ(run.summary["dropped_bytes"].get<int>(), 0);
  }
}

TEST(StreamCli, ReferenceKernelsGiveTheSameWindowsAsScore) {
  const std::string path = slider("test/anomaly_id_00_00000000.wav");
  const StreamRun run = run_stream({"--machine-id", "00", "--kernels", "reference"}, s16le_bytes(read_s16(path)));
  expect_same_as_score(run, score_json(path));
}

TEST(StreamCli, StereoFloatInputAveragesToTheMonoResult) {
  const std::string path = slider("test/normal_id_00_00000000.wav");
  const std::vector<std::int16_t> mono = read_s16(path);
  std::vector<unsigned char> bytes(mono.size() * 8);
  for (std::size_t i = 0; i < mono.size(); ++i) {
    const float x = static_cast<float>(mono[i]) / 32768.0f;                 // both channels equal: the mix is x
    for (int c = 0; c < 2; ++c) std::memcpy(&bytes[8 * i + 4 * c], &x, 4);  // x86: little-endian
  }
  const StreamRun run = run_stream({"--machine-id", "00", "--format", "f32le", "--channels", "2"}, bytes);
  expect_same_as_score(run, score_json(path));
}

TEST(StreamCli, OtherRatesAreResampledLikeScoreDoes) {
  // The clip's samples declared as 48 kHz: `score` resamples the WAV, `stream` the raw bytes.
  const std::vector<std::int16_t> samples = read_s16(slider("test/normal_id_00_00000000.wav"));
  const std::string wav = test::temp_dir() + "/as48k.wav";
  write_wav(wav, samples, 48000);
  const json clip = score_json(wav);
  const StreamRun run = run_stream({"--machine-id", "00", "--rate", "48000"}, s16le_bytes(samples));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_EQ(run.windows.size(), clip["window_scores"].size());
  for (std::size_t k = 0; k < run.windows.size(); ++k) {
    // soxr is fed in other chunk sizes than by load_audio; its output may differ in the last bit.
    EXPECT_NEAR(run.windows[k]["score"].get<double>(), clip["window_scores"][k].get<double>(), 1e-6) << k;
  }
  EXPECT_EQ(run.summary["source_rate"].get<int>(), 48000);
}

TEST(StreamCli, InputClosedMidWindowFinishesTheClipLikeScore) {
  // 1.3 s: shorter than one window (2.016 s), and an odd byte count (a torn last sample).
  std::vector<std::int16_t> samples = read_s16(slider("test/anomaly_id_00_00000000.wav"));
  samples.resize(20800);
  const std::string wav = test::temp_dir() + "/short.wav";
  write_wav(wav, samples, 16000);
  std::vector<unsigned char> bytes = s16le_bytes(samples);
  bytes.push_back(0x7f);
  const StreamRun run = run_stream({"--machine-id", "00"}, bytes);
  expect_same_as_score(run, score_json(wav));
  EXPECT_EQ(run.summary["dropped_bytes"].get<int>(), 1);
  EXPECT_NE(run.err.find("last 1 byte(s) were dropped"), std::string::npos) << run.err;
  // 5.5 s ends inside the third window's span: centered framing still completes the clip.
  samples = read_s16(slider("test/anomaly_id_00_00000000.wav"));
  samples.resize(88000);
  write_wav(wav, samples, 16000);
  expect_same_as_score(run_stream({"--machine-id", "00"}, s16le_bytes(samples)), score_json(wav));
}

TEST(StreamCli, StalledInputBlocksWithoutSpinningAndSigtermEndsWithASummary) {
  const std::string err_path = test::temp_dir() + "/stall.err";
  ChildProcess child({test::cli_path(), "stream", "-", "--machine-id", "00"}, err_path);
  const std::vector<unsigned char> bytes = s16le_bytes(read_s16(slider("test/normal_id_00_00000000.wav")));
  ASSERT_TRUE(child.write_stdin(bytes.data(), 3 * 32000));  // 3 s, then nothing more: a stall
  const json first = json::parse(child.read_line());
  EXPECT_EQ(first["window"], 0);
  const double cpu_before = child.cpu_seconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  const double cpu_during_stall = child.cpu_seconds() - cpu_before;
  EXPECT_LT(cpu_during_stall, 0.25) << "a stalled input must block, not spin";
  ::kill(child.pid(), SIGTERM);
  std::string rest = child.read_all();  // the windows the end of the clip completed, then the summary
  while (!rest.empty() && rest.back() == '\n') rest.pop_back();
  const json summary = json::parse(rest.substr(rest.rfind('\n') + 1));
  EXPECT_EQ(summary["type"], "summary");
  EXPECT_EQ(summary["end"], "signal");
  EXPECT_GE(summary["windows"].get<int>(), 1);
  EXPECT_EQ(child.wait(), 0) << test::slurp(err_path);
}

TEST(StreamCli, BadInputsFailClearly) {
  auto expect_error = [](const std::string& args, const std::string& message) {
    const test::CliResult r = test::run_cli(args);
    EXPECT_NE(r.exit_code, 0) << args;
    EXPECT_NE(r.err.find(message), std::string::npos) << args << "\nstderr: " << r.err;
  };
  expect_error("stream --machine-id 00", "give '-' (stdin) or --device NAME");
  expect_error("stream - --machine-id 07", "unknown");
  expect_error("stream - --machine-id 00 --format s24le", "s24le");
  expect_error("stream - --machine-id 00", "stdin: no audio before the end of the input");  // run_cli: </dev/null
  expect_error("stream --device micronet_ad_no_such_device --machine-id 00",
               "cannot open ALSA device 'micronet_ad_no_such_device'");
  expect_error("stream - --machine-id 00 --thresholds /nonexistent/thresholds.json", "/nonexistent/thresholds.json");
  // A NaN in float input is an error, not a silent score.
  std::vector<unsigned char> bytes(4 * 40000, 0);
  const float nan = std::nanf("");
  std::memcpy(&bytes[4 * 1234], &nan, 4);
  const StreamRun run = run_stream({"--machine-id", "00", "--format", "f32le"}, bytes);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("non-finite sample (NaN or infinity) at frame 1234"), std::string::npos) << run.err;
}

TEST(StreamCli, AlsaNullDeviceCapturesSilenceScoredLikeASilentFile) {
  // ALSA's "null" PCM captures digital silence: the capture path end to end without a sound card.
  const test::CliResult r = test::run_cli("stream --device null --machine-id 00 --max-seconds 2.5");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<json> windows;
  json summary;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    json j = json::parse(line);
    if (j["type"] == "window")
      windows.push_back(j);
    else
      summary = j;
  }
  EXPECT_EQ(summary["end"], "max_seconds");
  EXPECT_EQ(summary["source_frames"].get<int>(), 40000);
  const std::string wav = test::temp_dir() + "/silence.wav";
  write_wav(wav, std::vector<std::int16_t>(40000, 0), 16000);
  const json clip = score_json(wav);
  ASSERT_EQ(windows.size(), clip["window_scores"].size());
  for (std::size_t k = 0; k < windows.size(); ++k) {
    EXPECT_EQ(windows[k]["score"].get<double>(), clip["window_scores"][k].get<double>());
  }
}

// The library-level pieces: odd byte chunking and the latency histogram.
TEST(PcmSource, ConvertsLittleEndianSamplesToTheInt16Scale) {
  const unsigned char s16[] = {0x00, 0x80, 0xff, 0x7f, 0x01, 0x00, 0xff, 0xff};
  float out[4];
  EXPECT_EQ(host::convert_samples(s16, 4, host::SampleFormat::kS16Le, out), -1);
  EXPECT_EQ(out[0], -1.0f);
  EXPECT_EQ(out[1], 32767.0f / 32768.0f);
  EXPECT_EQ(out[2], 1.0f / 32768.0f);
  EXPECT_EQ(out[3], -1.0f / 32768.0f);
  const unsigned char f32[] = {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0xc0, 0x7f};  // 1.0f, NaN
  EXPECT_EQ(host::convert_samples(f32, 2, host::SampleFormat::kF32Le, out), 1);
  EXPECT_EQ(out[0], 1.0f);
}

TEST(LatencyHistogram, PercentilesAreWithinOneBinOfTheExactOnes) {
  host::LatencyHistogram h;
  for (int i = 1; i <= 1000; ++i) h.add(0.01 * i);  // 0.01 … 10 ms
  EXPECT_EQ(h.count(), 1000);
  EXPECT_NEAR(h.percentile(0.5), 5.0, 5.0 * 0.025);
  EXPECT_NEAR(h.percentile(0.99), 9.9, 9.9 * 0.025);
  EXPECT_DOUBLE_EQ(h.max(), 10.0);
  EXPECT_NEAR(h.mean(), 5.005, 1e-9);
  EXPECT_EQ(host::LatencyHistogram().percentile(0.5), 0.0);
}

}  // namespace
}  // namespace micronet_ad
