// Load generator for `micronet-ad serve` (not built in CI; bench/load/run.sh builds and runs it):
// N client threads send requests back to back for a fixed time, each on a fresh connection, and
// report requests/s and latency percentiles. Optionally, attackers from tests/host/serve/abuse run
// alongside for the whole time: slow clients (slowloris, reconnecting when closed) and chunked body floods.
//
//   load_client --port 8080 --threads 8 --seconds 10 --clip a.wav [--machine-id 00] [--endpoint /healthz]
//               [--slow-clients 64] [--flood-clients 1 --flood-mb 256]
//
// The last line is machine-readable: "RESULT threads=N requests=R rps=X p50_ms=Y p99_ms=Z not_ok=F" (R: the
// 200 answers; F: requests answered otherwise or not at all; p50/p99 "inf" when those reach the rank).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "host/serve/abuse/attackers.h"

namespace {

using micronet_ad::abuse::HttpAnswer;

struct Options {
  int port = 8080;
  int threads = 8;
  double seconds = 10.0;
  std::string clip;
  std::string machine_id = "00";
  std::string endpoint = "/v1/score";
  int slow_clients = 0;
  int flood_clients = 0;
  double flood_mb = 256;
  double timeout = 30;  // seconds a good request may take before it counts as failed
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "load_client: %s\nusage: load_client --port P [--threads N] [--seconds S] [--clip FILE] "
               "[--machine-id ID] [--endpoint /v1/score|/healthz|/v1/model] [--slow-clients N] "
               "[--flood-clients N] [--flood-mb MB] [--timeout S]\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + a).c_str());
    const std::string v = argv[++i];
    if (a == "--port")
      o.port = std::atoi(v.c_str());
    else if (a == "--threads")
      o.threads = std::max(1, std::atoi(v.c_str()));
    else if (a == "--seconds")
      o.seconds = std::atof(v.c_str());
    else if (a == "--clip")
      o.clip = v;
    else if (a == "--machine-id")
      o.machine_id = v;
    else if (a == "--endpoint")
      o.endpoint = v;
    else if (a == "--slow-clients")
      o.slow_clients = std::max(0, std::atoi(v.c_str()));
    else if (a == "--flood-clients")
      o.flood_clients = std::max(0, std::atoi(v.c_str()));
    else if (a == "--flood-mb")
      o.flood_mb = std::atof(v.c_str());
    else if (a == "--timeout")
      o.timeout = std::atof(v.c_str());
    else
      usage(("unknown option " + a).c_str());
  }
  if (o.port <= 0) usage("--port is required");
  if (o.endpoint == "/v1/score" && o.clip.empty()) usage("--clip is required for /v1/score");
  return o;
}

// The p-quantile of the 200 answers' latencies, counting every request without a 200 as
// infinitely slow (a fast 503 or a timeout is no service): infinity when they reach that rank.
double percentile(const std::vector<double>& sorted_ok, long not_ok, double p) {
  const std::size_t all = sorted_ok.size() + static_cast<std::size_t>(not_ok);
  if (all == 0) return 0.0;
  const std::size_t rank =
      std::min(all, static_cast<std::size_t>(std::max(1.0, std::ceil(p * static_cast<double>(all)))));
  return rank <= sorted_ok.size() ? sorted_ok[rank - 1] : std::numeric_limits<double>::infinity();
}

// What the good clients saw.
struct Tally {
  std::mutex mutex;
  std::vector<double> latencies_ms;  // of 200 answers
  std::map<int, long> statuses;
  std::map<std::string, long> failures;  // no complete answer, by what happened

  void add(const std::vector<double>& ms, const std::map<int, long>& st, const std::map<std::string, long>& fail) {
    std::lock_guard<std::mutex> lock(mutex);
    latencies_ms.insert(latencies_ms.end(), ms.begin(), ms.end());
    for (const auto& [k, n] : st) statuses[k] += n;
    for (const auto& [k, n] : fail) failures[k] += n;
  }
  long failure_count() const {
    long n = 0;
    for (const auto& [k, v] : failures) n += v;
    return n;
  }
};

void good_client(const Options& o, const std::string& request, std::chrono::steady_clock::time_point end,
                 Tally* tally) {
  std::vector<double> ms;
  std::map<int, long> statuses;
  std::map<std::string, long> failures;
  while (std::chrono::steady_clock::now() < end) {
    const HttpAnswer a = micronet_ad::abuse::exchange(o.port, request, o.timeout);
    if (!a.complete) {
      ++failures[a.failure()];
      if (!a.connected) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    ++statuses[a.status];
    if (a.status == 200) ms.push_back(a.seconds * 1000.0);  // a fast 503 is no service
  }
  tally->add(ms, statuses, failures);
}

// Chunked floods back to back until `stop`; counts their answers ("413 after 32.1 MiB" ...).
void flood_client(const Options& o, const std::atomic<bool>* stop, std::map<std::string, long>* outcomes,
                  std::mutex* mutex) {
  const std::size_t bytes = static_cast<std::size_t>(o.flood_mb * 1024 * 1024);
  while (!*stop) {
    const HttpAnswer a =
        micronet_ad::abuse::flood(o.port, micronet_ad::abuse::FloodKind::kChunked, bytes, o.seconds + 30);
    std::lock_guard<std::mutex> lock(*mutex);
    ++(*outcomes)[a.complete ? std::to_string(a.status) : a.failure().substr(0, a.failure().find(" ("))];
  }
}

std::string read_clip(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) usage(("cannot read " + path).c_str());
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const std::string request =
      o.endpoint == "/v1/score"
          ? micronet_ad::abuse::post_request("/v1/score?machine_id=" + o.machine_id, read_clip(o.clip), "audio/wav")
          : micronet_ad::abuse::get_request(o.endpoint);

  std::atomic<bool> stop{false};
  micronet_ad::abuse::SlowClientsReport slow;
  std::thread slow_thread;
  if (o.slow_clients > 0) {
    micronet_ad::abuse::SlowClientsPlan plan;
    plan.body_clients = o.slow_clients / 4;
    plan.header_clients = o.slow_clients - plan.body_clients;
    plan.seconds = o.seconds + 60;  // ended by `stop`
    plan.reconnect = true;
    plan.stop = &stop;
    slow_thread = std::thread([&o, plan, &slow] { slow = micronet_ad::abuse::slow_clients(o.port, plan); });
  }
  std::map<std::string, long> flood_outcomes;
  std::mutex flood_mutex;
  std::vector<std::thread> floods;
  for (int i = 0; i < o.flood_clients; ++i)
    floods.emplace_back(flood_client, std::cref(o), &stop, &flood_outcomes, &flood_mutex);
  if (o.slow_clients > 0 || o.flood_clients > 0)
    std::this_thread::sleep_for(std::chrono::seconds(2));  // attackers settle in

  Tally tally;
  const auto start = std::chrono::steady_clock::now();
  const auto end =
      start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(o.seconds));
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) threads.emplace_back(good_client, std::cref(o), std::cref(request), end, &tally);
  for (std::thread& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stop = true;
  if (slow_thread.joinable()) slow_thread.join();
  for (std::thread& t : floods) t.join();

  std::sort(tally.latencies_ms.begin(), tally.latencies_ms.end());
  const std::vector<double>& ms = tally.latencies_ms;
  long not_ok = tally.failure_count();
  for (const auto& [status, n] : tally.statuses) not_ok += status == 200 ? 0 : n;
  const double rps = static_cast<double>(ms.size()) / elapsed;
  const double p50 = percentile(ms, not_ok, 0.5), p90 = percentile(ms, not_ok, 0.9), p99 = percentile(ms, not_ok, 0.99);
  std::printf("endpoint %s, %d client threads, %.1f s: %zu answered 200 (%.1f requests/s), %ld not (timeout %.0f s)\n",
              o.endpoint.c_str(), o.threads, elapsed, ms.size(), rps, not_ok, o.timeout);
  std::printf(
      "latency ms (a request without a 200 counts as inf): p50 %.2f  p90 %.2f  p99 %.2f  max of the 200s %.2f\n", p50,
      p90, p99, ms.empty() ? 0.0 : ms.back());
  std::printf("status codes:");
  for (const auto& [status, n] : tally.statuses) std::printf(" %d x %ld", status, n);
  for (const auto& [what, n] : tally.failures) std::printf(" [%s] x %ld", what.c_str(), n);
  std::printf("\n");
  if (o.slow_clients > 0) {
    std::printf(
        "slow clients: %d connections opened, %d closed by the server (longest held %.1f s), %d open at the end\n",
        slow.opened, slow.closed_by_server, slow.longest_before_close, slow.still_open);
  }
  if (o.flood_clients > 0) {
    std::printf("chunked floods of %.0f MiB:", o.flood_mb);
    for (const auto& [what, n] : flood_outcomes) std::printf(" [%s] x %ld", what.c_str(), n);
    std::printf("\n");
  }
  std::printf("RESULT threads=%d requests=%zu rps=%.1f p50_ms=%.2f p99_ms=%.2f not_ok=%ld\n", o.threads, ms.size(), rps,
              p50, p99, not_ok);
  return tally.failure_count() == 0 ? 0 : 1;
}
