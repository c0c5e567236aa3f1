// `micronet-ad serve --listen 127.0.0.1:0 ...` as a child process for the abuse tests, with what
// they measure from outside: resident memory and open descriptors (/proc/PID), and how long it
// takes to exit after SIGTERM (waitpid with a deadline, so a hung server fails the test instead
// of hanging it).
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace micronet_ad::abuse {

struct ProcStats {
  long rss_kb = -1;   // VmRSS
  long peak_kb = -1;  // VmHWM: the largest VmRSS so far
  int fds = -1;       // entries of /proc/PID/fd
};

inline long status_kb(const std::string& status, const char* field) {
  const std::size_t at = status.find(field);
  return at == std::string::npos ? -1 : std::atol(status.c_str() + at + std::string(field).size());
}

inline ProcStats proc_stats(pid_t pid) {
  ProcStats s;
  const std::string dir = "/proc/" + std::to_string(pid);
  if (FILE* f = std::fopen((dir + "/status").c_str(), "r")) {
    std::string text(8192, '\0');
    text.resize(std::fread(&text[0], 1, text.size(), f));
    std::fclose(f);
    s.rss_kb = status_kb(text, "VmRSS:");
    s.peak_kb = status_kb(text, "VmHWM:");
  }
  if (DIR* d = ::opendir((dir + "/fd").c_str())) {
    s.fds = 0;
    while (const dirent* e = ::readdir(d)) s.fds += e->d_name[0] != '.';
    ::closedir(d);
  }
  return s;
}

class ServeProcess {
 public:
  // Starts `cli serve --listen 127.0.0.1:0 args...`; port() is 0 if it did not say where it listens.
  ServeProcess(const std::string& cli, const std::vector<std::string>& args, const std::string& stderr_path)
      : stderr_path_(stderr_path) {
    std::vector<std::string> argv = {cli, "serve", "--listen", "127.0.0.1:0"};
    argv.insert(argv.end(), args.begin(), args.end());
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) exec_child(argv, out[1]);
    ::close(out[1]);
    stdout_ = out[0];  // kept open: a later line on stdout must not fail with EPIPE
    port_ = read_port(stdout_);
  }
  ~ServeProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_ >= 0) ::close(stdout_);
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  ProcStats stats() const { return proc_stats(pid_); }
  std::string stderr_text() const {
    std::string text;
    if (FILE* f = std::fopen(stderr_path_.c_str(), "r")) {
      char buf[4096];
      for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
      std::fclose(f);
    }
    return text;
  }

  void signal(int sig) const { ::kill(pid_, sig); }

  // Waits up to `timeout_seconds` for the exit; the exit code (128 + signal), or -1 after
  // killing a server that did not exit in time.
  int wait_exit(double timeout_seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        exited_ = true;
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    exited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  [[noreturn]] void exec_child(const std::vector<std::string>& argv, int stdout_fd) const {
    ::dup2(stdout_fd, 1);
    const int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, 0);
    const int err = ::open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err >= 0) ::dup2(err, 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::_Exit(127);
  }

  // The port from "... listening on http://127.0.0.1:PORT ..." (first stdout line, 60 s at most).
  static int read_port(int fd) {
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    char c = 0;
    while (line.find('\n') == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      if (::read(fd, &c, 1) != 1) break;
      line += c;
    }
    const std::string prefix = "http://127.0.0.1:";
    const std::size_t at = line.find(prefix);
    return at == std::string::npos ? 0 : std::atoi(line.c_str() + at + prefix.size());
  }

  std::string stderr_path_;
  pid_t pid_ = -1;
  int stdout_ = -1;
  int port_ = 0;
  bool exited_ = false;
};

}  // namespace micronet_ad::abuse
