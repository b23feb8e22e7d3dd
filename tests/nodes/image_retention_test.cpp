// Image retention against the real Docker daemon: only images labelled with
// the project are removed, never one a container uses, never one kept, never
// an unlabelled image or the busybox test image; dangling labelled images are
// pruned. The node actor's retain message does the same.
#define CAF_SUITE nodes.image_retention
#include <caf/test/unit_test.hpp>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/node.hpp"
#include "nodes/build_context.hpp"
#include "nodes/docker_client.hpp"
#include "nodes/image_retention.hpp"
#include "protocol/error.hpp"
#include "protocol/ids.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_images.hpp"

using namespace gilgal;
using namespace std::chrono_literals;

namespace {

struct config : caf::actor_system_config {
  config() {
    gilgal::add_message_types(*this);
  }
};

struct fixture {
  std::string dir = test::make_temp_dir("gilgal-retention");
  docker_client dc{test::docker_host_or_default()};
  std::string run = new_uuid().substr(0, 8);
  std::string project = new_uuid();
  std::vector<std::string> images;
  std::vector<std::string> containers;

  fixture() {
    CAF_REQUIRE(test::ensure_busybox_image(dc));
  }

  ~fixture() {
    for (auto& c : containers)
      dc.remove_container(c, true);
    for (auto& i : images)
      dc.remove_image(i, true);
    test::remove_tree(dir);
  }

  /// Builds a distinct image tagged `name:latest` with `labels`.
  std::string build(const std::string& name, label_map labels,
                    const std::string& content = "") {
    build_context_options ctx;
    ctx.extra_files["Dockerfile"] = "FROM " + std::string{test::busybox_image}
                                    + "\nRUN echo " + name + content + " > /which\n";
    auto tar = make_build_context(dir, ctx);
    CAF_REQUIRE(tar);
    build_options opts;
    if (!name.empty())
      opts.tags = {name + ":latest"};
    opts.labels = std::move(labels);
    auto id = dc.build(*tar, opts);
    if (!id)
      CAF_FAIL("build failed: " << message_of(id.error()));
    images.push_back(name.empty() ? *id : name + ":latest");
    return *id;
  }

  bool exists(const std::string& ref) {
    auto r = dc.image_exists(ref);
    CAF_REQUIRE(r);
    return *r;
  }

  std::string name(const char* suffix) {
    return "gilgal-ret-" + run + "-" + suffix;
  }
};

} // namespace

CAF_TEST(repository of a reference) {
  CAF_CHECK_EQUAL(repository_of("gilgal-a-b:latest"), "gilgal-a-b");
  CAF_CHECK_EQUAL(repository_of("gilgal-a-b"), "gilgal-a-b");
  CAF_CHECK_EQUAL(repository_of("127.0.0.1:5000/p:1a2b3c4d"), "127.0.0.1:5000/p");
  CAF_CHECK_EQUAL(repository_of("127.0.0.1:5000/p"), "127.0.0.1:5000/p");
  CAF_CHECK_EQUAL(repository_of("r/p@sha256:abc"), "r/p");
}

CAF_TEST_FIXTURE_SCOPE(image_retention_tests, fixture)

CAF_TEST(only unkept unused images of the project are removed) {
  label_map mine = {{"gilgal.project", project}};
  build(name("kept"), mine);
  auto used_id = build(name("used"), mine);
  auto old_id = build(name("old"), mine);
  auto other = build(name("other"), {{"gilgal.project", new_uuid()}});
  auto unlabelled = build(name("unlabelled"), {});
  // A second tag on the old image (as a registry push leaves one).
  CAF_REQUIRE(dc.tag_image(name("old") + ":latest", "127.0.0.1:5999/" + project, "c0ffee00"));
  images.push_back("127.0.0.1:5999/" + project + ":c0ffee00");
  // A stopped container of the "used" image.
  container_spec spec;
  spec.image = name("used") + ":latest";
  spec.labels = {{"gilgal.test", run}};
  auto c = dc.create_container(spec);
  CAF_REQUIRE(c);
  containers.push_back(*c);

  auto removed = remove_unretained_images(dc, project, {name("kept")});
  CAF_REQUIRE(removed);
  CAF_CHECK_EQUAL(*removed, 1);
  CAF_CHECK(exists(name("kept") + ":latest"));
  CAF_CHECK(exists(name("used") + ":latest"));
  CAF_CHECK(!exists(name("old") + ":latest"));
  CAF_CHECK(!exists(old_id));
  CAF_CHECK(!exists("127.0.0.1:5999/" + project + ":c0ffee00"));
  CAF_CHECK(exists(other));
  CAF_CHECK(exists(unlabelled));
  CAF_CHECK(exists(test::busybox_image));

  // Once no container uses it, the node actor's retain removes it too; a
  // kept reference with a tag also counts.
  CAF_REQUIRE(dc.remove_container(*c, true));
  containers.clear();
  config cfg;
  caf::actor_system sys{cfg};
  node_settings ns;
  ns.cfg.docker_host = test::docker_host_or_default();
  ns.work_root = dir + "/work";
  auto node = spawn_node(sys, ns, logger_actor{});
  caf::scoped_actor self{sys};
  int64_t n = -1;
  self->request(node, 60s, retain_atom::value, project,
                std::set<std::string>{name("kept") + ":latest"})
    .receive([&](int64_t x) { n = x; },
             [&](const caf::error& err) { CAF_FAIL("retain: " << sys.render(err)); });
  CAF_CHECK_EQUAL(n, 1);
  CAF_CHECK(!exists(used_id));
  CAF_CHECK(exists(name("kept") + ":latest"));
  CAF_CHECK(exists(unlabelled));
  CAF_CHECK(exists(test::busybox_image));
  self->send_exit(node, caf::exit_reason::user_shutdown);
}

CAF_TEST(prune removes dangling images of gilgal only) {
  // Two builds under one name: the first becomes dangling (untagged).
  label_map mine = {{"gilgal.project", project}};
  auto first = build(name("rebuilt"), mine);
  // (Different content: a rebuild that only adds labels would stack on the
  // first image, which then is a parent, not dangling.)
  auto second = build(name("rebuilt"), mine, "-v2");
  CAF_REQUIRE(first != second);
  // An unlabelled dangling image: never pruned by us.
  auto plain_first = build(name("plain"), {});
  build(name("plain"), {}, "-v2");
  images.push_back(plain_first);
  CAF_REQUIRE(exists(first));
  CAF_REQUIRE(exists(plain_first));
  auto res = prune_dangling_images(dc);
  if (!res)
    CAF_FAIL("prune: " << message_of(res.error()));
  CAF_CHECK(!exists(first));
  CAF_CHECK(exists(second));
  CAF_CHECK(exists(plain_first));
  CAF_CHECK(exists(test::busybox_image));
}

CAF_TEST(an empty project id is refused) {
  auto r = remove_unretained_images(dc, "", {});
  CAF_REQUIRE(!r);
  CAF_CHECK_EQUAL(code_of(r.error()), errc::invalid_argument);
}

CAF_TEST_FIXTURE_SCOPE_END()
