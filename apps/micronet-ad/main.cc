// micronet-ad: listens to machines and tells when they sound wrong.
#include <cstdio>
#include <exception>
#include <string>

#include "commands.h"

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
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "micronet-ad: error: %s\n", e.what());
    return 1;
  }
  return exit_code;
}
