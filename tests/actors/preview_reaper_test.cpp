// The preview reaper against a real SQLite store: it removes previews idle
// past their project's TTL, never one with a deployment in progress, never
// an environment that is not a preview; and the idle rule itself.
#define CAF_SUITE actors.preview_reaper
#include <caf/test/unit_test.hpp>

#include <caf/all.hpp>

#include "actors/preview_reaper.hpp"
#include "protocol/ids.hpp"
#include "protocol/type_ids.hpp"
#include "tests/storage/store_backends.hpp"

using namespace gilgal;
using namespace gilgal::test;
using namespace std::chrono_literals;

namespace {

struct config : caf::actor_system_config {
  config() {
    gilgal::add_message_types(*this);
  }
};

struct fixture {
  std::string dir = make_temp_dir("gilgal-reaper");
  std::shared_ptr<store> db;
  config cfg;
  caf::actor_system sys{cfg};
  project p;

  fixture() {
    auto opened = open_store(dir + "/gilgal.db", test_cipher());
    if (!opened)
      CAF_FAIL("open_store: " << message_of(opened.error()));
    db = std::move(*opened);
    auto u = db->create_user("alice");
    CAF_REQUIRE(u);
    p.owner_id = u->id;
    p.name = "shop";
    p.repository_url = "https://example.invalid/shop.git";
    p.previews.enabled = true;
    p.previews.ttl_hours = 1e-6; // 3.6 ms
    auto made = db->create_project(p);
    CAF_REQUIRE(made);
    p = *made;
  }

  ~fixture() {
    db.reset();
    remove_tree(dir);
  }

  /// Opens the preview of pull request `number`; returns its deployment.
  deployment open(int64_t number) {
    preview_request req;
    req.project_id = p.id;
    req.name = "pr-" + std::to_string(number);
    req.source.pull_request = number;
    req.source.provider = "github";
    req.max_previews = 10;
    req.wanted.commit_sha = std::string(40, 'a');
    webhook_delivery d;
    d.project_id = p.id;
    d.provider = "github";
    d.delivery_id = new_uuid();
    d.event = "pull_request";
    auto opened = db->open_preview(d, req);
    CAF_REQUIRE(opened);
    CAF_REQUIRE_EQUAL(static_cast<int>(opened->outcome),
                      static_cast<int>(preview_opening::deployed));
    return opened->dep;
  }

  void end(deployment d, deployment_status status) {
    d.status = status;
    CAF_REQUIRE(db->update_deployment(d));
  }

  int64_t reap(const preview_reaper_actor& reaper) {
    caf::scoped_actor self{sys};
    int64_t removed = -1;
    self->request(reaper, 30s, prune_atom::value)
      .receive([&](int64_t n) { removed = n; },
               [&](caf::error& err) { CAF_FAIL("reap failed: " << sys.render(err)); });
    return removed;
  }

  /// A reaper whose removals delete the environment from the store (serve's
  /// also stop its containers and drop its route: tests/http/previews_test).
  preview_reaper_config reaper_config() {
    preview_reaper_config rc;
    rc.db = db;
    rc.remove = [st = db](const std::string& id) -> caf::error {
      if (auto res = st->delete_environment(id); !res)
        return std::move(res.error());
      return {};
    };
    return rc;
  }

  bool live(const std::string& environment_id) {
    return static_cast<bool>(db->find_environment(environment_id));
  }
};

} // namespace

CAF_TEST(idle means longer than the ttl since the last activity) {
  auto now = std::chrono::system_clock::now();
  auto hours_ago = [&](double h) {
    return to_rfc3339(now - std::chrono::duration_cast<std::chrono::system_clock::duration>(
                              std::chrono::duration<double, std::ratio<3600>>{h}));
  };
  CAF_CHECK(preview_idle(hours_ago(73), 72, now));
  CAF_CHECK(!preview_idle(hours_ago(71), 72, now));
  CAF_CHECK(preview_idle(hours_ago(0.6), 0.5, now));
  CAF_CHECK(!preview_idle(hours_ago(0.4), 0.5, now));
  CAF_CHECK(!preview_idle("not a time", 1, now));
  CAF_CHECK(!preview_idle(hours_ago(10), 0, now));
}

CAF_TEST_FIXTURE_SCOPE(preview_reaper_tests, fixture)

CAF_TEST(idle previews go and busy ones and other environments stay) {
  environment plain;
  plain.project_id = p.id;
  plain.name = "production";
  auto production = db->create_environment(plain);
  CAF_REQUIRE(production);
  auto idle = open(1);
  end(idle, deployment_status::failed);
  auto building = open(2); // pending: in progress, whatever its age
  auto done = open(3);
  end(done, deployment_status::success);
  auto rc = reaper_config();
  rc.interval = 0ms; // only when asked
  auto reaper = spawn_preview_reaper(sys, rc);
  // The TTL is 3.6 ms: both ended previews are idle once that has passed.
  int64_t removed = 0;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (removed < 2 && std::chrono::steady_clock::now() < deadline)
    removed += reap(reaper);
  CAF_CHECK_EQUAL(removed, 2);
  CAF_CHECK(!live(idle.environment_id));
  CAF_CHECK(!live(done.environment_id));
  CAF_CHECK(live(building.environment_id));
  CAF_CHECK(live(production->id));
  // Nothing more to do.
  CAF_CHECK_EQUAL(reap(reaper), 0);
  // Once its deployment ends, the last one goes too.
  end(building, deployment_status::cancelled);
  deadline = std::chrono::steady_clock::now() + 10s;
  while (live(building.environment_id) && std::chrono::steady_clock::now() < deadline)
    reap(reaper);
  CAF_CHECK(!live(building.environment_id));
  CAF_CHECK(live(production->id));
  caf::anon_send_exit(reaper, caf::exit_reason::user_shutdown);
}

CAF_TEST(a project with a longer ttl keeps its previews) {
  p.previews.ttl_hours = 72;
  CAF_REQUIRE(db->update_project(p));
  auto d = open(4);
  end(d, deployment_status::success);
  auto rc = reaper_config();
  rc.interval = 10ms; // periodic as well
  auto reaper = spawn_preview_reaper(sys, rc);
  CAF_CHECK_EQUAL(reap(reaper), 0);
  CAF_CHECK(live(d.environment_id));
  caf::anon_send_exit(reaper, caf::exit_reason::user_shutdown);
}

CAF_TEST_FIXTURE_SCOPE_END()
