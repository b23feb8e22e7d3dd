#include "actors/deployment_actor.hpp"

#include <cmath>

#include "actors/metrics.hpp"
#include <set>

#include <caf/event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "protocol/error.hpp"
#include "protocol/ids.hpp"

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

/// Writes the record. Writes are ordered: the store actor handles its mailbox
/// in order. A failed write is logged; the pipeline goes on.
void save(self_ptr self) {
  self->request(self->state.ctx.db, caf::infinite, put_atom::value, self->state.ctx.record)
    .then([](bool) {},
          [self](const caf::error& err) {
            self->send(self->state.ctx.log, log_atom::value, self->state.ctx.record.id,
                       std::string{"warning"},
                       "Could not store the deployment's state: " + message_of(err));
          });
}

/// Stops the builder and runner if they still work (a normal exit of ours
/// would not reach them through the links).
void stop_helpers(self_ptr self, const caf::error& reason) {
  if (self->state.builder)
    self->send_exit(self->state.builder, reason);
  if (self->state.runner)
    self->send_exit(self->state.runner, reason);
}

/// Ends the pipeline with a terminal status. `reason` is the actor's exit
/// reason: normal for success/failure, user_shutdown for a cancel.
void finish(self_ptr self, const char* status, std::string error_message,
            caf::error reason = caf::exit_reason::normal) {
  auto& st = self->state;
  if (st.finished)
    return;
  st.finished = true;
  auto& rec = st.ctx.record;
  rec.status = status;
  rec.error_message = std::move(error_message);
  rec.duration_seconds = elapsed_seconds(self);
  if (rec.status == status::success) {
    rec.deployed_at = now_rfc3339();
    metrics::observe_deploy_seconds(*rec.duration_seconds);
  }
  save(self);
  self->send(st.ctx.log, close_atom::value, rec.id);
  stop_helpers(self, caf::exit_reason::user_shutdown);
  self->quit(std::move(reason));
}

void fail(self_ptr self, const std::string& step, const caf::error& err) {
  auto detail = message_of(err);
  if (code_of(err) == errc::internal && detail.empty())
    detail = self->system().render(err);
  if (err == caf::sec::request_timeout)
    detail = "timed out";
  auto text = step + " failed: " + detail;
  log(self, "error", text);
  finish(self, status::failed, text);
}

void retire_previous(self_ptr self, const run_result& res);
void succeed(self_ptr self);

void run(self_ptr self) {
  auto& st = self->state;
  log(self, "info", "Reading environment configuration...");
  run_job job;
  job.deployment_id = st.ctx.record.id;
  job.project_id = st.ctx.record.project_id;
  job.environment_id = st.ctx.record.environment_id;
  job.image_name = st.ctx.record.image_name;
  job.variables = st.ctx.target.variables;
  job.settings = st.ctx.target.settings;
  log(self, "info", "Starting container...");
  self->request(st.ctx.node, caf::infinite, new_atom::value, run_atom::value)
    .then(
      [self, job](runner_actor runner) {
        self->state.runner = runner;
        self->link_to(runner);
        self->request(runner, self->state.ctx.run_timeout, run_atom::value, job)
          .then([self](const run_result& res) { retire_previous(self, res); },
                [self](const caf::error& err) { fail(self, "run container", err); });
      },
      [self](const caf::error& err) { fail(self, "run container", err); });
}

void retire_previous(self_ptr self, const run_result& res) {
  auto& st = self->state;
  self->unlink_from(st.runner);
  st.runner = nullptr;
  st.ctx.record.container_id = res.container_id;
  st.ctx.record.port = res.port;
  save(self);
  log(self, "info", "Container running on port " + std::to_string(res.port));
  // Only now, with the new container healthy, is the previous one stopped.
  self->request(st.ctx.node, std::chrono::seconds(60), retire_atom::value,
                st.ctx.record.environment_id, res.container_id)
    .then(
      [self](int64_t removed) {
        if (removed > 0)
          log(self, "info", "Stopped the environment's previous container");
        succeed(self);
      },
      [self](const caf::error& err) {
        log(self, "warning", "Could not stop the previous container: " + message_of(err));
        succeed(self);
      });
}

/// Removes the project's images that no longer belong to the last K successful
/// deployments of any environment. Runs in an actor of its own, after the
/// deployment has ended, so it never delays it.
void retain_images(self_ptr self) {
  auto& ctx = self->state.ctx;
  if (ctx.image_retention <= 0)
    return;
  auto project_id = ctx.record.project_id;
  self->spawn([project_id, node = ctx.node, db = ctx.db,
               k = ctx.image_retention](caf::event_based_actor* janitor) {
    janitor->request(db, std::chrono::seconds(60), retain_atom::value, project_id, k)
      .then(
        [=](const std::set<std::string>& keep) {
          janitor->request(node, std::chrono::seconds(300), retain_atom::value, project_id,
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
  log(self, "info", "Deployment completed successfully in " + std::to_string(secs) + "s");
  retain_images(self);
  finish(self, status::success, "");
}

void build(self_ptr self) {
  auto& st = self->state;
  build_job job;
  job.deployment_id = st.ctx.record.id;
  job.source = st.ctx.source;
  job.environment_id = st.ctx.record.environment_id;
  job.commit_sha = st.ctx.record.commit_sha;
  log(self, "info", "Building Docker image...");
  self->request(st.ctx.node, caf::infinite, new_atom::value, build_atom::value)
    .then(
      [self, job](builder_actor builder) {
        self->state.builder = builder;
        self->link_to(builder);
        self->request(builder, self->state.ctx.build_timeout, build_atom::value, job)
          .then(
            [self](const build_result& res) {
              auto& rec = self->state.ctx.record;
              self->unlink_from(self->state.builder);
              self->state.builder = nullptr;
              metrics::observe_build_seconds(elapsed_seconds(self));
              rec.image_name = res.image_name;
              rec.commit_sha = res.commit_sha;
              if (rec.commit_message.empty())
                rec.commit_message = res.commit_message;
              save(self);
              log(self, "info", "Docker image built: " + res.image_name);
              run(self);
            },
            [self](const caf::error& err) { fail(self, "build image", err); });
      },
      [self](const caf::error& err) { fail(self, "build image", err); });
}

} // namespace

deployment_actor::behavior_type
deployment_pipeline(deployment_actor::stateful_pointer<deployment_state> self,
                    deployment_context ctx) {
  self->state.ctx = std::move(ctx);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    bool from_helper = msg.source == st.builder.address() || msg.source == st.runner.address();
    if (from_helper) {
      if (msg.reason) // a builder or runner died under us (node lost, crash)
        fail(self, msg.source == st.builder.address() ? "build image" : "run container",
             make_error(errc::unavailable, "worker stopped: " + self->system().render(msg.reason)));
      return;
    }
    if (msg.reason == caf::exit_reason::user_shutdown) {
      log(self, "warning", "Deployment cancelled");
      finish(self, status::cancelled, "cancelled by user", caf::exit_reason::user_shutdown);
      return;
    }
    if (msg.reason) {
      auto why = msg.reason.category() == error_category ? message_of(msg.reason)
                                                         : self->system().render(msg.reason);
      log(self, "error", "Deployment " + why);
      finish(self, status::failed, why, msg.reason);
    }
  });
  return {
    [self](start_atom) {
      auto& st = self->state;
      st.started = std::chrono::steady_clock::now();
      log(self, "info", "Starting deployment pipeline...");
      st.ctx.record.status = status::building;
      save(self);
      if (st.ctx.record.kind == "rollback") {
        // The image of an earlier deployment, retained: nothing to build.
        log(self, "info", "Rolling back to deployment " + st.ctx.record.rollback_of
                            + " (image " + st.ctx.record.image_name + ")");
        run(self);
        return;
      }
      build(self);
    },
  };
}

} // namespace gilgal
