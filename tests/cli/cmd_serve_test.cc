// The serve command as a function (no subprocess, no network): its flags parse into ServeOptions
// and become the service's configuration; limits out of range are usage errors; a bad --listen,
// missing or mismatched thresholds and a --profile that is not a folder are refused before the
// service starts, printing nothing and leaving the stop signals unblocked. Serving itself is
// tested over HTTP in tests/serve.
#include "cmd_serve.h"

#include <signal.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/cmd_support.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

TEST(CmdServe, FlagsParseIntoTheServiceConfiguration) {
  CLI::App app;
  cli::ServeOptions options;
  cli::add_serve_options(app, &options);
  test::parse_args(app, {"serve",      "--listen",
                         "[::1]:9000", "--workers",
                         "3",          "--max-queue",
                         "7",          "--max-body-mb",
                         "2",          "--max-seconds",
                         "30",         "--max-enrol-clips",
                         "5",          "--read-timeout",
                         "4",          "--write-timeout",
                         "6",          "--keep-alive-timeout",
                         "1.5",        "--max-requests-per-connection",
                         "9",          "--max-connections",
                         "11",         "--drain-timeout",
                         "2.5",        "--profile",
                         "machines",   "--thresholds",
                         "t.json",     "--kernels",
                         "reference",  "--framing",
                         "kit",        "--resize",
                         "decimate"});
  EXPECT_EQ(options.thresholds, "t.json");
  const host::ServiceConfig config = cli::service_config(options);
  EXPECT_EQ(config.host, "::1");
  EXPECT_EQ(config.port, 9000);
  EXPECT_EQ(config.workers, 3);
  EXPECT_EQ(config.max_queue, 7u);
  EXPECT_EQ(config.max_body_bytes, std::size_t(2) << 20);
  EXPECT_EQ(config.max_seconds, 30.0);
  EXPECT_EQ(config.max_enrol_clips, 5u);
  EXPECT_EQ(config.request_timeout_seconds, 4.0);  // --read-timeout is its old name
  EXPECT_EQ(config.write_timeout_seconds, 6.0);
  EXPECT_EQ(config.keep_alive_seconds, 1.5);
  EXPECT_EQ(config.max_requests_per_connection, 9u);
  EXPECT_EQ(config.max_connections, 11u);
  EXPECT_EQ(config.drain_timeout_seconds, 2.5);
  EXPECT_EQ(config.profile_dir, "machines");
  EXPECT_EQ(config.kernels, KernelSet::kReference);
  EXPECT_EQ(config.framing, Framing::kKit);
  EXPECT_EQ(config.resize, Resize::kDecimate);
}

TEST(CmdServe, DefaultsListenOnLocalhost8080With32MiBBodies) {
  CLI::App app;
  cli::ServeOptions options;
  cli::add_serve_options(app, &options);
  test::parse_args(app, {"serve"});
  const host::ServiceConfig config = cli::service_config(options);
  EXPECT_EQ(config.host, "127.0.0.1");
  EXPECT_EQ(config.port, 8080);
  EXPECT_EQ(config.max_body_bytes, std::size_t(32) << 20);
  EXPECT_EQ(config.framing, Framing::kCentered);
  EXPECT_EQ(config.resize, Resize::kAverage);
  EXPECT_EQ(config.profile_dir, "");
}

TEST(CmdServe, LimitsOutOfRangeAreUsageErrors) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--max-body-mb", "0"},
                                             {"--max-body-mb", "2048"},
                                             {"--workers", "257"},
                                             {"--max-queue", "-1"},
                                             {"--max-seconds", "0.01"},
                                             {"--max-enrol-clips", "1"},
                                             {"--request-timeout", "0"},
                                             {"--max-connections", "0"},
                                             {"--drain-timeout", "7200"},
                                             {"--max-requests-per-connection", "0"},
                                             {"--kernels", "fastest"}}) {
    CLI::App app;
    cli::ServeOptions options;
    cli::add_serve_options(app, &options);
    EXPECT_THROW(test::parse_args(app, {"serve", args[0], args[1]}), CLI::ParseError) << args[0] << " " << args[1];
  }
}

bool stop_signals_blocked() {
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return sigismember(&mask, SIGTERM) == 1 || sigismember(&mask, SIGINT) == 1 || sigismember(&mask, SIGUSR1) == 1;
}

// run_serve's error for options that cannot start a service (it prints nothing).
std::string refusal(const cli::ServeOptions& options) {
  try {
    const test::Printed printed = test::printed_by([&](std::FILE* out) { return cli::run_serve(options, out); });
    ADD_FAILURE() << "served: " << printed.out;
  } catch (const std::exception& e) {
    EXPECT_FALSE(stop_signals_blocked()) << "a refused start left SIGINT/SIGTERM blocked";
    return e.what();
  }
  return "";
}

cli::ServeOptions options_on_any_port() {
  cli::ServeOptions options;
  options.listen = "127.0.0.1:0";
  options.model = test::model_path("medium");
  options.service.workers = 1;
  return options;
}

TEST(CmdServe, BadStartsAreRefusedBeforeServing) {
  const test::ScratchDir dir("cmd_serve_test");
  cli::ServeOptions options = options_on_any_port();
  options.listen = "127.0.0.1";
  EXPECT_NE(refusal(options).find("--listen '127.0.0.1': expected HOST:PORT"), std::string::npos);
  options.listen = "localhost:70000";
  EXPECT_NE(refusal(options).find("not a number in 0..65535"), std::string::npos);

  options = options_on_any_port();
  options.thresholds = (dir / "missing.json");
  EXPECT_NE(refusal(options).find((dir / "missing.json")), std::string::npos);

  // Thresholds of another model, and distance thresholds (serve takes those from the profiles).
  test::write_thresholds_for((dir / "small.json"), test::model_path("small"), {{"id_00", 0.5}});
  options.thresholds = (dir / "small.json");
  const std::string other_model = refusal(options);
  EXPECT_NE(other_model.find((dir / "small.json")), std::string::npos) << other_model;
  test::write_thresholds_for((dir / "distance.json"), options.model, {{"pump7", 3.0}}, ScoreMethod::kDistance);
  options.thresholds = (dir / "distance.json");
  EXPECT_NE(refusal(options).find("thresholds calibrated on distance scores; serve takes"), std::string::npos);

  // --profile names a folder, which a file is not (found after the stop signals were blocked).
  options = options_on_any_port();
  std::ofstream((dir / "not_a_dir")) << "x";
  options.service.profile_dir = (dir / "not_a_dir");
  EXPECT_NE(refusal(options).find("not a directory"), std::string::npos);
}

}  // namespace
}  // namespace micronet_ad
