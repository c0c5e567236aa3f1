// Load generator for `micronet-ad serve` (not built in CI; bench/load/run.sh builds and runs it):
// N client threads send requests back to back for a fixed time and report requests/s and
// latency percentiles.
//
//   load_client --port 8080 --threads 8 --seconds 10 --clip a.wav [--machine-id 00] [--endpoint /healthz]
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 8;
  double seconds = 10.0;
  std::string clip;
  std::string machine_id = "00";
  std::string endpoint = "/v1/score";
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "load_client: %s\nusage: load_client --port P [--host H] [--threads N] [--seconds S] "
               "[--clip FILE] [--machine-id ID] [--endpoint /v1/score|/healthz|/v1/model]\n",
               why);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + a).c_str());
    const std::string v = argv[++i];
    if (a == "--host") o.host = v;
    else if (a == "--port") o.port = std::atoi(v.c_str());
    else if (a == "--threads") o.threads = std::max(1, std::atoi(v.c_str()));
    else if (a == "--seconds") o.seconds = std::atof(v.c_str());
    else if (a == "--clip") o.clip = v;
    else if (a == "--machine-id") o.machine_id = v;
    else if (a == "--endpoint") o.endpoint = v;
    else usage(("unknown option " + a).c_str());
  }
  if (o.endpoint == "/v1/score" && o.clip.empty()) usage("--clip is required for /v1/score");
  return o;
}

double percentile(std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0.0;
  const std::size_t rank = static_cast<std::size_t>(std::max(1.0, p * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size(), rank) - 1];
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::string body;
  if (!o.clip.empty()) {
    std::ifstream f(o.clip, std::ios::binary);
    if (!f) usage(("cannot read " + o.clip).c_str());
    std::stringstream s;
    s << f.rdbuf();
    body = s.str();
  }
  const std::string target = o.endpoint == "/v1/score" ? o.endpoint + "?machine_id=" + o.machine_id : o.endpoint;
  std::mutex mutex;
  std::vector<double> latencies_ms;
  std::map<int, long> statuses;
  long failures = 0;
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration<double>(o.seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    threads.emplace_back([&] {
      httplib::Client client(o.host, o.port);
      client.set_read_timeout(60, 0);
      std::vector<double> mine;
      std::map<int, long> my_statuses;
      long my_failures = 0;
      while (std::chrono::steady_clock::now() < end) {
        const auto t0 = std::chrono::steady_clock::now();
        const httplib::Result r = o.endpoint == "/v1/score" ? client.Post(target.c_str(), body, "audio/wav")
                                                            : client.Get(target.c_str());
        const auto t1 = std::chrono::steady_clock::now();
        if (!r) {
          ++my_failures;
          continue;
        }
        ++my_statuses[r->status];
        mine.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
      std::lock_guard<std::mutex> lock(mutex);
      latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
      for (const auto& [status, n] : my_statuses) statuses[status] += n;
      failures += my_failures;
    });
  }
  for (std::thread& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(latencies_ms.begin(), latencies_ms.end());
  std::printf("endpoint %s, %d client threads, %.1f s: %zu answers (%.1f requests/s), %ld connection failures\n",
              o.endpoint.c_str(), o.threads, elapsed, latencies_ms.size(),
              static_cast<double>(latencies_ms.size()) / elapsed, failures);
  std::printf("latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n", percentile(latencies_ms, 0.5),
              percentile(latencies_ms, 0.9), percentile(latencies_ms, 0.99),
              latencies_ms.empty() ? 0.0 : latencies_ms.back());
  std::printf("status codes:");
  for (const auto& [status, n] : statuses) std::printf(" %d x %ld", status, n);
  std::printf("\n");
  return failures == 0 ? 0 : 1;
}
