// SIGTERM / SIGINT handling without signal handlers: the signals are blocked in
// every thread (block_shutdown_signals() must run before any thread starts, so
// that all threads inherit the mask) and one thread collects them with sigwait.
#pragma once

namespace gilgal::cli {

/// Blocks SIGTERM and SIGINT in the calling thread and in threads it starts later.
void block_shutdown_signals();

/// Waits until SIGTERM or SIGINT arrives; returns the signal number.
int wait_for_shutdown_signal();

} // namespace gilgal::cli
