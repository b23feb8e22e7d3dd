// Real Docker: each environment's containers on a network of their own.
#define CAF_SUITE nodes.environment_network
#include <caf/test/unit_test.hpp>

#include <httplib.h>
#include <unistd.h>

#include "nodes/build_context.hpp"
#include "nodes/container_runner.hpp"
#include "nodes/docker_client.hpp"
#include "nodes/environment_network.hpp"
#include "protocol/error.hpp"
#include "protocol/ids.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_images.hpp"

using namespace gilgal;

namespace {

// An app that, when PROBE=host:port is set, first tries to open a TCP
// connection to it (3 s at most) and publishes the exit code of that attempt
// (0: connected) as /probe-rc, then serves /www.
const char* probing_app = R"(FROM gilgal-test/busybox:latest
RUN mkdir -p /www && echo hello > /www/index.html
CMD ["/bin/sh", "-c", "if [ -n \"$PROBE\" ]; then nc -w 3 ${PROBE%:*} ${PROBE#*:} </dev/null >/www/probe 2>&1; echo $? > /www/probe-rc; fi; exec httpd -f -p $PORT -h /www"]
)";

struct fixture {
  docker_client docker{test::docker_host_or_default()};
  std::string dir = test::make_temp_dir("gilgal-netns");
  std::string image = "gilgal-netns-" + std::to_string(::getpid());
  node_settings ns;
  std::unique_ptr<port_allocator> ports;
  std::string project = new_uuid();
  std::vector<std::string> containers;
  std::vector<std::string> environments;

  fixture() {
    CAF_REQUIRE(test::ensure_busybox_image(docker));
    build_context_options ctx;
    ctx.extra_files["Dockerfile"] = probing_app;
    auto tar = make_build_context(dir, ctx);
    CAF_REQUIRE(tar);
    build_options opts;
    opts.tags = {image + ":latest"};
    auto id = docker.build(*tar, opts);
    if (!id)
      CAF_FAIL("build: " << message_of(id.error()));
    ns.cfg.docker_host = test::docker_host_or_default();
    ns.cfg.port_range_begin = 36000 + static_cast<int>(::getpid() % 500) * 4;
    ns.cfg.port_range_end = ns.cfg.port_range_begin + 200;
    ns.cfg.health_check_timeout_seconds = 30;
    ports = std::make_unique<port_allocator>(ns.cfg.bind_address, ns.cfg.port_range_begin,
                                             ns.cfg.port_range_end);
  }

  ~fixture() {
    for (auto& c : containers)
      docker.remove_container(c, true);
    for (auto& e : environments)
      docker.remove_network(environment_network_name(e));
    docker.remove_image(image + ":latest", true);
    test::remove_tree(dir);
  }

  run_result run(const std::string& environment_id, const std::string& probe = "") {
    run_job job;
    job.deployment_id = new_uuid();
    job.project_id = project;
    job.environment_id = environment_id;
    job.image_name = image;
    if (!probe.empty())
      job.variables["PROBE"] = probe;
    auto ran = run_container(job, ns, docker, *ports, abort_signal::make(),
                             [](const std::string&, const std::string&) {});
    if (!ran)
      CAF_FAIL("run: " << message_of(ran.error()));
    containers.push_back(ran->container_id);
    return *ran;
  }

  std::string environment() {
    environments.push_back(new_uuid());
    return environments.back();
  }

  /// The container's address on its environment's network (and no other).
  std::string address_of(const std::string& container_id, const std::string& environment_id) {
    auto info = docker.inspect_container(container_id);
    CAF_REQUIRE(info);
    CAF_CHECK_EQUAL(info->ip_addresses.size(), 1u);
    CAF_CHECK_EQUAL(info->ip_addresses.count("bridge"), 0u);
    auto i = info->ip_addresses.find(environment_network_name(environment_id));
    CAF_REQUIRE(i != info->ip_addresses.end());
    return i->second;
  }

  std::string probe_result(const run_result& r) {
    httplib::Client cli("127.0.0.1", static_cast<int>(r.port));
    auto res = cli.Get("/probe-rc");
    CAF_REQUIRE(res);
    CAF_REQUIRE_EQUAL(res->status, 200);
    auto body = res->body;
    while (!body.empty() && body.back() == '\n')
      body.pop_back();
    return body;
  }

  bool network_exists(const std::string& environment_id) {
    auto list = docker.list_networks({"gilgal.environment=" + environment_id});
    CAF_REQUIRE(list);
    return !list->empty();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(environment_network_tests, fixture)

// The attack: an app connects to another tenant's container by its address
// on a shared Docker network (its database, its admin port, its unpublished
// services).
CAF_TEST(an app cannot reach a container of another environment) {
  auto a = environment();
  auto b = environment();
  auto victim = run(a);
  auto victim_address = address_of(victim.container_id, a) + ":8080";
  CAF_MESSAGE("victim at " << victim_address);
  // Another environment's app tries to connect: it times out.
  auto attacker = run(b, victim_address);
  address_of(attacker.container_id, b);
  CAF_CHECK_NOT_EQUAL(probe_result(attacker), "0");
  // The same probe from the victim's own environment connects: the address
  // is right and reachable where it should be.
  auto sibling = run(a, victim_address);
  CAF_CHECK_EQUAL(probe_result(sibling), "0");
}

CAF_TEST(a network lives as long as its environment has containers) {
  auto a = environment();
  auto first = run(a);
  auto second = run(a);
  CAF_CHECK(network_exists(a));
  auto removed = remove_container_and_port(first.container_id, docker, *ports);
  CAF_REQUIRE(removed);
  CAF_CHECK(*removed);
  CAF_CHECK(network_exists(a)); // the second container still uses it
  auto retired = containers_to_retire(a, "", docker);
  CAF_REQUIRE(retired);
  CAF_REQUIRE_EQUAL(retired->size(), 1u);
  CAF_CHECK_EQUAL(retired->front(), second.container_id);
  CAF_CHECK(remove_container_and_port(second.container_id, docker, *ports));
  CAF_CHECK(!network_exists(a));
  // The next container creates it again.
  auto third = run(a);
  CAF_CHECK(network_exists(a));
  address_of(third.container_id, a);
}

CAF_TEST(a failed start removes the network it created) {
  auto a = environment();
  run_job job;
  job.deployment_id = new_uuid();
  job.project_id = project;
  job.environment_id = a;
  // Its CMD is /bin/sh without input: it exits at once and never answers.
  job.image_name = "gilgal-test/busybox:latest";
  ns.cfg.health_check_timeout_seconds = 5;
  auto ran = run_container(job, ns, docker, *ports, abort_signal::make(),
                           [](const std::string&, const std::string&) {});
  CAF_REQUIRE(!ran);
  CAF_MESSAGE(message_of(ran.error()));
  CAF_CHECK(!network_exists(a));
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST_FIXTURE_SCOPE(environment_network_prune, fixture)

CAF_TEST(networks left without containers are pruned) {
  auto used = environment();
  auto left = environment();
  auto c = run(used);
  CAF_REQUIRE(ensure_environment_network(docker, left, project));
  CAF_REQUIRE(network_exists(left));
  auto pruned = prune_unused_environment_networks(docker);
  CAF_REQUIRE(pruned);
  CAF_CHECK_GREATER_OR_EQUAL(*pruned, 1);
  CAF_CHECK(!network_exists(left));
  CAF_CHECK(network_exists(used));
  address_of(c.container_id, used);
}

CAF_TEST_FIXTURE_SCOPE_END()
