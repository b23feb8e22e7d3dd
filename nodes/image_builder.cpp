#include "nodes/image_builder.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <ftw.h>
#include <sys/stat.h>

#include "nodes/build_context.hpp"
#include "nodes/build_inputs.hpp"
#include "nodes/docker_client.hpp"
#include "nodes/dockerfile_sources.hpp"
#include "nodes/framework_detector.hpp"
#include "nodes/image_labels.hpp"
#include "nodes/image_pusher.hpp"
#include "nodes/recipe.hpp"
#include "nodes/source_fetcher.hpp"
#include "protocol/bytes.hpp"
#include "protocol/error.hpp"
#include "protocol/utf8.hpp"
#include "protocol/validation.hpp"

namespace gilgal {

namespace {

/// Hex SHA-256 over the names and values (length-prefixed: unambiguous).
std::string build_variables_digest(const std::map<std::string, std::string>& build_variables) {
  std::string text = "gilgal-build-variables-v1";
  for (auto& [name, value] : build_variables)
    text += "\n" + std::to_string(name.size()) + ":" + name + "=" + std::to_string(value.size())
            + ":" + value;
  return sha256_hex(text);
}

} // namespace

std::string build_variables_tag(const std::map<std::string, std::string>& build_variables) {
  if (build_variables.empty())
    return {};
  return build_variables_digest(build_variables).substr(0, 8);
}

std::string image_name_for(const std::string& project_id, const std::string& commit_sha,
                           const std::map<std::string, std::string>& build_variables) {
  auto tag = build_variables_tag(build_variables);
  return "gilgal-" + project_id.substr(0, 8) + "-" + commit_sha.substr(0, 8)
         + (tag.empty() ? "" : "-" + tag);
}

namespace {

/// Disk taken by a directory tree (allocated blocks; links not followed).
uint64_t disk_usage(const std::string& dir) {
  static thread_local uint64_t total;
  total = 0;
  ::nftw(
    dir.c_str(),
    [](const char*, const struct stat* st, int, struct FTW*) {
      total += static_cast<uint64_t>(st->st_blocks) * 512;
      return 0;
    },
    32, FTW_PHYS | FTW_MOUNT);
  return total;
}

/// Watches the disk a checkout takes while git writes it. Past `max_bytes`
/// it stops git (its own abort signal, not the build's) and remembers why.
class clone_size_watch {
public:
  clone_size_watch(std::string dir, uint64_t max_bytes, std::shared_ptr<abort_signal> git_abort)
    : dir_(std::move(dir)), max_(max_bytes), git_abort_(std::move(git_abort)),
      thread_([this] { run(); }) {
  }

  ~clone_size_watch() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  /// Checks once more (git may have finished between two looks).
  bool exceeded() {
    if (!exceeded_ && disk_usage(dir_) > max_)
      exceeded_ = true;
    return exceeded_;
  }

private:
  void run() {
    std::unique_lock<std::mutex> lock{mtx_};
    while (!cv_.wait_for(lock, std::chrono::milliseconds(300), [this] { return done_; })) {
      if (disk_usage(dir_) > max_) {
        exceeded_ = true;
        git_abort_->trigger();
        return;
      }
    }
  }

  std::string dir_;
  uint64_t max_;
  std::shared_ptr<abort_signal> git_abort_;
  std::atomic<bool> exceeded_{false};
  std::mutex mtx_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

/// With a registry configured: tags and pushes the built image and records the
/// registry reference in `result`. A failure is the build's failure.
caf::error push_if_configured(docker_client& docker, const build_job& job,
                              const node_settings& node,
                              const std::shared_ptr<abort_signal>& abort,
                              const log_function& log, build_result& result) {
  if (node.cfg.registry_url.empty())
    return {};
  auto opts = push_options_of(node.cfg);
  opts.abort = abort;
  auto host = registry_host_of(opts.registry_url);
  log("info", "Pushing " + result.image_name + " to " + host + "...");
  auto vars_tag = build_variables_tag(job.build_variables);
  auto ref = push_to_registry(docker, result.image_name + ":latest", job.source.id,
                              result.commit_sha.substr(0, 8)
                                + (vars_tag.empty() ? "" : "-" + vars_tag),
                              opts, log);
  if (!ref) {
    if (code_of(ref.error()) != errc::cancelled)
      log("error", message_of(ref.error()));
    return std::move(ref.error());
  }
  log("info", "Pushed " + *ref);
  result.registry_image = *ref;
  return {};
}

/// The image named for the job's project, commit and build variables, when it
/// carries the same build inputs digest: the result for it (pushed again
/// when a registry is configured: the registry may have lost it, and a push
/// of layers it holds only uploads the manifest). Nothing when there is no
/// such image or it was built from other inputs.
caf::expected<std::optional<build_result>>
reuse_existing(docker_client& docker, const build_job& job, const node_settings& node,
               const std::shared_ptr<abort_signal>& abort, const log_function& log,
               const std::string& commit, const std::string& inputs, const char* skipped) {
  auto name = image_name_for(job.source.id, commit, job.build_variables);
  auto existing = docker.inspect_image(name);
  if (!existing)
    return code_of(existing.error()) == errc::not_found
             ? caf::expected<std::optional<build_result>>{std::nullopt}
             : caf::expected<std::optional<build_result>>{existing.error()};
  auto label = existing->labels.find("gilgal.inputs");
  if (label == existing->labels.end() || label->second != inputs)
    return std::nullopt;
  log("info", "Image " + name + " of commit " + commit.substr(0, 8)
                + " exists with the same build inputs: reused (" + skipped + ")");
  build_result result;
  result.image_name = name;
  result.image_id = existing->id;
  result.commit_sha = commit;
  if (auto fw = existing->labels.find("gilgal.framework"); fw != existing->labels.end())
    result.framework = fw->second;
  result.cache_hit = true;
  if (auto err = push_if_configured(docker, job, node, abort, log, result))
    return err;
  return result;
}

} // namespace

namespace {

caf::expected<build_result> build(const build_job& job, const node_settings& node,
                                  docker_client& docker,
                                  const std::shared_ptr<abort_signal>& abort,
                                  const log_function& log) {
  const auto& cfg = node.cfg;
  // git stops when the build is aborted, and also when its checkout grows
  // too large (clone_size_watch), which must not look like a cancel.
  auto git_abort = abort_signal::make();
  int waker = abort->add_waker([git_abort] { git_abort->trigger(); });
  struct unregister {
    std::shared_ptr<abort_signal> sig;
    int token;
    ~unregister() { sig->remove_waker(token); }
  } guard{abort, waker};

  fetch_options fopts;
  fopts.timeout = std::chrono::seconds(cfg.git_timeout_seconds);
  fopts.attempts = cfg.git_retries;
  fopts.allow_local = cfg.allow_local_sources;
  fopts.allow_private_targets = cfg.allow_private_targets;
  fopts.temp_dir = node.work_root;
  fopts.abort = git_abort;
  fopts.on_log = [&log](const std::string& line) { log("info", line); };
  fopts.ca_file = cfg.git_ca_file;
  fopts.temp_dir = node.work_root;
  fopts.repository_token = job.access.token;
  fopts.deploy_key = job.access.deploy_key;
  // ssh records a host it meets first here; the control plane stores it.
  std::string known_hosts = job.access.known_hosts;
  fopts.known_hosts = &known_hosts;

  const auto& src = job.source;
  auto recipes_dir = cfg.recipes_dir.empty() ? default_recipes_dir() : cfg.recipes_dir;
  auto inputs = build_inputs_digest(src.framework, cfg.images, recipes_dir, job.build_variables);
  std::string commit = job.commit_sha;
  if (commit.empty()) {
    log("info", "Resolving the head of branch " + src.branch + "...");
    auto head = resolve_head(src.repository_url, src.branch, fopts);
    if (!head)
      return head.error();
    commit = *head;
  }
  // A full sha names the image before anything is fetched.
  bool checked = commit.size() == 40 && is_lower_hex(commit);
  if (checked) {
    auto reused = reuse_existing(docker, job, node, abort, log, commit, inputs,
                                 "no fetch, no build");
    if (!reused)
      return reused.error();
    if (*reused) {
      // Resolving the branch's head may have met an ssh host for the first
      // time: the control plane records it as after any fetch.
      if (known_hosts != job.access.known_hosts)
        (*reused)->known_hosts = known_hosts;
      return std::move(**reused);
    }
  }
  auto work = scoped_work_dir::create(node.work_root, "src-" + job.deployment_id.substr(0, 8));
  if (!work)
    return work.error();
  log("info", "Fetching commit " + commit + "...");
  caf::expected<fetched_commit> fetched{fetched_commit{}};
  {
    auto max_clone = static_cast<uint64_t>(cfg.clone_max_mb) << 20;
    clone_size_watch watch{work->path(), max_clone, git_abort};
    fetched = fetch_commit(src.repository_url, src.branch, commit, work->path(), fopts);
    if (watch.exceeded() && !abort->triggered())
      return make_error(errc::build_failed,
                        "the repository takes more than " + std::to_string(cfg.clone_max_mb)
                          + " MiB on disk (clone_max_mb); the checkout was removed");
  }
  if (!fetched)
    return fetched.error();
  auto recorded_hosts = known_hosts != job.access.known_hosts ? known_hosts : std::string{};

  auto detected = detect_framework(work->path(), src.framework);
  if (!detected)
    return detected.error();
  log("info", "Framework: " + detected->framework + " (" + detected->reason + ")");
  // Build variables: declared as ARGs by the generated recipes, passed as
  // build args. Their names only are logged.
  std::vector<std::string> arg_names;
  for (auto& [name, value] : job.build_variables) {
    if (auto err = validate_variable_name("buildVariables", name))
      return err;
    arg_names.push_back(name);
  }
  if (!arg_names.empty()) {
    std::string names;
    for (auto& name : arg_names)
      names += (names.empty() ? "" : ", ") + name;
    log("info", "Build variables: " + names);
  }
  auto recipe = render_recipe(*detected, cfg.images, recipes_dir, work->path(), arg_names);
  if (!recipe)
    return recipe.error();
  if (recipe->from_repository)
    if (auto err = check_remote_sources(recipe->dockerfile, cfg.allow_private_targets))
      return err;

  if (!checked) { // an abbreviated sha: the image is named now
    auto reused = reuse_existing(docker, job, node, abort, log, fetched->sha, inputs, "no build");
    if (!reused)
      return reused.error();
    if (*reused) {
      (*reused)->commit_message = fetched->message;
      (*reused)->known_hosts = recorded_hosts;
      return std::move(**reused);
    }
  }

  build_result result;
  result.image_name = image_name_for(src.id, fetched->sha, job.build_variables);
  result.commit_sha = fetched->sha;
  result.commit_message = fetched->message;
  result.framework = recipe->framework;
  result.known_hosts = recorded_hosts;

  // One LABEL instruction after the final FROM, with values that stay the
  // same from commit to commit: a cached step (nodes/image_labels.hpp). The
  // build API's `labels` parameter would be uncached steps at the end.
  auto labels = image_labels(src.id, inputs, recipe->framework);
  build_context_options copts;
  copts.dockerfile = recipe->dockerfile_name;
  copts.extra_files[recipe->dockerfile_name] = with_final_stage_labels(recipe->dockerfile, labels);
  copts.max_bytes = static_cast<size_t>(cfg.build_context_max_mb) << 20;
  auto context = make_build_context(work->path(), copts);
  if (!context)
    return code_of(context.error()) == errc::payload_too_large
             ? make_error(errc::build_failed, message_of(context.error()))
             : context.error();
  work->remove(); // the context is in memory; the checkout is no longer needed

  build_options bopts;
  bopts.tags = {result.image_name + ":latest"};
  bopts.dockerfile = recipe->dockerfile_name;
  bopts.build_args = job.build_variables;
  bopts.timeout = std::chrono::seconds(cfg.build_timeout_seconds);
  bopts.abort = abort;
  bopts.memory_bytes = cfg.build_memory_mb << 20;
  bopts.cpus = cfg.build_cpus;
  bopts.pids_limit = cfg.build_pids;
  // The logger keeps at most log_max_lines of a deployment: sending more
  // would only cost the cluster link and the logger's time.
  int64_t lines = 0;
  auto id = docker.build(*context, bopts, [&](std::string_view line) {
    if (!line.empty() && lines++ <= cfg.log_max_lines)
      log("info", std::string{line});
  });
  if (!id)
    return id.error();
  result.image_id = *id;
  if (auto err = push_if_configured(docker, job, node, abort, log, result))
    return err;
  return result;
}

} // namespace

caf::expected<build_result> build_image(const build_job& job, const node_settings& node,
                                        docker_client& docker,
                                        const std::shared_ptr<abort_signal>& abort,
                                        const log_function& log) {
  auto result = build(job, node, docker, abort, log);
  if (!result && result.error().category() == error_category)
    // Messages quote git and Docker; they end up in records and logs.
    return make_error(code_of(result.error()), sanitize_log_text(message_of(result.error())));
  return result;
}

} // namespace gilgal
