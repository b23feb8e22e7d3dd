#include "actors/logger.hpp"

#include <algorithm>
#include <map>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/guarded_actor.hpp"
#include "actors/metrics.hpp"
#include "protocol/error.hpp"
#include "protocol/ids.hpp"
#include "protocol/utf8.hpp"

namespace gilgal {

namespace {

constexpr auto flush_interval = std::chrono::milliseconds(50);
constexpr size_t flush_batch = 256;
constexpr auto forget_after = std::chrono::minutes(2);

void flush(logger_actor::stateful_pointer<logger_state> self) {
  if (self->state.pending.empty())
    return;
  std::vector<log_line> batch;
  batch.swap(self->state.pending);
  self->request(self->state.writer, caf::infinite, put_atom::value, std::move(batch))
    .then([](bool) {}, [](const caf::error&) {});
}

/// Drops the line buffers of streams closed a while ago. The stream itself
/// (its last seq) stays, so a late line (a container restart) continues the
/// numbering instead of clashing with stored lines.
void forget_closed_streams(logger_state& st) {
  auto now = std::chrono::steady_clock::now();
  for (auto& [id, s] : st.streams)
    if (s.closed && s.subscribers.empty() && now - s.closed_at > forget_after) {
      s.recent.clear();
      s.recent.shrink_to_fit();
    }
}

/// Numbers a line, hands it to live subscribers and queues it for storage.
/// Past the stream's limits, one "log truncated" line replaces the rest.
void emit(logger_actor::stateful_pointer<logger_state> self, log_stream& s, log_line line) {
  auto& st = self->state;
  if (s.truncated)
    return;
  auto size = static_cast<int64_t>(line.message.size());
  if (s.last_seq >= st.limits.max_lines || s.bytes + size > st.limits.max_bytes) {
    // The marker is the last seq handed out, so a restarted logger (which
    // knows only the stored seq) stays truncated too.
    s.truncated = true;
    line.level = "warning";
    line.message = "log truncated: this deployment's log reached its limit ("
                   + std::to_string(st.limits.max_lines) + " lines, "
                   + std::to_string(st.limits.max_bytes) + " bytes); later output is dropped";
    size = 0;
  }
  s.bytes += size;
  line.seq = ++s.last_seq;
  metrics::add_log_lines();
  for (auto& sub : s.subscribers)
    caf::anon_send(sub, log_atom::value, line);
  s.recent.push_back(line);
  if (s.recent.size() > logger_recent_lines)
    s.recent.erase(s.recent.begin(),
                   s.recent.begin() + (s.recent.size() - logger_recent_lines));
  st.pending.push_back(std::move(line));
  if (st.pending.size() >= flush_batch) {
    flush(self);
  } else if (!st.tick_scheduled) {
    st.tick_scheduled = true;
    self->delayed_send(self, flush_interval, tick_atom::value);
  }
}

void close_stream(logger_actor::stateful_pointer<logger_state> self, const std::string& id,
                  log_stream& s) {
  s.closed = true;
  s.closed_at = std::chrono::steady_clock::now();
  for (auto& sub : s.subscribers)
    caf::anon_send(sub, close_atom::value, id);
  s.subscribers.clear();
  flush(self);
}

/// Writes everything pending and answers the flushes that waited for streams
/// being opened, once the writer has stored it.
void answer_flush_waiters(logger_actor::stateful_pointer<logger_state> self) {
  auto& st = self->state;
  if (st.flush_waiters.empty())
    return;
  flush(self);
  auto waiters = std::move(st.flush_waiters);
  st.flush_waiters.clear();
  self->request(st.writer, caf::infinite, put_atom::value, std::vector<log_line>{})
    .then(
      [waiters](bool ok) mutable {
        for (auto& rp : waiters)
          rp.deliver(ok);
      },
      [waiters](const caf::error& err) mutable {
        for (auto& rp : waiters)
          rp.deliver(err);
      });
}

/// The last stored seq of a stream being opened is known: number and emit
/// the lines held meanwhile, in order.
void opened(logger_actor::stateful_pointer<logger_state> self, const std::string& id,
            int64_t stored_seq) {
  auto i = self->state.streams.find(id);
  if (i == self->state.streams.end() || !i->second.opening)
    return;
  auto& s = i->second;
  s.opening = false;
  --self->state.opening;
  s.last_seq = std::max(s.last_seq, stored_seq);
  s.truncated = s.truncated || s.last_seq > self->state.limits.max_lines;
  auto held = std::move(s.held);
  s.held.clear();
  for (auto& line : held)
    emit(self, s, std::move(line));
  if (s.close_when_open) {
    s.close_when_open = false;
    close_stream(self, id, s);
  }
  if (self->state.opening == 0)
    answer_flush_waiters(self);
}

/// Asks the store where a stream new to the logger stands. The writer handles
/// its mailbox in order, so every batch sent before is stored when it answers.
void begin_open(logger_actor::stateful_pointer<logger_state> self, const std::string& id,
                log_stream& s) {
  s.opening = true;
  ++self->state.opening;
  self->request(self->state.writer, caf::infinite, open_atom::value, id)
    .then([self, id](int64_t stored) { opened(self, id, stored); },
          [self, id](const caf::error&) { opened(self, id, 0); });
}

/// Who may send what. Lines, closes and flushes must name their sender (a
/// remote anonymous message looks like a local one); the mailbox guard already
/// dropped senders of nodes that never joined. Reading a log (subscribe) is
/// for named actors of this process only, with a subscriber of this process:
/// nodes write, they never read. An unsub may be anonymous but not remote.
enum class allowed { named_sender, this_process, not_remote };

bool sender_allowed(logger_actor::stateful_pointer<logger_state> self, const char* what,
                    allowed who) {
  auto& sender = self->current_sender();
  bool local = sender && sender->node() == self->node();
  bool ok = who == allowed::named_sender   ? sender != nullptr
            : who == allowed::this_process ? local
                                           : !sender || local;
  if (!ok)
    spdlog::warn("logger: dropped a '{}' message from {}", what,
                 sender ? "node " + caf::to_string(sender->node()) : std::string{"no sender"});
  return ok;
}

} // namespace

std::string log_line_text(std::string_view message, size_t max_bytes) {
  static constexpr std::string_view marker = " [truncated]";
  // Only the part that can be kept is cleaned: a 100 MB message costs no more
  // than a 16 KiB one. Escapes make text at most 6 times longer.
  auto text = sanitize_log_text(message.substr(0, max_bytes));
  bool cut = message.size() > max_bytes;
  if (text.size() > max_bytes) {
    truncate_utf8(text, max_bytes);
    cut = true;
  }
  if (cut) {
    truncate_utf8(text, max_bytes > marker.size() ? max_bytes - marker.size() : 0);
    text += marker;
  }
  return text;
}

log_writer_actor::behavior_type log_writer(log_writer_actor::pointer,
                                           std::shared_ptr<store> db) {
  return {
    [db](put_atom, const std::vector<log_line>& lines) {
      if (lines.empty())
        return true;
      // A failed write is retried once, then deployment by deployment: one
      // deployment's lines that cannot be stored (it is unknown to this
      // store, e.g. a container of another server on the same daemon) must
      // not take the others' with them. What is still lost is reported in
      // the server log (never its text: it may quote user output).
      if (db->append_logs(lines) || db->append_logs(lines))
        return true;
      std::map<std::string, std::vector<log_line>> by_deployment;
      for (const auto& l : lines)
        by_deployment[l.deployment_id].push_back(l);
      bool all = true;
      for (const auto& [id, group] : by_deployment)
        if (auto res = db->append_logs(group); !res) {
          all = false;
          spdlog::error("logger: {} log lines of deployment {} could not be stored: {}",
                        group.size(), id, message_of(res.error()));
        }
      return all;
    },
    [db](open_atom, const std::string& id) -> int64_t {
      auto res = db->last_log_seq(id);
      return res ? *res : int64_t{0};
    },
  };
}

logger_actor::behavior_type logger(logger_actor::stateful_pointer<logger_state> self,
                                   log_writer_actor writer, log_limits limits) {
  self->state.writer = writer;
  self->state.limits = limits;
  self->link_to(writer);
  return {
    [self](log_atom, const std::string& id, const std::string& level,
           const std::string& message) {
      if (!sender_allowed(self, "log", allowed::named_sender))
        return;
      auto& st = self->state;
      auto [i, fresh] = st.streams.try_emplace(id);
      auto& s = i->second;
      log_line line;
      line.deployment_id = id;
      line.level = level.size() <= 16 ? sanitize_log_text(level) : std::string{"info"};
      line.message = log_line_text(message, st.limits.max_line_bytes);
      line.timestamp = now_rfc3339();
      if (fresh)
        begin_open(self, id, s);
      if (s.opening) {
        s.held.push_back(std::move(line));
        return;
      }
      emit(self, s, std::move(line));
    },
    [self](close_atom, const std::string& id) {
      if (!sender_allowed(self, "close", allowed::named_sender))
        return;
      auto& s = self->state.streams[id];
      if (s.opening) {
        s.close_when_open = true;
        return;
      }
      close_stream(self, id, s);
    },
    [self](subscribe_atom, const std::string& id, int64_t after,
           const caf::actor& subscriber) -> caf::result<std::vector<log_line>, bool> {
      if (!sender_allowed(self, "subscribe", allowed::this_process) || !subscriber
          || subscriber->node() != self->node())
        return make_error(errc::unauthorized, "logs are read on the control plane only");
      auto [i, fresh] = self->state.streams.try_emplace(id);
      auto& s = i->second;
      if (fresh)
        begin_open(self, id, s);
      std::vector<log_line> lines;
      for (auto& l : s.recent)
        if (l.seq > after)
          lines.push_back(l);
      if (!s.closed)
        s.subscribers.push_back(subscriber);
      return {std::move(lines), s.closed};
    },
    [self](unsub_atom, const std::string& id, const caf::actor& subscriber) {
      if (!sender_allowed(self, "unsub", allowed::not_remote))
        return;
      auto i = self->state.streams.find(id);
      if (i == self->state.streams.end())
        return;
      auto& subs = i->second.subscribers;
      subs.erase(std::remove(subs.begin(), subs.end(), subscriber), subs.end());
    },
    [self](flush_atom) -> caf::result<bool> {
      if (!sender_allowed(self, "flush", allowed::named_sender))
        return make_error(errc::unauthorized, "a flush must name its sender");
      if (self->state.opening > 0) {
        // Lines held for a stream being opened are written first.
        auto rp = self->make_response_promise<bool>();
        self->state.flush_waiters.push_back(rp);
        return rp;
      }
      flush(self);
      // The writer handles messages in order: this reply follows every batch sent.
      return self->delegate(self->state.writer, put_atom::value, std::vector<log_line>{});
    },
    [self](tick_atom) {
      if (self->current_sender().get() != self->ctrl())
        return; // only its own timer
      self->state.tick_scheduled = false;
      flush(self);
      forget_closed_streams(self->state);
    },
  };
}

logger_actor spawn_logger(caf::actor_system& sys, std::shared_ptr<store> db,
                          std::shared_ptr<const admitted_nodes> admitted,
                          log_limits limits) {
  if (!admitted)
    admitted = std::make_shared<admitted_nodes>();
  auto writer = sys.spawn<caf::detached>(log_writer, std::move(db));
  return sys.spawn<guarded_actor<logger_actor, logger_state>>(
    std::move(admitted),
    [writer, limits](logger_actor::stateful_pointer<logger_state> self) {
      return logger(self, writer, limits);
    });
}

} // namespace gilgal
