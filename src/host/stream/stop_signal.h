// SIGINT/SIGTERM as a stop request a blocking reader can wait on: the handler sets a flag and
// writes to a self-pipe, so poll() on the input and the pipe wakes at once, without the race of
// a signal landing just before a blocking read().
#pragma once

namespace micronet_ad::host {

// Installs the handlers (without SA_RESTART) once per process; later calls do nothing. Throws
// std::runtime_error if the pipe cannot be made.
void install_stop_signal_handlers();
// The signal received (SIGINT or SIGTERM), 0 when none yet.
int stop_signal_received();
// Becomes readable once a stop signal arrived; -1 before install_stop_signal_handlers().
int stop_signal_fd();

}  // namespace micronet_ad::host
