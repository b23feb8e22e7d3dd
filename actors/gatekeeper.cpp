#include "actors/gatekeeper.hpp"

#include <cctype>

#include <caf/io/middleman.hpp>
#include <spdlog/spdlog.h>

#include "actors/container_sweep.hpp"
#include "config/cluster_secret.hpp"
#include "config/settings.hpp"
#include "protocol/error.hpp"

namespace gilgal {

namespace {

using self_ptr = gatekeeper_actor::stateful_pointer<gatekeeper_state>;

constexpr size_t nonce_bytes = 32;
constexpr size_t token_bytes = 32;
constexpr auto address_lookup_timeout = std::chrono::seconds{2};

// A peer-given name made safe for a log line.
std::string printable(const std::string& text) {
  std::string out;
  for (char c : text.substr(0, 64))
    out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  if (text.size() > 64)
    out += "...";
  return out;
}

// Logs a refused hello or join with the peer's name and, when the sender is a
// remote actor, the address of its connection (asked of the middleman).
void log_refusal(self_ptr self, const std::string& node_name, const std::string& reason) {
  auto who = printable(node_name);
  auto& sender = self->current_sender();
  auto& sys = self->system();
  if (sender && sender->node() != sys.node() && sys.has_middleman()) {
    auto mm = sys.middleman().actor_handle();
    self->request(mm, address_lookup_timeout, caf::get_atom::value, sender->node())
      .then(
        [who, reason](const caf::node_id&, const std::string& host, uint16_t port) {
          spdlog::warn("cluster: refused node '{}' from {}:{}: {}", who, host, port, reason);
        },
        [who, reason](const caf::error&) {
          spdlog::warn("cluster: refused node '{}' (address unknown): {}", who, reason);
        });
    return;
  }
  spdlog::warn("cluster: refused node '{}': {}", who, reason);
}

void purge_expired_nonces(self_ptr self) {
  auto now = self->clock().now();
  auto& nonces = self->state.nonces;
  for (auto i = nonces.begin(); i != nonces.end();)
    i = i->second.expires <= now ? nonces.erase(i) : std::next(i);
}

bool valid_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

void forget_session_of(self_ptr self, const std::string& node_name) {
  auto& st = self->state;
  auto i = st.tokens.find(node_name);
  if (i == st.tokens.end())
    return;
  st.sessions.erase(i->second);
  st.tokens.erase(i);
}

} // namespace

std::string version_mismatch_message(int64_t node_version) {
  return "protocol version mismatch: node speaks " + std::to_string(node_version)
         + ", control plane speaks " + std::to_string(cluster_protocol_version);
}

caf::expected<void> check_node_info(const node_info& info) {
  auto& n = info.name;
  bool name_ok = !n.empty() && n.size() <= 63
                 && std::isalnum(static_cast<unsigned char>(n.front()));
  for (char c : n)
    name_ok = name_ok && valid_name_char(c);
  if (!name_ok)
    return make_error(errc::invalid_argument,
                      "node name: 1 to 63 letters, digits, '.', '-' or '_', starting with a "
                      "letter or digit");
  if (info.capacity < 1 || info.capacity > 256)
    return make_error(errc::invalid_argument, "node capacity: must be between 1 and 256");
  std::string text;
  for (auto& [k, v] : info.labels) {
    if (k.find_first_of(",=") != std::string::npos || v.find_first_of(",=") != std::string::npos)
      return make_error(errc::invalid_argument, "labels: ',' and '=' are not allowed");
    text += (text.empty() ? "" : ",") + k + "=" + v;
  }
  if (auto labels = parse_node_labels(text); !labels)
    return labels.error();
  // A host name or an IP address the control plane's proxy connects to.
  auto& a = info.address;
  bool address_ok = a.size() <= 253 && a != "0.0.0.0" && a != "::";
  for (char c : a)
    address_ok = address_ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.'
                                || c == '-' || c == ':');
  if (!address_ok)
    return make_error(errc::invalid_argument,
                      "advertise address: a host name or an IP address (not 0.0.0.0), at "
                      "most 253 characters");
  return caf::unit;
}

gatekeeper_actor::behavior_type
gatekeeper(gatekeeper_actor::stateful_pointer<gatekeeper_state> self, gatekeeper_config cfg) {
  self->state.cfg = std::move(cfg);
  // Anyone can reach this actor: what it does not understand is dropped
  // without printing it (CAF's default would log the peer's content).
  self->set_default_handler(caf::drop);
  auto& c = self->state.cfg;
  if (c.scheduler)
    self->monitor(c.scheduler);
  if (c.log)
    self->monitor(c.log);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (msg.source == st.cfg.scheduler.address() || msg.source == st.cfg.log.address()) {
      self->quit(msg.reason);
      return;
    }
    // A joined node went away: its token is worthless now.
    for (auto i = st.sessions.begin(); i != st.sessions.end(); ++i) {
      if (i->second.node == msg.source) {
        st.tokens.erase(i->second.node_name);
        st.sessions.erase(i);
        break;
      }
    }
  });
  return {
    [self](hello_atom, int64_t version, const std::string& name) -> caf::result<std::string> {
      auto& st = self->state;
      if (version != cluster_protocol_version) {
        auto msg = version_mismatch_message(version);
        log_refusal(self, name, msg);
        return make_error(errc::conflict, msg);
      }
      purge_expired_nonces(self);
      while (!st.nonces.empty() && st.nonces.size() >= st.cfg.max_pending_nonces) {
        auto oldest = st.nonces.begin();
        for (auto i = st.nonces.begin(); i != st.nonces.end(); ++i)
          if (i->second.expires < oldest->second.expires)
            oldest = i;
        st.nonces.erase(oldest);
      }
      auto nonce = random_hex(nonce_bytes);
      st.nonces.emplace(nonce,
                        gatekeeper_state::pending_nonce{name, self->clock().now() + st.cfg.nonce_ttl});
      return nonce;
    },
    [self](join_atom, const node_registration& reg,
           const node_actor& node) -> caf::result<std::string, logger_actor> {
      auto& st = self->state;
      auto& name = reg.info.name;
      if (reg.protocol_version != cluster_protocol_version) {
        auto msg = version_mismatch_message(reg.protocol_version);
        log_refusal(self, name, msg);
        return make_error(errc::conflict, msg);
      }
      purge_expired_nonces(self);
      auto i = st.nonces.find(reg.nonce);
      if (i == st.nonces.end()) {
        log_refusal(self, name, "unknown, expired or reused join nonce");
        return make_error(errc::unauthorized,
                          "unknown, expired or reused join nonce (say hello first)");
      }
      auto asked_by = i->second.node_name;
      st.nonces.erase(i); // single use, whatever follows
      if (asked_by != name) {
        log_refusal(self, name, "join nonce was handed out to another node name");
        return make_error(errc::unauthorized, "the join nonce was handed out for another name");
      }
      if (!proof_matches(st.cfg.secret, reg.nonce, reg.proof)) {
        log_refusal(self, name, "wrong cluster secret");
        return make_error(errc::unauthorized, "wrong cluster secret");
      }
      if (auto ok = check_node_info(reg.info); !ok) {
        log_refusal(self, name, message_of(ok.error()));
        return ok.error();
      }
      if (!node)
        return make_error(errc::invalid_argument, "join without a node actor");
      // Before the scheduler asks the node anything: its replies must get in.
      if (st.cfg.admitted)
        st.cfg.admitted->admit(node->node());
      auto rp = self->make_response_promise<std::string, logger_actor>();
      auto info = reg.info;
      if (info.capacity > st.cfg.max_capacity) {
        spdlog::info("cluster: node '{}' announced capacity {}; capped to {}", info.name,
                     info.capacity, st.cfg.max_capacity);
        info.capacity = st.cfg.max_capacity;
      }
      self->request(st.cfg.scheduler, st.cfg.scheduler_timeout, join_atom::value, info, node)
        .then(
          [self, rp, info, node](bool accepted) mutable {
            auto& st = self->state;
            if (!accepted) {
              log_refusal(self, info.name, "the scheduler refused it");
              rp.deliver(make_error(errc::conflict, "the scheduler refused node " + info.name));
              return;
            }
            forget_session_of(self, info.name);
            auto token = random_hex(token_bytes);
            st.sessions.emplace(token, gatekeeper_state::session{info.name, node.address()});
            st.tokens[info.name] = token;
            self->monitor(node);
            spdlog::info("cluster: node '{}' joined (capacity {}, {} label(s))", info.name,
                         info.capacity, info.labels.size());
            sweep_node_containers(self, node, st.cfg.db, info.name);
            rp.deliver(token, st.cfg.log);
          },
          [self, rp, info](caf::error& err) mutable {
            spdlog::warn("cluster: node '{}' could not be registered: {}", info.name,
                         message_of(err));
            rp.deliver(std::move(err));
          });
      return rp;
    },
    [self](heartbeat_atom, const std::string& token) {
      auto& st = self->state;
      auto i = st.sessions.find(token);
      if (i == st.sessions.end())
        return;
      self->send(st.cfg.scheduler, heartbeat_atom::value, i->second.node_name);
    },
  };
}

gatekeeper_actor spawn_gatekeeper(caf::actor_system& sys, gatekeeper_config cfg) {
  return sys.spawn(gatekeeper, std::move(cfg));
}

} // namespace gilgal
