// The publish command as a function (no subprocess, no broker): its flags parse into
// PublishOptions and become the simulation's configuration (run id and client id defaults);
// limits out of range are usage errors; a bad --broker, clips that cannot be found or read and an
// answers file that cannot be written are refused before it connects. The simulation over a real
// broker is tested in tests/fleet.
#include "cmd_publish.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/cmd_support.h"
#include "support/test_data.h"

namespace micronet_ad {
namespace {

std::string slider_test(const std::string& name) {
  return host::shared_path("data/dcase2020_task2/slider/test/" + name);
}

TEST(CmdPublish, FlagsParseIntoTheSimulation) {
  CLI::App app;
  cli::PublishOptions options;
  cli::add_publish_options(app, &options);
  test::parse_args(app, {"publish",
                         "--broker",
                         "mqtt://[::1]:1884",
                         "--id",
                         "sim1",
                         "--machines",
                         "5",
                         "--rate",
                         "2.5",
                         "--clips",
                         "9",
                         "--machine-prefix",
                         "s",
                         "--machine-id",
                         "02",
                         "--run-id",
                         "r1",
                         "--idle-timeout",
                         "3",
                         "--answers",
                         "a.jsonl",
                         "x.wav",
                         "dir"});
  EXPECT_EQ(options.paths, (std::vector<std::string>{"x.wav", "dir"}));
  EXPECT_EQ(options.answers_path, "a.jsonl");
  const host::fleet::SimulatorConfig config = cli::simulator_config(options);
  EXPECT_EQ(config.machines, 5);
  EXPECT_EQ(config.rate, 2.5);
  EXPECT_EQ(config.clips, 9);
  EXPECT_EQ(config.machine_prefix, "s");
  EXPECT_EQ(config.machine_id, "02");
  EXPECT_EQ(config.run_id, "r1");
  EXPECT_EQ(config.idle_timeout_seconds, 3.0);
  EXPECT_EQ(config.connection.client_id, "sim1");
  EXPECT_EQ(config.connection.broker.host, "::1");
  EXPECT_EQ(config.connection.broker.port, 1884);
}

TEST(CmdPublish, TheRunIdComesFromTheClockAndNamesTheClient) {
  CLI::App app;
  cli::PublishOptions options;
  cli::add_publish_options(app, &options);
  test::parse_args(app, {"publish", "--broker", "mqtt://127.0.0.1:1883", "clip.wav"});
  const host::fleet::SimulatorConfig config = cli::simulator_config(options);
  ASSERT_GT(config.run_id.size(), 3u);
  EXPECT_EQ(config.run_id.substr(0, 3), "run");
  EXPECT_EQ(config.run_id.find_first_not_of("0123456789", 3), std::string::npos) << config.run_id;
  EXPECT_EQ(config.connection.client_id, "fleet-sim-" + config.run_id);
  EXPECT_EQ(config.machines, 10);
  EXPECT_EQ(config.clips, 0);
}

TEST(CmdPublish, LimitsOutOfRangeAndMissingClipsAreUsageErrors) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{{"--machines", "0"},
                                                                                    {"--rate", "-1"},
                                                                                    {"--clips", "-2"},
                                                                                    {"--idle-timeout", "0"},
                                                                                    {"--keepalive", "70000"}}) {
    CLI::App app;
    cli::PublishOptions options;
    cli::add_publish_options(app, &options);
    EXPECT_THROW(test::parse_args(app, {"publish", "--broker", "mqtt://127.0.0.1:1883", args[0], args[1], "clip.wav"}),
                 CLI::ParseError)
        << args[0] << " " << args[1];
  }
  CLI::App app;
  cli::PublishOptions options;
  cli::add_publish_options(app, &options);
  EXPECT_THROW(test::parse_args(app, {"publish", "--broker", "mqtt://127.0.0.1:1883"}), CLI::RequiredError);
}

// run_publish's error for options that cannot start a simulation (it prints nothing).
std::string refusal(const cli::PublishOptions& options) {
  try {
    const test::Printed printed = test::printed_by([&](std::FILE* out) { return cli::run_publish(options, out); });
    ADD_FAILURE() << "ran: " << printed.out;
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(CmdPublish, BadStartsAreRefusedBeforeConnecting) {
  const test::ScratchDir dir("cmd_publish_test");
  cli::PublishOptions options;
  options.connection.broker = "tcp://127.0.0.1:1883";
  options.paths = {slider_test("normal_id_00_00000000.wav")};
  EXPECT_NE(refusal(options).find("--broker 'tcp://127.0.0.1:1883': expected mqtt://HOST:PORT"), std::string::npos);

  // A port nobody listens on: every refusal below comes before the first connection attempt.
  options.connection.broker = "mqtt://127.0.0.1:1";
  options.paths = {(dir / "missing.wav")};
  EXPECT_NE(refusal(options).find((dir / "missing.wav")), std::string::npos);
  std::filesystem::create_directories((dir / "empty"));
  std::ofstream((dir / "empty/notes.txt")) << "not audio";
  options.paths = {slider_test("normal_id_00_00000000.wav"), (dir / "empty")};
  const std::string empty = refusal(options);
  EXPECT_NE(empty.find((dir / "empty") + ": directory contains no audio files"), std::string::npos) << empty;

  options.paths = {slider_test("normal_id_00_00000000.wav")};
  options.answers_path = (dir / "no_such_dir/answers.jsonl");
  EXPECT_NE(refusal(options).find((dir / "no_such_dir/answers.jsonl") + ": cannot write"), std::string::npos);
}

}  // namespace
}  // namespace micronet_ad
