// The worker command as a function (no subprocess, no broker): its flags parse into WorkerOptions
// and become the worker's configuration and scoring setup; limits out of range are usage errors;
// a bad --broker and missing or mismatched thresholds and profiles are refused before it
// connects. Workers scoring over a real broker are tested in tests/fleet.
#include "cmd_worker.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "cli/cmd_support.h"
#include "host/io/model_file.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

TEST(CmdWorker, FlagsParseIntoTheWorkerConfiguration) {
  CLI::App app;
  cli::WorkerOptions options;
  cli::add_worker_options(app, &options);
  test::parse_args(app, {"worker",
                         "--broker",
                         "mqtts://broker.example:8884",
                         "--username",
                         "w",
                         "--group",
                         "g1",
                         "--id",
                         "w7",
                         "--threads",
                         "3",
                         "--max-seconds",
                         "30",
                         "--max-payload-mb",
                         "2",
                         "--status-interval",
                         "0.5",
                         "--drain-timeout",
                         "3",
                         "--keepalive",
                         "60",
                         "--session-expiry",
                         "600",
                         "--profile",
                         "p.mnprof",
                         "--thresholds",
                         "t.json",
                         "--kernels",
                         "reference",
                         "--framing",
                         "kit"});
  EXPECT_EQ(options.profile, "p.mnprof");
  EXPECT_EQ(options.thresholds, "t.json");
  EXPECT_EQ(options.status_interval, 0.5);
  EXPECT_EQ(options.kernels, KernelSet::kReference);
  EXPECT_EQ(options.mode.framing, Framing::kKit);
  const host::fleet::WorkerConfig config = cli::worker_config(options);
  EXPECT_EQ(config.id, "w7");
  EXPECT_EQ(config.group, "g1");
  EXPECT_EQ(config.sessions, 3);
  EXPECT_EQ(config.drain_timeout_seconds, 3.0);
  EXPECT_EQ(config.connection.broker.host, "broker.example");
  EXPECT_EQ(config.connection.broker.port, 8884);
  EXPECT_TRUE(config.connection.broker.tls);
  EXPECT_EQ(config.connection.username, "w");
  EXPECT_EQ(config.connection.keepalive_seconds, 60);
  EXPECT_EQ(config.connection.session_expiry_seconds, 600u);
}

TEST(CmdWorker, DefaultsAreTheHostNameOneSessionPerCoreAndTheSharedGroup) {
  CLI::App app;
  cli::WorkerOptions options;
  cli::add_worker_options(app, &options);
  test::parse_args(app, {"worker", "--broker", "mqtt://127.0.0.1:1883"});
  const host::fleet::WorkerConfig config = cli::worker_config(options);
  char name[256] = {};
  ASSERT_EQ(gethostname(name, sizeof name - 1), 0);
  EXPECT_EQ(config.id, name[0] ? std::string(name) : "worker");
  EXPECT_EQ(config.group, "micronet-ad");
  EXPECT_EQ(config.sessions, static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  EXPECT_FALSE(config.connection.broker.tls);
  EXPECT_EQ(config.connection.broker.port, 1883);
}

TEST(CmdWorker, ScoringSetupCarriesTheLimitsAndTheThresholdsFile) {
  const test::ScratchDir dir("cmd_worker_test_setup");
  cli::WorkerOptions options;
  options.max_payload_mb = 1.5;
  options.max_seconds = 12.0;
  options.mode.resize = Resize::kDecimate;
  const std::string model = test::model_path("medium");
  test::write_thresholds_for((dir / "t.json"), model, {{"id_00", 0.25}, {"id_04", -0.5}}, ScoreMethod::kNll);
  options.thresholds = (dir / "t.json");
  const auto file = host::load_model_file(model);
  const host::fleet::ScoringSetup scoring = cli::worker_scoring(options, *file);
  EXPECT_EQ(scoring.model, file.get());
  EXPECT_EQ(scoring.max_payload_bytes, std::size_t(3) << 19);
  EXPECT_EQ(scoring.max_seconds, 12.0);
  EXPECT_EQ(scoring.resize, Resize::kDecimate);
  EXPECT_EQ(scoring.profiles, nullptr);
  ASSERT_TRUE(scoring.thresholds.has_value());
  EXPECT_EQ(scoring.thresholds->score_kind, ScoreMethod::kNll);
  ASSERT_EQ(scoring.thresholds->machines.size(), 2u);
  EXPECT_EQ(scoring.thresholds->machines.at("id_04").threshold, -0.5);
}

TEST(CmdWorker, LimitsOutOfRangeAndAMissingBrokerAreUsageErrors) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{{"--threads", "257"},
                                                                                    {"--max-payload-mb", "0"},
                                                                                    {"--max-payload-mb", "512"},
                                                                                    {"--max-seconds", "0"},
                                                                                    {"--status-interval", "0.05"},
                                                                                    {"--drain-timeout", "0"},
                                                                                    {"--keepalive", "2"},
                                                                                    {"--framing", "loose"}}) {
    CLI::App app;
    cli::WorkerOptions options;
    cli::add_worker_options(app, &options);
    EXPECT_THROW(test::parse_args(app, {"worker", "--broker", "mqtt://127.0.0.1:1883", args[0], args[1]}),
                 CLI::ParseError)
        << args[0] << " " << args[1];
  }
  CLI::App app;
  cli::WorkerOptions options;
  cli::add_worker_options(app, &options);
  EXPECT_THROW(test::parse_args(app, {"worker"}), CLI::RequiredError);
}

// run_worker's error for options that cannot start a worker (it prints nothing).
std::string refusal(const cli::WorkerOptions& options) {
  try {
    const test::Printed printed = test::printed_by([&](std::FILE* out) { return cli::run_worker(options, out); });
    ADD_FAILURE() << "ran: " << printed.out;
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(CmdWorker, BadStartsAreRefusedBeforeConnecting) {
  const test::ScratchDir dir("cmd_worker_test_refusals");
  cli::WorkerOptions options;
  options.connection.broker = "http://127.0.0.1:1883";
  options.model = test::model_path("medium");
  EXPECT_NE(refusal(options).find("--broker 'http://127.0.0.1:1883': expected mqtt://HOST:PORT"), std::string::npos);

  // A port nobody listens on: every refusal below comes before the first connection attempt.
  options.connection.broker = "mqtt://127.0.0.1:1";
  options.connection.password_file = (dir / "no_password");
  EXPECT_NE(refusal(options).find((dir / "no_password")), std::string::npos);
  options.connection.password_file.clear();

  options.thresholds = (dir / "missing.json");
  EXPECT_NE(refusal(options).find((dir / "missing.json")), std::string::npos);
  test::write_thresholds_for((dir / "distance.json"), options.model, {{"pump7", 3.0}}, ScoreMethod::kDistance);
  options.thresholds = (dir / "distance.json");
  EXPECT_NE(refusal(options).find("thresholds calibrated on distance scores; worker takes"), std::string::npos);
  options.thresholds.clear();

  options.profile = (dir / "missing.mnprof");
  EXPECT_NE(refusal(options).find((dir / "missing.mnprof")), std::string::npos);
}

}  // namespace
}  // namespace micronet_ad
