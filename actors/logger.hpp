// The logger: single writer of deployment_logs. Lines are fanned out to live
// subscribers at once and written to storage in batches (every 50 ms or 256
// lines) by a detached writer, so the logger itself never blocks.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/admitted_nodes.hpp"
#include "protocol/interfaces.hpp"
#include "storage/store.hpp"

namespace gilgal {

/// Writes batches of lines; detached, so its store calls block only itself.
using log_writer_actor = caf::typed_actor<
  caf::replies_to<put_atom, std::vector<log_line>>::with<bool>,
  // The last seq stored for a deployment (0 if none, or if the store fails).
  caf::replies_to<open_atom, std::string>::with<int64_t>>;

log_writer_actor::behavior_type log_writer(log_writer_actor::pointer self,
                                           std::shared_ptr<store> db);

/// What one deployment's log may hold. Lines beyond `max_lines` are dropped
/// after one "log truncated" line; so are lines once `max_bytes` of text were
/// logged (counted since the logger started holding the stream).
struct log_limits {
  size_t max_line_bytes = size_t{16} << 10; // longer lines are cut, marked " [truncated]"
  int64_t max_lines = 100000;
  int64_t max_bytes = int64_t{64} << 20;
};

/// Turns one incoming message into the text of a log line: valid UTF-8,
/// control characters escaped (protocol/utf8), at most `max_bytes` bytes.
std::string log_line_text(std::string_view message, size_t max_bytes);

struct log_stream {
  int64_t last_seq = 0;
  int64_t bytes = 0;      // text logged while this logger held the stream
  bool truncated = false; // the "log truncated" line was emitted
  // A stream the logger did not know (a new deployment, or a late line after
  // a restart) waits for the last stored seq before numbering its lines.
  bool opening = false;
  bool close_when_open = false;
  std::vector<log_line> held; // lines that arrived while opening, unnumbered
  std::vector<log_line> recent; // the newest lines, for late subscribers
  std::vector<caf::actor> subscribers;
  bool closed = false;
  std::chrono::steady_clock::time_point closed_at;
};

struct logger_state {
  std::unordered_map<std::string, log_stream> streams;
  std::vector<log_line> pending; // not yet handed to the writer
  bool tick_scheduled = false;
  log_writer_actor writer;
  log_limits limits;
  size_t opening = 0; // streams waiting for their stored seq
  std::vector<caf::typed_response_promise<bool>> flush_waiters; // until opening == 0
  static inline const char* name = "logger";
};

/// How many recent lines a stream keeps in memory for late subscribers.
constexpr size_t logger_recent_lines = 2000;

logger_actor::behavior_type logger(logger_actor::stateful_pointer<logger_state> self,
                                   log_writer_actor writer, log_limits limits);

/// Spawns the detached writer and the logger, the latter behind a mailbox
/// guard (actors/guarded_actor.hpp): messages from remote actor systems not
/// in `admitted` never reach it (null: nothing remote). Lines, closes and
/// flushes need a sender; subscribe is taken from this process only (with a
/// subscriber of this process), unsub from no other actor system.
logger_actor spawn_logger(caf::actor_system& sys, std::shared_ptr<store> db,
                          std::shared_ptr<const admitted_nodes> admitted = nullptr,
                          log_limits limits = {});

} // namespace gilgal
