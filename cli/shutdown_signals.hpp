// SIGTERM / SIGINT handling without signal handlers: the signals are blocked in
// every thread (block_shutdown_signals() must run before any thread starts, so
// that all threads inherit the mask) and one thread collects them with sigwait.
#pragma once

#include <chrono>

namespace gilgal::cli {

/// Blocks SIGTERM and SIGINT in the calling thread and in threads it starts later.
void block_shutdown_signals();

/// Waits until SIGTERM or SIGINT arrives; returns the signal number.
int wait_for_shutdown_signal();

/// Starts a detached thread that ends the process with exit code 1 if another
/// SIGTERM / SIGINT arrives or if the shutdown takes longer than `limit` (a
/// stuck actor must not keep a stopped server alive). Call after the first signal.
void start_shutdown_watchdog(std::chrono::seconds limit);

} // namespace gilgal::cli
