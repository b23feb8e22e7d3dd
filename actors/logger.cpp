#include "actors/logger.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/metrics.hpp"
#include "protocol/error.hpp"
#include "protocol/ids.hpp"

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

} // namespace

log_writer_actor::behavior_type log_writer(log_writer_actor::pointer,
                                           std::shared_ptr<store> db) {
  return {
    [db](put_atom, const std::vector<log_line>& lines) {
      if (lines.empty())
        return true;
      // A failed write is retried once; after that the lines are reported lost
      // in the server log (never their text: it may quote user output).
      for (int attempt = 0; attempt < 2; ++attempt) {
        if (auto res = db->append_logs(lines))
          return true;
        else if (attempt == 1)
          spdlog::error("logger: {} log lines could not be stored: {}", lines.size(),
                        message_of(res.error()));
      }
      return false;
    },
  };
}

logger_actor::behavior_type logger(logger_actor::stateful_pointer<logger_state> self,
                                   log_writer_actor writer) {
  self->state.writer = writer;
  self->link_to(writer);
  return {
    [self](log_atom, const std::string& id, const std::string& level,
           const std::string& message) {
      auto& st = self->state;
      auto& s = st.streams[id];
      log_line line;
      line.deployment_id = id;
      line.seq = ++s.last_seq;
      line.level = level;
      line.message = message;
      line.timestamp = now_rfc3339();
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
    },
    [self](open_atom, const std::string& id, int64_t last_seq) {
      auto& s = self->state.streams[id];
      s.last_seq = std::max(s.last_seq, last_seq);
      s.closed = false;
    },
    [self](close_atom, const std::string& id) {
      auto& s = self->state.streams[id];
      s.closed = true;
      s.closed_at = std::chrono::steady_clock::now();
      for (auto& sub : s.subscribers)
        caf::anon_send(sub, close_atom::value, id);
      s.subscribers.clear();
      flush(self);
    },
    [self](subscribe_atom, const std::string& id, int64_t after,
           const caf::actor& subscriber) -> caf::result<std::vector<log_line>, bool> {
      auto& s = self->state.streams[id];
      std::vector<log_line> lines;
      for (auto& l : s.recent)
        if (l.seq > after)
          lines.push_back(l);
      if (!s.closed)
        s.subscribers.push_back(subscriber);
      return {std::move(lines), s.closed};
    },
    [self](unsub_atom, const std::string& id, const caf::actor& subscriber) {
      auto i = self->state.streams.find(id);
      if (i == self->state.streams.end())
        return;
      auto& subs = i->second.subscribers;
      subs.erase(std::remove(subs.begin(), subs.end(), subscriber), subs.end());
    },
    [self](flush_atom) -> caf::result<bool> {
      flush(self);
      // The writer handles messages in order: this reply follows every batch sent.
      return self->delegate(self->state.writer, put_atom::value, std::vector<log_line>{});
    },
    [self](tick_atom) {
      self->state.tick_scheduled = false;
      flush(self);
      forget_closed_streams(self->state);
    },
  };
}

logger_actor spawn_logger(caf::actor_system& sys, std::shared_ptr<store> db) {
  auto writer = sys.spawn<caf::detached>(log_writer, std::move(db));
  return sys.spawn(logger, writer);
}

} // namespace gilgal
