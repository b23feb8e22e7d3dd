// `gilgal deploy PROJECT ENV [--commit SHA] [--message M] [--no-follow]`:
// triggers a deployment, prints its id, follows its log live until it ends and
// exits with its outcome (0 success, 1 failed, 3 cancelled).
#include <chrono>
#include <iostream>
#include <thread>

#include "cli/console_commands.hpp"
#include "cli/console_follow.hpp"
#include "cli/console_format.hpp"
#include "protocol/deployment_state.hpp"
#include "protocol/error.hpp"
#include "protocol/ids.hpp"

namespace gilgal::cli {

namespace {

using nlohmann::json;

struct deploy_args {
  std::string project;
  std::string environment;
  std::string commit;
  std::string message;
  bool no_follow = false;
};

constexpr int request_attempts = 3;
constexpr int fetch_attempts = 6; // about 7 s: long enough for a restart of the server

/// POSTs the trigger; a request lost on the way is retried with the same
/// Idempotency-Key, so that it never creates a second deployment.
caf::expected<json> trigger(const api_client& api, const std::string& project_id,
                            const json& body) {
  auto key = new_uuid();
  auto path = "/api/projects/" + path_segment(project_id) + "/deployments";
  for (int attempt = 1;; ++attempt) {
    auto res = api.post(path, body, key);
    if (res || code_of(res.error()) != errc::unavailable || attempt == request_attempts)
      return res;
    std::this_thread::sleep_for(std::chrono::milliseconds{500 * attempt});
  }
}

/// The deployment's record, retried briefly if the server is not reachable.
caf::expected<json> fetch(const api_client& api, const std::string& id) {
  for (int attempt = 1;; ++attempt) {
    auto res = api.get("/api/deployments/" + path_segment(id));
    if (res || code_of(res.error()) != errc::unavailable || attempt == fetch_attempts)
      return res;
    std::this_thread::sleep_for(std::chrono::milliseconds{500 * attempt});
  }
}

void print_outcome(const json& d) {
  auto id = str_of(d, "id");
  auto status = str_of(d, "status");
  auto known = parse_deployment_status(status);
  if (known == deployment_status::success) {
    std::cout << "Deployment " << id << " succeeded";
    if (d.value("durationSeconds", json{}).is_number())
      std::cout << " in " << duration_of(d["durationSeconds"]);
    std::cout << ": container " << str_of(d, "containerId").substr(0, 12) << " on port "
              << str_of(d, "port") << " (image " << str_of(d, "imageName") << ")";
  } else if (known == deployment_status::cancelled) {
    std::cout << "Deployment " << id << " was cancelled";
  } else if (known == deployment_status::failed) {
    std::cout << "Deployment " << id << " failed: " << str_of(d, "errorMessage", "(no message)");
  } else {
    std::cout << "Deployment " << id << " is " << status;
  }
  std::cout << std::endl;
}

int deploy(const api_client& api, const deploy_args& a) {
  bool as_json = api.target().json;
  auto project = api.resolve_project(a.project);
  if (!project)
    return report(project.error());
  auto project_id = project->value("id", "");
  auto env = api.resolve_environment(project_id, a.environment);
  if (!env)
    return report(env.error());
  json body{{"environmentId", env->value("id", "")}};
  if (!a.commit.empty())
    body["commitSha"] = a.commit;
  if (!a.message.empty())
    body["commitMessage"] = a.message;
  auto created = trigger(api, project_id, body);
  if (!created)
    return report(created.error());
  auto id = created->value("id", "");
  // Human text goes to stderr with --json, so that stdout is only JSON.
  std::ostream& text = as_json ? std::cerr : std::cout;
  text << "Deployment " << id << " of " << project->value("name", project_id) << " to "
       << env->value("name", "") << " created (" << str_of(*created, "status");
  if (created->value("queuePosition", json{}).is_number())
    text << ", position " << str_of(*created, "queuePosition") << " in the build queue";
  text << ")" << std::endl;
  if (a.no_follow) {
    if (as_json)
      print_json(*created);
    else
      std::cout << "Follow it with: gilgal logs " << id << " -f" << std::endl;
    return console_exit::ok;
  }
  text << "Following its log (Ctrl-C stops following; the deployment goes on)" << std::endl;
  auto status = follow_and_print(api, id, text, false);
  if (!status) {
    auto code = report(status.error());
    std::cerr << "the deployment goes on; `gilgal logs " << id << " -f` follows it again"
              << std::endl;
    return code;
  }
  auto final_record = fetch(api, id);
  if (!final_record) {
    report(final_record.error());
    std::cerr << "the log ended with status " << *status << std::endl;
    return exit_code_of_status(*status);
  }
  if (as_json)
    print_json(*final_record);
  else
    print_outcome(*final_record);
  return exit_code_of_status(str_of(*final_record, "status", *status));
}

} // namespace

void add_console_deploy_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<deploy_args>();
  auto* cmd = add_console_command(
    app, exit_code, "deploy",
    "Deploy PROJECT to its environment ENV (each a name or an id): prints the deployment "
    "id, follows its log live until it ends (reconnecting if the connection drops), prints "
    "the outcome and exits 0 on success, 1 if it failed, 3 if it was cancelled. Ctrl-C "
    "only stops following: the deployment goes on (`gilgal cancel ID` cancels it). With "
    "--json, the log goes to stderr and stdout gets the final deployment's JSON.",
    [a](const api_client& api) { return deploy(api, *a); });
  cmd->add_option("PROJECT", a->project, "project name or id")->required();
  cmd->add_option("ENV", a->environment, "environment name or id (of that project)")
    ->required();
  cmd->add_option("--commit", a->commit,
                  "commit sha to deploy, 7-40 hex characters (default: the head of the "
                  "project's branch)");
  cmd->add_option("--message", a->message, "commit or deployment message to record");
  cmd->add_flag("--no-follow", a->no_follow,
                "print the deployment id and return at once instead of following the log");
}

} // namespace gilgal::cli
