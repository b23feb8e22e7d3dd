#define CAF_SUITE protocol.json_writer
#include <caf/test/unit_test.hpp>

#include "protocol/json.hpp"
#include "protocol/json_writer.hpp"

using namespace gilgal;

namespace {

const std::string reference_dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

environment plain() {
  environment e;
  e.id = "0b6f5bb0-6a3e-4f8e-9d55-5c1f0c7a1e01";
  e.project_id = "5f0e2b1a-0c4d-4e8f-8a9b-1c2d3e4f5a6b";
  e.name = "production";
  e.type = "production";
  e.created_at = "2026-12-01T10:00:00.000Z";
  e.updated_at = "2026-12-01T10:00:01.000Z";
  return e;
}

/// to_json(e) with the proxy's fields, as the environment routes answer.
nlohmann::json served_json(const environment& e, bool show, const std::string& url = {},
                           const std::string& live = {}) {
  auto j = to_json(e, show);
  j["url"] = url.empty() ? nlohmann::json(nullptr) : nlohmann::json(url);
  j["liveDeploymentId"] = live.empty() ? nlohmann::json(nullptr) : nlohmann::json(live);
  return j;
}

std::string written(const environment& e, bool show, const std::string& url = {},
                    const std::string& live = {}) {
  std::string out;
  json_writer w{out};
  write_json(w, e, show, url, live);
  return out;
}

} // namespace

CAF_TEST(an environment is written as nlohmann dumps it) {
  std::vector<environment> cases;
  cases.push_back(plain()); // empty domain, no variables, default settings
  auto full = plain();
  full.domain = "app.example.com";
  full.aliases = {"www.example.com", "b.example.com"};
  full.auto_deploy = true;
  full.branch = "release";
  full.variables = {{"DATABASE_URL", "postgres://u:p@db/app"}, {"A", ""}, {"Z_LAST", "z"}};
  full.settings.memory_mb = 512;
  full.settings.cpus = 1.5;
  full.settings.pids = 256;
  full.settings.health_check_path = "/healthz";
  full.settings.health_check_timeout_seconds = 30;
  full.settings.build_labels = {{"gpu", "true"}, {"region", "eu"}};
  full.settings.run_labels = {{"zone", ""}};
  cases.push_back(full);
  auto odd = full;
  odd.name = "quote \" backslash \\ tab \t newline \n bell \x07 del \x7f";
  odd.domain = "ünïcödé.example — ☃";
  odd.variables = {{"KEY \"q\"", "v\x01"}, {"UTF8_É", "ok"}, {"BAD", std::string{"\xff\xfe x"}}};
  odd.settings.cpus = 0.1;
  odd.settings.build_labels = {{"k", "\xc3"}};
  cases.push_back(odd);
  auto many_cpus = plain();
  many_cpus.settings.cpus = 2;
  cases.push_back(many_cpus);
  auto preview = plain(); // the preview of a pull request
  preview.name = "pr-12";
  preview.preview.pull_request = 12;
  preview.preview.provider = "github";
  preview.preview.branch = "feature/cart";
  cases.push_back(preview);
  auto branchless = preview;
  branchless.preview.branch.clear();
  cases.push_back(branchless);
  for (auto& e : cases)
    for (bool show : {true, false}) {
      CAF_CHECK_EQUAL(written(e, show), reference_dump(served_json(e, show)));
      auto url = "http://" + e.name + ".localhost:8000";
      CAF_CHECK_EQUAL(written(e, show, url, e.id), reference_dump(served_json(e, show, url, e.id)));
    }
}

CAF_TEST(a page is written as nlohmann dumps it) {
  page<environment> p;
  p.page = 2;
  p.limit = 3;
  p.total = 7;
  for (int i = 0; i < 3; ++i) {
    auto e = plain();
    e.name = "env" + std::to_string(i);
    e.variables = {{"V", "x"}};
    p.items.push_back(e);
  }
  auto expected =
    reference_dump(page_to_json(p, [](const environment& e) { return served_json(e, false); }));
  auto text = page_text(p, [](json_writer& w, const environment& e) { write_json(w, e, false); });
  CAF_CHECK_EQUAL(text, expected);
  page<environment> empty;
  CAF_CHECK_EQUAL(page_text(empty, [](json_writer& w, const environment& e) { write_json(w, e, false); }),
                  reference_dump(page_to_json(empty, [](const environment& e) {
                    return served_json(e, false);
                  })));
}

CAF_TEST(values and nesting) {
  std::string out;
  json_writer w{out};
  w.begin_array().value(int64_t{-5}).value(true).null().value(0.5).begin_object();
  w.key("a").begin_array().end_array().key("b").string_or_null("").key("c").number_or_null(int64_t{0});
  w.end_object().value("x\"y").end_array();
  CAF_CHECK_EQUAL(out, R"([-5,true,null,0.5,{"a":[],"b":null,"c":null},"x\"y"])");
  CAF_CHECK(!nlohmann::json::parse(out, nullptr, false).is_discarded());
}
