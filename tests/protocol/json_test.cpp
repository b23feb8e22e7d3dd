#define CAF_SUITE protocol.json
#include <caf/test/unit_test.hpp>

#include "protocol/error.hpp"
#include "protocol/json.hpp"

using namespace gilgal;

/// CAF_CHECK with a note printed when it fails.
#define CHECK_WHY(cond, what)                                                  \
  do {                                                                         \
    if (cond) {                                                                \
      CAF_CHECK(true);                                                         \
    } else {                                                                   \
      CAF_ERROR(std::string{#cond} + " failed for: " + std::string{what});     \
    }                                                                          \
  } while (false)
using nlohmann::json;

namespace {

bool names(const caf::error& err, const std::string& field) {
  return err && code_of(err) == errc::invalid_argument
         && message_of(err).rfind(field + ":", 0) == 0;
}

} // namespace

CAF_TEST(projects serialise camelCase) {
  project p;
  p.id = "p1";
  p.owner_id = "u1";
  p.name = "app";
  p.repository_url = "https://h/x";
  p.created_at = "2026-01-01T00:00:00.000Z";
  p.updated_at = p.created_at;
  auto j = to_json(p);
  CAF_CHECK_EQUAL(j["repositoryUrl"], "https://h/x");
  CAF_CHECK_EQUAL(j["branch"], "main");
  CAF_CHECK_EQUAL(j["framework"], "auto");
  CAF_CHECK_EQUAL(j["createdAt"], "2026-01-01T00:00:00.000Z");
  CAF_CHECK(!j.contains("owner_id") && !j.contains("ownerId"));
  auto back = project_from_json(j);
  CAF_REQUIRE(back);
  CAF_CHECK_EQUAL(back->repository_url, p.repository_url);
  CAF_CHECK_EQUAL(back->updated_at, p.updated_at);
}

CAF_TEST(environments mask values on request) {
  environment e;
  e.id = "e1";
  e.project_id = "p1";
  e.name = "prod";
  e.type = "production";
  e.variables = {{"A", "secret"}, {"B", "other"}};
  e.settings.memory_mb = 256;
  auto shown = to_json(e, true);
  auto masked = to_json(e, false);
  CAF_CHECK_EQUAL(shown["environmentVariables"]["A"], "secret");
  CAF_CHECK_EQUAL(masked["environmentVariables"]["A"], masked_value);
  CAF_CHECK_EQUAL(masked["environmentVariables"].size(), 2u);
  CAF_CHECK(masked.dump().find("secret") == std::string::npos);
  CAF_CHECK(shown["domain"].is_null());
  CAF_CHECK_EQUAL(shown["resources"]["memoryMb"], 256);
  CAF_CHECK(shown["resources"]["cpus"].is_null());
  CAF_CHECK(shown["healthCheck"]["path"].is_null());
  auto back = environment_from_json(shown);
  CAF_REQUIRE(back);
  CAF_CHECK(back->variables == e.variables);
  CAF_CHECK_EQUAL(back->settings.memory_mb, 256);
  CAF_CHECK_EQUAL(shown["buildNodeLabels"], json::object());
  e.settings.build_labels = {{"arch", "amd64"}};
  e.settings.run_labels = {{"zone", "eu-1"}, {"ssd", ""}};
  auto labelled = to_json(e, false);
  CAF_CHECK_EQUAL(labelled["buildNodeLabels"], (json{{"arch", "amd64"}}));
  CAF_CHECK_EQUAL(labelled["runNodeLabels"], (json{{"zone", "eu-1"}, {"ssd", ""}}));
  auto labels_back = environment_from_json(labelled);
  CAF_REQUIRE(labels_back);
  CAF_CHECK(labels_back->settings.build_labels == e.settings.build_labels);
  CAF_CHECK(labels_back->settings.run_labels == e.settings.run_labels);
}

CAF_TEST(a record read back refuses numbers it cannot hold) {
  // Found by fuzz_request_body: a float beyond int64 was converted (undefined).
  for (auto bad : {json(5192233720368547758072.0), json(0.5), json(18446744073709551615u),
                   json("256")}) {
    auto read = environment_from_json(json{{"resources", {{"memoryMb", bad}}}});
    CAF_CHECK(!read);
  }
  auto fine = environment_from_json(json{{"resources", {{"memoryMb", 256}, {"cpus", 1}}}});
  CAF_REQUIRE(fine);
  CAF_CHECK_EQUAL(fine->settings.memory_mb, 256);
  CAF_CHECK_EQUAL(fine->settings.cpus, 1.0);
}

CAF_TEST(environment label bodies) {
  environment e;
  CAF_CHECK(!apply_environment_json(
    json{{"name", "a"}, {"type", "staging"}, {"buildNodeLabels", {{"arch", "amd64"}}}}, e,
    true));
  CAF_CHECK(e.settings.build_labels == (std::map<std::string, std::string>{{"arch", "amd64"}}));
  // A PATCH merges; null deletes one label, a null object clears.
  CAF_CHECK(!apply_environment_json(json{{"buildNodeLabels", {{"gpu", "1"}, {"arch", nullptr}}}},
                                    e, false));
  CAF_CHECK(e.settings.build_labels == (std::map<std::string, std::string>{{"gpu", "1"}}));
  CAF_CHECK(!apply_environment_json(json{{"buildNodeLabels", nullptr}}, e, false));
  CAF_CHECK(e.settings.build_labels.empty());
  // A null value on create is a wrong type; a refused body changes nothing.
  environment fresh;
  CAF_CHECK(names(apply_environment_json(json{{"name", "a"}, {"type", "staging"},
                                              {"runNodeLabels", {{"zone", nullptr}}}},
                                         fresh, true),
                  "runNodeLabels.zone"));
  e.settings.run_labels = {{"zone", "eu-1"}};
  CAF_CHECK(names(apply_environment_json(json{{"runNodeLabels", {{"zone", "eu 2"}}}}, e, false),
                  "runNodeLabels.zone"));
  CAF_CHECK(names(apply_environment_json(json{{"runNodeLabels", "zone=eu"}}, e, false),
                  "runNodeLabels"));
  CAF_CHECK_EQUAL(e.settings.run_labels.at("zone"), "eu-1");
}

CAF_TEST(nodes serialise camelCase) {
  node_status n;
  n.name = "n1";
  n.state = "up";
  n.capacity = 4;
  n.running_builds = 2;
  n.running_runs = 1;
  n.labels = {{"arch", "arm64"}};
  n.address = "10.0.0.21";
  n.last_heartbeat = "2026-01-01T00:00:01.000Z";
  auto j = to_json(n);
  CAF_CHECK_EQUAL(j, (json{{"name", "n1"},
                           {"state", "up"},
                           {"capacity", 4},
                           {"runningBuilds", 2},
                           {"runningRuns", 1},
                           {"labels", {{"arch", "arm64"}}},
                           {"address", "10.0.0.21"},
                           {"lastHeartbeat", "2026-01-01T00:00:01.000Z"},
                           {"joinedAt", nullptr},
                           {"local", false}}));
  auto back = node_status_from_json(j);
  CAF_REQUIRE(back);
  CAF_CHECK_EQUAL(back->running_builds, 2);
  CAF_CHECK(back->labels == n.labels);
  CAF_CHECK(back->joined_at.empty());
}

CAF_TEST(pages) {
  page<project> p;
  p.items.resize(2);
  p.total = 5;
  p.page = 2;
  p.limit = 2;
  auto j = page_to_json(p, [](const project& x) { return to_json(x); });
  CAF_CHECK_EQUAL(j["items"].size(), 2u);
  CAF_CHECK_EQUAL(j["total"], 5);
  CAF_CHECK_EQUAL(j["page"], 2);
  CAF_CHECK_EQUAL(j["limit"], 2);
  CAF_CHECK_EQUAL(j["hasMore"], true);
  p.page = 3;
  p.items.resize(1);
  auto last = page_to_json(p, [](const project& x) { return to_json(x); });
  CAF_CHECK_EQUAL(last["hasMore"], false);
}

CAF_TEST(deployments serialise camelCase with nulls) {
  deployment d;
  d.id = "d1";
  d.status = deployment_status::success;
  d.duration_seconds = 12.5;
  d.container_id = "c1";
  d.port = 20001;
  auto j = to_json(d);
  CAF_CHECK_EQUAL(j["durationSeconds"], 12.5);
  CAF_CHECK_EQUAL(j["containerId"], "c1");
  CAF_CHECK_EQUAL(j["port"], 20001);
  CAF_CHECK(j["deployedAt"].is_null());
  CAF_CHECK(j["errorMessage"].is_null());
  CAF_CHECK(j["buildNode"].is_null());
  CAF_CHECK(j["runNode"].is_null());
  d.build_node = "local";
  d.run_node = "edge-1";
  j = to_json(d);
  CAF_CHECK_EQUAL(j["buildNode"], "local");
  CAF_CHECK_EQUAL(j["runNode"], "edge-1");
  auto back = deployment_from_json(j);
  CAF_REQUIRE(back);
  CAF_CHECK_EQUAL(back->port, 20001);
  CAF_CHECK(back->duration_seconds && *back->duration_seconds == 12.5);
  CAF_CHECK_EQUAL(back->build_node, "local");
  CAF_CHECK_EQUAL(back->run_node, "edge-1");
}

CAF_TEST(deployment status and kind are written and read in their text form) {
  deployment d;
  d.id = "d1";
  d.status = deployment_status::cancelled;
  d.kind = deployment_kind::rollback;
  auto j = to_json(d);
  CAF_CHECK_EQUAL(j["status"], "cancelled");
  CAF_CHECK_EQUAL(j["kind"], "rollback");
  auto back = deployment_from_json(j);
  CAF_REQUIRE(back);
  CAF_CHECK_EQUAL(back->status, deployment_status::cancelled);
  CAF_CHECK_EQUAL(back->kind, deployment_kind::rollback);
  j["status"] = "exploded";
  auto bad_status = deployment_from_json(j);
  CAF_REQUIRE(!bad_status);
  CAF_CHECK(message_of(bad_status.error()).find("exploded") != std::string::npos);
  j["status"] = "success";
  j["kind"] = "redeploy";
  CAF_CHECK(!deployment_from_json(j));
}

CAF_TEST(deployments also carry the seeds field names) {
  deployment d;
  d.id = "d1";
  auto pending = to_json(d);
  CAF_CHECK(pending["duration_seconds"].is_null());
  CAF_CHECK(pending["container_id"].is_null());
  CAF_CHECK(pending["deployed_at"].is_null());
  d.duration_seconds = 239.6;
  d.container_id = "c0ffee";
  d.deployed_at = "2025-12-30T10:35:00.000Z";
  auto j = to_json(d);
  CAF_CHECK(j["duration_seconds"].is_number_integer()); // whole seconds, as the seed shows
  CAF_CHECK_EQUAL(j["duration_seconds"], 240);
  CAF_CHECK_EQUAL(j["durationSeconds"], 239.6);
  CAF_CHECK_EQUAL(j["container_id"], "c0ffee");
  CAF_CHECK_EQUAL(j["deployed_at"], "2025-12-30T10:35:00.000Z");
}

CAF_TEST(body parsing) {
  CAF_CHECK(names(parse_json_object("").error(), "body"));
  CAF_CHECK(names(parse_json_object("{").error(), "body"));
  CAF_CHECK(names(parse_json_object("[1]").error(), "body"));
  CAF_CHECK(names(parse_json_object("\"x\"").error(), "body"));
  CAF_CHECK(names(parse_json_object("{} x").error(), "body"));
  CAF_CHECK(names(parse_json_object(std::string(100000, '[')).error(), "body"));
  CAF_CHECK(names(parse_json_object("{\"a\":\"\xff\"}").error(), "body"));
  CAF_CHECK(parse_json_object("{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[\"}"));
  CAF_CHECK(parse_json_object(" {\"a\": 1} "));
}

CAF_TEST(project bodies) {
  project p;
  CAF_CHECK(!apply_project_json(json{{"name", "app"}, {"repositoryUrl", "https://h/x"}}, p,
                                true, false));
  CAF_CHECK_EQUAL(p.branch, "main");
  CAF_CHECK_EQUAL(p.framework, "auto");
  auto create = [](json body, bool local = false) {
    project q;
    return apply_project_json(body, q, true, local);
  };
  CAF_CHECK(names(create(json{{"repositoryUrl", "https://h/x"}}), "name"));
  CAF_CHECK(names(create(json{{"name", "app"}}), "repositoryUrl"));
  CAF_CHECK(names(create(json{{"name", 5}, {"repositoryUrl", "https://h/x"}}), "name"));
  CAF_CHECK(names(create(json{{"name", "a"}, {"repositoryUrl", "https://h/x"}, {"x", 1}}), "x"));
  CAF_CHECK(names(create(json{{"name", "a"}, {"repositoryUrl", "https://h/x"},
                              {"framework", "rails"}}),
                  "framework"));
  CAF_CHECK(names(create(json{{"name", "a"}, {"repositoryUrl", "https://h/x"},
                              {"branch", nullptr}}),
                  "branch"));
  CAF_CHECK(names(create(json{{"name", "a"}, {"repositoryUrl", "/srv/x"}}), "repositoryUrl"));
  CAF_CHECK(!create(json{{"name", "a"}, {"repositoryUrl", "/srv/x"}}, true));
  // PATCH keeps what is absent and leaves the target untouched on error.
  CAF_CHECK(!apply_project_json(json{{"branch", "dev"}}, p, false, false));
  CAF_CHECK_EQUAL(p.branch, "dev");
  CAF_CHECK_EQUAL(p.name, "app");
  CAF_CHECK(names(apply_project_json(json{{"name", "ok"}, {"branch", ";rm -rf /"}}, p, false,
                                     false),
                  "branch"));
  CAF_CHECK_EQUAL(p.name, "app");
}

CAF_TEST(project notification targets) {
  project p;
  auto hook = [](json url, json events) { return json{{"url", url}, {"events", events}}; };
  auto patch = [&](json list) { return apply_project_json(json{{"notifications", list}}, p,
                                                          false, false); };
  CAF_REQUIRE(!patch(json::array({hook("https://h.example/a", {"deployment.failed",
                                                               "deployment.failed",
                                                               "deployment.started"})})));
  CAF_REQUIRE_EQUAL(p.notifications.size(), 1u);
  CAF_CHECK_EQUAL(p.notifications[0].url, "https://h.example/a");
  CAF_CHECK_EQUAL(p.notifications[0].events.size(), 2u); // duplicates dropped
  // Errors name the item and field, and leave the list as it was.
  CAF_CHECK(names(patch("https://h.example/a"), "notifications"));
  CAF_CHECK(names(patch(json::array({5})), "notifications[0]"));
  CAF_CHECK(names(patch(json::array({hook("https://h.example/a", {"deployment.failed"}),
                                     hook(7, {"deployment.failed"})})),
                  "notifications[1].url"));
  CAF_CHECK(names(patch(json::array({hook("ftp://h.example/a", {"deployment.failed"})})),
                  "notifications[0].url"));
  CAF_CHECK(names(patch(json::array({hook("https://h.example/a", json::array())})),
                  "notifications[0].events"));
  CAF_CHECK(names(patch(json::array({hook("https://h.example/a", {"deployment.done"})})),
                  "notifications[0].events"));
  CAF_CHECK(names(patch(json::array({json{{"url", "https://h.example/a"},
                                          {"events", {"deployment.failed"}},
                                          {"secret", "x"}}})),
                  "notifications[0].secret"));
  json many = json::array();
  for (int i = 0; i < 11; ++i)
    many.push_back(hook("https://h.example/" + std::to_string(i), {"deployment.failed"}));
  CAF_CHECK(names(patch(many), "notifications"));
  CAF_CHECK_EQUAL(p.notifications.size(), 1u);
  // null removes every target; the answer lists them.
  auto shown = to_json(p);
  CAF_CHECK_EQUAL(shown["notifications"][0]["url"], "https://h.example/a");
  CAF_CHECK(!patch(nullptr));
  CAF_CHECK(p.notifications.empty());
  auto cleared = to_json(p);
  CAF_CHECK(cleared["notifications"].empty());
}

CAF_TEST(environment bodies) {
  environment e;
  CAF_CHECK(!apply_environment_json(
    json{{"name", "Production"},
         {"type", "production"},
         {"domain", "myapp.gilgal.dev"},
         {"environmentVariables", {{"NODE_ENV", "production"}, {"LOG_LEVEL", "error"}}},
         {"resources", {{"memoryMb", 256}, {"cpus", 0.5}}},
         {"healthCheck", {{"path", "/health"}, {"timeoutSeconds", 20}}}},
    e, true));
  CAF_CHECK_EQUAL(e.variables.size(), 2u);
  CAF_CHECK_EQUAL(e.settings.memory_mb, 256);
  CAF_CHECK_EQUAL(e.settings.cpus, 0.5);
  CAF_CHECK_EQUAL(e.settings.health_check_path, "/health");
  // PATCH merges variables; null deletes one.
  CAF_CHECK(!apply_environment_json(
    json{{"environmentVariables", {{"NODE_ENV", nullptr}, {"NEW", "1"}}}}, e, false));
  CAF_CHECK(e.variables.count("NODE_ENV") == 0);
  CAF_CHECK_EQUAL(e.variables["NEW"], "1");
  CAF_CHECK_EQUAL(e.variables["LOG_LEVEL"], "error");
  CAF_CHECK_EQUAL(e.settings.memory_mb, 256);
  // null resets resources to defaults; domain null clears.
  CAF_CHECK(!apply_environment_json(json{{"resources", {{"memoryMb", nullptr}}},
                                         {"domain", nullptr}},
                                    e, false));
  CAF_CHECK_EQUAL(e.settings.memory_mb, 0);
  CAF_CHECK_EQUAL(e.settings.cpus, 0.5);
  CAF_CHECK(e.domain.empty());
  auto bad = [&](json body, const std::string& field, bool creating = false) {
    auto copy = e;
    auto err = apply_environment_json(body, copy, creating);
    CHECK_WHY(names(err, field), body.dump() + " -> " + message_of(err));
  };
  bad(json{{"name", "x"}}, "type", true);
  bad(json{{"type", "production"}}, "name", true);
  bad(json{{"type", "prod"}}, "type");
  bad(json{{"domain", "not a host"}}, "domain");
  bad(json{{"domain", 5}}, "domain");
  bad(json{{"environmentVariables", {{"9BAD", "x"}}}}, "environmentVariables");
  bad(json{{"environmentVariables", {{"$(reboot)", "x"}}}}, "environmentVariables");
  bad(json{{"environmentVariables", {{"A", 5}}}}, "environmentVariables.A");
  bad(json{{"environmentVariables", json::array()}}, "environmentVariables");
  bad(json{{"name", "p"}, {"type", "production"}, {"environmentVariables", {{"A", nullptr}}}},
      "environmentVariables.A", true);
  bad(json{{"resources", {{"memoryMb", "512"}}}}, "resources.memoryMb");
  bad(json{{"resources", {{"memoryMb", 1.5}}}}, "resources.memoryMb");
  bad(json{{"resources", {{"memoryMb", 1}}}}, "resources.memoryMb");
  bad(json{{"resources", {{"disk", 1}}}}, "resources.disk");
  bad(json{{"resources", {{"pids", 18446744073709551615ull}}}}, "resources.pids");
  bad(json{{"healthCheck", {{"timeoutSeconds", 0}}}}, "healthCheck.timeoutSeconds");
  bad(json{{"healthCheck", {{"path", "x"}}}}, "healthCheck.path");
  bad(json{{"healthCheck", 3}}, "healthCheck");
  bad(json{{"extra", true}}, "extra");
}
