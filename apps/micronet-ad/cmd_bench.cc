// micronet-ad bench [--model M] [--threads N] [--kernels reference|auto] [--json] [--iterations K]
//                   [--clip WAV | --no-clip] [--clip-runs R] [--scaling-clips C]:
// per-inference median/p90 latency, per-operator breakdown, achieved MAC/s against the 233 G int8
// MAC/s one-core peak (issue 6), and memory. With --threads N, N engines run concurrently and the
// aggregate throughput is reported too. Then a real 10 s clip end to end (decode, front end and
// every window's inference, through ClipScorer with the fastest kernels), and batch scaling: the
// same C clips scored by one worker and by two (or N) workers, one ClipScorer each.
#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "host/audio/audio_file.h"
#include "host/detect/clip_scorer.h"
#include "host/io/model_file.h"
#include "host/io/shared_data.h"

namespace micronet_ad::cli {
namespace {

constexpr double kPeakMacsPerSecond = 233e9;  // tight vpdpbusd loop, one core (issue 6)
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
  int workers = 2, clips = 0;
  double one_worker_s = 0, n_workers_s = 0;  // wall time for `clips` clips
};

// Decodes and scores `path` once (what `score` does per clip), returning the window count.
std::int64_t score_clip(host::ClipScorer& scorer, const std::string& path) {
  const host::Audio audio = host::load_audio(path);
  return scorer.score(audio.samples, 0).clip.windows;
}

// `clips` decode+score jobs shared by `workers` threads, each with its own ClipScorer; wall seconds.
double batch_seconds(const Model& m, const std::string& path, int clips, int workers) {
  std::vector<std::unique_ptr<host::ClipScorer>> scorers;
  for (int w = 0; w < workers; ++w)
    scorers.push_back(std::make_unique<host::ClipScorer>(m, Framing::kCentered, Resize::kAverage));
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  const Clock::time_point t0 = Clock::now();
  for (int w = 0; w < workers; ++w)
    pool.emplace_back([&, w] {
      while (next.fetch_add(1) < clips) score_clip(*scorers[static_cast<std::size_t>(w)], path);
    });
  for (auto& t : pool) t.join();
  return seconds_since(t0);
}

ClipBench bench_clip(const Model& m, const std::string& path, int runs, int clips, int workers) {
  ClipBench b;
  b.path = path;
  host::ClipScorer scorer(m, Framing::kCentered, Resize::kAverage);
  b.kernels = kernel_set_name(scorer.interpreter().kernel_set());
  const host::Audio audio = host::load_audio(path);
  b.audio_seconds = audio.duration_seconds();
  b.windows = score_clip(scorer, path);  // warm-up
  std::vector<double> total, decode;
  for (int r = 0; r < runs; ++r) {
    Clock::time_point t0 = Clock::now();
    host::load_audio(path);
    decode.push_back(seconds_since(t0) * 1e3);
    t0 = Clock::now();
    score_clip(scorer, path);
    total.push_back(seconds_since(t0) * 1e3);
  }
  b.median_ms = percentile(total, 0.5);
  b.p90_ms = percentile(total, 0.9);
  b.decode_ms = percentile(decode, 0.5);
  // Scaling: best of three rounds each, alternating, so a burst of outside load hurts both alike.
  b.workers = workers;
  b.clips = clips;
  b.one_worker_s = b.n_workers_s = 1e30;
  for (int round = 0; round < 3; ++round) {
    b.one_worker_s = std::min(b.one_worker_s, batch_seconds(m, path, clips, 1));
    b.n_workers_s = std::min(b.n_workers_s, batch_seconds(m, path, clips, workers));
  }
  return b;
}

}  // namespace

void add_bench_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("bench", "Measure inference latency, per-operator time, MAC/s and memory");
  static std::string model = "medium", kernels = "auto";
  static int threads = 1, iterations = 0, clip_runs = 20, scaling_clips = 24;
  static bool json = false, no_clip = false;
  static std::string clip;
  cmd->add_option("--model", model, "Model file (.tflite) or small|medium|large (default medium)");
  cmd->add_option("--threads", threads, "Engines running concurrently, one per thread (default 1)")->check(CLI::Range(1, 256));
  cmd->add_option("--kernels", kernels, "Kernels: auto (fastest this CPU runs) or reference; avx2|avx512vnni force one")
      ->check(CLI::IsMember({"reference", "auto", "avx2", "avx512vnni"}));
  cmd->add_option("--iterations", iterations, "Timed inferences per thread (default: about 2 s worth)")->check(CLI::Range(0, 10000000));
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
    KernelSet set = KernelSet::kAuto;
    parse_kernel_set(kernels.c_str(), &set);
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
    j["fraction_of_peak"] = macs_per_s / kPeakMacsPerSecond;
    j["peak_macs_per_second"] = kPeakMacsPerSecond;
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
      cj["scaling"] = {{"clips", c.clips},
                       {"workers", c.workers},
                       {"one_worker_seconds", c.one_worker_s},
                       {"workers_seconds", c.n_workers_s},
                       {"speedup", c.one_worker_s / c.n_workers_s}};
      j["clip"] = cj;
    }
    if (json) {
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      fmt::print("{}  ({} kernels, {} thread{}, {} inferences each)\n", file->path, resolved, threads,
                 threads == 1 ? "" : "s", n);
      fmt::print("latency     median {:.1f} us, p90 {:.1f} us per inference\n", median, p90);
      fmt::print("throughput  {:.0f} inferences/s\n", throughput);
      fmt::print("compute     {:.2f} G MAC/s = {:.1f}% of the {:.0f} G MAC/s one-core peak ({} MACs)\n", macs_per_s / 1e9,
                 100.0 * macs_per_s / kPeakMacsPerSecond, kPeakMacsPerSecond / 1e9, m.total_macs());
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
        fmt::print("scaling     {} clips: 1 worker {:.1f} ms, {} workers {:.1f} ms = {:.2f}x\n", clip_bench->clips,
                   clip_bench->one_worker_s * 1e3, clip_bench->workers, clip_bench->n_workers_s * 1e3,
                   clip_bench->one_worker_s / clip_bench->n_workers_s);
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
