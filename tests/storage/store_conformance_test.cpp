// The store's contract (storage/store.hpp), run against every backend:
// SQLite always, PostgreSQL when GILGAL_TEST_DATABASE_URL is set.
#define CAF_SUITE storage.store_conformance
#include <caf/test/unit_test.hpp>

#include <atomic>
#include <regex>
#include <set>
#include <thread>

#include "config/api_token.hpp"
#include "storage/migrations.hpp"
#include "tests/storage/store_backends.hpp"

using namespace gilgal;

namespace {

template <class T>
int code(const caf::expected<T>& x) {
  return x ? 0 : static_cast<int>(code_of(x.error()));
}

int code(const caf::expected<void>& x) {
  return x ? 0 : static_cast<int>(code_of(x.error()));
}

template <class T>
std::string msg(const caf::expected<T>& x) {
  return x ? std::string{} : message_of(x.error());
}

constexpr int conflict = static_cast<int>(errc::conflict);
constexpr int not_found = static_cast<int>(errc::not_found);
constexpr int invalid = static_cast<int>(errc::invalid_argument);

bool is_timestamp(const std::string& s) {
  static const std::regex re{R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$)"};
  return std::regex_match(s, re);
}

struct fixture {
  test::backends all;
};

user make_user(store& st, const std::string& name) {
  auto u = st.create_user(name);
  if (!u)
    CAF_FAIL("create_user: " << message_of(u.error()));
  return *u;
}

project make_project(store& st, const std::string& owner, const std::string& name) {
  project p;
  p.owner_id = owner;
  p.name = name;
  p.repository_url = "https://example.invalid/" + name + ".git";
  auto r = st.create_project(p);
  if (!r)
    CAF_FAIL("create_project: " << message_of(r.error()));
  return *r;
}

environment make_env(store& st, const std::string& project_id, const std::string& name,
                     std::map<std::string, std::string> vars = {}) {
  environment e;
  e.project_id = project_id;
  e.name = name;
  e.type = "staging";
  e.domain = name + "." + project_id.substr(0, 8) + ".example.test"; // unique: domains are
  e.variables = std::move(vars);
  auto r = st.create_environment(e);
  if (!r)
    CAF_FAIL("create_environment: " << message_of(r.error()));
  return *r;
}

deployment make_deployment(store& st, const project& p, const environment& e,
                           const std::string& key = "") {
  deployment d;
  d.project_id = p.id;
  d.environment_id = e.id;
  d.commit_sha = "0123456789abcdef0123456789abcdef01234567";
  d.commit_message = "first";
  d.idempotency_key = key;
  auto r = st.create_deployment(d);
  if (!r)
    CAF_FAIL("create_deployment: " << message_of(r.error()));
  return *r;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(store_conformance, fixture)

CAF_TEST(users and tokens) {
  for (auto& b : all) {
    CAF_MESSAGE("backend " << b.name);
    auto st = b.open();
    auto alice = make_user(*st, "alice");
    CAF_CHECK(is_uuid(alice.id));
    CAF_CHECK(is_timestamp(alice.created_at));
    auto bob = make_user(*st, "bob");
    auto dup = st->create_user("alice");
    CAF_CHECK_EQUAL(code(dup), conflict);
    CAF_CHECK(msg(dup).find("name") != std::string::npos);
    auto found = st->find_user(alice.id);
    CAF_REQUIRE(found);
    CAF_CHECK_EQUAL(found->name, "alice");
    CAF_CHECK_EQUAL(found->created_at, alice.created_at);
    auto by_name = st->find_user_by_name("bob");
    CAF_REQUIRE(by_name);
    CAF_CHECK_EQUAL(by_name->id, bob.id);
    CAF_CHECK_EQUAL(code(st->find_user_by_name("carol")), not_found);
    CAF_CHECK_EQUAL(code(st->find_user(new_uuid())), not_found);
    auto users = st->list_users();
    CAF_REQUIRE(users);
    CAF_REQUIRE_EQUAL(users->size(), 2u);
    CAF_CHECK_EQUAL((*users)[0].name, "alice");
    CAF_CHECK_EQUAL((*users)[1].name, "bob");

    auto issued = issue_token(alice.id);
    auto added = st->add_token(issued.record);
    CAF_REQUIRE(added);
    CAF_CHECK(is_timestamp(added->created_at));
    auto tok = st->find_token(token_id_of(issued.text));
    CAF_REQUIRE(tok);
    CAF_CHECK_EQUAL(tok->user_id, alice.id);
    CAF_CHECK_EQUAL(tok->secret_hash, issued.record.secret_hash);
    CAF_CHECK(token_matches(issued.text, *tok));
    CAF_CHECK_EQUAL(code(st->add_token(issued.record)), conflict);
    auto orphan = issue_token(new_uuid());
    CAF_CHECK_EQUAL(code(st->add_token(orphan.record)), not_found);
    CAF_CHECK_EQUAL(code(st->find_token("nope")), not_found);
    // Only the hash is at rest.
    auto rows = b.raw_query("SELECT * FROM api_tokens");
    for (auto& r : rows)
      for (auto& cell : r)
        CAF_CHECK(cell.find(issued.text) == std::string::npos);
  }
}

CAF_TEST(tokens are listed per user and revoked for good) {
  for (auto& b : all) {
    CAF_MESSAGE("backend " << b.name);
    auto st = b.open();
    auto alice = make_user(*st, "alice");
    auto bob = make_user(*st, "bob");
    auto first = issue_token(alice.id);
    auto second = issue_token(alice.id);
    auto bobs = issue_token(bob.id);
    for (auto* t : {&first, &second, &bobs})
      CAF_REQUIRE(st->add_token(t->record));
    auto listed = st->list_tokens(alice.id);
    CAF_REQUIRE(listed);
    CAF_REQUIRE_EQUAL(listed->size(), 2u);
    std::set<std::string> ids{(*listed)[0].id, (*listed)[1].id};
    CAF_CHECK_EQUAL(ids, (std::set<std::string>{first.record.id, second.record.id}));
    for (auto& t : *listed)
      CAF_CHECK(t.revoked_at.empty());
    auto none = st->list_tokens(new_uuid());
    CAF_REQUIRE(none);
    CAF_CHECK(none->empty());

    auto revoked = st->revoke_token(first.record.id);
    CAF_REQUIRE(revoked);
    CAF_CHECK(is_timestamp(revoked->revoked_at));
    auto found = st->find_token(first.record.id);
    CAF_REQUIRE(found);
    CAF_CHECK_EQUAL(found->revoked_at, revoked->revoked_at);
    // The others stay valid; a second revocation keeps the first time.
    CAF_CHECK(st->find_token(second.record.id)->revoked_at.empty());
    CAF_CHECK(st->find_token(bobs.record.id)->revoked_at.empty());
    auto again = st->revoke_token(first.record.id);
    CAF_REQUIRE(again);
    CAF_CHECK_EQUAL(again->revoked_at, revoked->revoked_at);
    CAF_CHECK_EQUAL(code(st->revoke_token("0123456789abcdef")), not_found);
    // Still listed, marked revoked.
    listed = st->list_tokens(alice.id);
    CAF_REQUIRE(listed);
    CAF_REQUIRE_EQUAL(listed->size(), 2u);
    size_t marked = 0;
    for (auto& t : *listed)
      marked += t.revoked_at.empty() ? 0 : 1;
    CAF_CHECK_EQUAL(marked, 1u);
  }
}

CAF_TEST(project crud soft delete and pagination) {
  for (auto& b : all) {
    CAF_MESSAGE("backend " << b.name);
    auto st = b.open();
    auto alice = make_user(*st, "alice");
    auto bob = make_user(*st, "bob");
    std::vector<project> made;
    for (int i = 0; i < 5; ++i)
      made.push_back(make_project(*st, alice.id, "p" + std::to_string(i)));
    make_project(*st, bob.id, "bobs");
    CAF_CHECK(is_uuid(made[0].id));
    CAF_CHECK(is_timestamp(made[0].created_at));
    CAF_CHECK_EQUAL(made[0].created_at, made[0].updated_at);
    CAF_CHECK_EQUAL(made[0].branch, "main");
    CAF_CHECK_EQUAL(made[0].framework, "auto");

    auto found = st->find_project(made[2].id);
    CAF_REQUIRE(found);
    CAF_CHECK_EQUAL(found->name, "p2");
    CAF_CHECK_EQUAL(found->owner_id, alice.id);
    CAF_CHECK_EQUAL(found->repository_url, made[2].repository_url);
    CAF_CHECK_EQUAL(found->created_at, made[2].created_at);

    // Pagination edges: oldest first; hasMore exactly when items remain.
    auto p1 = st->list_projects(alice.id, {1, 2});
    CAF_REQUIRE(p1);
    CAF_CHECK_EQUAL(p1->total, 5);
    CAF_REQUIRE_EQUAL(p1->items.size(), 2u);
    CAF_CHECK_EQUAL(p1->items[0].name, "p0");
    CAF_CHECK_EQUAL(p1->items[1].name, "p1");
    CAF_CHECK(p1->has_more());
    auto p3 = st->list_projects(alice.id, {3, 2});
    CAF_REQUIRE(p3);
    CAF_REQUIRE_EQUAL(p3->items.size(), 1u);
    CAF_CHECK_EQUAL(p3->items[0].name, "p4");
    CAF_CHECK(!p3->has_more());
    auto exact = st->list_projects(alice.id, {1, 5});
    CAF_REQUIRE(exact);
    CAF_CHECK_EQUAL(exact->items.size(), 5u);
    CAF_CHECK(!exact->has_more());
    auto one_short = st->list_projects(alice.id, {1, 4});
    CAF_REQUIRE(one_short);
    CAF_CHECK(one_short->has_more());
    auto beyond = st->list_projects(alice.id, {4, 2});
    CAF_REQUIRE(beyond);
    CAF_CHECK_EQUAL(beyond->items.size(), 0u);
    CAF_CHECK_EQUAL(beyond->total, 5);
    CAF_CHECK(!beyond->has_more());
    auto none = st->list_projects(new_uuid(), {1, 20});
    CAF_REQUIRE(none);
    CAF_CHECK_EQUAL(none->total, 0);
    CAF_CHECK(none->items.empty());
    CAF_CHECK_EQUAL(code(st->list_projects(alice.id, {0, 20})), invalid);
    CAF_CHECK_EQUAL(code(st->list_projects(alice.id, {1, 0})), invalid);

    // Update replaces the mutable fields only.
    project changed = made[1];
    changed.name = "renamed";
    changed.repository_url = "git@example.invalid:x/y.git";
    changed.branch = "dev";
    changed.framework = "node";
    changed.owner_id = bob.id; // ignored
    auto updated = st->update_project(changed);
    CAF_REQUIRE(updated);
    CAF_CHECK_EQUAL(updated->name, "renamed");
    CAF_CHECK_EQUAL(updated->branch, "dev");
    CAF_CHECK_EQUAL(updated->framework, "node");
    CAF_CHECK_EQUAL(updated->owner_id, alice.id);
    CAF_CHECK_EQUAL(updated->created_at, made[1].created_at);
    CAF_CHECK(updated->updated_at >= made[1].updated_at);
    CAF_CHECK(is_timestamp(updated->updated_at));
    project ghost = made[1];
    ghost.id = new_uuid();
    CAF_CHECK_EQUAL(code(st->update_project(ghost)), not_found);
    project orphan;
    orphan.owner_id = new_uuid();
    orphan.name = "x";
    orphan.repository_url = "https://example.invalid/x.git";
    CAF_CHECK_EQUAL(code(st->create_project(orphan)), not_found);

    // Soft delete.
    CAF_CHECK(st->delete_project(made[0].id));
    CAF_CHECK_EQUAL(code(st->find_project(made[0].id)), not_found);
    CAF_CHECK_EQUAL(code(st->delete_project(made[0].id)), not_found);
    CAF_CHECK_EQUAL(code(st->update_project(made[0])), not_found);
    CAF_CHECK_EQUAL(code(st->delete_project(new_uuid())), not_found);
    auto after = st->list_projects(alice.id, {1, 20});
    CAF_REQUIRE(after);
    CAF_CHECK_EQUAL(after->total, 4);
    CAF_REQUIRE_EQUAL(after->items.size(), 4u);
    CAF_CHECK_EQUAL(after->items[0].name, "renamed");
    // The row is still there, marked deleted.
    auto raw = b.raw_query("SELECT deleted_at FROM projects WHERE id = '" + made[0].id + "'");
    CAF_REQUIRE_EQUAL(raw.size(), 1u);
    CAF_CHECK(is_timestamp(raw[0][0]));
  }
}

CAF_TEST(repository token deploy key and known hosts) {
  for (auto& b : all) {
    CAF_MESSAGE("backend " << b.name);
    auto st = b.open();
    auto alice = make_user(*st, "alice");
    auto p = make_project(*st, alice.id, "private");
    // By value: a member of a temporary expected would dangle inside CAF_CHECK.
    auto access_of = [&](const std::string& id) {
      auto a = st->find_repository_access(id);
      CAF_REQUIRE(a);
      return *a;
    };
    auto record = [&](const std::string& id, const std::string& expected,
                      const std::string& replacement) {
      auto r = st->record_known_hosts(id, expected, replacement);
      CAF_REQUIRE(r);
      return *r;
    };
    auto public_key_of = [&](const std::string& id) {
      auto found = st->find_project(id);
      CAF_REQUIRE(found);
      return found->deploy_public_key;
    };
    CAF_CHECK(!p.has_repository_token);
    CAF_CHECK_EQUAL(p.deploy_public_key, "");
    auto none = st->find_repository_access(p.id);
    CAF_REQUIRE(none);
    CAF_CHECK_EQUAL(none->token, "");
    CAF_CHECK_EQUAL(none->deploy_key, "");
    CAF_CHECK_EQUAL(none->known_hosts, "");
    // A token set by an update; an update without one keeps it; "" removes it.
    p.repository_token = std::string{"tok-1"};
    auto with = st->update_project(p);
    CAF_REQUIRE(with);
    CAF_CHECK(with->has_repository_token);
    CAF_CHECK(!with->repository_token);
    with->name = "private-2";
    auto kept = st->update_project(*with);
    CAF_REQUIRE(kept);
    CAF_CHECK(kept->has_repository_token);
    CAF_CHECK_EQUAL(access_of(p.id).token, "tok-1");
    auto listed = st->list_projects(alice.id, {1, 20});
    CAF_REQUIRE(listed);
    CAF_REQUIRE_EQUAL(listed->items.size(), 1u);
    CAF_CHECK(listed->items[0].has_repository_token);
    kept->repository_token = std::string{};
    auto removed = st->update_project(*kept);
    CAF_REQUIRE(removed);
    CAF_CHECK(!removed->has_repository_token);
    CAF_CHECK_EQUAL(access_of(p.id).token, "");
    // Deploy keys: set, replaced, removed.
    auto keyed = st->set_deploy_key(p.id, "PRIVATE-1", "ssh-ed25519 AAAA1 c");
    CAF_REQUIRE(keyed);
    CAF_CHECK_EQUAL(keyed->deploy_public_key, "ssh-ed25519 AAAA1 c");
    CAF_CHECK_EQUAL(public_key_of(p.id), "ssh-ed25519 AAAA1 c");
    CAF_CHECK(st->set_deploy_key(p.id, "PRIVATE-2", "ssh-ed25519 AAAA2 c"));
    CAF_CHECK_EQUAL(access_of(p.id).deploy_key, "PRIVATE-2");
    CAF_CHECK_EQUAL(code(st->set_deploy_key(new_uuid(), "k", "p")), not_found);
    // Known hosts: recorded only over what the caller started from.
    CAF_CHECK_EQUAL(record(p.id, "", "host-a key-a\n"), true);
    CAF_CHECK_EQUAL(record(p.id, "", "host-a key-evil\n"), false);
    CAF_CHECK_EQUAL(access_of(p.id).known_hosts, "host-a key-a\n");
    CAF_CHECK_EQUAL(record(p.id, "host-a key-a\n", "host-a key-a\nb k\n"),
                    true);
    CAF_CHECK(st->reset_known_hosts(p.id));
    CAF_CHECK_EQUAL(access_of(p.id).known_hosts, "");
    CAF_CHECK_EQUAL(code(st->record_known_hosts(new_uuid(), "", "x")), not_found);
    // A deleted project has none of it.
    CAF_CHECK(st->delete_project(p.id));
    CAF_CHECK_EQUAL(code(st->find_repository_access(p.id)), not_found);
    CAF_CHECK_EQUAL(code(st->reset_known_hosts(p.id)), not_found);
  }
}

CAF_TEST(environment crud and soft delete then name reuse) {
  for (auto& b : all) {
    CAF_MESSAGE("backend " << b.name);
    auto st = b.open();
    auto alice = make_user(*st, "alice");
    auto p = make_project(*st, alice.id, "web");
    auto other = make_project(*st, alice.id, "other");
    environment e;
    e.project_id = p.id;
    e.name = "production";
    e.type = "production";
    e.domain = "web.example.test";
    e.variables = {{"DATABASE_URL", "postgres://u:p@h/db"}, {"EMPTY", ""}};
    e.settings.memory_mb = 256;
    e.settings.cpus = 0.5;
    e.settings.pids = 64;
    e.settings.health_check_path = "/health";
    e.settings.health_check_timeout_seconds = 30;
    e.settings.build_labels = {{"arch", "amd64"}, {"gilgal.dev/gpu", ""}};
    e.settings.run_labels = {{"zone", "eu-1"}};
    auto created = st->create_environment(e);
    CAF_REQUIRE(created);
    CAF_CHECK(is_uuid(created->id));
    CAF_CHECK(is_timestamp(created->created_at));
    auto found = st->find_environment(created->id);
    CAF_REQUIRE(found);
    CAF_CHECK_EQUAL(found->project_id, p.id);
    CAF_CHECK_EQUAL(found->name, "production");
    CAF_CHECK_EQUAL(found->type, "production");
    CAF_CHECK_EQUAL(found->domain, "web.example.test");
    CAF_CHECK(found->variables == e.variables);
    CAF_CHECK_EQUAL(found->settings.memory_mb, 256);
    CAF_CHECK_EQUAL(found->settings.cpus, 0.5);
    CAF_CHECK_EQUAL(found->settings.pids, 64);
    CAF_CHECK_EQUAL(found->settings.health_check_path, "/health");
    CAF_CHECK_EQUAL(found->settings.health_check_timeout_seconds, 30);
    CAF_CHECK(found->settings.build_labels == e.settings.build_labels);
    CAF_CHECK(found->settings.run_labels == e.settings.run_labels);
    CAF_CHECK_EQUAL(found->created_at, created->created_at);

    // Same name in the same project: conflict naming the field; elsewhere fine.
    auto dup = st->create_environment(e);
    CAF_CHECK_EQUAL(code(dup), conflict);
    CAF_CHECK_EQUAL(msg(dup), "environment name already exists in this project");
    environment elsewhere = e;
    elsewhere.project_id = other.id;
    elsewhere.domain = "other.example.test"; // domains are unique across all environments
    CAF_CHECK(st->create_environment(elsewhere));
    environment nowhere = e;
    nowhere.project_id = new_uuid();
    CAF_CHECK_EQUAL(code(st->create_environment(nowhere)), not_found);

    auto staging = make_env(*st, p.id, "staging", {{"A", "1"}});
    auto list = st->list_environments(p.id, {1, 20});
    CAF_REQUIRE(list);
    CAF_CHECK_EQUAL(list->total, 2);
    CAF_REQUIRE_EQUAL(list->items.size(), 2u);
    CAF_CHECK_EQUAL(list->items[0].name, "production");
    CAF_CHECK_EQUAL(list->items[1].name, "staging");
    CAF_CHECK(list->items[0].variables == e.variables);
    CAF_CHECK(list->items[0].settings.build_labels == e.settings.build_labels);
    auto masked = st->list_environments_masked(p.id, {1, 20});
    CAF_REQUIRE(masked);
    CAF_CHECK_EQUAL(masked->total, 2);
    CAF_REQUIRE_EQUAL(masked->items.size(), 2u);
    CAF_CHECK_EQUAL(masked->items[0].id, list->items[0].id);
    CAF_CHECK_EQUAL(masked->items[0].variables.size(), e.variables.size());
    for (auto& [name, value] : masked->items[0].variables) {
      CAF_CHECK(e.variables.count(name) == 1);
      CAF_CHECK_EQUAL(value, "");
    }
    CAF_CHECK(masked->items[0].settings.run_labels == e.settings.run_labels);
    auto paged = st->list_environments(p.id, {2, 1});
    CAF_REQUIRE(paged);
    CAF_REQUIRE_EQUAL(paged->items.size(), 1u);
    CAF_CHECK_EQUAL(paged->items[0].name, "staging");
    CAF_CHECK(!paged->has_more());

    // Update replaces name, type, domain, variables, settings.
    environment change = staging;
    change.name = "qa";
    change.type = "development";
    change.domain = "";
    change.variables = {{"B", "2"}};
    change.settings.memory_mb = 1024;
    change.settings.run_labels = {{"tier", "edge"}};
    change.project_id = other.id; // ignored
    auto updated = st->update_environment(change);
    CAF_REQUIRE(updated);
    CAF_CHECK_EQUAL(updated->name, "qa");
    CAF_CHECK_EQUAL(updated->type, "development");
    CAF_CHECK_EQUAL(updated->domain, "");
    CAF_CHECK(updated->variables == change.variables);
    CAF_CHECK_EQUAL(updated->settings.memory_mb, 1024);
    CAF_CHECK(updated->settings.run_labels == change.settings.run_labels);
    CAF_CHECK(updated->settings.build_labels.empty());
    auto reread = st->find_environment(change.id);
    CAF_REQUIRE(reread);
    CAF_CHECK(reread->settings.run_labels == change.settings.run_labels);
    CAF_CHECK_EQUAL(updated->project_id, p.id);
    CAF_CHECK_EQUAL(updated->created_at, staging.created_at);
    change.name = "production"; // taken
    auto clash = st->update_environment(change);
    CAF_CHECK_EQUAL(code(clash), conflict);
    CAF_CHECK_EQUAL(msg(clash), "environment name already exists in this project");
    environment ghost = change;
    ghost.id = new_uuid();
    ghost.name = "ghost";
    CAF_CHECK_EQUAL(code(st->update_environment(ghost)), not_found);

    // Soft delete, then the name is free again.
    CAF_CHECK(st->delete_environment(created->id));
    CAF_CHECK_EQUAL(code(st->find_environment(created->id)), not_found);
    CAF_CHECK_EQUAL(code(st->delete_environment(created->id)), not_found);
    CAF_CHECK_EQUAL(code(st->update_environment(*created)), not_found);
    auto reused = st->create_environment(e);
    CAF_REQUIRE(reused);
    CAF_CHECK_NOT_EQUAL(reused->id, created->id);
    auto after = st->list_environments(p.id, {1, 20});
    CAF_REQUIRE(after);
    CAF_CHECK_EQUAL(after->total, 2);
    // Deleting a project removes its environments too.
    CAF_CHECK(st->delete_project(p.id));
    CAF_CHECK_EQUAL(code(st->find_environment(reused->id)), not_found);
    auto gone = st->list_environments(p.id, {1, 20});
    CAF_REQUIRE(gone);
    CAF_CHECK_EQUAL(gone->total, 0);
  }
}

CAF_TEST(variables round trip) {
  std::map<std::string, std::string> vars = {
    {"PLAIN", "value"},
    {"EMPTY", ""},
    {"UNICODE", "gr\xc3\xbc\xc3\x9f dich \xe2\x9c\x93"},
    {"SPECIAL", "a=b; c='d' \"e\"\n\ttab $HOME `x` \\ {}"},
    {"BIG", std::string(16 * 1024, 'z')},
    {"_under_score9", "json {\"k\": [1, 2]}"},
    {"we\"ird\\na\u00efme\n", "odd name"}, // the store does not validate names
  };
  for (auto& b : all) {
    CAF_MESSAGE("backend " << b.name);
    auto st = b.open();
    auto alice = make_user(*st, "alice");
    auto p = make_project(*st, alice.id, "web");
    auto e = make_env(*st, p.id, "prod", vars);
    CAF_CHECK(e.variables == vars);
    auto found = st->find_environment(e.id);
    CAF_REQUIRE(found);
    CAF_CHECK(found->variables == vars);
    auto masked = st->list_environments_masked(p.id, {1, 20});
    CAF_REQUIRE(masked);
    CAF_REQUIRE_EQUAL(masked->items.size(), 1u);
    CAF_CHECK_EQUAL(masked->items[0].variables.size(), vars.size());
    for (auto& [name, value] : vars)
      CAF_CHECK(masked->items[0].variables.count(name) == 1);
    auto empty = make_env(*st, p.id, "none");
    auto none = st->find_environment(empty.id);
    CAF_REQUIRE(none);
    CAF_CHECK(none->variables.empty());
    // A store opened with another key cannot read them, and says so.
    st.reset();
    auto wrong = b.open(test::test_cipher('b'));
    auto bad = wrong->find_environment(e.id);
    CAF_CHECK_EQUAL(code(bad), static_cast<int>(errc::internal));
    CAF_CHECK(msg(bad).find("decrypt") != std::string::npos);
    auto ok = wrong->find_environment(empty.id);
    CAF_CHECK(ok);
  }
}

CAF_TEST(build variables are stored as they are) {
  std::map<std::string, std::string> build = {
    {"VITE_API_URL", "https://api.example.com/v1?x=1&y=2"},
    {"NEXT_PUBLIC_TITLE", "gr\xc3\xbc\xc3\x9f \"quoted\" \\ $HOME"},
    {"EMPTY", ""},
  };
  for (auto& b : all) {
    CAF_MESSAGE("backend " << b.name);
    auto st = b.open();
    auto alice = make_user(*st, "alice");
    auto p = make_project(*st, alice.id, "web");
    environment e;
    e.project_id = p.id;
    e.name = "prod";
    e.type = "production";
    e.variables = {{"SECRET", "runtime-only-value"}};
    e.build_variables = build;
    auto created = st->create_environment(e);
    CAF_REQUIRE(created);
    CAF_CHECK(created->build_variables == build);
    auto found = st->find_environment(created->id);
    CAF_REQUIRE(found);
    CAF_CHECK(found->build_variables == build);
    // Not secret: a masked list still carries them in full.
    auto masked = st->list_environments_masked(p.id, {1, 20});
    CAF_REQUIRE(masked);
    CAF_REQUIRE_EQUAL(masked->items.size(), 1u);
    CAF_CHECK(masked->items[0].build_variables == build);
    // Stored as they are (the runtime variables are sealed).
    auto rows = b.raw_query("SELECT build_variables, variables FROM environments");
    CAF_REQUIRE_EQUAL(rows.size(), 1u);
    CAF_CHECK(rows[0][0].find("https://api.example.com/v1?x=1&y=2") != std::string::npos);
    CAF_CHECK(rows[0][1].find("runtime-only-value") == std::string::npos);
    // An update replaces them; an environment without any has none.
    auto change = *found;
    change.build_variables = {{"VITE_MODE", "staging"}};
    auto updated = st->update_environment(change);
    CAF_REQUIRE(updated);
    CAF_CHECK(updated->build_variables == change.build_variables);
    CAF_CHECK(updated->variables == e.variables);
    auto plain = make_env(*st, p.id, "plain");
    auto reread = st->find_environment(plain.id);
    CAF_REQUIRE(reread);
    CAF_CHECK(reread->build_variables.empty());
  }
}

CAF_TEST(deployments) {
  for (auto& b : all) {
    CAF_MESSAGE("backend " << b.name);
    auto st = b.open();
    auto alice = make_user(*st, "alice");
    auto p = make_project(*st, alice.id, "web");
    auto q = make_project(*st, alice.id, "api");
    auto prod = make_env(*st, p.id, "prod");
    auto stage = make_env(*st, p.id, "stage");
    auto qenv = make_env(*st, q.id, "prod");

    auto d1 = make_deployment(*st, p, prod, "key-1");
    CAF_CHECK(is_uuid(d1.id));
    CAF_CHECK(is_timestamp(d1.created_at));
    CAF_CHECK_EQUAL(d1.status, deployment_status::pending);
    auto found = st->find_deployment(d1.id);
    CAF_REQUIRE(found);
    CAF_CHECK_EQUAL(found->project_id, p.id);
    CAF_CHECK_EQUAL(found->environment_id, prod.id);
    CAF_CHECK_EQUAL(found->commit_sha, d1.commit_sha);
    CAF_CHECK_EQUAL(found->commit_message, "first");
    CAF_CHECK_EQUAL(found->status, deployment_status::pending);
    CAF_CHECK(!found->duration_seconds);
    CAF_CHECK_EQUAL(found->port, 0);
    CAF_CHECK_EQUAL(found->kind, deployment_kind::deploy);
    CAF_CHECK_EQUAL(found->idempotency_key, "key-1");
    CAF_CHECK_EQUAL(found->created_at, d1.created_at);
    CAF_CHECK_EQUAL(code(st->find_deployment(new_uuid())), not_found);

    // Idempotency: the same key in the same project conflicts; the first is found by key.
    auto again = st->create_deployment(d1);
    CAF_CHECK_EQUAL(code(again), conflict);
    CAF_CHECK(msg(again).find("idempotency key") != std::string::npos);
    auto by_key = st->find_deployment_by_key(p.id, "key-1");
    CAF_REQUIRE(by_key);
    CAF_CHECK_EQUAL(by_key->id, d1.id);
    CAF_CHECK_EQUAL(code(st->find_deployment_by_key(p.id, "key-2")), not_found);
    CAF_CHECK_EQUAL(code(st->find_deployment_by_key(p.id, "")), not_found);
    CAF_CHECK(st->create_deployment([&] {
      deployment d = d1;
      d.project_id = q.id;
      d.environment_id = qenv.id;
      return d;
    }())); // same key, other project
    auto d2 = make_deployment(*st, p, stage); // no key, twice
    auto d3 = make_deployment(*st, p, prod);
    // An environment of another project, or a missing one: not found.
    deployment cross = d1;
    cross.idempotency_key = "";
    cross.environment_id = qenv.id;
    CAF_CHECK_EQUAL(code(st->create_deployment(cross)), not_found);
    cross.environment_id = new_uuid();
    CAF_CHECK_EQUAL(code(st->create_deployment(cross)), not_found);

    // Newest first, paginated.
    auto list = st->list_deployments(p.id, {1, 2});
    CAF_REQUIRE(list);
    CAF_CHECK_EQUAL(list->total, 3);
    CAF_REQUIRE_EQUAL(list->items.size(), 2u);
    CAF_CHECK_EQUAL(list->items[0].id, d3.id);
    CAF_CHECK_EQUAL(list->items[1].id, d2.id);
    CAF_CHECK(list->has_more());
    auto rest = st->list_deployments(p.id, {2, 2});
    CAF_REQUIRE(rest);
    CAF_REQUIRE_EQUAL(rest->items.size(), 1u);
    CAF_CHECK_EQUAL(rest->items[0].id, d1.id);
    CAF_CHECK(!rest->has_more());

    // Update replaces every mutable field.
    deployment u = d1;
    u.status = deployment_status::success;
    u.duration_seconds = 12.345678901234567;
    u.deployed_at = now_rfc3339();
    u.container_id = "c0ffee";
    u.image_name = "gilgal-aaaaaaaa-bbbbbbbb";
    u.port = 20001;
    u.error_message = "";
    u.build_node = "local";
    u.run_node = "local";
    u.commit_message = "edited";
    u.environment_id = stage.id; // ignored
    auto updated = st->update_deployment(u);
    CAF_REQUIRE(updated);
    CAF_CHECK_EQUAL(updated->status, deployment_status::success);
    CAF_REQUIRE(updated->duration_seconds);
    CAF_CHECK_EQUAL(*updated->duration_seconds, 12.345678901234567);
    CAF_CHECK_EQUAL(updated->deployed_at, u.deployed_at);
    CAF_CHECK_EQUAL(updated->container_id, "c0ffee");
    CAF_CHECK_EQUAL(updated->image_name, u.image_name);
    CAF_CHECK_EQUAL(updated->port, 20001);
    CAF_CHECK_EQUAL(updated->build_node, "local");
    CAF_CHECK_EQUAL(updated->run_node, "local");
    CAF_CHECK_EQUAL(updated->commit_message, "edited");
    CAF_CHECK_EQUAL(updated->environment_id, prod.id);
    CAF_CHECK_EQUAL(updated->created_at, d1.created_at);
    auto reread = st->find_deployment(d1.id);
    CAF_REQUIRE(reread);
    CAF_CHECK_EQUAL(*reread->duration_seconds, 12.345678901234567);
    deployment ghost = u;
    ghost.id = new_uuid();
    CAF_CHECK_EQUAL(code(st->update_deployment(ghost)), not_found);

    deployment building = d2;
    building.status = deployment_status::building;
    CAF_CHECK(st->update_deployment(building));
    deployment rb = d3;
    rb.status = deployment_status::failed;
    rb.error_message = "build failed: step 3";
    rb.kind = deployment_kind::rollback;
    rb.rollback_of = d1.id;
    auto failed = st->update_deployment(rb);
    CAF_REQUIRE(failed);
    CAF_CHECK_EQUAL(failed->kind, deployment_kind::rollback);
    CAF_CHECK_EQUAL(failed->rollback_of, d1.id);
    CAF_CHECK_EQUAL(failed->error_message, "build failed: step 3");

    // Unfinished: pending and building, oldest first (across projects).
    auto unfinished = st->list_unfinished_deployments();
    CAF_REQUIRE(unfinished);
    CAF_REQUIRE_EQUAL(unfinished->size(), 2u);
    CAF_CHECK_EQUAL((*unfinished)[0].project_id, q.id); // pending, created before d2
    CAF_CHECK_EQUAL((*unfinished)[1].id, d2.id);

    // Successful ones of an environment, newest first.
    auto d4 = make_deployment(*st, p, prod);
    deployment s4 = d4;
    s4.status = deployment_status::success;
    CAF_CHECK(st->update_deployment(s4));
    auto ok = st->list_successful_deployments(prod.id);
    CAF_REQUIRE(ok);
    CAF_REQUIRE_EQUAL(ok->size(), 2u);
    CAF_CHECK_EQUAL((*ok)[0].id, d4.id);
    CAF_CHECK_EQUAL((*ok)[1].id, d1.id);
    auto none = st->list_successful_deployments(stage.id);
    CAF_REQUIRE(none);
    CAF_CHECK(none->empty());
  }
}

CAF_TEST(deployment counts by status) {
  for (auto& b : all) {
    CAF_MESSAGE("backend " << b.name);
    auto st = b.open();
    auto empty = st->count_deployments_by_status();
    CAF_REQUIRE(empty);
    CAF_CHECK(empty->empty());
    auto alice = make_user(*st, "alice");
    auto p = make_project(*st, alice.id, "web");
    auto prod = make_env(*st, p.id, "prod");
    std::vector<deployment> ds;
    for (int i = 0; i < 6; ++i)
      ds.push_back(make_deployment(*st, p, prod));
    deployment_status statuses[] = {deployment_status::success, deployment_status::success,
                                    deployment_status::failed, deployment_status::building,
                                    deployment_status::cancelled};
    for (int i = 0; i < 5; ++i) {
      auto d = ds[i];
      d.status = statuses[i];
      CAF_REQUIRE(st->update_deployment(d));
    }
    auto counts = st->count_deployments_by_status();
    CAF_REQUIRE(counts);
    CAF_CHECK_EQUAL(counts->size(), 5u);
    CAF_CHECK_EQUAL(counts->at(deployment_status::success), 2);
    CAF_CHECK_EQUAL(counts->at(deployment_status::failed), 1);
    CAF_CHECK_EQUAL(counts->at(deployment_status::building), 1);
    CAF_CHECK_EQUAL(counts->at(deployment_status::cancelled), 1);
    CAF_CHECK_EQUAL(counts->at(deployment_status::pending), 1);
  }
}

CAF_TEST(deployment status and kind are stored as text) {
  for (auto& b : all) {
    CAF_MESSAGE("backend " << b.name);
    auto st = b.open();
    auto alice = make_user(*st, "alice");
    auto p = make_project(*st, alice.id, "web");
    auto prod = make_env(*st, p.id, "prod");
    auto d = make_deployment(*st, p, prod);
    d.status = deployment_status::cancelled;
    d.kind = deployment_kind::config;
    CAF_REQUIRE(st->update_deployment(d));
    auto row = b.raw_query("SELECT status, kind FROM deployments WHERE id = '" + d.id + "'");
    CAF_REQUIRE_EQUAL(row.size(), 1u);
    CAF_CHECK_EQUAL(row[0][0], "cancelled");
    CAF_CHECK_EQUAL(row[0][1], "config");

    // Text the store never writes is an internal error naming it, not a crash.
    b.raw_exec("UPDATE deployments SET status = 'exploded' WHERE id = '" + d.id + "'");
    auto found = st->find_deployment(d.id);
    CAF_CHECK_EQUAL(code(found), static_cast<int>(errc::internal));
    CAF_CHECK(msg(found).find("exploded") != std::string::npos);
    CAF_CHECK_EQUAL(code(st->list_deployments(p.id, {})), static_cast<int>(errc::internal));
    CAF_CHECK_EQUAL(code(st->count_deployments_by_status()), static_cast<int>(errc::internal));
    b.raw_exec("UPDATE deployments SET status = 'success', kind = 'redeploy' WHERE id = '"
               + d.id + "'");
    auto by_kind = st->find_deployment(d.id);
    CAF_CHECK_EQUAL(code(by_kind), static_cast<int>(errc::internal));
    CAF_CHECK(msg(by_kind).find("redeploy") != std::string::npos);
  }
}

CAF_TEST(deployment logs) {
  for (auto& b : all) {
    CAF_MESSAGE("backend " << b.name);
    auto st = b.open();
    auto alice = make_user(*st, "alice");
    auto p = make_project(*st, alice.id, "web");
    auto e = make_env(*st, p.id, "prod");
    auto d = make_deployment(*st, p, e);
    auto other = make_deployment(*st, p, e);
    auto last = st->last_log_seq(d.id);
    CAF_REQUIRE(last);
    CAF_CHECK_EQUAL(*last, 0);
    std::vector<log_line> lines;
    for (int i = 1; i <= 5; ++i) {
      log_line l;
      l.deployment_id = d.id;
      l.seq = i;
      l.level = i == 5 ? "error" : "info";
      l.message = "line " + std::to_string(i);
      l.timestamp = now_rfc3339();
      lines.push_back(l);
    }
    CAF_CHECK(st->append_logs(lines));
    CAF_CHECK(st->append_logs({}));
    log_line foreign{other.id, 1, "info", "other's line", ""};
    CAF_CHECK(st->append_logs({foreign}));

    auto page1 = st->list_logs(d.id, {1, 2});
    CAF_REQUIRE(page1);
    CAF_CHECK_EQUAL(page1->total, 5);
    CAF_REQUIRE_EQUAL(page1->items.size(), 2u);
    CAF_CHECK_EQUAL(page1->items[0].seq, 1);
    CAF_CHECK_EQUAL(page1->items[0].message, "line 1");
    CAF_CHECK_EQUAL(page1->items[0].timestamp, lines[0].timestamp);
    CAF_CHECK_EQUAL(page1->items[0].deployment_id, d.id);
    CAF_CHECK(page1->has_more());
    auto page3 = st->list_logs(d.id, {3, 2});
    CAF_REQUIRE(page3);
    CAF_REQUIRE_EQUAL(page3->items.size(), 1u);
    CAF_CHECK_EQUAL(page3->items[0].seq, 5);
    CAF_CHECK_EQUAL(page3->items[0].level, "error");
    CAF_CHECK(!page3->has_more());

    auto after = st->logs_after(d.id, 2, 2);
    CAF_REQUIRE(after);
    CAF_REQUIRE_EQUAL(after->size(), 2u);
    CAF_CHECK_EQUAL((*after)[0].seq, 3);
    CAF_CHECK_EQUAL((*after)[1].seq, 4);
    auto tail = st->logs_after(d.id, 4, 100);
    CAF_REQUIRE(tail);
    CAF_REQUIRE_EQUAL(tail->size(), 1u);
    CAF_CHECK_EQUAL((*tail)[0].seq, 5);
    auto nothing = st->logs_after(d.id, 5, 100);
    CAF_REQUIRE(nothing);
    CAF_CHECK(nothing->empty());
    last = st->last_log_seq(d.id);
    CAF_REQUIRE(last);
    CAF_CHECK_EQUAL(*last, 5);
    auto other_last = st->last_log_seq(other.id);
    CAF_REQUIRE(other_last);
    CAF_CHECK_EQUAL(*other_last, 1);
    auto other_lines = st->logs_after(other.id, 0, 10);
    CAF_REQUIRE(other_lines);
    CAF_REQUIRE_EQUAL(other_lines->size(), 1u);
    CAF_CHECK(is_timestamp((*other_lines)[0].timestamp)); // assigned when empty

    // A duplicate seq conflicts and the whole batch is rolled back.
    std::vector<log_line> batch = {{d.id, 6, "info", "six", now_rfc3339()},
                                   {d.id, 3, "info", "dup", now_rfc3339()}};
    auto dup = st->append_logs(batch);
    CAF_CHECK_EQUAL(code(dup), conflict);
    CAF_CHECK(msg(dup).find("seq") != std::string::npos);
    last = st->last_log_seq(d.id);
    CAF_REQUIRE(last);
    CAF_CHECK_EQUAL(*last, 5);
    log_line orphan{new_uuid(), 1, "info", "x", now_rfc3339()};
    CAF_CHECK_EQUAL(code(st->append_logs({orphan})), not_found);
  }
}

CAF_TEST(environment hosts are unique across owners and free again when deleted) {
  for (auto& b : all) {
    CAF_MESSAGE("backend " << b.name);
    auto st = b.open();
    auto alice = make_user(*st, "alice");
    auto bob = make_user(*st, "bob");
    auto pa = make_project(*st, alice.id, "shop");
    auto pb = make_project(*st, bob.id, "blog");
    environment e;
    e.project_id = pa.id;
    e.name = "web";
    e.domain = "Shop.Example.com";
    e.aliases = {"www.shop.example.com", "shop.example.net"};
    auto web = st->create_environment(e);
    CAF_REQUIRE(web);
    CAF_CHECK_EQUAL(web->aliases, e.aliases);
    auto found = st->find_environment(web->id);
    CAF_REQUIRE(found);
    CAF_CHECK_EQUAL(found->aliases, e.aliases);
    // Another owner's environment: domain or alias taken, whatever the case.
    environment other;
    other.project_id = pb.id;
    other.name = "web";
    for (auto host : {"shop.example.com", "WWW.shop.example.com"}) {
      other.domain = host;
      auto clash = st->create_environment(other);
      CAF_CHECK_EQUAL(code(clash), conflict);
      if (!clash)
        CAF_CHECK(message_of(clash.error()).rfind("domain:", 0) == 0);
    }
    other.domain = "blog.example.com";
    other.aliases = {"shop.example.net"};
    CAF_CHECK_EQUAL(code(st->create_environment(other)), conflict);
    auto none = st->list_environments(pb.id, {1, 20});
    CAF_REQUIRE(none);
    CAF_CHECK_EQUAL(none->total, 0); // the failed create left nothing behind
    other.aliases.clear();
    auto blog = st->create_environment(other);
    CAF_REQUIRE(blog);
    // An update that would take a host fails and changes nothing.
    auto grab = *blog;
    grab.aliases = {"www.shop.example.com"};
    CAF_CHECK_EQUAL(code(st->update_environment(grab)), conflict);
    auto unchanged = st->find_environment(blog->id);
    CAF_REQUIRE(unchanged);
    CAF_CHECK(unchanged->aliases.empty());
    // Letting go of an alias frees it; deleting frees all hosts.
    auto smaller = *web;
    smaller.aliases = {"www.shop.example.com"};
    CAF_REQUIRE(st->update_environment(smaller));
    grab.aliases = {"shop.example.net"};
    CAF_CHECK(st->update_environment(grab));
    CAF_REQUIRE(st->delete_environment(web->id));
    grab.aliases = {"shop.example.net", "shop.example.com", "www.shop.example.com"};
    CAF_CHECK(st->update_environment(grab));
    // A deleted project's environments let go of their hosts too.
    CAF_REQUIRE(st->delete_project(pb.id));
    auto pc = make_project(*st, alice.id, "again");
    e.project_id = pc.id;
    CAF_CHECK(st->create_environment(e));
  }
}

CAF_TEST(environment routes name each live environment and its live deployment) {
  for (auto& b : all) {
    CAF_MESSAGE("backend " << b.name);
    auto st = b.open();
    auto alice = make_user(*st, "alice");
    auto p = make_project(*st, alice.id, "shop");
    auto prod = make_env(*st, p.id, "prod");
    auto stage = make_env(*st, p.id, "stage");
    auto gone = make_env(*st, p.id, "gone");
    CAF_REQUIRE(st->delete_environment(gone.id));
    auto older = make_deployment(*st, p, prod);
    older.status = deployment_status::success;
    older.container_id = "c-old";
    older.port = 20001;
    older.run_node = "local";
    CAF_REQUIRE(st->update_deployment(older));
    auto newer = make_deployment(*st, p, prod);
    newer.status = deployment_status::success;
    newer.container_id = "c-new";
    newer.port = 20002;
    newer.run_node = "node-b";
    CAF_REQUIRE(st->update_deployment(newer));
    auto failed = make_deployment(*st, p, prod);
    failed.status = deployment_status::failed;
    CAF_REQUIRE(st->update_deployment(failed));
    auto routes = st->list_environment_routes();
    CAF_REQUIRE(routes);
    CAF_REQUIRE_EQUAL(routes->size(), 2u);
    auto& r = (*routes)[0];
    CAF_CHECK_EQUAL(r.environment_id, prod.id);
    CAF_CHECK_EQUAL(r.environment_name, "prod");
    CAF_CHECK_EQUAL(r.project_name, "shop");
    CAF_CHECK_EQUAL(r.domain, prod.domain);
    CAF_CHECK_EQUAL(r.created_at, prod.created_at);
    CAF_CHECK_EQUAL(r.live_deployment_id, newer.id);
    CAF_CHECK_EQUAL(r.live_created_at, newer.created_at);
    CAF_CHECK_EQUAL(r.container_id, "c-new");
    CAF_CHECK_EQUAL(r.port, 20002);
    CAF_CHECK_EQUAL(r.run_node, "node-b");
    CAF_CHECK_EQUAL((*routes)[1].environment_id, stage.id);
    CAF_CHECK((*routes)[1].live_deployment_id.empty());
    CAF_CHECK_EQUAL((*routes)[1].port, 0);
    CAF_CHECK(!r.stopped);
    // Its live container stopped through the API: the route says so, until
    // it runs again or a newer deployment is live.
    CAF_REQUIRE(st->set_stopped_deployment(prod.id, newer.id));
    routes = st->list_environment_routes();
    CAF_REQUIRE(routes);
    CAF_CHECK((*routes)[0].stopped);
    CAF_CHECK(!(*routes)[1].stopped);
    CAF_REQUIRE(st->set_stopped_deployment(prod.id, older.id)); // not the live one
    routes = st->list_environment_routes();
    CAF_REQUIRE(routes);
    CAF_CHECK(!(*routes)[0].stopped);
    CAF_REQUIRE(st->set_stopped_deployment(prod.id, ""));
    CAF_CHECK(!st->set_stopped_deployment(gone.id, ""));
    // A deleted project's environments are not routed.
    CAF_REQUIRE(st->delete_project(p.id));
    routes = st->list_environment_routes();
    CAF_REQUIRE(routes);
    CAF_CHECK(routes->empty());
  }
}

CAF_TEST(the write epoch grows with every write the API shows and only then) {
  for (auto& b : all) {
    CAF_MESSAGE("backend " << b.name);
    auto st = b.open();
    auto epoch = st->write_epoch();
    // Each write below must move it on: a cached view of the old epoch is retired.
    auto moved = [&](const char* what) {
      auto now = st->write_epoch();
      if (now <= epoch)
        CAF_MESSAGE(what << " did not advance the write epoch");
      CAF_CHECK_GREATER(now, epoch);
      epoch = now;
    };
    auto alice = make_user(*st, "alice");
    moved("create_user");
    auto p = make_project(*st, alice.id, "shop");
    moved("create_project");
    auto e = make_env(*st, p.id, "prod");
    moved("create_environment");
    auto d = make_deployment(*st, p, e);
    moved("create_deployment");
    d.status = deployment_status::success;
    CAF_REQUIRE(st->update_deployment(d));
    moved("update_deployment");
    e.domain = "shop.example.test";
    CAF_REQUIRE(st->update_environment(e));
    moved("update_environment");
    CAF_CHECK(!st->update_environment(environment{})); // failed writes count too
    moved("a failed update_environment");
    // Reads, log lines and notification attempts leave it where it is.
    CAF_REQUIRE(st->list_environment_routes());
    CAF_REQUIRE(st->find_project(p.id));
    CAF_REQUIRE(st->append_logs({log_line{d.id, 1, "info", "hello", ""}}));
    notification_attempt a;
    a.project_id = p.id;
    a.deployment_id = d.id;
    a.event = "deployment.succeeded";
    a.url = "https://example.test/hook";
    a.attempt = 1;
    CAF_REQUIRE(st->add_notification_attempt(a));
    CAF_CHECK_EQUAL(st->write_epoch(), epoch);
    CAF_REQUIRE(st->delete_environment(e.id));
    moved("delete_environment");
  }
}

CAF_TEST(webhook secrets deliveries and auto-deploy settings) {
  for (auto& b : all) {
    CAF_MESSAGE("backend " << b.name);
    auto st = b.open();
    auto alice = make_user(*st, "alice");
    auto p = make_project(*st, alice.id, "web");
    auto q = make_project(*st, alice.id, "api");
    // Environments keep autoDeploy and their branch.
    environment e;
    e.project_id = p.id;
    e.name = "prod";
    e.auto_deploy = true;
    e.branch = "release/1";
    auto prod = st->create_environment(e);
    CAF_REQUIRE(prod);
    auto found_env = st->find_environment(prod->id);
    CAF_REQUIRE(found_env);
    CAF_CHECK_EQUAL(found_env->auto_deploy, true);
    CAF_CHECK_EQUAL(found_env->branch, "release/1");
    found_env->auto_deploy = false;
    found_env->branch.clear();
    auto updated = st->update_environment(*found_env);
    CAF_REQUIRE(updated);
    CAF_CHECK_EQUAL(updated->auto_deploy, false);
    CAF_CHECK_EQUAL(updated->branch, "");
    auto stage = make_env(*st, p.id, "stage");
    CAF_CHECK_EQUAL(stage.auto_deploy, false);

    // Secrets: none at first, sealed at rest, replaced by the next one.
    CAF_CHECK_EQUAL(code(st->find_webhook_secret(p.id)), not_found);
    CAF_REQUIRE(st->set_webhook_secret(p.id, "first-secret-value"));
    auto secret = st->find_webhook_secret(p.id);
    CAF_REQUIRE(secret);
    CAF_CHECK_EQUAL(*secret, "first-secret-value");
    for (auto& row : b.raw_query("SELECT secret FROM project_webhooks"))
      CAF_CHECK(row[0].find("first-secret-value") == std::string::npos);
    CAF_REQUIRE(st->set_webhook_secret(p.id, "second-secret-value"));
    auto rotated = st->find_webhook_secret(p.id);
    CAF_REQUIRE(rotated);
    CAF_CHECK_EQUAL(*rotated, "second-secret-value");
    CAF_CHECK_EQUAL(b.raw_query("SELECT project_id FROM project_webhooks").size(), 1u);
    CAF_CHECK_EQUAL(code(st->set_webhook_secret(new_uuid(), "x")), not_found);

    // A delivery and its deployments in one transaction; a redelivery conflicts.
    webhook_delivery hook;
    hook.project_id = p.id;
    hook.provider = "github";
    hook.delivery_id = "d-1";
    hook.event = "push";
    deployment d;
    d.project_id = p.id;
    d.commit_sha = "0123456789abcdef0123456789abcdef01234567";
    d.trigger.kind = "webhook";
    d.trigger.provider = "github";
    d.trigger.delivery_id = "d-1";
    std::vector<deployment> wanted;
    for (auto* env : {&*prod, &stage}) {
      d.environment_id = env->id;
      wanted.push_back(d);
    }
    auto created = st->record_webhook_delivery(hook, wanted);
    CAF_REQUIRE(created);
    CAF_REQUIRE_EQUAL(created->size(), 2u);
    CAF_CHECK_EQUAL((*created)[0].environment_id, prod->id);
    auto stored = st->find_deployment((*created)[1].id);
    CAF_REQUIRE(stored);
    CAF_CHECK_EQUAL(stored->trigger.kind, "webhook");
    CAF_CHECK_EQUAL(stored->trigger.provider, "github");
    CAF_CHECK_EQUAL(stored->trigger.delivery_id, "d-1");
    auto again = st->record_webhook_delivery(hook, wanted);
    CAF_CHECK_EQUAL(code(again), conflict);
    auto listed = st->list_deployments(p.id, {1, 100});
    CAF_REQUIRE(listed);
    CAF_CHECK_EQUAL(listed->total, 2);
    // The same id from another host, or for another project, is another delivery.
    hook.provider = "gitlab";
    CAF_CHECK(st->record_webhook_delivery(hook, {}));
    hook.project_id = q.id;
    CAF_CHECK(st->record_webhook_delivery(hook, {}));
    // A deployment that cannot be created undoes the delivery's record.
    hook.project_id = p.id;
    hook.delivery_id = "d-2";
    d.environment_id = new_uuid();
    CAF_CHECK_EQUAL(code(st->record_webhook_delivery(hook, {d})), not_found);
    d.environment_id = prod->id;
    auto retried = st->record_webhook_delivery(hook, {d});
    CAF_REQUIRE(retried);
    CAF_CHECK_EQUAL(retried->size(), 1u);
    // Deployments created otherwise are "api" ones.
    auto plain = make_deployment(*st, p, stage);
    auto plain_found = st->find_deployment(plain.id);
    CAF_REQUIRE(plain_found);
    CAF_CHECK_EQUAL(plain_found->trigger.kind, "api");
    // A deleted project has no webhook any more.
    CAF_REQUIRE(st->delete_project(p.id));
    CAF_CHECK_EQUAL(code(st->find_webhook_secret(p.id)), not_found);
  }
}

CAF_TEST(notification targets secrets and attempts) {
  for (auto& b : all) {
    CAF_MESSAGE("backend " << b.name);
    auto st = b.open();
    auto alice = make_user(*st, "alice");
    // Targets are stored with the project, created and replaced.
    project in;
    in.owner_id = alice.id;
    in.name = "web";
    in.repository_url = "https://git.example.com/web.git";
    in.notifications = {{"https://hooks.example.com/a", {"deployment.failed"}}};
    auto p = st->create_project(in);
    CAF_REQUIRE(p);
    auto found = st->find_project(p->id);
    CAF_REQUIRE(found);
    CAF_REQUIRE_EQUAL(found->notifications.size(), 1u);
    CAF_CHECK_EQUAL(found->notifications[0].url, "https://hooks.example.com/a");
    CAF_REQUIRE_EQUAL(found->notifications[0].events.size(), 1u);
    CAF_CHECK_EQUAL(found->notifications[0].events[0], "deployment.failed");
    found->notifications = {{"https://hooks.example.com/b", {"deployment.started",
                                                             "deployment.succeeded"}},
                            {"https://hooks.example.com/c", {"deployment.cancelled"}}};
    auto updated = st->update_project(*found);
    CAF_REQUIRE(updated);
    CAF_REQUIRE_EQUAL(updated->notifications.size(), 2u);
    CAF_CHECK_EQUAL(updated->notifications[0].events.size(), 2u);
    CAF_CHECK_EQUAL(updated->notifications[1].url, "https://hooks.example.com/c");
    auto listed = st->list_projects(alice.id, {1, 10});
    CAF_REQUIRE(listed);
    CAF_CHECK_EQUAL(listed->items.at(0).notifications.size(), 2u);
    // The secret: none at first, sealed at rest, replaced by the next one.
    CAF_CHECK_EQUAL(code(st->find_notification_secret(p->id)), not_found);
    CAF_REQUIRE(st->set_notification_secret(p->id, "first-notification-secret"));
    auto secret = st->find_notification_secret(p->id);
    CAF_REQUIRE(secret);
    CAF_CHECK_EQUAL(*secret, "first-notification-secret");
    for (auto& row : b.raw_query("SELECT notification_secret FROM projects"))
      CAF_CHECK(row[0].find("first-notification-secret") == std::string::npos);
    CAF_REQUIRE(st->set_notification_secret(p->id, "second-notification-secret"));
    auto rotated = st->find_notification_secret(p->id);
    CAF_REQUIRE(rotated);
    CAF_CHECK_EQUAL(*rotated, "second-notification-secret");
    CAF_CHECK_EQUAL(code(st->set_notification_secret(new_uuid(), "x")), not_found);
    // Attempts: newest first, paged, per project.
    auto e = make_env(*st, p->id, "prod");
    auto d = make_deployment(*st, *p, e);
    notification_attempt a;
    a.project_id = p->id;
    a.deployment_id = d.id;
    a.delivery_id = new_uuid();
    a.event = "deployment.failed";
    a.url = "https://hooks.example.com/b";
    for (int i = 1; i <= 3; ++i) {
      a.attempt = i;
      a.success = i == 3;
      a.status_code = i == 3 ? 200 : 0;
      a.error = i == 3 ? "" : "Couldn't connect to server";
      CAF_REQUIRE(st->add_notification_attempt(a));
    }
    auto other = make_project(*st, alice.id, "api");
    auto none = st->list_notification_attempts(other.id, {1, 10});
    CAF_REQUIRE(none);
    CAF_CHECK_EQUAL(none->total, 0);
    auto first = st->list_notification_attempts(p->id, {1, 2});
    CAF_REQUIRE(first);
    CAF_CHECK_EQUAL(first->total, 3);
    CAF_REQUIRE_EQUAL(first->items.size(), 2u);
    CAF_CHECK_EQUAL(first->items[0].attempt, 3);
    CAF_CHECK_EQUAL(first->items[0].success, true);
    CAF_CHECK_EQUAL(first->items[0].status_code, 200);
    CAF_CHECK_EQUAL(first->items[0].delivery_id, a.delivery_id);
    CAF_CHECK(is_uuid(first->items[0].id));
    CAF_CHECK_EQUAL(first->items[1].attempt, 2);
    CAF_CHECK_EQUAL(first->items[1].error, "Couldn't connect to server");
    auto second = st->list_notification_attempts(p->id, {2, 2});
    CAF_REQUIRE(second);
    CAF_REQUIRE_EQUAL(second->items.size(), 1u);
    CAF_CHECK_EQUAL(second->items[0].attempt, 1);
    CAF_CHECK_EQUAL(second->items[0].success, false);
  }
}

CAF_TEST(previews open once per delivery within the cap and copy sealed variables) {
  for (auto& b : all) {
    CAF_MESSAGE("backend " << b.name);
    auto st = b.open();
    auto alice = make_user(*st, "alice");
    auto p = make_project(*st, alice.id, "web");
    // Preview settings are kept with the project.
    p.previews.enabled = true;
    p.previews.domain = "preview.example.test";
    p.previews.ttl_hours = 0.5;
    p.previews.max_previews = 2;
    auto base = make_env(*st, p.id, "prod", {{"API_KEY", "base-secret-value"}});
    base.settings.memory_mb = 256;
    base.build_variables = {{"VITE_X", "1"}};
    CAF_REQUIRE(st->update_environment(base));
    p.previews.base_environment_id = base.id;
    CAF_REQUIRE(st->update_project(p));
    auto found = st->find_project(p.id);
    CAF_REQUIRE(found);
    CAF_CHECK_EQUAL(found->previews.enabled, true);
    CAF_CHECK_EQUAL(found->previews.base_environment_id, base.id);
    CAF_CHECK_EQUAL(found->previews.domain, "preview.example.test");
    CAF_CHECK_EQUAL(found->previews.ttl_hours, 0.5);
    CAF_CHECK_EQUAL(found->previews.max_previews, 2);
    auto plain = make_project(*st, alice.id, "plain");
    CAF_CHECK_EQUAL(plain.previews.enabled, false);
    CAF_CHECK_EQUAL(plain.previews.max_previews, 10);

    auto request = [&](int64_t number, const std::string& sha) {
      preview_request req;
      req.project_id = p.id;
      req.name = "pr-" + std::to_string(number);
      req.domain = req.name + ".preview.example.test";
      req.source.pull_request = number;
      req.source.provider = "github";
      req.source.branch = "feature/" + std::to_string(number);
      req.base_environment_id = base.id;
      req.max_previews = 2;
      req.wanted.commit_sha = sha;
      req.wanted.trigger.kind = "webhook";
      req.wanted.trigger.provider = "github";
      return req;
    };
    auto delivery = [&](const std::string& id) {
      webhook_delivery d;
      d.project_id = p.id;
      d.provider = "github";
      d.delivery_id = id;
      d.event = "pull_request";
      return d;
    };
    const std::string sha1(40, 'a'), sha2(40, 'b');
    auto first = st->open_preview(delivery("d-1"), request(7, sha1));
    CAF_REQUIRE(first);
    CAF_CHECK_EQUAL(first->outcome, preview_opening::deployed);
    CAF_CHECK(first->created);
    CAF_CHECK_EQUAL(first->env.name, "pr-7");
    CAF_CHECK_EQUAL(first->env.type, "development");
    CAF_CHECK_EQUAL(first->env.domain, "pr-7.preview.example.test");
    CAF_CHECK_EQUAL(first->env.preview.pull_request, 7);
    CAF_CHECK_EQUAL(first->env.preview.branch, "feature/7");
    CAF_CHECK_EQUAL(first->env.variables.at("API_KEY"), "base-secret-value");
    CAF_CHECK_EQUAL(first->env.settings.memory_mb, 256);
    CAF_CHECK_EQUAL(first->env.build_variables.at("VITE_X"), "1");
    CAF_CHECK_EQUAL(first->dep.environment_id, first->env.id);
    CAF_CHECK_EQUAL(first->dep.commit_sha, sha1);
    // The sealed text is copied as it is: the same ciphertext as the base's.
    auto sealed = b.raw_query("SELECT variables FROM environments WHERE id = '" + base.id + "'");
    auto copied = b.raw_query("SELECT variables FROM environments WHERE id = '"
                              + first->env.id + "'");
    CAF_REQUIRE(!sealed.empty() && !copied.empty());
    CAF_CHECK_EQUAL(sealed[0][0], copied[0][0]);
    CAF_CHECK(copied[0][0].find("base-secret-value") == std::string::npos);
    // A redelivery does nothing; the same commit again is up to date.
    auto again = st->open_preview(delivery("d-1"), request(7, sha1));
    CAF_REQUIRE(again);
    CAF_CHECK_EQUAL(again->outcome, preview_opening::duplicate);
    auto same = st->open_preview(delivery("d-2"), request(7, sha1));
    CAF_REQUIRE(same);
    CAF_CHECK_EQUAL(same->outcome, preview_opening::up_to_date);
    auto next = st->open_preview(delivery("d-3"), request(7, sha2));
    CAF_REQUIRE(next);
    CAF_CHECK_EQUAL(next->outcome, preview_opening::deployed);
    CAF_CHECK(!next->created);
    CAF_CHECK_EQUAL(next->env.id, first->env.id);
    // The cap: a second preview fits, a third does not and records nothing.
    auto eight = st->open_preview(delivery("d-4"), request(8, sha1));
    CAF_REQUIRE(eight);
    CAF_CHECK_EQUAL(eight->outcome, preview_opening::deployed);
    auto over = st->open_preview(delivery("d-5"), request(9, sha1));
    CAF_REQUIRE(over);
    CAF_CHECK_EQUAL(over->outcome, preview_opening::over_limit);
    CAF_CHECK_EQUAL(over->open_previews, 2);
    CAF_CHECK_EQUAL(code(st->find_preview(p.id, 9)), not_found);
    // Listed by number with their newest deployment.
    auto listed = st->list_previews(p.id, {1, 100});
    CAF_REQUIRE(listed);
    CAF_REQUIRE_EQUAL(listed->total, 2);
    CAF_CHECK_EQUAL(listed->items[0].env.preview.pull_request, 7);
    CAF_CHECK_EQUAL(listed->items[0].latest_commit_sha, sha2);
    CAF_CHECK_EQUAL(listed->items[0].env.variables.at("API_KEY"), ""); // masked
    CAF_CHECK(is_timestamp(listed->items[0].last_activity_at));
    auto activity = st->list_preview_activity();
    CAF_REQUIRE(activity);
    CAF_REQUIRE_EQUAL(activity->size(), 2u);
    CAF_CHECK_EQUAL((*activity)[0].ttl_hours, 0.5);
    CAF_CHECK((*activity)[0].busy); // its deployments are pending
    // Closed: deleted like any environment; then the refused delivery fits.
    auto seven = st->find_preview(p.id, 7);
    CAF_REQUIRE(seven);
    CAF_REQUIRE(st->delete_environment(seven->id));
    auto later = st->open_preview(delivery("d-5"), request(9, sha1));
    CAF_REQUIRE(later);
    CAF_CHECK_EQUAL(later->outcome, preview_opening::deployed);
    // A user's environment of the same name is not taken over; a vanished base is named.
    make_env(*st, p.id, "pr-10");
    CAF_CHECK_EQUAL(code(st->open_preview(delivery("d-6"), request(10, sha1))), conflict);
    CAF_REQUIRE(st->delete_environment(later->env.id));
    CAF_REQUIRE(st->delete_environment(base.id));
    auto orphan = st->open_preview(delivery("d-7"), request(11, sha1));
    CAF_CHECK_EQUAL(code(orphan), conflict);
    CAF_CHECK(msg(orphan).find("previews.baseEnvironmentId") != std::string::npos);
    CAF_CHECK_EQUAL(code(st->find_preview(p.id, 11)), not_found);
  }
}

CAF_TEST(migrations recorded and idempotent on reopen) {
  for (auto& b : all) {
    CAF_MESSAGE("backend " << b.name);
    auto expected = all_migrations(b.is_postgres() ? sql_dialect::postgres
                                                   : sql_dialect::sqlite);
    CAF_REQUIRE(!expected.empty());
    for (int round = 0; round < 3; ++round) {
      auto st = b.open();
      auto v = st->schema_version();
      CAF_REQUIRE(v);
      CAF_CHECK_EQUAL(*v, expected.back().version);
      auto rows = b.raw_query("SELECT version, applied_at FROM schema_migrations ORDER BY version");
      CAF_REQUIRE_EQUAL(rows.size(), expected.size());
      for (size_t i = 0; i < rows.size(); ++i) {
        CAF_CHECK_EQUAL(rows[i][0], std::to_string(expected[i].version));
        CAF_CHECK(is_timestamp(rows[i][1]));
      }
    }
  }
}

CAF_TEST(data survives close and reopen) {
  for (auto& b : all) {
    CAF_MESSAGE("backend " << b.name);
    std::string user_id, project_id, env_id, dep_id;
    std::map<std::string, std::string> vars = {{"SECRET", "s3cr3t"}, {"PORT_HINT", "80"}};
    {
      auto st = b.open();
      auto u = make_user(*st, "alice");
      auto p = make_project(*st, u.id, "web");
      auto e = make_env(*st, p.id, "prod", vars);
      auto d = make_deployment(*st, p, e, "k");
      CAF_CHECK(st->append_logs({{d.id, 1, "info", "hello", now_rfc3339()}}));
      user_id = u.id;
      project_id = p.id;
      env_id = e.id;
      dep_id = d.id;
    }
    auto st = b.open();
    CAF_CHECK(st->find_user(user_id));
    auto p = st->find_project(project_id);
    CAF_REQUIRE(p);
    CAF_CHECK_EQUAL(p->name, "web");
    auto e = st->find_environment(env_id);
    CAF_REQUIRE(e);
    CAF_CHECK(e->variables == vars);
    auto d = st->find_deployment_by_key(project_id, "k");
    CAF_REQUIRE(d);
    CAF_CHECK_EQUAL(d->id, dep_id);
    auto logs = st->logs_after(dep_id, 0, 10);
    CAF_REQUIRE(logs);
    CAF_REQUIRE_EQUAL(logs->size(), 1u);
    CAF_CHECK_EQUAL((*logs)[0].message, "hello");
  }
}

CAF_TEST(concurrent readers and writers) {
  for (auto& b : all) {
    CAF_MESSAGE("backend " << b.name);
    auto st = b.open();
    auto u = make_user(*st, "alice");
    auto p = make_project(*st, u.id, "web");
    constexpr int threads = 4;
    constexpr int per_thread = 15;
    std::atomic<int> failures{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) {
          environment e;
          e.project_id = p.id;
          e.name = "env-" + std::to_string(t) + "-" + std::to_string(i);
          e.variables = {{"K", "v"}};
          if (!st->create_environment(e))
            ++failures;
          auto list = st->list_environments(p.id, {1, 20});
          if (!list || list->items.empty())
            ++failures;
        }
      });
    }
    for (auto& th : pool)
      th.join();
    CAF_CHECK_EQUAL(failures.load(), 0);
    auto all_envs = st->list_environments(p.id, {1, 100});
    CAF_REQUIRE(all_envs);
    CAF_CHECK_EQUAL(all_envs->total, threads * per_thread);
  }
}

CAF_TEST(open_store parameters) {
  auto cipher = test::test_cipher();
  for (auto& b : all) {
    CAF_MESSAGE("backend " << b.name);
    if (!b.is_postgres())
      continue;
    auto sep = b.url.find('?') == std::string::npos ? "?" : "&";
    auto pooled = open_store(b.url + sep + "pool_size=2", cipher);
    CAF_REQUIRE(pooled);
    CAF_CHECK((*pooled)->create_user("pooled"));
    CAF_CHECK_EQUAL(code(open_store(b.url + sep + "pool_size=0", cipher)), invalid);
    CAF_CHECK_EQUAL(code(open_store(b.url + sep + "pool_size=x", cipher)), invalid);
  }
  CAF_CHECK_EQUAL(code(open_store("", cipher)), invalid);
  CAF_CHECK_EQUAL(code(open_store(all.list[0].url, nullptr)), invalid);
  auto unreachable = open_store("postgresql://postgres@127.0.0.1:1/none?connect_timeout=2",
                                cipher);
  CAF_CHECK_EQUAL(code(unreachable), static_cast<int>(errc::unavailable));
}

CAF_TEST_FIXTURE_SCOPE_END()
