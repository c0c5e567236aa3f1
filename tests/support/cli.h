// Runs the built micronet-ad binary (MICRONET_AD_CLI overrides the build's path) and captures output.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace micronet_ad::test {

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

inline std::string cli_path() {
  const char* p = std::getenv("MICRONET_AD_CLI");
  return p ? p : MICRONET_AD_CLI_DEFAULT;
}

inline std::string temp_dir() {
  static std::string dir = [] {
    char tmpl[] = "/tmp/micronet_ad_test_XXXXXX";
    const char* d = mkdtemp(tmpl);
    return std::string(d ? d : "/tmp");
  }();
  return dir;
}

inline std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// `args` is appended to the binary's path as shell words (quote paths with spaces yourself).
inline CliResult run_cli(const std::string& args) {
  static int counter = 0;
  const std::string base = temp_dir() + "/run" + std::to_string(counter++);
  const std::string cmd = cli_path() + " " + args + " >" + base + ".out 2>" + base + ".err </dev/null";
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(base + ".out");
  r.err = slurp(base + ".err");
  return r;
}

}  // namespace micronet_ad::test
