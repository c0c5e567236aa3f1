// What the serve tests share: `micronet-ad serve` as a child process on loopback, and checks of
// its answers.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <sndfile.h>
#include <nlohmann/json.hpp>

#include "support/child_process.h"
#include "support/cli.h"
#include "support/loopback.h"
#include "support/test_data.h"

namespace micronet_ad::test {

inline std::string file_bytes(const std::string& path) {
  const std::vector<std::uint8_t> b = host::read_file(path);
  return std::string(b.begin(), b.end());
}

// A WAV of the first `seconds` of a clip (or the clip repeated, for longer ones).
inline std::string make_wav(const std::string& source, double seconds, const std::string& name) {
  SF_INFO in{};
  SNDFILE* f = sf_open(source.c_str(), SFM_READ, &in);
  EXPECT_NE(f, nullptr);
  std::vector<short> clip(static_cast<std::size_t>(in.frames));
  sf_readf_short(f, clip.data(), in.frames);
  sf_close(f);
  std::vector<short> out(static_cast<std::size_t>(seconds * in.samplerate));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = clip[i % clip.size()];
  const std::string path = test::temp_dir() + "/" + name;
  SF_INFO info{};
  info.samplerate = in.samplerate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | SF_FORMAT_PCM_16;
  SNDFILE* w = sf_open(path.c_str(), SFM_WRITE, &info);
  EXPECT_NE(w, nullptr);
  sf_writef_short(w, out.data(), static_cast<sf_count_t>(out.size()));
  sf_close(w);
  return path;
}

// A running `micronet-ad serve --listen 127.0.0.1:0 <args>`; its port from the first stdout line.
class Server {
 public:
  explicit Server(const std::vector<std::string>& args) {
    static int counter = 0;
    err_path_ = test::temp_dir() + "/serve" + std::to_string(counter++) + ".err";
    std::vector<std::string> argv = {test::cli_path(), "serve", "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), args.begin(), args.end());
    child_ = std::make_unique<ChildProcess>(argv, err_path_, true);
    const std::string line = child_->read_line();
    const std::string prefix = "listening on http://127.0.0.1:";
    const std::size_t at = line.find(prefix);
    if (at != std::string::npos) port_ = std::atoi(line.c_str() + at + prefix.size());
    EXPECT_GT(port_, 0) << "startup line: '" << line << "'\nstderr: " << test::slurp(err_path_);
  }
  ~Server() {
    if (child_ && running_) stop();
  }
  int port() const { return port_; }
  pid_t pid() const { return child_->pid(); }
  std::unique_ptr<httplib::Client> client() const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
    c->set_read_timeout(120, 0);  // ASan builds score slowly
    c->set_write_timeout(60, 0);
    return c;
  }
  // SIGTERM; the exit code.
  int stop() {
    if (!running_) return exit_code_;
    running_ = false;
    ::kill(child_->pid(), SIGTERM);
    return exit_code_ = child_->wait();
  }
  std::string stderr_text() const { return test::slurp(err_path_); }

 private:
  std::unique_ptr<ChildProcess> child_;
  std::string err_path_;
  int port_ = -1;
  bool running_ = true;
  int exit_code_ = -1;
};

inline bool send_all(int s, const std::string& bytes) {
  return ::send(s, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
}

// Everything the peer sends until it closes (or a receive error).
inline std::string recv_all(int s) {
  std::string answer;
  char buf[4096];
  for (ssize_t n; (n = ::recv(s, buf, sizeof buf, 0)) > 0;) answer.append(buf, static_cast<std::size_t>(n));
  return answer;
}

// One Prometheus sample's value; 0 when absent.
inline double metric(const std::string& text, const std::string& series) {
  const std::size_t at = text.find("\n" + series + " ");
  return at == std::string::npos ? 0.0 : std::stod(text.substr(at + series.size() + 2));
}

// An error answer: status, JSON content type, {error, kind, status}.
inline nlohmann::json error_json(const httplib::Result& r, int status, const std::string& kind) {
  EXPECT_TRUE(r) << "no answer for " << kind;
  if (!r) return {};
  EXPECT_EQ(r->status, status) << kind << ": " << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json") << kind;
  const nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r->body;
  EXPECT_EQ(j.value("kind", ""), kind) << r->body;
  EXPECT_EQ(j.value("status", 0), status) << r->body;
  EXPECT_FALSE(j.value("error", "").empty()) << r->body;
  return j;
}

}  // namespace micronet_ad::test
