#include "actors/deployment_actor.hpp"

#include <cmath>
#include <memory>
#include <set>

#include "actors/build_result_check.hpp"
#include "actors/metrics.hpp"

#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "protocol/error.hpp"
#include "protocol/ids.hpp"
#include "protocol/timeouts.hpp"

namespace gilgal {

namespace {

using self_ptr = deployment_actor::stateful_pointer<deployment_state>;

void log(self_ptr self, const char* level, std::string message) {
  auto& ctx = self->state.ctx;
  self->send(ctx.log, log_atom::value, ctx.record.id, std::string{level}, std::move(message));
}

double elapsed_seconds(self_ptr self) {
  std::chrono::duration<double> d = std::chrono::steady_clock::now() - self->state.started;
  return std::round(d.count() * 10) / 10;
}

/// Writes the record (not the final one: see finish). Writes are ordered: the
/// store actor handles its mailbox in order. A failed write is logged; the
/// pipeline goes on.
void save(self_ptr self) {
  self->request(self->state.ctx.db, timeouts::record_write, put_atom::value,
                self->state.ctx.record)
    .then([](bool) {},
          [self](const caf::error& err) {
            log(self, "warning", "Could not store the deployment's state: " + message_of(err));
          });
}

/// Stops the builder and runner if they still work (a normal exit of ours
/// would not reach them through the links).
void stop_helpers(self_ptr self, const caf::error& reason) {
  auto& st = self->state;
  if (st.builder) {
    self->unlink_from(st.builder);
    self->send_exit(st.builder, reason);
    st.builder = nullptr;
  }
  if (st.runner) {
    self->unlink_from(st.runner);
    self->send_exit(st.runner, reason);
    st.runner = nullptr;
  }
}

void quit_after_retiring(self_ptr self);
void retain_images(self_ptr self);

/// The final record is stored (or could not be): the log closes after its
/// last line, waiters learn the outcome, and the actor quits.
void ended(self_ptr self) {
  auto& st = self->state;
  st.stored = true;
  self->send(st.ctx.log, close_atom::value, st.ctx.record.id);
  for (auto& w : st.waiters)
    w.deliver(st.ctx.record);
  st.waiters.clear();
  if (st.ctx.record.status == deployment_status::success) {
    if (st.built_image)
      retain_images(self);
    if (st.ctx.router)
      self->quit(st.exit_reason); // the router drains the previous container
    else
      quit_after_retiring(self);
  }
  else
    self->quit(st.exit_reason);
}

/// Ends the pipeline with a terminal status. `reason` is the actor's exit
/// reason once its final record is stored: normal for success/failure,
/// user_shutdown for a cancel.
void finish(self_ptr self, deployment_status status, std::string error_message,
            caf::error reason = caf::exit_reason::normal) {
  auto& st = self->state;
  if (st.phase == deployment_phase::done)
    return;
  st.phase = deployment_phase::done;
  auto& rec = st.ctx.record;
  rec.status = status;
  rec.error_message = std::move(error_message);
  if (st.started_clock)
    rec.duration_seconds = elapsed_seconds(self);
  if (rec.status == deployment_status::success) {
    rec.deployed_at = now_rfc3339();
    metrics::observe_deploy_seconds(*rec.duration_seconds);
  }
  st.exit_reason = std::move(reason);
  // Frees the build slot, or the place in the queue of one never placed.
  self->send(st.ctx.scheduler, release_atom::value, rec.id);
  stop_helpers(self, caf::exit_reason::user_shutdown);
  self->request(st.ctx.db, timeouts::record_write, put_atom::value, rec)
    .then([self](bool) { ended(self); },
          [self](const caf::error& err) {
            log(self, "error", "Could not store the deployment's final state: "
                                 + message_of(err));
            ended(self);
          });
}

/// Stops every container labelled with this deployment, on every node, then
/// finishes as decided when the pipeline was abandoned.
void remove_own_containers_and_end(self_ptr self) {
  auto& st = self->state;
  if (st.runner) {
    self->unlink_from(st.runner);
    st.runner = nullptr;
  }
  auto end = [self] {
    auto& e = self->state.end;
    finish(self, e.status, e.message, e.reason);
  };
  self->request(st.ctx.scheduler, timeouts::cancel_grace, list_atom::value)
    .then(
      [self, end](const std::map<std::string, std::string>& containers) {
        auto left = std::make_shared<size_t>(0);
        for (auto& [container, owner] : containers)
          if (owner == self->state.ctx.record.id)
            ++*left;
        if (*left == 0) {
          end();
          return;
        }
        for (auto& [container, owner] : containers) {
          if (owner != self->state.ctx.record.id)
            continue;
          self->request(self->state.ctx.scheduler, timeouts::cancel_grace, stop_atom::value,
                        container)
            .then([left, end](bool) { if (--*left == 0) end(); },
                  [self, left, end](const caf::error& err) {
                    log(self, "warning", "Could not remove a container of this deployment: "
                                           + message_of(err));
                    if (--*left == 0)
                      end();
                  });
        }
      },
      [self, end](const caf::error& err) {
        log(self, "warning", "Could not list this deployment's containers: " + message_of(err));
        end();
      });
}

/// Ends the pipeline before it goes live (cancel, shutdown). A container that
/// is starting is stopped first: the runner is told to stop, and once it has
/// answered (or the grace has passed) every container of this deployment is
/// removed. Nothing happens once the deployment is switching or done.
void abandon(self_ptr self, deployment_status status, std::string message,
             caf::error reason) {
  auto& st = self->state;
  if (st.phase == deployment_phase::switching || st.phase == deployment_phase::done
      || st.ending)
    return;
  if (status == deployment_status::cancelled)
    log(self, "warning", "Deployment cancelled");
  else
    log(self, "error", "Deployment " + message);
  if (st.phase == deployment_phase::running && st.runner) {
    st.ending = true;
    st.end = pending_end{status, std::move(message), std::move(reason)};
    self->send_exit(st.runner, caf::exit_reason::user_shutdown);
    self->delayed_send(self, timeouts::cancel_grace, tick_atom::value);
    return;
  }
  finish(self, status, std::move(message), std::move(reason));
}

/// True if the current message comes from an actor of this process (the
/// manager, a test): a deployment actor's handle travels to nodes, whose
/// peers must not start, cancel or wait on it.
bool from_this_process(self_ptr self) {
  auto& sender = self->current_sender();
  return sender && sender->node() == self->node();
}

void fail(self_ptr self, const std::string& step, const caf::error& err) {
  auto detail = message_of(err);
  if (code_of(err) == errc::internal && detail.empty())
    detail = self->system().render(err);
  if (err == caf::sec::request_timeout)
    detail = "timed out";
  auto text = step + " failed: " + detail;
  log(self, "error", text);
  finish(self, deployment_status::failed, text);
}

void place_build(self_ptr self, std::chrono::seconds timeout);
void release_live_image(self_ptr self);
void run(self_ptr self);
void go_live(self_ptr self, const run_result& res);
void succeed(self_ptr self);

void place_run(self_ptr self) {
  auto& st = self->state;
  auto& rec = st.ctx.record;
  if (st.predecessor) { // its down message places the run
    if (!st.run_held)
      log(self, "info", "Waiting for the environment's previous deployment to stop the "
                        "container it replaced...");
    st.run_held = true;
    return;
  }
  // Without a registry the image exists only where it was built (or, for a
  // rollback, where the target ran; for a config release, where the live
  // container runs).
  std::string pin;
  if (st.registry_image.empty())
    pin = rec.kind == deployment_kind::deploy ? rec.build_node : rec.run_node;
  self->request(st.ctx.scheduler, st.ctx.replace_timeout, place_atom::value, run_atom::value,
                rec.id, pin, st.ctx.target.settings.run_labels)
    .then(
      [self](const placement& where) {
        auto& st = self->state;
        if (st.phase != deployment_phase::running)
          return; // ended meanwhile
        st.ctx.record.run_node = where.node_name;
        st.run_node = where.node;
        log(self, "info", "Container placed on node " + where.node_name);
        run(self);
      },
      [self](const caf::error& err) { fail(self, "run container", err); });
}

/// A config release runs the image that is live when it starts (a deployment
/// that went live while it was queued brings its own image), on the node where
/// it runs, with the new settings. With no live deployment left it fails.
void release_live_image(self_ptr self) {
  auto& st = self->state;
  self->request(st.ctx.db, timeouts::record_write, live_atom::value,
                st.ctx.record.environment_id)
    .then(
      [self](const std::vector<deployment>& successes) {
        auto& st = self->state;
        if (st.phase != deployment_phase::running || st.ending)
          return; // ended (cancelled) meanwhile
        auto& rec = st.ctx.record;
        // The newest success is live (the router serves the same).
        const deployment* live = successes.empty() || successes.front().image_name.empty()
                                   ? nullptr
                                   : &successes.front();
        if (!live) {
          fail(self, "release settings",
               make_error(errc::conflict, "the environment has no live deployment"));
          return;
        }
        if (live->image_name != rec.image_name)
          log(self, "info", "Deployment " + live->id + " went live meanwhile: its image is "
                              "released");
        rec.image_name = live->image_name;
        rec.run_node = live->run_node;
        rec.commit_sha = live->commit_sha;
        log(self, "info", rec.commit_message + ": the live image " + rec.image_name
                            + " runs with the new settings");
        place_run(self);
      },
      [self](const caf::error& err) { fail(self, "release settings", err); });
}

void run(self_ptr self) {
  auto& st = self->state;
  st.phase = deployment_phase::running;
  save(self);
  log(self, "info", "Reading environment configuration...");
  run_job job;
  job.deployment_id = st.ctx.record.id;
  job.project_id = st.ctx.record.project_id;
  job.environment_id = st.ctx.record.environment_id;
  job.image_name = st.ctx.record.image_name;
  job.registry_image = st.registry_image;
  job.variables = st.ctx.target.variables;
  job.settings = st.ctx.target.settings;
  log(self, "info", "Starting container...");
  self->request(st.run_node, st.ctx.replace_timeout, new_atom::value, run_atom::value)
    .then(
      [self, job](runner_actor runner) {
        auto& st = self->state;
        if (st.phase != deployment_phase::running || st.runner || st.ending) {
          // Ended, or lost and placed again meanwhile: this runner never starts.
          self->send_exit(runner, caf::exit_reason::user_shutdown);
          return;
        }
        st.runner = runner;
        self->link_to(runner);
        self->request(runner, st.ctx.run_timeout, run_atom::value, job)
          .then(
            [self, runner](const run_result& res) {
              auto& st = self->state;
              if (st.runner != runner)
                return;
              if (st.ending)
                remove_own_containers_and_end(self);
              else
                go_live(self, res);
            },
            [self, runner](const caf::error& err) {
              auto& st = self->state;
              if (st.runner != runner)
                return;
              if (st.ending)
                remove_own_containers_and_end(self);
              else
                fail(self, "run container", err);
            });
      },
      [self](const caf::error& err) { fail(self, "run container", err); });
}

/// The point of no return: the new container is healthy and becomes the
/// environment's live one. From here a cancel is refused ("already going
/// live"). With a proxy, the router moves the route to it before the success
/// is reported; if it cannot, the deployment fails and its container goes (the
/// router left the live route as it was).
void go_live(self_ptr self, const run_result& res) {
  auto& st = self->state;
  st.phase = deployment_phase::switching;
  self->unlink_from(st.runner);
  st.runner = nullptr;
  st.ctx.record.container_id = res.container_id;
  st.ctx.record.port = res.port;
  log(self, "info", "Container running on port " + std::to_string(res.port));
  if (!st.ctx.router) {
    succeed(self);
    return;
  }
  self->request(st.ctx.router, timeouts::route_switch, route_atom::value, st.ctx.record)
    .then([self](bool) { succeed(self); },
          [self](const caf::error& err) {
            auto text = "switch route failed: " + message_of(err);
            if (err == caf::sec::request_timeout)
              text = "switch route failed: timed out";
            log(self, "error", text);
            self->state.end = pending_end{deployment_status::failed, text,
                                          caf::exit_reason::normal};
            remove_own_containers_and_end(self);
          });
}

/// After a success is stored: the environment's previous container is stopped
/// (on whichever node it runs; docker stop lets it drain) and the actor quits
/// once the node has listed it (the stop goes on without it). The
/// environment's next deployment may build meanwhile, but starts its container
/// only once this actor is down (after_atom), so no deployment's container is
/// retired by an older one.
void quit_after_retiring(self_ptr self) {
  auto& st = self->state;
  auto id = st.ctx.record.id;
  self->request(st.ctx.scheduler, timeouts::drain, retire_atom::value,
                st.ctx.record.environment_id, st.ctx.record.container_id)
    .then(
      [self, id](int64_t removed) {
        if (removed > 0)
          spdlog::info("deployment {}: stopping {} previous container(s) of its environment", id,
                       removed);
        self->quit(self->state.exit_reason);
      },
      [self, id](const caf::error& err) {
        spdlog::warn("deployment {}: could not stop the previous container: {}", id,
                     message_of(err));
        self->quit(self->state.exit_reason);
      });
}

/// Removes the project's images that no longer belong to the last K successful
/// deployments of any environment. Runs in an actor of its own, after the
/// deployment has ended, so it never delays it; and only after a success that
/// built a new image (a reused image, a rollback or a config release adds
/// none, so what they push out of the last K goes at the next build).
void retain_images(self_ptr self) {
  auto& ctx = self->state.ctx;
  if (ctx.image_retention <= 0)
    return;
  auto project_id = ctx.record.project_id;
  self->spawn([project_id, scheduler = ctx.scheduler, db = ctx.db,
               k = ctx.image_retention](caf::event_based_actor* janitor) {
    // CAF 0.17 drops the unanswered requests of an actor that ends without a
    // word: were the scheduler or the store to stop first, the requests below
    // would wait out their timeouts and hold up the actor system's shutdown.
    janitor->monitor(scheduler);
    janitor->monitor(db);
    janitor->set_down_handler([janitor](caf::down_msg&) { janitor->quit(); });
    janitor->request(db, std::chrono::seconds(60), retain_atom::value, project_id, k)
      .then(
        [=](const std::set<std::string>& keep) {
          janitor->request(scheduler, std::chrono::seconds(300), retain_atom::value, project_id,
                           keep)
            .then(
              [project_id](int64_t removed) {
                if (removed > 0)
                  spdlog::info("retention: removed {} old image(s) of project {}", removed,
                               project_id);
              },
              [](const caf::error& err) {
                spdlog::warn("retention skipped: {}", message_of(err));
              });
        },
        [](const caf::error& err) { spdlog::warn("retention skipped: {}", message_of(err)); });
  });
}

void succeed(self_ptr self) {
  auto secs = static_cast<long long>(std::llround(elapsed_seconds(self)));
  // As the seed's pipeline ends: "Log completion time and container ID".
  log(self, "info", "Deployment completed successfully in " + std::to_string(secs)
                      + "s: container " + self->state.ctx.record.container_id.substr(0, 12));
  finish(self, deployment_status::success, "");
}

/// Stores the known_hosts a build recorded (an ssh host met for the first
/// time). Only if they are still what this build started from: a concurrent
/// deployment that recorded first wins, and this one's record is dropped.
void record_known_hosts(self_ptr self, const std::string& before, const std::string& after) {
  auto& ctx = self->state.ctx;
  self->request(ctx.db, timeouts::record_write, hosts_atom::value, ctx.record.project_id, before,
                after)
    .then([](bool) {},
          [self](const caf::error& err) {
            log(self, "warning", "Could not store the SSH host key seen: " + message_of(err));
          });
}

/// A reused image comes without its commit's message (nothing was fetched):
/// an earlier deployment of the commit may know it. It goes into the record
/// with the next write; a lookup that fails or answers late changes nothing.
void recall_commit_message(self_ptr self) {
  auto& rec = self->state.ctx.record;
  self->request(self->state.ctx.db, timeouts::record_write, commit_atom::value, rec.project_id,
                rec.commit_sha)
    .then(
      [self](const std::string& message) {
        auto& st = self->state;
        if (st.phase != deployment_phase::done && st.ctx.record.commit_message.empty())
          st.ctx.record.commit_message = message;
      },
      [](const caf::error&) {});
}

void start_build(self_ptr self, node_actor node, repository_access access);

/// Loads the credentials of the project's repository, then builds.
void build(self_ptr self, node_actor node) {
  auto& st = self->state;
  st.phase = deployment_phase::building;
  self->request(st.ctx.db, timeouts::record_write, access_atom::value, st.ctx.record.project_id)
    .then(
      [self, node](const repository_access& access) {
        if (self->state.phase != deployment_phase::building || self->state.builder)
          return; // ended (cancelled) meanwhile
        start_build(self, node, access);
      },
      [self](const caf::error& err) { fail(self, "build image", err); });
}

void start_build(self_ptr self, node_actor node, repository_access access) {
  auto& st = self->state;
  build_job job;
  job.deployment_id = st.ctx.record.id;
  job.source = st.ctx.source;
  job.environment_id = st.ctx.record.environment_id;
  job.commit_sha = st.ctx.record.commit_sha;
  job.build_variables = st.ctx.target.build_variables;
  job.access = std::move(access);
  log(self, "info", "Building Docker image...");
  self->request(node, st.ctx.replace_timeout, new_atom::value, build_atom::value)
    .then(
      [self, job](builder_actor builder) {
        auto& st = self->state;
        if (st.phase != deployment_phase::building || st.builder) {
          // Ended, or lost and placed again meanwhile: this builder never starts.
          self->send_exit(builder, caf::exit_reason::user_shutdown);
          return;
        }
        st.builder = builder;
        self->link_to(builder);
        self->request(builder, st.ctx.build_timeout, build_atom::value, job)
          .then(
            [self, builder, hosts = job.access.known_hosts](const build_result& res) {
              auto& st = self->state;
              if (st.builder != builder)
                return;
              if (!res.known_hosts.empty() && res.known_hosts != hosts)
                record_known_hosts(self, hosts, res.known_hosts);
              auto& rec = st.ctx.record;
              self->unlink_from(st.builder);
              st.builder = nullptr;
              // A node is trusted only with what it was given.
              if (auto ok = check_build_result(res, rec.project_id, rec.commit_sha,
                                               st.ctx.target.build_variables);
                  !ok) {
                fail(self, "build image", ok.error());
                return;
              }
              // The build slot is free for the next build.
              self->send(st.ctx.scheduler, release_atom::value, rec.id);
              metrics::observe_build_seconds(elapsed_seconds(self));
              rec.image_name = res.image_name;
              st.built_image = !res.cache_hit;
              rec.commit_sha = res.commit_sha;
              if (rec.commit_message.empty())
                rec.commit_message = res.commit_message;
              if (rec.commit_message.empty() && res.cache_hit)
                recall_commit_message(self);
              st.registry_image = res.registry_image;
              log(self, "info", "Docker image built: " + res.image_name);
              st.phase = deployment_phase::running;
              place_run(self);
            },
            [self, builder](const caf::error& err) {
              if (self->state.builder == builder)
                fail(self, "build image", err);
            });
      },
      [self](const caf::error& err) { fail(self, "build image", err); });
}

/// Asks the scheduler for a build slot; building starts once one is free.
void place_build(self_ptr self, std::chrono::seconds timeout) {
  auto& st = self->state;
  self->request(st.ctx.scheduler, timeout, place_atom::value, build_atom::value, st.ctx.record.id,
                st.ctx.target.settings.build_labels)
    .then(
      [self](const placement& where) {
        auto& st = self->state;
        if (st.phase == deployment_phase::done)
          return;
        bool first = st.replacements == 0;
        st.ctx.record.build_node = where.node_name;
        if (first) {
          log(self, "info", "Starting deployment pipeline...");
          st.ctx.record.status = deployment_status::building;
        }
        log(self, "info", "Build placed on node " + where.node_name);
        save(self);
        build(self, where.node);
      },
      [self](const caf::error& err) {
        if (err == caf::sec::request_timeout && self->state.replacements > 0)
          fail(self, "build image", make_error(errc::unavailable, "node lost"));
        else
          fail(self, "build image", err);
      });
}

/// The node of the current step went down (scheduler's word, or the link to
/// the remote builder/runner broke). The step is placed once more on another
/// node; a second loss, or no node within replace_timeout, fails it.
void node_lost(self_ptr self, const std::string& node_name) {
  auto& st = self->state;
  auto& rec = st.ctx.record;
  bool building = st.phase == deployment_phase::building && node_name == rec.build_node;
  bool running = st.phase == deployment_phase::running && node_name == rec.run_node;
  if (!building && !running)
    return;
  log(self, "warning", "Node " + node_name + " was lost");
  if (running && st.ending) {
    remove_own_containers_and_end(self);
    return;
  }
  if (building && st.builder) {
    self->unlink_from(st.builder);
    st.builder = nullptr;
  }
  if (running && st.runner) {
    self->unlink_from(st.runner);
    st.runner = nullptr;
  }
  const char* step = building ? "build image" : "run container";
  bool can_move = building || !st.registry_image.empty();
  if (st.replacements >= 1 || !can_move) {
    fail(self, step, make_error(errc::unavailable, "node lost"));
    return;
  }
  ++st.replacements;
  if (building) {
    log(self, "info", "Rescheduling the build on another node...");
    st.phase = deployment_phase::waiting;
    place_build(self, st.ctx.replace_timeout);
  } else {
    log(self, "info", "Starting the container on another node...");
    place_run(self);
  }
}

} // namespace

deployment_actor::behavior_type
deployment_pipeline(deployment_actor::stateful_pointer<deployment_state> self,
                    deployment_context ctx) {
  self->state.ctx = std::move(ctx);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    bool from_builder = st.builder && msg.source == st.builder.address();
    bool from_runner = st.runner && msg.source == st.runner.address();
    if (from_builder || from_runner) {
      if (!msg.reason)
        return;
      // Told to stop by us: its answer, or the grace, ends the pipeline.
      if (from_runner && st.ending)
        return;
      auto& rec = st.ctx.record;
      if (msg.reason == caf::exit_reason::remote_link_unreachable) {
        node_lost(self, from_builder ? rec.build_node : rec.run_node);
        return;
      }
      // A builder or runner died under us (crash).
      fail(self, from_builder ? "build image" : "run container",
           make_error(errc::unavailable, "worker stopped: " + self->system().render(msg.reason)));
      return;
    }
    // A builder or runner already given up for its lost node: its link's
    // exit may still have been on its way.
    if (msg.reason == caf::exit_reason::remote_link_unreachable || !msg.reason)
      return;
    if (msg.reason == caf::exit_reason::user_shutdown) {
      abandon(self, deployment_status::cancelled, "cancelled by user",
              caf::exit_reason::user_shutdown);
      return;
    }
    // Interrupted (server shutdown, restart recovery).
    auto why = msg.reason.category() == error_category ? message_of(msg.reason)
                                                       : self->system().render(msg.reason);
    abandon(self, deployment_status::failed, why, msg.reason);
  });
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (!st.predecessor || msg.source != st.predecessor.address())
      return;
    st.predecessor = nullptr;
    if (st.run_held && st.phase == deployment_phase::running && !st.ending) {
      st.run_held = false;
      place_run(self);
    }
  });
  return {
    [self](start_atom) -> caf::result<int64_t> {
      auto& st = self->state;
      if (!from_this_process(self))
        return make_error(errc::unauthorized, "start is for local actors only");
      // Once, by the manager: a later start (or one after a cancel while
      // queued) runs nothing.
      if (st.phase != deployment_phase::queued)
        return make_error(errc::conflict, "the deployment pipeline runs already");
      st.phase = deployment_phase::waiting;
      st.started_clock = true;
      st.started = std::chrono::steady_clock::now();
      if (st.ctx.record.kind != deployment_kind::deploy) {
        // The image of an earlier deployment, retained: nothing to build.
        log(self, "info", "Starting deployment pipeline...");
        st.ctx.record.status = deployment_status::building;
        st.phase = deployment_phase::running;
        if (st.ctx.record.kind == deployment_kind::config) {
          release_live_image(self);
        } else {
          log(self, "info", "Rolling back to deployment " + st.ctx.record.rollback_of
                              + " (image " + st.ctx.record.image_name + ")");
          place_run(self);
        }
        return int64_t{0};
      }
      place_build(self, st.ctx.build_timeout);
      // The scheduler handles its mailbox in order: this answer comes after it
      // has placed or queued the build request.
      auto rp = self->make_response_promise<int64_t>();
      self->request(st.ctx.scheduler, timeouts::actor_question, queue_atom::value,
                    st.ctx.record.id)
        .then(
          [self, rp](int64_t position) mutable {
            if (position > 0)
              log(self, "info", "Queued at position " + std::to_string(position)
                                  + ": waiting for a free build slot");
            rp.deliver(position);
          },
          [rp](const caf::error&) mutable { rp.deliver(int64_t{0}); });
      return rp;
    },
    [self](lost_atom, const std::string& node_name) {
      // Only the scheduler reports node loss; anyone else is dropped.
      if (caf::actor_cast<caf::actor_addr>(self->current_sender())
          != self->state.ctx.scheduler.address()) {
        spdlog::warn("deployment {}: dropped a 'lost' message not sent by the scheduler",
                     self->state.ctx.record.id);
        return;
      }
      node_lost(self, node_name);
    },
    [self](wait_atom) -> caf::result<deployment> {
      auto& st = self->state;
      if (!from_this_process(self))
        return make_error(errc::unauthorized, "wait is for local actors only");
      if (st.stored)
        return st.ctx.record;
      auto rp = self->make_response_promise<deployment>();
      st.waiters.push_back(rp);
      return rp;
    },
    [self](cancel_atom) -> caf::result<deployment> {
      auto& st = self->state;
      if (!from_this_process(self))
        return make_error(errc::unauthorized, "cancel is for local actors only");
      if (st.phase == deployment_phase::switching)
        return make_error(errc::conflict, "deployment is already going live: its container "
                                          "is becoming the environment's live one");
      caf::optional<deployment_status> decided;
      if (st.phase == deployment_phase::done)
        decided = st.ctx.record.status;
      else if (st.ending)
        decided = st.end.status;
      if (decided && *decided != deployment_status::cancelled)
        return make_error(errc::conflict, std::string{"deployment already finished with status "}
                                            + to_string(*decided)
                                            + "; only pending or building deployments can "
                                              "be cancelled");
      if (st.stored)
        return st.ctx.record;
      auto rp = self->make_response_promise<deployment>();
      st.waiters.push_back(rp);
      abandon(self, deployment_status::cancelled, "cancelled by user",
              caf::exit_reason::user_shutdown);
      return rp;
    },
    [self](after_atom, const caf::actor& predecessor) {
      auto& st = self->state;
      if (!from_this_process(self) || !predecessor || st.phase != deployment_phase::queued)
        return;
      st.predecessor = predecessor;
      self->monitor(predecessor); // down at once if it is gone already
    },
    [self](tick_atom) {
      auto& st = self->state;
      if (caf::actor_cast<caf::actor_addr>(self->current_sender()) != self->address())
        return; // its own grace timer only
      if (!st.ending || st.phase == deployment_phase::done || !st.runner)
        return;
      log(self, "warning", "The container did not stop within "
                             + std::to_string(timeouts::cancel_grace.count())
                             + "s; removing it");
      remove_own_containers_and_end(self);
    },
  };
}

} // namespace gilgal
