// The environment events hub on CAF's deterministic scheduler: subscribers
// of an environment hear its events and no other environment's, an
// unsubscribed or gone subscriber hears nothing more, and a subscription is
// answered before any later event reaches it.
#define CAF_SUITE actors.environment_events
#include <caf/test/dsl.hpp>

#include <memory>

#include "actors/environment_events.hpp"
#include "tests/fixtures/pipeline_stand_ins.hpp"

using namespace gilgal;
using namespace gilgal::test;

namespace {

using heard_list = std::vector<std::string>;

/// Records "live ENV" / "remove ENV" for every event it hears.
caf::behavior listener(caf::event_based_actor*, std::shared_ptr<heard_list> heard) {
  return {
    [heard](live_atom, const std::string& env) { heard->push_back("live " + env); },
    [heard](remove_atom, const std::string& env) { heard->push_back("remove " + env); },
  };
}

using hub_impl = caf::stateful_actor<environment_events_state, environment_events_actor::base>;

struct fixture : test_coordinator_fixture<actor_test_config> {
  environment_events_actor hub = sys.spawn(environment_events);

  ~fixture() {
    caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
    sched.run();
  }

  /// A listener subscribed to `env`; its subscription was answered true.
  caf::actor subscribed(const std::string& env, std::shared_ptr<heard_list> heard) {
    auto who = sys.spawn(listener, heard);
    auto answered = std::make_shared<caf::optional<bool>>();
    sys.spawn([=](caf::event_based_actor* a) {
      a->request(hub, caf::infinite, subscribe_atom::value, env, who)
        .then([=](bool ok) { *answered = ok; });
    });
    sched.run();
    CAF_REQUIRE(*answered);
    CAF_REQUIRE(**answered);
    return who;
  }

  size_t subscriber_count(const std::string& env) {
    auto& subs = deref<hub_impl>(hub).state.subscribers;
    auto i = subs.find(env);
    return i == subs.end() ? 0 : i->second.size();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(environment_events_tests, fixture)

CAF_TEST(subscribers hear the events of their environment only) {
  auto a1 = std::make_shared<heard_list>();
  auto a2 = std::make_shared<heard_list>();
  auto b = std::make_shared<heard_list>();
  auto l1 = subscribed("env-a", a1);
  auto l2 = subscribed("env-a", a2);
  auto l3 = subscribed("env-b", b);
  caf::anon_send(hub, live_atom::value, std::string{"env-a"});
  caf::anon_send(hub, remove_atom::value, std::string{"env-b"});
  caf::anon_send(hub, live_atom::value, std::string{"env-c"}); // nobody listens
  sched.run();
  CAF_CHECK_EQUAL(*a1, (heard_list{"live env-a"}));
  CAF_CHECK_EQUAL(*a2, (heard_list{"live env-a"}));
  CAF_CHECK_EQUAL(*b, (heard_list{"remove env-b"}));
  for (auto& l : {l1, l2, l3})
    caf::anon_send_exit(l, caf::exit_reason::user_shutdown);
  sched.run();
}

CAF_TEST(an unsubscribed or gone subscriber hears nothing more) {
  auto kept = std::make_shared<heard_list>();
  auto left = std::make_shared<heard_list>();
  auto gone = std::make_shared<heard_list>();
  auto l1 = subscribed("env-a", kept);
  auto l2 = subscribed("env-a", left);
  auto l3 = subscribed("env-a", gone);
  // Subscribing twice is one subscription.
  caf::anon_send(hub, subscribe_atom::value, std::string{"env-a"}, l1);
  sched.run();
  CAF_CHECK_EQUAL(subscriber_count("env-a"), 3u);
  caf::anon_send(hub, unsub_atom::value, std::string{"env-a"}, l2);
  caf::anon_send_exit(l3, caf::exit_reason::user_shutdown);
  sched.run();
  CAF_CHECK_EQUAL(subscriber_count("env-a"), 1u); // l3's down message dropped it
  caf::anon_send(hub, live_atom::value, std::string{"env-a"});
  sched.run();
  CAF_CHECK_EQUAL(*kept, (heard_list{"live env-a"}));
  CAF_CHECK(left->empty());
  CAF_CHECK(gone->empty());
  caf::anon_send_exit(l1, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(l2, caf::exit_reason::user_shutdown);
  sched.run();
  CAF_CHECK_EQUAL(subscriber_count("env-a"), 0u);
}

CAF_TEST(a subscription without an actor is refused) {
  auto answered = std::make_shared<caf::optional<bool>>();
  sys.spawn([=](caf::event_based_actor* a) {
    a->request(hub, caf::infinite, subscribe_atom::value, std::string{"env-a"}, caf::actor{})
      .then([=](bool ok) { *answered = ok; });
  });
  sched.run();
  CAF_REQUIRE(*answered);
  CAF_CHECK(!**answered);
  CAF_CHECK_EQUAL(subscriber_count("env-a"), 0u);
}

CAF_TEST_FIXTURE_SCOPE_END()
