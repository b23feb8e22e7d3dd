// The edge's token cache on a real SQLite store: it saves store reads, and a
// revocation written to the store takes effect within its ttl.
#define CAF_SUITE http.auth_cache
#include <caf/test/unit_test.hpp>

#include <thread>

#include "config/api_token.hpp"
#include "http/auth.hpp"
#include "http/auth_cache.hpp"
#include "protocol/error.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/storage/store_backends.hpp"

using namespace gilgal;

namespace {

struct fixture {
  std::string dir = test::make_temp_dir("gilgal-auth-cache");
  std::unique_ptr<store> db;
  std::string user_id;
  issued_token token;

  fixture() {
    auto opened = open_store(dir + "/gilgal.db", test::test_cipher());
    if (!opened)
      CAF_FAIL("store: " << message_of(opened.error()));
    db = std::move(*opened);
    auto u = db->create_user("alice");
    if (!u)
      CAF_FAIL("user: " << message_of(u.error()));
    user_id = u->id;
    token = issue_token(user_id);
    if (!db->add_token(token.record))
      CAF_FAIL("cannot add a token");
  }

  ~fixture() {
    db.reset();
    test::remove_tree(dir);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(auth_cache_tests, fixture)

CAF_TEST(a valid token authenticates and a wrong or malformed one does not) {
  token_cache cache;
  auto who = authenticate(*db, cache, "Bearer " + token.text);
  CAF_REQUIRE(who);
  CAF_CHECK_EQUAL(*who, user_id);
  CAF_CHECK(authenticate(*db, cache, "bearer " + token.text)); // scheme is case-insensitive
  auto forged = token.text;
  forged.back() = forged.back() == 'a' ? 'b' : 'a';
  for (auto header : {"Bearer " + forged, std::string{"Bearer "}, std::string{},
                      "Basic " + token.text, "Bearer glg_0123456789abcdef_" + std::string(48, '0')}) {
    auto denied = authenticate(*db, cache, header);
    CAF_REQUIRE(!denied);
    CAF_CHECK_EQUAL(code_of(denied.error()), errc::unauthorized);
  }
}

CAF_TEST(revocation takes effect within the ttl) {
  token_cache cache{std::chrono::milliseconds{200}};
  CAF_REQUIRE(authenticate(*db, cache, "Bearer " + token.text));
  auto cached = cache.find(*db, token.record.id);
  CAF_REQUIRE(cached);
  CAF_CHECK(cached->revoked_at.empty());
  CAF_REQUIRE(db->revoke_token(token.record.id));
  auto revoked_at = std::chrono::steady_clock::now();
  // Within the ttl the cache may still hold the old record; after it, never.
  bool refused = false;
  while (!refused && std::chrono::steady_clock::now() - revoked_at < std::chrono::seconds(1))
    refused = !authenticate(*db, cache, "Bearer " + token.text);
  CAF_CHECK(refused);
  CAF_CHECK_LESS(std::chrono::steady_clock::now() - revoked_at, std::chrono::milliseconds(400));
  auto denied = authenticate(*db, cache, "Bearer " + token.text);
  CAF_REQUIRE(!denied);
  CAF_CHECK_EQUAL(code_of(denied.error()), errc::unauthorized);
}

CAF_TEST(records are served from the cache within the ttl) {
  token_cache cache{std::chrono::seconds{60}};
  CAF_REQUIRE(cache.find(*db, token.record.id));
  // Revoked in the store, the cached record is still the old one...
  CAF_REQUIRE(db->revoke_token(token.record.id));
  auto cached = cache.find(*db, token.record.id);
  CAF_REQUIRE(cached);
  CAF_CHECK(cached->revoked_at.empty());
  // ...while a fresh cache reads the store.
  token_cache fresh;
  auto read = fresh.find(*db, token.record.id);
  CAF_REQUIRE(read);
  CAF_CHECK(!read->revoked_at.empty());
  // Unknown ids are not cached and stay unknown.
  auto unknown = cache.find(*db, "0123456789abcdef");
  CAF_REQUIRE(!unknown);
  CAF_CHECK_EQUAL(code_of(unknown.error()), errc::not_found);
}

CAF_TEST(a full cache starts over instead of growing) {
  token_cache cache{std::chrono::seconds{60}, 2};
  std::vector<issued_token> more;
  for (int i = 0; i < 5; ++i) {
    more.push_back(issue_token(user_id));
    CAF_REQUIRE(db->add_token(more.back().record));
    CAF_REQUIRE(cache.find(*db, more.back().record.id));
  }
  // Still correct for every token.
  for (auto& t : more)
    CAF_CHECK(authenticate(*db, cache, "Bearer " + t.text));
}

CAF_TEST_FIXTURE_SCOPE_END()
