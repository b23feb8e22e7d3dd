// The logger against a real SQLite store: numbering continues after the lines
// a deployment already has in storage (a late line after a restart, or from a
// node's container watcher), lines keep their order while the logger asks the
// store, and a close that arrives meanwhile still comes after them.
#define CAF_SUITE actors.logger
#include <caf/test/unit_test.hpp>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/logger.hpp"
#include "config/secret_box.hpp"
#include "protocol/ids.hpp"
#include "protocol/type_ids.hpp"
#include "storage/store.hpp"
#include "tests/fixtures/services.hpp"

using namespace gilgal;
using namespace std::chrono_literals;

namespace {

struct config : caf::actor_system_config {
  config() {
    gilgal::add_message_types(*this);
  }
};

struct fixture {
  std::string dir = test::make_temp_dir("gilgal-logger");
  std::shared_ptr<store> db;
  config cfg;
  caf::actor_system sys{cfg};
  logger_actor logger;

  fixture() {
    auto box = secret_box::from_hex(std::string(64, 'd'));
    auto opened = open_store(dir + "/gilgal.db", std::make_shared<const secret_box>(*box));
    CAF_REQUIRE(opened);
    db = std::move(*opened);
    logger = spawn_logger(sys, db);
  }

  ~fixture() {
    caf::anon_send_exit(logger, caf::exit_reason::user_shutdown);
    test::remove_tree(dir);
  }

  /// A deployment whose log already holds `lines` stored lines.
  std::string deployment_with_stored_lines(int lines) {
    auto u = db->create_user("logger-" + std::to_string(lines));
    CAF_REQUIRE(u);
    project p;
    p.owner_id = u->id;
    p.name = "logged";
    p.repository_url = "https://example.com/x.git";
    auto pp = db->create_project(p);
    CAF_REQUIRE(pp);
    environment e;
    e.project_id = pp->id;
    e.name = "production";
    auto ee = db->create_environment(e);
    CAF_REQUIRE(ee);
    deployment d;
    d.project_id = pp->id;
    d.environment_id = ee->id;
    d.commit_sha = "0123456789abcdef0123456789abcdef01234567";
    auto dd = db->create_deployment(d);
    CAF_REQUIRE(dd);
    std::vector<log_line> old;
    for (int i = 1; i <= lines; ++i)
      old.push_back(log_line{dd->id, i, "info", "stored " + std::to_string(i), ""});
    if (!old.empty())
      CAF_REQUIRE(db->append_logs(old));
    return dd->id;
  }

  void flush(std::chrono::seconds limit = 10s) {
    caf::scoped_actor self{sys};
    self->request(logger, limit, flush_atom::value)
      .receive([](bool) {}, [](const caf::error& err) { CAF_FAIL("flush: " << err); });
  }

  std::vector<log_line> stored(const std::string& id) {
    auto lines = db->logs_after(id, 0, 100);
    CAF_REQUIRE(lines);
    return *lines;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(logger_tests, fixture)

CAF_TEST(a late line continues the stored numbering) {
  auto id = deployment_with_stored_lines(3);
  caf::scoped_actor writer{sys};
  writer->send(logger, log_atom::value, id, std::string{"warning"}, std::string{"late 1"});
  writer->send(logger, log_atom::value, id, std::string{"warning"}, std::string{"late 2"});
  flush();
  auto lines = stored(id);
  CAF_REQUIRE_EQUAL(lines.size(), 5u);
  CAF_CHECK_EQUAL(lines[3].seq, 4);
  CAF_CHECK_EQUAL(lines[3].message, "late 1");
  CAF_CHECK_EQUAL(lines[4].seq, 5);
  CAF_CHECK_EQUAL(lines[4].message, "late 2");
}

CAF_TEST(a new deployment starts at one and a close waits for its lines) {
  auto id = deployment_with_stored_lines(0);
  // A subscriber that arrives first sees every line, then the close.
  caf::scoped_actor sub{sys};
  std::vector<log_line> live;
  bool closed = false;
  sub->request(logger, 10s, subscribe_atom::value, id, int64_t{0},
               caf::actor_cast<caf::actor>(sub))
    .receive([&](std::vector<log_line>& lines, bool was_closed) {
               live = std::move(lines);
               closed = was_closed;
             },
             [](const caf::error& err) { CAF_FAIL("subscribe: " << err); });
  CAF_CHECK(!closed);
  caf::scoped_actor writer{sys};
  // Lines and closes without a sender are dropped (a remote anonymous message
  // looks like a local one).
  caf::anon_send(logger, log_atom::value, id, std::string{"info"}, std::string{"anonymous"});
  caf::anon_send(logger, close_atom::value, id);
  for (int i = 1; i <= 3; ++i)
    writer->send(logger, log_atom::value, id, std::string{"info"}, "line " + std::to_string(i));
  writer->send(logger, close_atom::value, id);
  sub->receive_while([&] { return !closed; })(
    [&](log_atom, const log_line& l) { live.push_back(l); },
    [&](close_atom, const std::string&) { closed = true; },
    caf::after(10s) >> [&] { CAF_FAIL("no close within 10 s"); });
  CAF_REQUIRE_EQUAL(live.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    CAF_CHECK_EQUAL(live[i].seq, i + 1);
    CAF_CHECK_EQUAL(live[i].message, "line " + std::to_string(i + 1));
  }
  flush();
  CAF_CHECK_EQUAL(stored(id).size(), 3u);
}

CAF_TEST(invalid bytes and control characters are cleaned and long lines cut) {
  auto id = deployment_with_stored_lines(0);
  caf::scoped_actor writer{sys};
  writer->send(logger, log_atom::value, id, std::string{"info"},
                 std::string{"bad \xff byte \x1b[2J"});
  writer->send(logger, log_atom::value, id, std::string{"info"},
                 std::string(size_t{1} << 20, 'x'));
  flush();
  auto lines = stored(id);
  CAF_REQUIRE_EQUAL(lines.size(), 2u);
  CAF_CHECK_EQUAL(lines[0].message, "bad \xEF\xBF\xBD byte \\x1b[2J");
  CAF_CHECK_EQUAL(lines[1].message.size(), size_t{16} << 10);
  CAF_CHECK(lines[1].message.find(" [truncated]") == (size_t{16} << 10) - 12);
}

CAF_TEST(a log ends with one truncated line at 100000 lines) {
  auto id = deployment_with_stored_lines(0);
  caf::scoped_actor writer{sys};
  log_limits defaults;
  CAF_REQUIRE_EQUAL(defaults.max_lines, 100000);
  for (int i = 1; i <= 100010; ++i)
    writer->send(logger, log_atom::value, id, std::string{"info"},
                   "line " + std::to_string(i));
  auto t0 = std::chrono::steady_clock::now();
  flush(120s);
  CAF_MESSAGE("100010 lines logged and stored in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - t0)
                   .count()
              << " ms");
  auto last = db->last_log_seq(id);
  CAF_REQUIRE(last);
  CAF_CHECK_EQUAL(*last, 100001);
  auto tail = db->logs_after(id, 99999, 100);
  CAF_REQUIRE(tail);
  CAF_REQUIRE_EQUAL(tail->size(), 2u);
  CAF_CHECK_EQUAL((*tail)[0].message, "line 100000");
  CAF_CHECK_EQUAL((*tail)[1].level, "warning");
  CAF_CHECK((*tail)[1].message.find("log truncated") == 0);
  // A logger that starts again (a server restart) keeps the log closed.
  caf::anon_send_exit(logger, caf::exit_reason::user_shutdown);
  logger = spawn_logger(sys, db);
  writer->send(logger, log_atom::value, id, std::string{"info"}, std::string{"late"});
  flush();
  auto after = db->last_log_seq(id);
  CAF_REQUIRE(after);
  CAF_CHECK_EQUAL(*after, 100001);
}

CAF_TEST(lines of an unknown deployment do not take others with them) {
  auto id = deployment_with_stored_lines(0);
  auto stranger = new_uuid(); // e.g. a container of another server on the same daemon
  caf::scoped_actor writer{sys};
  for (int i = 1; i <= 3; ++i) {
    writer->send(logger, log_atom::value, stranger, std::string{"info"}, std::string{"x"});
    writer->send(logger, log_atom::value, id, std::string{"info"},
                   "mine " + std::to_string(i));
  }
  flush();
  auto lines = stored(id);
  CAF_REQUIRE_EQUAL(lines.size(), 3u);
  CAF_CHECK_EQUAL(lines[2].message, "mine 3");
}

CAF_TEST(a log ends with one truncated line at its byte limit) {
  log_limits small;
  small.max_bytes = 100000;
  caf::anon_send_exit(logger, caf::exit_reason::user_shutdown);
  logger = spawn_logger(sys, db, nullptr, small);
  auto id = deployment_with_stored_lines(0);
  caf::scoped_actor writer{sys};
  for (int i = 0; i < 20; ++i)
    writer->send(logger, log_atom::value, id, std::string{"info"}, std::string(10000, 'y'));
  flush();
  auto lines = stored(id);
  CAF_REQUIRE_EQUAL(lines.size(), 11u);
  CAF_CHECK(lines.back().message.find("log truncated") == 0);
}

CAF_TEST_FIXTURE_SCOPE_END()
