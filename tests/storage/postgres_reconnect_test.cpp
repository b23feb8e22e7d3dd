// The PostgreSQL store survives a server restart: broken pooled connections
// are replaced and the operation retried once; with the server down the
// store answers errc::unavailable, and recovers when it is back.
// Runs on a private cluster (tests/fixtures/postgres_cluster.hpp) because it
// restarts the server.
#define CAF_SUITE storage.postgres_reconnect
#include <caf/test/unit_test.hpp>

#include <cstdlib>
#include <thread>

#include "storage/postgres_store.hpp"
#include "tests/fixtures/postgres_cluster.hpp"
#include "tests/storage/store_backends.hpp"

using namespace gilgal;

namespace {

bool required() {
  auto v = std::getenv("GILGAL_TEST_REQUIRE_SERVICES");
  return v && std::string{v} == "1";
}

} // namespace

CAF_TEST(store works across a server restart and reports an outage) {
  auto why = test::postgres_cluster::unavailable_reason();
  if (!why.empty()) {
    if (required())
      CAF_FAIL("cannot run: " << why);
    CAF_MESSAGE("skipped: " << why);
    return;
  }
  test::postgres_cluster cluster;
  auto opened = postgres_store::open(cluster.url(), test::test_cipher(), 3);
  CAF_REQUIRE(opened);
  auto& st = **opened;
  auto u = st.create_user("alice");
  CAF_REQUIRE(u);
  project p;
  p.owner_id = u->id;
  p.name = "web";
  p.repository_url = "https://example.invalid/web.git";
  auto pr = st.create_project(p);
  CAF_REQUIRE(pr);

  // Fill the pool: several connections are open and idle when the server goes.
  {
    std::vector<std::thread> readers;
    for (int i = 0; i < 3; ++i)
      readers.emplace_back([&] {
        for (int j = 0; j < 20; ++j)
          (void) st.list_projects(u->id, {1, 20});
      });
    for (auto& t : readers)
      t.join();
  }

  cluster.restart();
  // Every pooled connection is broken now; each call still succeeds.
  for (int i = 0; i < 5; ++i) {
    auto found = st.find_project(pr->id);
    CAF_REQUIRE(found);
    CAF_CHECK_EQUAL(found->name, "web");
  }
  environment e;
  e.project_id = pr->id;
  e.name = "prod";
  e.variables = {{"K", "v"}};
  auto env = st.create_environment(e);
  CAF_REQUIRE(env);
  CAF_CHECK_EQUAL(env->variables.at("K"), "v");

  // Server down: errc::unavailable, promptly.
  cluster.stop();
  auto before = std::chrono::steady_clock::now();
  auto down = st.find_project(pr->id);
  CAF_REQUIRE(!down);
  CAF_CHECK_EQUAL(static_cast<int>(code_of(down.error())), static_cast<int>(errc::unavailable));
  auto write_down = st.create_user("bob");
  CAF_REQUIRE(!write_down);
  CAF_CHECK_EQUAL(static_cast<int>(code_of(write_down.error())),
                  static_cast<int>(errc::unavailable));
  CAF_CHECK(std::chrono::steady_clock::now() - before < std::chrono::seconds(10));

  // Back up: the store recovers by itself.
  cluster.start();
  auto back = st.find_environment(env->id);
  CAF_REQUIRE(back);
  CAF_CHECK_EQUAL(back->name, "prod");
  CAF_CHECK(st.create_user("bob"));
  auto users = st.list_users();
  CAF_REQUIRE(users);
  CAF_CHECK_EQUAL(users->size(), 2u);
}
