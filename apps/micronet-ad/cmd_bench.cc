// micronet-ad bench [--model M] [--threads N] [--kernels reference|auto] [--json] [--iterations K]
//                   [--clip WAV | --no-clip] [--clip-runs R] [--scaling-clips C]:
// per-inference median/p90 latency, per-operator breakdown, achieved MAC/s against this core's
// peak with the level's multiply-accumulate instruction (measured in the same run: a constant from
// another machine once gave "124 % of peak"), and memory. With --threads N, N engines run concurrently and the
// aggregate throughput is reported too. Then a real 10 s clip end to end (decode, front end and
// every window's inference, through ClipScorer with the fastest kernels) with a per-stage breakdown
// (decode, front end, inference, other), and batch scaling: the same C clips scored by one worker
// and by two (or N) workers, one ClipScorer and one reused decode buffer each, with the CPU time
// and page faults per clip of both runs (equal CPU time = no contention between the workers).
#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <chrono>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <sys/resource.h>

#include "commands.h"
#include "cpu_peak.h"
#include "common_options.h"
#include "host/audio/audio_file.h"
#include "host/audio/host_real_fft.h"
#include "host/detect/clip_scorer.h"
#include "host/io/model_file.h"
#include "host/io/shared_data.h"

namespace micronet_ad::cli {
namespace {

using Clock = std::chrono::steady_clock;

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

struct OpTimer {
  Clock::time_point last;
  std::vector<std::vector<double>> micros;  // [op][iteration]
};

void op_timer(void* context, int op, const TensorInfo&, const std::int8_t*) {
  auto* t = static_cast<OpTimer*>(context);
  const Clock::time_point now = Clock::now();
  t->micros[op].push_back(std::chrono::duration<double, std::micro>(now - t->last).count());
  t->last = now;
}

// Runs `iterations` inferences on random inputs; returns per-inference microseconds.
std::vector<double> run(host::Engine& engine, int iterations, unsigned seed) {
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
    micros.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  return micros;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct ClipBench {
  std::string path;
  std::string kernels;  // what ClipScorer's engine resolved kAuto to
  double audio_seconds = 0;
  std::int64_t windows = 0;
  double median_ms = 0, p90_ms = 0;  // decode + front end + inferences, per clip
  double decode_ms = 0;              // median of the decode alone
  // Stage medians, each timed alone in the same runs: the front end (framing, FFT, mel, log,
  // patches, quantization), the windows' invoke() calls, and the rest of the end-to-end time
  // (copies, scoring, per-clip setup) = the median of total − the three per run (noise can make
  // it slightly negative).
  double frontend_ms = 0, inference_ms = 0, other_ms = 0;
  int workers = 2, clips = 0;
  double one_worker_s = 0, n_workers_s = 0;  // wall time for `clips` clips
  // Process CPU seconds and minor page faults per clip in the fastest round of each: equal CPU
  // time with 1 and N workers means no contention, so a low speedup is cores busy elsewhere.
  double one_worker_cpu_s = 0, n_workers_cpu_s = 0;
  double one_worker_faults = 0, n_workers_faults = 0;
};

struct BatchRun {
  double wall_s = 0, cpu_s = 0, faults_per_clip = 0;
};

double cpu_seconds(const rusage& u) {
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

// Decodes and scores `path` once (what `score` does per clip, decoding into the worker's reused
// `audio`), returning the window count.
std::int64_t score_clip(host::ClipScorer& scorer, const std::string& path, host::Audio& audio) {
  host::load_audio(path, {}, &audio);
  return scorer.score(audio.samples, 0).clip.windows;
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
  for (int w = 0; w < workers; ++w)
    pool.emplace_back([&, w] {
      host::Audio audio;
      while (next.fetch_add(1) < clips) score_clip(*scorers[static_cast<std::size_t>(w)], path, audio);
    });
  for (auto& t : pool) t.join();
  BatchRun r;
  r.wall_s = seconds_since(t0);
  getrusage(RUSAGE_SELF, &after);
  r.cpu_s = cpu_seconds(after) - cpu_seconds(before);
  r.faults_per_clip = static_cast<double>(after.ru_minflt - before.ru_minflt) / clips;
  return r;
}

// The front end alone, as ClipScorer runs it (same FFT, whole clip pushed at once); fills
// `inputs` with the windows' int8 model inputs.
void run_frontend(Frontend& frontend, const std::vector<float>& samples, Window& window,
                  std::vector<std::int8_t>* inputs) {
  frontend.reset();
  inputs->clear();
  auto drain = [&] {
    while (frontend.pop_window(&window)) inputs->insert(inputs->end(), window.input, window.input + kPatchElements);
  };
  for (std::size_t done = 0; done < samples.size();) {
    done += frontend.push(samples.data() + done, samples.size() - done);
    drain();
  }
  if (Status s = frontend.finish(); !s) throw std::runtime_error(std::string("bench front end: ") + s.message());
  drain();
}

ClipBench bench_clip(const Model& m, const std::string& path, int runs, int clips, int workers) {
  ClipBench b;
  b.path = path;
  host::ClipScorer scorer(m, Framing::kCentered, Resize::kAverage);
  b.kernels = kernel_set_name(scorer.interpreter().kernel_set());
  const host::Audio audio = host::load_audio(path);
  b.audio_seconds = audio.duration_seconds();
  host::Audio decoded;  // the scoring loop's reused decode buffer
  b.windows = score_clip(scorer, path, decoded);  // warm-up
  // The stages alone: a front end like the scorer's, and the scorer's interpreter on its inputs.
  host::HostRealFft fft;
  auto frontend = std::make_unique<Frontend>();  // ~60 KB: off the stack
  FrontendConfig config;
  config.input = {m.tensor(m.input_tensor()).scale(), m.tensor(m.input_tensor()).zero_point};
  if (Status s = frontend->init(config, &fft); !s) throw std::runtime_error(std::string("bench front end: ") + s.message());
  auto window = std::make_unique<Window>();  // ~5 KB, reused
  std::vector<std::int8_t> inputs;
  run_frontend(*frontend, audio.samples, *window, &inputs);
  Interpreter& interpreter = scorer.interpreter();
  std::vector<double> total, decode, front, inference;
  for (int r = 0; r < runs; ++r) {
    Clock::time_point t0 = Clock::now();
    host::load_audio(path, {}, &decoded);
    decode.push_back(seconds_since(t0) * 1e3);
    t0 = Clock::now();
    run_frontend(*frontend, audio.samples, *window, &inputs);
    front.push_back(seconds_since(t0) * 1e3);
    t0 = Clock::now();
    for (std::size_t at = 0; at < inputs.size(); at += kPatchElements) {
      std::copy_n(inputs.data() + at, kPatchElements, interpreter.input());
      if (Status s = interpreter.invoke(); !s) throw std::runtime_error(std::string("bench: ") + s.message());
    }
    inference.push_back(seconds_since(t0) * 1e3);
    t0 = Clock::now();
    score_clip(scorer, path, decoded);
    total.push_back(seconds_since(t0) * 1e3);
  }
  b.median_ms = percentile(total, 0.5);
  b.p90_ms = percentile(total, 0.9);
  b.decode_ms = percentile(decode, 0.5);
  b.frontend_ms = percentile(front, 0.5);
  b.inference_ms = percentile(inference, 0.5);
  // The stages are timed alone, so their medians can add up to a little more than the whole
  // run's; what is left over is never negative.
  b.other_ms = std::max(0.0, b.median_ms - b.decode_ms - b.frontend_ms - b.inference_ms);
  // Scaling: best of three rounds each, alternating, so a burst of outside load hurts both alike.
  b.workers = workers;
  b.clips = clips;
  b.one_worker_s = b.n_workers_s = 1e30;
  for (int round = 0; round < 3; ++round) {
    const BatchRun one = batch_run(m, path, clips, 1), n = batch_run(m, path, clips, workers);
    if (one.wall_s < b.one_worker_s) {
      b.one_worker_s = one.wall_s;
      b.one_worker_cpu_s = one.cpu_s;
      b.one_worker_faults = one.faults_per_clip;
    }
    if (n.wall_s < b.n_workers_s) {
      b.n_workers_s = n.wall_s;
      b.n_workers_cpu_s = n.cpu_s;
      b.n_workers_faults = n.faults_per_clip;
    }
  }
  return b;
}

}  // namespace

void add_bench_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("bench", "Measure inference latency, per-operator time, MAC/s and memory");
  static std::string model = "medium";
  static KernelSet kernels = KernelSet::kAuto;
  static int threads = 1, iterations = 0, clip_runs = 20, scaling_clips = 24;
  static bool json = false, no_clip = false;
  static std::string clip;
  cmd->add_option("--model", model, "Model file (.tflite) or small|medium|large (default medium)");
  cmd->add_option("--threads", threads, "Engines running concurrently, one per thread (default 1)")->check(CLI::Range(1, 256));
  add_kernels_option(cmd, &kernels);
  // 0 is refused (exit 2) rather than meaning "auto": a timing of no inferences means nothing.
  cmd->add_option("--iterations", iterations, "Timed inferences per thread, at least 1 (default: about 2 s worth)")
      ->check(CLI::Range(1, 10000000));
  cmd->add_flag("--json", json, "Print JSON instead of a table");
  cmd->add_option("--clip", clip,
                  "Audio clip for the end-to-end and scaling runs (default: the shared DCASE slider "
                  "test clip normal_id_00_00000000.wav)");
  cmd->add_flag("--no-clip", no_clip, "Skip the end-to-end clip and scaling runs");
  cmd->add_option("--clip-runs", clip_runs, "Timed end-to-end runs of the clip (default 20)")->check(CLI::Range(1, 100000));
  cmd->add_option("--scaling-clips", scaling_clips, "Clips per batch in the scaling run (default 24)")
      ->check(CLI::Range(1, 100000));
  cmd->callback([exit_code] {
    const auto file = host::load_model_file(model);
    const Model& m = file->model;
    const KernelSet set = kernels;
    host::Engine engine(m, set);
    // Warm up, then size the run to about two seconds unless told.
    const std::vector<double> warm = run(engine, 3, 1);
    int n = iterations;
    if (n == 0) n = static_cast<int>(std::clamp(2e6 / std::max(1.0, percentile(warm, 0.5)), 10.0, 5000.0));

    std::vector<double> latency;
    std::vector<std::vector<double>> per_thread(static_cast<std::size_t>(threads));
    double wall_seconds = 0.0;
    if (threads == 1) {
      const Clock::time_point t0 = Clock::now();
      latency = run(engine, n, 2);
      wall_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    } else {
      std::vector<std::unique_ptr<host::Engine>> engines;
      for (int t = 0; t < threads; ++t) engines.push_back(std::make_unique<host::Engine>(m, set));
      std::vector<std::thread> pool;
      const Clock::time_point t0 = Clock::now();
      for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] { per_thread[t] = run(*engines[t], n, 10u + static_cast<unsigned>(t)); });
      for (auto& th : pool) th.join();
      wall_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      for (const auto& v : per_thread) latency.insert(latency.end(), v.begin(), v.end());
    }

    // Per-operator breakdown through the observer (one thread, separate run).
    OpTimer timer;
    timer.micros.resize(static_cast<std::size_t>(m.num_operators()));
    engine.interpreter().set_observer(op_timer, &timer);
    const int op_runs = std::max(10, std::min(n, 500));
    for (int i = 0; i < op_runs; ++i) {
      timer.last = Clock::now();
      engine.invoke();
    }
    engine.interpreter().set_observer(nullptr, nullptr);

    std::optional<ClipBench> clip_bench;
    if (!no_clip) {
      const std::string path =
          clip.empty() ? host::shared_path("data/dcase2020_task2/slider/test/normal_id_00_00000000.wav") : clip;
      clip_bench = bench_clip(m, path, clip_runs, scaling_clips, std::max(2, threads));
    }

    const double median = percentile(latency, 0.5), p90 = percentile(latency, 0.9);
    const double macs = static_cast<double>(m.total_macs());
    const double macs_per_s = macs / (median * 1e-6);
    const double throughput = static_cast<double>(n) * threads / wall_seconds;
    const char* resolved = kernel_set_name(engine.interpreter().kernel_set());
    const CpuPeak peak = measure_cpu_peak(engine.interpreter().kernel_set());

    nlohmann::json j;
    j["model"] = file->path;
    j["kernels"] = resolved;
    j["threads"] = threads;
    j["iterations_per_thread"] = n;
    j["median_us"] = median;
    j["p90_us"] = p90;
    j["inferences_per_second"] = throughput;
    j["total_macs"] = m.total_macs();
    j["macs_per_second"] = macs_per_s;
    if (peak.macs_per_second > 0) {
      j["peak_instruction"] = peak.instruction;
      j["peak_macs_per_second"] = peak.macs_per_second;
    }
    j["arena_bytes"] = m.arena_bytes();
    j["arena_lower_bound_bytes"] = m.arena_lower_bound();
    j["interpreter_memory_bytes"] = engine.memory_bytes();
    j["ops"] = nlohmann::json::array();
    for (int i = 0; i < m.num_operators(); ++i) {
      const OperatorInfo& op = m.op(i);
      const double us = percentile(timer.micros[static_cast<std::size_t>(i)], 0.5);
      nlohmann::json o;
      o["index"] = i;
      o["op"] = op_name(op.type);
      o["macs"] = op.macs;
      o["median_us"] = us;
      o["macs_per_second"] = us > 0 ? static_cast<double>(op.macs) / (us * 1e-6) : 0.0;
      j["ops"].push_back(o);
    }
    if (clip_bench) {
      const ClipBench& c = *clip_bench;
      nlohmann::json cj;
      cj["path"] = c.path;
      cj["audio_seconds"] = c.audio_seconds;
      cj["windows"] = c.windows;
      cj["kernels"] = c.kernels;
      cj["median_ms"] = c.median_ms;
      cj["p90_ms"] = c.p90_ms;
      cj["ms_per_10s"] = c.audio_seconds > 0 ? c.median_ms * 10.0 / c.audio_seconds : 0.0;
      cj["decode_ms"] = c.decode_ms;
      cj["frontend_ms"] = c.frontend_ms;
      cj["inference_ms"] = c.inference_ms;
      cj["other_ms"] = c.other_ms;
      cj["scaling"] = {{"clips", c.clips},
                       {"workers", c.workers},
                       {"one_worker_seconds", c.one_worker_s},
                       {"workers_seconds", c.n_workers_s},
                       {"speedup", c.one_worker_s / c.n_workers_s},
                       {"one_worker_cpu_seconds", c.one_worker_cpu_s},
                       {"workers_cpu_seconds", c.n_workers_cpu_s},
                       {"one_worker_page_faults_per_clip", c.one_worker_faults},
                       {"workers_page_faults_per_clip", c.n_workers_faults}};
      j["clip"] = cj;
    }
    if (json) {
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      fmt::print("{}  ({} kernels, {} thread{}, {} inferences each)\n", file->path, resolved, threads,
                 threads == 1 ? "" : "s", n);
      fmt::print("latency     median {:.1f} us, p90 {:.1f} us per inference\n", median, p90);
      fmt::print("throughput  {:.0f} inferences/s\n", throughput);
      fmt::print("compute     {:.2f} G MAC/s ({} MACs per inference)", macs_per_s / 1e9, m.total_macs());
      if (peak.macs_per_second > 0)
        fmt::print(", {:.0f} % of this core's {} peak ({:.1f} G MAC/s, measured now)", 100.0 * macs_per_s / peak.macs_per_second,
                   peak.instruction, peak.macs_per_second / 1e9);
      fmt::print("\n");
      fmt::print("memory      arena {} B (layer-at-a-time bound {} B), interpreter memory {} B\n", m.arena_bytes(),
                 m.arena_lower_bound(), engine.memory_bytes());
      if (clip_bench) {
        const auto& c = j["clip"];
        fmt::print("clip        {} ({:.2f} s, {} windows, {} kernels)\n", c["path"].get<std::string>(),
                   c["audio_seconds"].get<double>(), c["windows"].get<long long>(), c["kernels"].get<std::string>());
        fmt::print("            end to end median {:.2f} ms, p90 {:.2f} ms = {:.2f} ms per 10 s of audio "
                   "(decode alone {:.2f} ms)\n",
                   c["median_ms"].get<double>(), c["p90_ms"].get<double>(), c["ms_per_10s"].get<double>(),
                   c["decode_ms"].get<double>());
        fmt::print("            stages (medians, each alone): decode {:.3f} ms, front end {:.3f} ms, "
                   "inference {:.3f} ms, other {:.3f} ms\n",
                   clip_bench->decode_ms, clip_bench->frontend_ms, clip_bench->inference_ms, clip_bench->other_ms);
        fmt::print("scaling     {} clips: 1 worker {:.1f} ms, {} workers {:.1f} ms = {:.2f}x\n", clip_bench->clips,
                   clip_bench->one_worker_s * 1e3, clip_bench->workers, clip_bench->n_workers_s * 1e3,
                   clip_bench->one_worker_s / clip_bench->n_workers_s);
        fmt::print("            CPU {:.1f} ms vs {:.1f} ms, page faults per clip {:.0f} vs {:.0f}\n",
                   clip_bench->one_worker_cpu_s * 1e3, clip_bench->n_workers_cpu_s * 1e3, clip_bench->one_worker_faults,
                   clip_bench->n_workers_faults);
      }
      fmt::print("\n  #  operator            MACs       median us   G MAC/s\n");
      for (const auto& o : j["ops"]) {
        fmt::print("{:>3}  {:<18} {:>10} {:>12.1f} {:>9.1f}\n", o["index"].get<int>(), o["op"].get<std::string>(),
                   o["macs"].get<long long>(), o["median_us"].get<double>(), o["macs_per_second"].get<double>() / 1e9);
      }
    }
    *exit_code = 0;
  });
}

}  // namespace micronet_ad::cli
