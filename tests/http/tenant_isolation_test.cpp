// Attacks of one tenant on the server, its host and other tenants, through a
// real `gilgal serve` and real Docker (issue 9): repository URLs and
// Dockerfile ADDs aimed at this machine or the private network, resources
// above the server's maxima, connections between environments' apps, and the
// server's own git configuration.
#define CAF_SUITE http.tenant_isolation
#include <caf/test/unit_test.hpp>

#include <fstream>
#include <thread>

#include <sys/stat.h>

#include "nodes/docker_client.hpp"
#include "nodes/environment_network.hpp"
#include "tests/fixtures/git_repo.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_images.hpp"
#include "tests/http/api_support.hpp"

using namespace gilgal;
using namespace gilgal::test;
using nlohmann::json;

namespace {

// PROBE=host:port: open a TCP connection to it first (2 s at most) and publish
// the exit code (0: connected) as /probe-rc; then serve. No RUN step: builds
// stay quick.
const char* probing_dockerfile = R"(FROM gilgal-test/busybox:latest
COPY www /www
CMD ["/bin/sh", "-c", "if [ -n \"$PROBE\" ]; then nc -w 2 ${PROBE%:*} ${PROBE#*:} </dev/null >/www/probe 2>&1; echo $? > /www/probe-rc; fi; exec httpd -f -p $PORT -h /www"]
)";

server_options deploying(std::vector<std::string> extra = {}) {
  server_options o;
  o.allow_local_sources = true;
  o.extra_args = {"--docker-host", docker_host_or_default()};
  o.extra_args.insert(o.extra_args.end(), extra.begin(), extra.end());
  return o;
}

struct fixture {
  docker_client docker{docker_host_or_default()};
  std::vector<std::string> projects;

  fixture() { CAF_REQUIRE(ensure_busybox_image(docker)); }

  ~fixture() { remove_apps(); }

  /// Removes the containers, networks and images of this test's projects.
  /// Tests call it before their server stops: a server stopping while one of
  /// its containers is live can take 20 s (to investigate), past CAF test's
  /// 30 s per test.
  void remove_apps() {
    for (auto& p : projects) {
      if (auto list = docker.list_containers({"gilgal.project=" + p}, true))
        for (auto& c : *list)
          docker.remove_container(c.id, true, true);
      if (auto nets = docker.list_networks({"gilgal.project=" + p}))
        for (auto& n : *nets)
          docker.remove_network(n);
      if (auto images = docker.list_images({"gilgal.project=" + p}))
        for (auto& i : *images)
          docker.remove_image(i.id, true);
    }
  }

  std::string project(httplib::Client& cli, const std::string& token, const std::string& url) {
    auto r = call(cli, "POST", "/api/projects", token,
                  json{{"name", "app" + std::to_string(projects.size())}, {"repositoryUrl", url}});
    CAF_REQUIRE_EQUAL(r.status, 201);
    projects.push_back(r.body["id"]);
    return projects.back();
  }

  std::string environment(httplib::Client& cli, const std::string& token,
                          const std::string& project_id, json vars = json::object()) {
    auto r = call(cli, "POST", "/api/projects/" + project_id + "/environments", token,
                  json{{"name", "production"}, {"type", "production"},
                       {"environmentVariables", vars}});
    CAF_REQUIRE_EQUAL(r.status, 201);
    return r.body["id"];
  }

  /// Triggers a deployment and waits for its end; the final deployment.
  json deploy(httplib::Client& cli, const std::string& token, const std::string& project_id,
              const std::string& environment_id) {
    auto r = call(cli, "POST", "/api/projects/" + project_id + "/deployments", token,
                  json{{"environmentId", environment_id}});
    CAF_REQUIRE_EQUAL(r.status, 201);
    std::string id = r.body["id"];
    auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
    for (;;) {
      auto d = call(cli, "GET", "/api/deployments/" + id, token);
      CAF_REQUIRE_EQUAL(d.status, 200);
      auto st = d.body["status"].get<std::string>();
      if (st != "pending" && st != "building")
        return d.body;
      CAF_REQUIRE(std::chrono::steady_clock::now() < deadline);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  std::string probe_result(int port) {
    httplib::Client app("127.0.0.1", port);
    auto res = app.Get("/probe-rc");
    CAF_REQUIRE(res);
    CAF_REQUIRE_EQUAL(res->status, 200);
    auto body = res->body;
    while (!body.empty() && body.back() == '\n')
      body.pop_back();
    return body;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(tenant_isolation, fixture)

// Item 8: git is not pointed at this machine, the metadata service or the
// private network through the API.
CAF_TEST(repository urls aimed at private targets answer 400) {
  gilgal_server srv;
  auto cli = srv.client();
  auto token = srv.token();
  for (auto url : {"https://127.0.0.1/x.git", "https://169.254.169.254/latest/meta-data",
                   "https://[::1]:8443/x.git", "git@10.0.0.1:a/b.git", "https://localhost/x.git",
                   "ssh://git@192.168.1.1/x.git", "https://2130706433/x.git",
                   "https://0x7f.1/x.git", "https://100.64.0.1/x.git"}) {
    auto r = call(*cli, "POST", "/api/projects", token,
                  json{{"name", "app"}, {"repositoryUrl", url}});
    CHECK_WHY(r.status == 400, url);
    CHECK_WHY(r.names_field("repositoryUrl"), r.describe());
  }
  auto id = make_project(*cli, token, "shop");
  auto patched = call(*cli, "PATCH", "/api/projects/" + id, token,
                      json{{"repositoryUrl", "https://169.254.169.254/x.git"}});
  CAF_CHECK_EQUAL(patched.status, 400);
  CAF_CHECK(patched.error_message().find("link-local") != std::string::npos);
  auto kept = call(*cli, "GET", "/api/projects/" + id, token);
  CAF_CHECK_EQUAL(kept.body["repositoryUrl"], "https://git.example.com/org/shop.git");
  // Other fields of a project can still change.
  CAF_CHECK_EQUAL(call(*cli, "PATCH", "/api/projects/" + id, token, json{{"branch", "dev"}}).status,
                  200);
  CAF_CHECK(srv.running());
  // An operator who hosts git on the private network says so.
  server_options opts;
  opts.extra_args = {"--allow-private-targets"};
  gilgal_server open_srv{opts};
  auto open_cli = open_srv.client();
  auto r = call(*open_cli, "POST", "/api/projects", open_srv.token(),
                json{{"name", "internal"}, {"repositoryUrl", "https://10.0.0.1/x.git"}});
  CAF_CHECK_EQUAL(r.status, 201);
}

// Item 6: a tenant cannot give itself more than the operator allows.
CAF_TEST(resources above the server maxima answer 400 naming field and maximum) {
  server_options opts;
  opts.extra_args = {"--max-memory-mb", "1024", "--max-cpus", "1.5", "--max-pids", "300"};
  gilgal_server srv{opts};
  auto cli = srv.client();
  auto token = srv.token();
  auto p = make_project(*cli, token, "shop");
  auto path = "/api/projects/" + p + "/environments";
  struct bad_case {
    json resources;
    std::string message;
  };
  for (auto& c : std::vector<bad_case>{
         {{{"memoryMb", 1025}}, "resources.memoryMb: must be at most 1024 (this server's maximum)"},
         {{{"cpus", 2}}, "resources.cpus: must be at most 1.5 (this server's maximum)"},
         {{{"pids", 301}}, "resources.pids: must be at most 300 (this server's maximum)"},
         {{{"memoryMb", 262144}}, "resources.memoryMb: must be at most 1024 (this server's maximum)"}}) {
    auto r = call(*cli, "POST", path, token,
                  json{{"name", "big"}, {"type", "production"}, {"resources", c.resources}});
    CAF_CHECK_EQUAL(r.status, 400);
    CAF_CHECK_EQUAL(r.error_message(), c.message);
  }
  auto listed = call(*cli, "GET", path, token);
  CAF_CHECK_EQUAL(listed.body["total"], 0);
  if (listed.body["total"] != 0)
    CAF_MESSAGE(listed.describe());
  auto ok = call(*cli, "POST", path, token,
                 json{{"name", "fits"}, {"type", "production"},
                      {"resources", {{"memoryMb", 1024}, {"cpus", 1.5}, {"pids", 300}}}});
  CAF_REQUIRE_EQUAL(ok.status, 201);
  std::string env = ok.body["id"];
  auto patched = call(*cli, "PATCH", "/api/environments/" + env, token,
                      json{{"resources", {{"memoryMb", 4096}}}});
  CAF_CHECK_EQUAL(patched.status, 400);
  CAF_CHECK(patched.names_field("resources.memoryMb"));
  auto kept = call(*cli, "GET", "/api/environments/" + env, token);
  CAF_CHECK_EQUAL(kept.body["resources"]["memoryMb"], 1024);
  if (kept.body["resources"]["memoryMb"] != 1024)
    CAF_MESSAGE(kept.describe());
  // The defaults: 2048 MiB, 2 CPUs, 512 pids.
  gilgal_server plain;
  auto plain_cli = plain.client();
  auto q = make_project(*plain_cli, plain.token(), "shop");
  auto r = call(*plain_cli, "POST", "/api/projects/" + q + "/environments", plain.token(),
                json{{"name", "big"}, {"type", "production"}, {"resources", {{"memoryMb", 4096}}}});
  CAF_CHECK_EQUAL(r.status, 400);
  CAF_CHECK_EQUAL(r.error_message(),
                  "resources.memoryMb: must be at most 2048 (this server's maximum)");
}

// Item 5: the daemon would fetch these from the host's network.
CAF_TEST(a dockerfile add of the metadata service or this host fails before the build) {
  gilgal_server srv{deploying()};
  auto cli = srv.client();
  auto token = srv.token();
  for (auto [add, why] : std::vector<std::pair<std::string, std::string>>{
         {"http://169.254.169.254/latest/meta-data/", "link-local"},
         {"http://127.0.0.1:" + std::to_string(srv.port()) + "/healthz", "loopback"},
         {"http://localhost:2375/containers/json", "names this machine"}}) {
    git_repo repo;
    repo.commit({{"Dockerfile", "FROM gilgal-test/busybox:latest\nADD " + add
                                  + " /stolen\nCMD [\"httpd\", \"-f\"]\n"}});
    auto p = project(*cli, token, repo.path());
    auto e = environment(*cli, token, p);
    auto d = deploy(*cli, token, p, e);
    CAF_CHECK_EQUAL(d["status"], "failed");
    std::string message = d["errorMessage"].is_string() ? d["errorMessage"].get<std::string>() : "";
    CAF_MESSAGE(message);
    CAF_CHECK(message.find("Dockerfile line 2: ADD " + add) != std::string::npos);
    CAF_CHECK(message.find(why) != std::string::npos);
    // No image was built.
    auto images = docker.list_images({"gilgal.project=" + p});
    CAF_REQUIRE(images);
    CAF_CHECK(images->empty());
  }
  CAF_CHECK(srv.running());
}

// Item 7: another tenant's app cannot open a connection to a container's
// address (its unpublished ports, its database, its admin interface).
CAF_TEST(an app cannot connect to a container of another environment) {
  gilgal_server srv{deploying()};
  auto cli = srv.client();
  auto alice = srv.token();
  auto bob = srv.create_user("bob");
  git_repo repo;
  repo.commit({{"Dockerfile", probing_dockerfile}, {"www/index.html", "hello\n"}});
  auto victim_project = project(*cli, alice, repo.path());
  auto victim_env = environment(*cli, alice, victim_project);
  auto victim = deploy(*cli, alice, victim_project, victim_env);
  CAF_REQUIRE_EQUAL(victim["status"], "success");
  auto info = docker.inspect_container(victim["containerId"]);
  CAF_REQUIRE(info);
  // On its environment's network, not on Docker's default bridge.
  CAF_CHECK_EQUAL(info->ip_addresses.size(), 1u);
  CAF_CHECK_EQUAL(info->ip_addresses.count("bridge"), 0u);
  auto address = info->ip_addresses[environment_network_name(victim_env)];
  CAF_REQUIRE(!address.empty());
  auto target = address + ":8080";
  CAF_MESSAGE("victim container at " << target);
  // Bob's app tries.
  auto attacker_project = project(*cli, bob, repo.path());
  auto attacker_env = environment(*cli, bob, attacker_project, json{{"PROBE", target}});
  auto attacker = deploy(*cli, bob, attacker_project, attacker_env);
  CAF_REQUIRE_EQUAL(attacker["status"], "success");
  CAF_CHECK_NOT_EQUAL(probe_result(attacker["port"].get<int>()), "0");
  // The same probe from the victim's own environment connects (the address
  // was right): a second deployment starts while the first is still live.
  // (?deploy=false: a config release would replace the first container.)
  auto patched = call(*cli, "PATCH", "/api/environments/" + victim_env + "?deploy=false", alice,
                      json{{"environmentVariables", {{"PROBE", target}}}});
  CAF_REQUIRE_EQUAL(patched.status, 200);
  auto sibling = deploy(*cli, alice, victim_project, victim_env);
  CAF_REQUIRE_EQUAL(sibling["status"], "success");
  CAF_CHECK_EQUAL(probe_result(sibling["port"].get<int>()), "0");
  CAF_CHECK(srv.running());
  remove_apps();
}

// Item 8: the server's git configuration (here one that sends every fetch of
// the repository elsewhere) does not reach the git Gilgal runs. The
// repository's Dockerfile fails to parse: a deployment that gets as far as
// Docker's error fetched the commit (a redirected fetch fails in git).
CAF_TEST(the git configuration of the server does not reach git) {
  git_repo repo;
  repo.commit({{"Dockerfile", "FROM gilgal-test/busybox:latest\nNOSUCHINSTRUCTION x\n"}});
  auto home = make_temp_dir("gilgal-server-home");
  std::ofstream(home + "/.gitconfig")
    << "[url \"file:///nonexistent/\"]\n\tinsteadOf = file://" << repo.path() << "\n"
    << "[credential]\n\thelper = store\n";
  auto opts = deploying();
  opts.env["HOME"] = home;
  opts.env["GIT_CONFIG_GLOBAL"] = home + "/.gitconfig";
  opts.env["GIT_CONFIG_SYSTEM"] = home + "/.gitconfig";
  gilgal_server srv{opts};
  auto cli = srv.client();
  auto token = srv.token();
  auto p = project(*cli, token, "file://" + repo.path());
  auto e = environment(*cli, token, p);
  auto d = deploy(*cli, token, p, e);
  CAF_CHECK_EQUAL(d["status"], "failed");
  std::string message = d["errorMessage"].is_string() ? d["errorMessage"].get<std::string>() : "";
  CAF_MESSAGE(message);
  CAF_CHECK(message.find("NOSUCHINSTRUCTION") != std::string::npos
            || message.find("nosuchinstruction") != std::string::npos);
  CAF_CHECK(message.find("nonexistent") == std::string::npos);
  remove_tree(home);
}

CAF_TEST_FIXTURE_SCOPE_END()
