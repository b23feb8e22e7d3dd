#include "actors/node_agent.hpp"

#include <algorithm>

#include <caf/blocking_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <spdlog/spdlog.h>

#include "config/cluster_secret.hpp"
#include "protocol/error.hpp"

namespace gilgal {

namespace {

std::string describe(caf::actor_system& sys, const caf::error& err) {
  if (err.category() == error_category) {
    auto msg = message_of(err);
    return msg.empty() ? to_string(code_of(err)) : msg;
  }
  return sys.render(err);
}

bool is_refusal(const caf::error& err) {
  if (err.category() != error_category)
    return false;
  auto code = code_of(err);
  return code == errc::unauthorized || code == errc::conflict;
}

class agent {
public:
  agent(caf::blocking_actor* self, node_agent_config cfg)
    : self_(self), cfg_(std::move(cfg)), backoff_(cfg_.min_backoff) {
    where_ = cfg_.host + ":" + std::to_string(cfg_.port);
  }

  void run() {
    while (running_) {
      auto gk = connect();
      if (!gk) {
        spdlog::warn("cluster: cannot reach the control plane at {}: {}; retrying in {} ms",
                     where_, describe(self_->system(), gk.error()), backoff_ms());
        wait_backoff();
        continue;
      }
      // Before the join: the control plane asks this node things right after.
      if (cfg_.control_planes)
        cfg_.control_planes->admit(gk->node());
      auto token = join(*gk);
      if (!token) {
        if (is_refusal(token.error())) {
          spdlog::error("cluster: the control plane at {} refused this node: {}", where_,
                        describe(self_->system(), token.error()));
          if (cfg_.on_refused)
            cfg_.on_refused(token.error());
          return;
        }
        spdlog::warn("cluster: joining {} failed: {}; retrying in {} ms", where_,
                     describe(self_->system(), token.error()), backoff_ms());
        wait_backoff();
        continue;
      }
      backoff_ = cfg_.min_backoff;
      if (cfg_.on_joined)
        cfg_.on_joined();
      stay_joined(*gk, *token);
      if (running_) {
        spdlog::warn("cluster: lost the control plane at {}; joining again in {} ms", where_,
                     backoff_ms());
        wait_backoff();
      }
    }
  }

private:
  long long backoff_ms() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(backoff_).count();
  }

  // Waits the current backoff (an exit message ends it early), then doubles it.
  void wait_backoff() {
    self_->receive([this](caf::exit_msg&) { running_ = false; },
                   caf::after(backoff_) >> [] {});
    backoff_ = std::min(backoff_ * 2, cfg_.max_backoff);
  }

  // Asks the middleman (plain or OpenSSL) for the actor published there, with
  // a deadline (caf::io::remote_actor would wait forever).
  caf::expected<gatekeeper_actor> connect() {
    auto& sys = self_->system();
    auto mm = cfg_.tls ? sys.openssl_manager().actor_handle() : sys.middleman().actor_handle();
    caf::expected<gatekeeper_actor> result{make_error(errc::unavailable, "no answer")};
    self_->request(mm, cfg_.request_timeout, caf::connect_atom::value, cfg_.host, cfg_.port)
      .receive(
        [&](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
          if (!ptr)
            result = make_error(errc::unavailable, "no actor is published there");
          else
            result = caf::actor_cast<gatekeeper_actor>(std::move(ptr));
        },
        [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  // hello, then join. Returns the session token.
  caf::expected<std::string> join(const gatekeeper_actor& gk) {
    caf::expected<std::string> nonce{make_error(errc::unavailable, "no answer")};
    self_->request(gk, cfg_.request_timeout, hello_atom::value, cluster_protocol_version,
                   cfg_.info.name)
      .receive([&](std::string& n) { nonce = std::move(n); },
               [&](caf::error& err) { nonce = std::move(err); });
    if (!nonce)
      return nonce.error();
    node_registration reg;
    reg.protocol_version = cluster_protocol_version;
    reg.info = cfg_.info;
    reg.nonce = *nonce;
    reg.proof = cluster_proof(cfg_.secret, *nonce);
    caf::expected<std::string> token{make_error(errc::unavailable, "no answer")};
    self_->request(gk, cfg_.request_timeout, join_atom::value, reg, cfg_.node)
      .receive(
        [&](std::string& t, logger_actor& log) {
          // Before anything can be built here: the scheduler knows us only now.
          self_->send(cfg_.relay, put_atom::value, std::move(log));
          token = std::move(t);
        },
        [&](caf::error& err) { token = std::move(err); });
    return token;
  }

  // Heartbeats until the gatekeeper goes down or an exit message arrives.
  void stay_joined(const gatekeeper_actor& gk, const std::string& token) {
    self_->monitor(gk);
    bool connected = true;
    auto next = std::chrono::steady_clock::now();
    while (running_ && connected) {
      auto now = std::chrono::steady_clock::now();
      if (now >= next) {
        self_->send(gk, heartbeat_atom::value, token);
        next = now + cfg_.heartbeat_interval;
      }
      self_->receive(
        [&](caf::down_msg& msg) {
          if (msg.source == gk.address())
            connected = false;
        },
        [&](caf::exit_msg&) { running_ = false; },
        caf::after(std::max(next - std::chrono::steady_clock::now(),
                            std::chrono::steady_clock::duration::zero()))
          >> [] {});
    }
    self_->demonitor(gk.address());
  }

  caf::blocking_actor* self_;
  node_agent_config cfg_;
  caf::timespan backoff_;
  std::string where_;
  bool running_ = true;
};

} // namespace

caf::actor spawn_node_agent(caf::actor_system& sys, node_agent_config cfg) {
  return sys.spawn([cfg = std::move(cfg)](caf::blocking_actor* self) mutable {
    agent{self, std::move(cfg)}.run();
  });
}

} // namespace gilgal
