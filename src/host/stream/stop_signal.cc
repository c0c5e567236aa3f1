#include "host/stream/stop_signal.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>
#include <string>

namespace micronet_ad::host {
namespace {

volatile std::sig_atomic_t g_signal = 0;
int g_pipe[2] = {-1, -1};

extern "C" void on_stop_signal(int signal_number) {
  const int saved = errno;  // a handler must not change errno under the interrupted code
  g_signal = signal_number;
  const char byte = 1;
  [[maybe_unused]] const ssize_t n = ::write(g_pipe[1], &byte, 1);  // non-blocking: never hangs
  errno = saved;
}

}  // namespace

void install_stop_signal_handlers() {
  if (g_pipe[0] >= 0) return;
  if (::pipe(g_pipe) != 0) throw std::runtime_error(std::string("cannot create a pipe: ") + std::strerror(errno));
  for (int fd : g_pipe) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  struct sigaction action {};
  action.sa_handler = &on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a blocking call returns EINTR
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

int stop_signal_received() { return g_signal; }

int stop_signal_fd() { return g_pipe[0]; }

BlockedStopSignals::BlockedStopSignals(std::initializer_list<int> extra) {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  for (int signal_number : extra) sigaddset(&signals_, signal_number);
  pthread_sigmask(SIG_BLOCK, &signals_, &previous_);
}

BlockedStopSignals::~BlockedStopSignals() {
  while (wait_for(0.0) > 0) {
  }
  pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

int BlockedStopSignals::wait() {
  int received = 0;
  while (sigwait(&signals_, &received) != 0) {
  }
  return received;
}

int BlockedStopSignals::wait_for(double seconds) {
  const auto whole = static_cast<time_t>(seconds);
  const timespec timeout{whole, static_cast<long>((seconds - static_cast<double>(whole)) * 1e9)};
  for (;;) {
    const int received = sigtimedwait(&signals_, nullptr, &timeout);
    if (received > 0) return received;
    if (errno != EINTR) return 0;  // EAGAIN: none within the time
  }
}

}  // namespace micronet_ad::host
