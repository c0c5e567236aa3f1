// Every number is measured in this run; the table is printed from the JSON document, so both
// formats carry the same numbers.
#include "cmd_bench.h"

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <sys/resource.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common_options.h"
#include "cpu_peak.h"
#include "host/audio/audio_file.h"
#include "host/audio/host_real_fft.h"
#include "host/detect/clip_scorer.h"
#include "host/io/default_model.h"
#include "host/io/model_file.h"
#include "host/io/shared_data.h"
#include "timing.h"

namespace micronet_ad::cli {
namespace {

using Json = nlohmann::ordered_json;

// Runs `iterations` inferences on random inputs; returns per-inference microseconds.
std::vector<double> time_invokes(host::Engine& engine, int iterations, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(-128, 127);
  std::vector<std::int8_t> input(engine.input_bytes());
  for (auto& v : input) v = static_cast<std::int8_t>(byte(rng));
  std::vector<double> micros;
  micros.reserve(static_cast<std::size_t>(iterations));
  for (int i = 0; i < iterations; ++i) {
    std::copy(input.begin(), input.end(), engine.input());
    const Clock::time_point start = Clock::now();
    engine.invoke();
    micros.push_back(micros_since(start));
  }
  return micros;
}

// Warms the engine up and sizes the run to about two seconds.
int auto_iterations(host::Engine& engine) {
  const std::vector<double> warm = time_invokes(engine, 3, 1);
  return static_cast<int>(std::clamp(2e6 / std::max(1.0, percentile(warm, 0.5)), 10.0, 5000.0));
}

struct LatencyRun {
  int iterations = 0;          // per thread
  std::vector<double> micros;  // every inference of every thread
  double wall_seconds = 0.0;
};

// `iterations` inferences on `threads` engines at once (`engine` itself when one).
LatencyRun time_latency(const Model& m, host::Engine& engine, const BenchOptions& options, int iterations) {
  LatencyRun r;
  r.iterations = iterations;
  if (options.threads == 1) {
    const Clock::time_point t0 = Clock::now();
    r.micros = time_invokes(engine, iterations, 2);
    r.wall_seconds = seconds_since(t0);
    return r;
  }
  std::vector<std::unique_ptr<host::Engine>> engines;
  for (int t = 0; t < options.threads; ++t) engines.push_back(std::make_unique<host::Engine>(m, options.kernels));
  std::vector<std::vector<double>> per_thread(engines.size());
  std::vector<std::thread> pool;
  const Clock::time_point t0 = Clock::now();
  for (std::size_t t = 0; t < engines.size(); ++t)
    pool.emplace_back(
        [&, t] { per_thread[t] = time_invokes(*engines[t], iterations, 10u + static_cast<unsigned>(t)); });
  for (auto& th : pool) th.join();
  r.wall_seconds = seconds_since(t0);
  for (const auto& v : per_thread) r.micros.insert(r.micros.end(), v.begin(), v.end());
  return r;
}

struct OpTimer {
  Clock::time_point last;
  std::vector<std::vector<double>> micros;  // [op][iteration]
};

void op_timer(void* context, int op, const TensorInfo&, const std::int8_t*) {
  auto* t = static_cast<OpTimer*>(context);
  const Clock::time_point now = Clock::now();
  t->micros[static_cast<std::size_t>(op)].push_back(std::chrono::duration<double, std::micro>(now - t->last).count());
  t->last = now;
}

// Each operator's median microseconds, through the observer (one thread, a run of its own).
std::vector<double> time_operators(const Model& m, host::Engine& engine, int iterations) {
  OpTimer timer;
  timer.micros.resize(static_cast<std::size_t>(m.num_operators()));
  engine.interpreter().set_observer(op_timer, &timer);
  const int runs = std::max(10, std::min(iterations, 500));
  for (int i = 0; i < runs; ++i) {
    timer.last = Clock::now();
    engine.invoke();
  }
  engine.interpreter().set_observer(nullptr, nullptr);
  std::vector<double> medians;
  for (const auto& micros : timer.micros) medians.push_back(percentile(micros, 0.5));
  return medians;
}

struct ClipBench {
  std::string path;
  std::string kernels;  // what ClipScorer's engine resolved kAuto to
  double audio_seconds = 0;
  std::int64_t windows = 0;
  double median_ms = 0, p90_ms = 0;  // decode + front end + inferences, per clip
  double decode_ms = 0;              // median of the decode alone
  // Stage medians, each timed alone in the same runs: the front end (framing, FFT, mel, log,
  // patches, quantization), the windows' invoke() calls, and the rest of the end-to-end time
  // (copies, scoring, per-clip setup) = the median of total − the three, never negative.
  double frontend_ms = 0, inference_ms = 0, other_ms = 0;
  int workers = 2, clips = 0;
  double one_worker_s = 0, n_workers_s = 0;  // wall time for `clips` clips
  // Process CPU seconds and minor page faults per clip in the fastest round of each: equal CPU
  // time with 1 and N workers means no contention, so a low speedup is cores busy elsewhere.
  double one_worker_cpu_s = 0, n_workers_cpu_s = 0;
  double one_worker_faults = 0, n_workers_faults = 0;
};

// Decodes and scores `path` once (what `score` does per clip, decoding into the worker's reused
// `audio`), returning the window count.
std::int64_t score_clip(host::ClipScorer& scorer, const std::string& path, host::Audio& audio) {
  host::load_audio(path, {}, &audio);
  return scorer.score(audio.samples, 0).clip.windows;
}

// A front end like ClipScorer's (same FFT and configuration), run alone on a whole clip.
class FrontendAlone {
 public:
  explicit FrontendAlone(const Model& m) {
    FrontendConfig config;
    config.input = {m.tensor(m.input_tensor()).scale(), m.tensor(m.input_tensor()).zero_point};
    if (Status s = frontend_->init(config, &fft_); !s)
      throw std::runtime_error(std::string("bench front end: ") + s.message());
  }

  // The windows' int8 model inputs, one after the other.
  const std::vector<std::int8_t>& run(const std::vector<float>& samples) {
    frontend_->reset();
    inputs_.clear();
    for (std::size_t done = 0; done < samples.size();) {
      done += frontend_->push(samples.data() + done, samples.size() - done);
      drain();
    }
    if (Status s = frontend_->finish(); !s) throw std::runtime_error(std::string("bench front end: ") + s.message());
    drain();
    return inputs_;
  }

 private:
  void drain() {
    while (frontend_->pop_window(window_.get()))
      inputs_.insert(inputs_.end(), window_->input, window_->input + kPatchElements);
  }

  host::HostRealFft fft_;
  std::unique_ptr<Frontend> frontend_ = std::make_unique<Frontend>();  // ~60 KB: off the stack
  std::unique_ptr<Window> window_ = std::make_unique<Window>();        // ~5 KB, reused
  std::vector<std::int8_t> inputs_;
};

void invoke_each(Interpreter& interpreter, const std::vector<std::int8_t>& inputs) {
  for (std::size_t at = 0; at < inputs.size(); at += kPatchElements) {
    std::copy_n(inputs.data() + at, kPatchElements, interpreter.input());
    if (Status s = interpreter.invoke(); !s) throw std::runtime_error(std::string("bench: ") + s.message());
  }
}

// The clip end to end, `runs` times, and each stage alone in the same runs.
void time_clip_stages(const Model& m, int runs, ClipBench* b) {
  host::ClipScorer scorer(m, Framing::kCentered, Resize::kAverage);
  b->kernels = kernel_set_name(scorer.interpreter().kernel_set());
  const host::Audio audio = host::load_audio(b->path);
  b->audio_seconds = audio.duration_seconds();
  host::Audio decoded;                                // the scoring loop's reused decode buffer
  b->windows = score_clip(scorer, b->path, decoded);  // warm-up
  FrontendAlone frontend(m);
  frontend.run(audio.samples);
  std::vector<double> total, decode, front, inference;
  for (int r = 0; r < runs; ++r) {
    Clock::time_point t0 = Clock::now();
    host::load_audio(b->path, {}, &decoded);
    decode.push_back(seconds_since(t0) * 1e3);
    t0 = Clock::now();
    const std::vector<std::int8_t>& inputs = frontend.run(audio.samples);
    front.push_back(seconds_since(t0) * 1e3);
    t0 = Clock::now();
    invoke_each(scorer.interpreter(), inputs);
    inference.push_back(seconds_since(t0) * 1e3);
    t0 = Clock::now();
    score_clip(scorer, b->path, decoded);
    total.push_back(seconds_since(t0) * 1e3);
  }
  b->median_ms = percentile(total, 0.5);
  b->p90_ms = percentile(total, 0.9);
  b->decode_ms = percentile(decode, 0.5);
  b->frontend_ms = percentile(front, 0.5);
  b->inference_ms = percentile(inference, 0.5);
  // The stages are timed alone, so their medians can add up to a little more than the whole
  // run's; what is left over is never negative.
  b->other_ms = std::max(0.0, b->median_ms - b->decode_ms - b->frontend_ms - b->inference_ms);
}

struct BatchRun {
  double wall_s = 0, cpu_s = 0, faults_per_clip = 0;
};

double cpu_seconds(const rusage& u) {
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

// `clips` decode+score jobs shared by `workers` threads, each with its own ClipScorer.
BatchRun batch_run(const Model& m, const std::string& path, int clips, int workers) {
  std::vector<std::unique_ptr<host::ClipScorer>> scorers;
  for (int w = 0; w < workers; ++w)
    scorers.push_back(std::make_unique<host::ClipScorer>(m, Framing::kCentered, Resize::kAverage));
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  const Clock::time_point t0 = Clock::now();
  for (std::size_t w = 0; w < scorers.size(); ++w)
    pool.emplace_back([&, w] {
      host::Audio audio;
      while (next.fetch_add(1) < clips) score_clip(*scorers[w], path, audio);
    });
  for (auto& t : pool) t.join();
  BatchRun r;
  r.wall_s = seconds_since(t0);
  getrusage(RUSAGE_SELF, &after);
  r.cpu_s = cpu_seconds(after) - cpu_seconds(before);
  r.faults_per_clip = static_cast<double>(after.ru_minflt - before.ru_minflt) / clips;
  return r;
}

// Scaling: best of three rounds each, alternating, so a burst of outside load hurts both alike.
void time_scaling(const Model& m, int clips, int workers, ClipBench* b) {
  b->workers = workers;
  b->clips = clips;
  b->one_worker_s = b->n_workers_s = 1e30;
  for (int round = 0; round < 3; ++round) {
    const BatchRun one = batch_run(m, b->path, clips, 1), n = batch_run(m, b->path, clips, workers);
    if (one.wall_s < b->one_worker_s) {
      b->one_worker_s = one.wall_s;
      b->one_worker_cpu_s = one.cpu_s;
      b->one_worker_faults = one.faults_per_clip;
    }
    if (n.wall_s < b->n_workers_s) {
      b->n_workers_s = n.wall_s;
      b->n_workers_cpu_s = n.cpu_s;
      b->n_workers_faults = n.faults_per_clip;
    }
  }
}

ClipBench bench_clip(const Model& m, const BenchOptions& options) {
  ClipBench b;
  b.path = options.clip.empty() ? host::shared_path("data/dcase2020_task2/slider/test/normal_id_00_00000000.wav")
                                : options.clip;
  time_clip_stages(m, options.clip_runs, &b);
  time_scaling(m, options.scaling_clips, std::max(2, options.threads), &b);
  return b;
}

Json ops_json(const Model& m, const std::vector<double>& op_micros) {
  Json ops = Json::array();
  for (int i = 0; i < m.num_operators(); ++i) {
    const OperatorInfo& op = m.op(i);
    const double us = op_micros[static_cast<std::size_t>(i)];
    ops.push_back({{"index", i},
                   {"op", op_name(op.type)},
                   {"macs", op.macs},
                   {"median_us", us},
                   {"macs_per_second", us > 0 ? static_cast<double>(op.macs) / (us * 1e-6) : 0.0}});
  }
  return ops;
}

Json clip_json(const ClipBench& c) {
  return {{"path", c.path},
          {"audio_seconds", c.audio_seconds},
          {"windows", c.windows},
          {"kernels", c.kernels},
          {"median_ms", c.median_ms},
          {"p90_ms", c.p90_ms},
          {"ms_per_10s", c.audio_seconds > 0 ? c.median_ms * 10.0 / c.audio_seconds : 0.0},
          {"decode_ms", c.decode_ms},
          {"frontend_ms", c.frontend_ms},
          {"inference_ms", c.inference_ms},
          {"other_ms", c.other_ms},
          {"scaling",
           {{"clips", c.clips},
            {"workers", c.workers},
            {"one_worker_seconds", c.one_worker_s},
            {"workers_seconds", c.n_workers_s},
            {"speedup", c.one_worker_s / c.n_workers_s},
            {"one_worker_cpu_seconds", c.one_worker_cpu_s},
            {"workers_cpu_seconds", c.n_workers_cpu_s},
            {"one_worker_page_faults_per_clip", c.one_worker_faults},
            {"workers_page_faults_per_clip", c.n_workers_faults}}}};
}

// Everything measured, the document --json prints and the table is printed from.
struct Measured {
  LatencyRun latency;
  std::vector<double> op_micros;  // per operator
  CpuPeak peak;
  std::optional<ClipBench> clip;
};

Json bench_document(const host::ModelFile& file, host::Engine& engine, int threads, const Measured& r) {
  const Model& m = file.model;
  const double median = percentile(r.latency.micros, 0.5);
  Json j = {{"model", file.path},
            {"kernels", kernel_set_name(engine.interpreter().kernel_set())},
            {"threads", threads},
            {"iterations_per_thread", r.latency.iterations},
            {"median_us", median},
            {"p90_us", percentile(r.latency.micros, 0.9)},
            {"inferences_per_second", static_cast<double>(r.latency.iterations) * threads / r.latency.wall_seconds},
            {"total_macs", m.total_macs()},
            {"macs_per_second", static_cast<double>(m.total_macs()) / (median * 1e-6)}};
  if (r.peak.macs_per_second > 0) {
    j["peak_instruction"] = r.peak.instruction;
    j["peak_macs_per_second"] = r.peak.macs_per_second;
  }
  j["arena_bytes"] = m.arena_bytes();
  j["arena_lower_bound_bytes"] = m.arena_lower_bound();
  j["interpreter_memory_bytes"] = engine.memory_bytes();
  j["ops"] = ops_json(m, r.op_micros);
  if (r.clip) j["clip"] = clip_json(*r.clip);
  return j;
}

void print_summary(std::FILE* out, const Json& j) {
  const int threads = j["threads"].get<int>();
  const double macs_per_s = j["macs_per_second"].get<double>();
  std::string text = fmt::format("{}  ({} kernels, {} thread{}, {} inferences each)\n", j["model"].get<std::string>(),
                                 j["kernels"].get<std::string>(), threads, threads == 1 ? "" : "s",
                                 j["iterations_per_thread"].get<int>());
  text += fmt::format("latency     median {:.1f} us, p90 {:.1f} us per inference\n", j["median_us"].get<double>(),
                      j["p90_us"].get<double>());
  text += fmt::format("throughput  {:.0f} inferences/s\n", j["inferences_per_second"].get<double>());
  text += fmt::format("compute     {:.2f} G MAC/s ({} MACs per inference)", macs_per_s / 1e9,
                      j["total_macs"].get<long long>());
  if (j.contains("peak_macs_per_second")) {
    const double peak = j["peak_macs_per_second"].get<double>();
    text += fmt::format(", {:.0f} % of this core's {} peak ({:.1f} G MAC/s, measured now)", 100.0 * macs_per_s / peak,
                        j["peak_instruction"].get<std::string>(), peak / 1e9);
  }
  text += fmt::format("\nmemory      arena {} B (layer-at-a-time bound {} B), interpreter memory {} B\n",
                      j["arena_bytes"].get<std::size_t>(), j["arena_lower_bound_bytes"].get<std::size_t>(),
                      j["interpreter_memory_bytes"].get<std::size_t>());
  print_text(out, text);
}

void print_clip(std::FILE* out, const Json& c) {
  const Json& s = c["scaling"];
  std::string text =
      fmt::format("clip        {} ({:.2f} s, {} windows, {} kernels)\n", c["path"].get<std::string>(),
                  c["audio_seconds"].get<double>(), c["windows"].get<long long>(), c["kernels"].get<std::string>());
  text += fmt::format(
      "            end to end median {:.2f} ms, p90 {:.2f} ms = {:.2f} ms per 10 s of audio "
      "(decode alone {:.2f} ms)\n",
      c["median_ms"].get<double>(), c["p90_ms"].get<double>(), c["ms_per_10s"].get<double>(),
      c["decode_ms"].get<double>());
  text += fmt::format(
      "            stages (medians, each alone): decode {:.3f} ms, front end {:.3f} ms, "
      "inference {:.3f} ms, other {:.3f} ms\n",
      c["decode_ms"].get<double>(), c["frontend_ms"].get<double>(), c["inference_ms"].get<double>(),
      c["other_ms"].get<double>());
  text += fmt::format("scaling     {} clips: 1 worker {:.1f} ms, {} workers {:.1f} ms = {:.2f}x\n",
                      s["clips"].get<int>(), s["one_worker_seconds"].get<double>() * 1e3, s["workers"].get<int>(),
                      s["workers_seconds"].get<double>() * 1e3, s["speedup"].get<double>());
  text +=
      fmt::format("            CPU {:.1f} ms vs {:.1f} ms, page faults per clip {:.0f} vs {:.0f}\n",
                  s["one_worker_cpu_seconds"].get<double>() * 1e3, s["workers_cpu_seconds"].get<double>() * 1e3,
                  s["one_worker_page_faults_per_clip"].get<double>(), s["workers_page_faults_per_clip"].get<double>());
  print_text(out, text);
}

std::string ops_table(const Json& ops) {
  const host::TextTable table(
      host::TextFormat::kTable,
      {{"#", false, 3}, {"operator", true, 18}, {"MACs", false, 10}, {"median us", false, 12}, {"G MAC/s", false, 9}});
  std::string text = table.header();
  for (const auto& o : ops) {
    text += table.row({std::to_string(o["index"].get<int>()), o["op"].get<std::string>(),
                       std::to_string(o["macs"].get<long long>()), fmt::format("{:.1f}", o["median_us"].get<double>()),
                       fmt::format("{:.1f}", o["macs_per_second"].get<double>() / 1e9)});
  }
  return text;
}

}  // namespace

int run_bench(const BenchOptions& options, std::FILE* out) {
  const auto file = host::load_default_model(options.model);
  host::Engine engine(file->model, options.kernels);
  const int iterations = options.iterations > 0 ? options.iterations : auto_iterations(engine);
  Measured measured;
  measured.latency = time_latency(file->model, engine, options, iterations);
  measured.op_micros = time_operators(file->model, engine, iterations);
  if (!options.no_clip) measured.clip = bench_clip(file->model, options);
  measured.peak = measure_cpu_peak(engine.interpreter().kernel_set());
  const Json j = bench_document(*file, engine, options.threads, measured);
  if (options.format == OutputFormat::kJson) {
    print_json(out, j);
    return 0;
  }
  print_summary(out, j);
  if (j.contains("clip")) print_clip(out, j["clip"]);
  print_text(out, "\n" + ops_table(j["ops"]));
  return 0;
}

CLI::App* add_bench_options(CLI::App& app, BenchOptions* options) {
  auto* cmd = app.add_subcommand("bench", "Measure inference latency, per-operator time, MAC/s and memory");
  add_model_option(cmd, &options->model);
  cmd->add_option("--threads", options->threads, "Engines running concurrently, one per thread (default 1)")
      ->check(CLI::Range(1, 256));
  add_kernels_option(cmd, &options->kernels);
  // 0 is refused (exit 2) rather than meaning "auto": a timing of no inferences means nothing.
  cmd->add_option("--iterations", options->iterations,
                  "Timed inferences per thread, at least 1 (default: about 2 s worth)")
      ->check(CLI::Range(1, 10000000));
  add_json_flag(cmd, &options->format);
  cmd->add_option("--clip", options->clip,
                  "Audio clip for the end-to-end and scaling runs (default: the shared DCASE slider "
                  "test clip normal_id_00_00000000.wav)");
  cmd->add_flag("--no-clip", options->no_clip, "Skip the end-to-end clip and scaling runs");
  cmd->add_option("--clip-runs", options->clip_runs, "Timed end-to-end runs of the clip (default 20)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--scaling-clips", options->scaling_clips, "Clips per batch in the scaling run (default 24)")
      ->check(CLI::Range(1, 100000));
  return cmd;
}

void add_bench_command(CLI::App& app, int* exit_code) {
  static BenchOptions options;
  add_bench_options(app, &options)->callback([exit_code] { *exit_code = run_bench(options, stdout); });
}

}  // namespace micronet_ad::cli
