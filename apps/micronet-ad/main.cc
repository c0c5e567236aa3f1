// micronet-ad: listens to machines and tells when they sound wrong.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "commands.h"

namespace {

// stdio reports a failed write (full disk, closed pipe) only on a later flush, which nothing
// checks: results lost to /dev/full would still exit 0. One check here covers every command and
// --help. Returns exit_code, or 1 after saying on stderr that output was lost.
int check_standard_output(int exit_code) {
  bool failed = std::ferror(stdout) != 0;
  errno = 0;
  if (std::fflush(stdout) != 0) failed = true;
  int error = errno;
  if (std::fclose(stdout) != 0) {
    failed = true;
    if (error == 0) error = errno;
  }
  if (!failed) return exit_code;
  std::fprintf(stderr, "micronet-ad: error: write error on standard output: %s\n",
               std::strerror(error != 0 ? error : EIO));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"micronet-ad: int8 MicroNet anomaly detection for machine sounds"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "micronet-ad 0.1.0");
  int exit_code = 0;
  micronet_ad::cli::add_inspect_command(app, &exit_code);
  micronet_ad::cli::add_infer_command(app, &exit_code);
  micronet_ad::cli::add_enrol_command(app, &exit_code);
  micronet_ad::cli::add_score_command(app, &exit_code);
  micronet_ad::cli::add_features_command(app, &exit_code);
  micronet_ad::cli::add_metrics_command(app, &exit_code);
  micronet_ad::cli::add_eval_command(app, &exit_code);
  micronet_ad::cli::add_calibrate_command(app, &exit_code);
  micronet_ad::cli::add_bench_command(app, &exit_code);
  micronet_ad::cli::add_stream_command(app, &exit_code);
  micronet_ad::cli::add_serve_command(app, &exit_code);
  micronet_ad::cli::add_worker_command(app, &exit_code);
  micronet_ad::cli::add_publish_command(app, &exit_code);
  if (argc > 1 && argv[1][0] != '-') {  // name the unknown command instead of CLI11's generic message
    std::string known;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      if (sub->get_name() == argv[1]) known = "ok";
    }
    if (known != "ok") {
      std::string names;
      for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) names += " " + sub->get_name();
      std::fprintf(stderr, "micronet-ad: unknown command '%s'; commands:%s (see --help)\n", argv[1], names.c_str());
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // --help and --version print to stdout and "fail" with code 0
    return check_standard_output(code == 0 ? 0 : 2);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "micronet-ad: error: %s\n", e.what());
    return check_standard_output(1);
  }
  return check_standard_output(exit_code);
}
