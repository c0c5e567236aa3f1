// SIGINT/SIGTERM as a stop request, two ways. For a blocking reader (stream): a handler sets a
// flag and writes to a self-pipe, so poll() on the input and the pipe wakes at once, without the
// race of a signal landing just before a blocking read(). For a service whose threads must never
// be interrupted (serve, worker): the signals are blocked and one thread waits for them.
#pragma once

#include <signal.h>

#include <initializer_list>

namespace micronet_ad::host {

// Installs the handlers (without SA_RESTART) once per process; later calls do nothing. Throws
// std::runtime_error if the pipe cannot be made.
void install_stop_signal_handlers();
// The signal received (SIGINT or SIGTERM), 0 when none yet.
int stop_signal_received();
// Becomes readable once a stop signal arrived; -1 before install_stop_signal_handlers().
int stop_signal_fd();

// Blocks SIGINT, SIGTERM and `extra` (e.g. SIGUSR1, which a thread sends to end the wait) in the
// calling thread while it lives. Make it before any thread starts: threads inherit the mask, so
// none of them is ever interrupted and only wait() / wait_for() take the signals. The destructor
// consumes any of them still pending, then restores the previous mask (a service that could not
// start leaves the process as it found it).
class BlockedStopSignals {
 public:
  explicit BlockedStopSignals(std::initializer_list<int> extra = {});
  ~BlockedStopSignals();
  BlockedStopSignals(const BlockedStopSignals&) = delete;
  BlockedStopSignals& operator=(const BlockedStopSignals&) = delete;

  int wait();                    // until one arrives: the signal
  int wait_for(double seconds);  // the signal, or 0 when none arrived within `seconds` (0: a poll)

 private:
  sigset_t signals_;
  sigset_t previous_;
};

}  // namespace micronet_ad::host
