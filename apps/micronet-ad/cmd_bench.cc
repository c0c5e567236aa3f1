// micronet-ad bench [--model M] [--threads N] [--kernels reference|auto] [--json] [--iterations K]:
// per-inference median/p90 latency, per-operator breakdown, achieved MAC/s against the 233 G int8
// MAC/s one-core peak (issue 6), and memory. With --threads N, N engines run concurrently and the
// aggregate throughput is reported too.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "host/io/model_file.h"

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

}  // namespace

void add_bench_command(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("bench", "Measure inference latency, per-operator time, MAC/s and memory");
  static std::string model = "medium", kernels = "auto";
  static int threads = 1, iterations = 0;
  static bool json = false;
  cmd->add_option("--model", model, "Model file (.tflite) or small|medium|large (default medium)");
  cmd->add_option("--threads", threads, "Engines running concurrently, one per thread (default 1)")->check(CLI::Range(1, 256));
  cmd->add_option("--kernels", kernels, "Kernels: auto (fastest this CPU runs) or reference; avx2|avx512vnni force one")
      ->check(CLI::IsMember({"reference", "auto", "avx2", "avx512vnni"}));
  cmd->add_option("--iterations", iterations, "Timed inferences per thread (default: about 2 s worth)")->check(CLI::Range(0, 10000000));
  cmd->add_flag("--json", json, "Print JSON instead of a table");
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
    if (json) {
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      fmt::print("{}  ({} kernels, {} thread{}, {} inferences each)\n", file->path, resolved, threads,
                 threads == 1 ? "" : "s", n);
      fmt::print("latency     median {:.1f} us, p90 {:.1f} us per inference\n", median, p90);
      fmt::print("throughput  {:.0f} inferences/s\n", throughput);
      fmt::print("compute     {:.2f} G MAC/s = {:.1f}% of the {:.0f} G MAC/s one-core peak ({} MACs)\n", macs_per_s / 1e9,
                 100.0 * macs_per_s / kPeakMacsPerSecond, kPeakMacsPerSecond / 1e9, m.total_macs());
      fmt::print("memory      arena {} B (layer-at-a-time bound {} B), interpreter memory {} B\n\n", m.arena_bytes(),
                 m.arena_lower_bound(), engine.memory_bytes());
      fmt::print("  #  operator            MACs       median us   G MAC/s\n");
      for (const auto& o : j["ops"]) {
        fmt::print("{:>3}  {:<18} {:>10} {:>12.1f} {:>9.1f}\n", o["index"].get<int>(), o["op"].get<std::string>(),
                   o["macs"].get<long long>(), o["median_us"].get<double>(), o["macs_per_second"].get<double>() / 1e9);
      }
    }
    *exit_code = 0;
  });
}

}  // namespace micronet_ad::cli
