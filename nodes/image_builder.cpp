#include "nodes/image_builder.hpp"

#include <atomic>

#include "nodes/build_context.hpp"
#include "nodes/docker_client.hpp"
#include "nodes/framework_detector.hpp"
#include "nodes/image_pusher.hpp"
#include "nodes/recipe.hpp"
#include "nodes/source_fetcher.hpp"
#include "protocol/error.hpp"

namespace gilgal {

std::string image_name_for(const std::string& project_id, const std::string& commit_sha) {
  return "gilgal-" + project_id.substr(0, 8) + "-" + commit_sha.substr(0, 8);
}

namespace {

/// The Dockerfile with one `LABEL k="v" ...` line appended (it applies to the
/// final stage). Values are ids, hex digests and framework names; quotes and
/// backslashes are escaped all the same.
std::string with_labels(const std::string& dockerfile, const label_map& labels) {
  std::string out = dockerfile;
  if (!out.empty() && out.back() != '\n')
    out += '\n';
  out += "LABEL";
  for (auto& [key, value] : labels) {
    out += ' ' + key + "=\"";
    for (char c : value) {
      if (c == '"' || c == '\\')
        out += '\\';
      out += c == '\n' ? ' ' : c;
    }
    out += '"';
  }
  return out + '\n';
}

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
  auto ref = push_to_registry(docker, result.image_name + ":latest", job.source.id,
                              result.commit_sha.substr(0, 8), opts, log);
  if (!ref) {
    if (code_of(ref.error()) != errc::cancelled)
      log("error", message_of(ref.error()));
    return std::move(ref.error());
  }
  log("info", "Pushed " + *ref);
  result.registry_image = *ref;
  return {};
}

} // namespace

caf::expected<build_result> build_image(const build_job& job, const node_settings& node,
                                        const std::shared_ptr<abort_signal>& abort,
                                        const log_function& log) {
  const auto& cfg = node.cfg;
  // git polls an atomic flag; mirror the abort signal into one.
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  int waker = abort->add_waker([cancelled] { cancelled->store(true); });
  struct unregister {
    std::shared_ptr<abort_signal> sig;
    int token;
    ~unregister() { sig->remove_waker(token); }
  } guard{abort, waker};

  fetch_options fopts;
  fopts.timeout = std::chrono::seconds(cfg.git_timeout_seconds);
  fopts.attempts = cfg.git_retries;
  fopts.allow_local = cfg.allow_local_sources;
  fopts.cancel = cancelled.get();
  fopts.on_log = [&log](const std::string& line) { log("info", line); };

  const auto& src = job.source;
  auto work = scoped_work_dir::create(node.work_root, "src-" + job.deployment_id.substr(0, 8));
  if (!work)
    return work.error();
  std::string commit = job.commit_sha;
  if (commit.empty()) {
    log("info", "Resolving the head of branch " + src.branch + "...");
    auto head = resolve_head(src.repository_url, src.branch, fopts);
    if (!head)
      return head.error();
    commit = *head;
  }
  log("info", "Fetching commit " + commit + "...");
  auto fetched = fetch_commit(src.repository_url, src.branch, commit, work->path(), fopts);
  if (!fetched)
    return fetched.error();

  auto detected = detect_framework(work->path(), src.framework);
  if (!detected)
    return detected.error();
  log("info", "Framework: " + detected->framework + " (" + detected->reason + ")");
  auto recipes_dir = cfg.recipes_dir.empty() ? default_recipes_dir() : cfg.recipes_dir;
  auto recipe = render_recipe(*detected, cfg.images, recipes_dir, work->path());
  if (!recipe)
    return recipe.error();

  build_result result;
  result.image_name = image_name_for(src.id, fetched->sha);
  result.commit_sha = fetched->sha;
  result.commit_message = fetched->message;
  result.framework = recipe->framework;

  docker_client docker{cfg.docker_host};
  if (auto existing = docker.inspect_image(result.image_name)) {
    auto i = existing->labels.find("gilgal.recipe");
    if (i != existing->labels.end() && i->second == recipe->fingerprint) {
      log("info", "Build cache hit: " + result.image_name + " already holds commit "
                    + fetched->sha.substr(0, 8) + " built with this recipe");
      result.image_id = existing->id;
      result.cache_hit = true;
      // Pushed again: the registry may have lost it, and a push of layers it
      // holds only uploads the manifest.
      if (auto err = push_if_configured(docker, job, node, abort, log, result))
        return err;
      return result;
    }
  } else if (code_of(existing.error()) != errc::not_found) {
    return existing.error();
  }

  // The labels go into the Dockerfile as ONE LABEL instruction: the classic
  // builder turns the API's `labels` parameter into one uncached LABEL step
  // (a container commit, ~0.5 s) per label.
  label_map labels{{"gilgal.project", src.id},
                   {"gilgal.environment", job.environment_id},
                   {"gilgal.deployment", job.deployment_id},
                   {"gilgal.commit", fetched->sha},
                   {"gilgal.recipe", recipe->fingerprint},
                   {"gilgal.framework", recipe->framework}};
  build_context_options copts;
  copts.dockerfile = recipe->dockerfile_name;
  copts.extra_files[recipe->dockerfile_name] = with_labels(recipe->dockerfile, labels);
  auto context = make_build_context(work->path(), copts);
  if (!context)
    return context.error();
  work->remove(); // the context is in memory; the checkout is no longer needed

  build_options bopts;
  bopts.tags = {result.image_name + ":latest"};
  bopts.dockerfile = recipe->dockerfile_name;
  bopts.timeout = std::chrono::seconds(cfg.build_timeout_seconds);
  bopts.abort = abort;
  auto id = docker.build(*context, bopts, [&log](std::string_view line) {
    if (!line.empty())
      log("info", std::string{line});
  });
  if (!id)
    return id.error();
  result.image_id = *id;
  if (auto err = push_if_configured(docker, job, node, abort, log, result))
    return err;
  return result;
}

} // namespace gilgal
