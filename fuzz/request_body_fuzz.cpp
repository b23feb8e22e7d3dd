// API request bodies: bytes as a client sends them, read as the HTTP routes
// read them (parse_json_object, then apply_project_json /
// apply_environment_json, creating and patching), plus the page query
// parameters and the console's readers of response JSON.
//
// Properties: no crash, no exception; a rejection is invalid_argument with a
// message; a rejected body leaves the record untouched; an accepted one
// leaves a record that passes validation again and serialises to JSON.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_check.hpp"
#include "protocol/error.hpp"
#include "protocol/json.hpp"
#include "protocol/validation.hpp"

using namespace gilgal;

namespace {

void check_rejection(const caf::error& err) {
  FUZZ_CHECK(code_of(err) == errc::invalid_argument, "rejection is invalid_argument");
  FUZZ_CHECK(!message_of(err).empty(), "rejection has a message");
}

project existing_project() {
  project p;
  p.id = "p1";
  p.name = "shop";
  p.repository_url = "https://example.com/shop.git";
  return p;
}

environment existing_environment() {
  environment e;
  e.id = "e1";
  e.project_id = "p1";
  e.name = "production";
  e.type = "production";
  e.variables = {{"NODE_ENV", "production"}};
  e.settings.build_labels = {{"arch", "amd64"}};
  return e;
}

void apply_project(const nlohmann::json& body, bool creating, bool allow_local) {
  auto p = creating ? project{} : existing_project();
  auto before = to_json(p).dump();
  if (auto err = apply_project_json(body, p, creating, allow_local)) {
    check_rejection(err);
    FUZZ_CHECK(to_json(p).dump() == before, "a rejected body changes nothing");
    return;
  }
  FUZZ_CHECK(!validate_name("name", p.name), "accepted name is valid");
  FUZZ_CHECK(!validate_repository_url("repositoryUrl", p.repository_url, allow_local),
             "accepted repositoryUrl is valid");
  FUZZ_CHECK(!validate_branch("branch", p.branch), "accepted branch is valid");
  FUZZ_CHECK(!validate_framework("framework", p.framework), "accepted framework is valid");
  to_json(p).dump();
}

void apply_environment(const nlohmann::json& body, bool creating) {
  auto e = creating ? environment{} : existing_environment();
  auto before = to_json(e, true).dump();
  if (auto err = apply_environment_json(body, e, creating)) {
    check_rejection(err);
    FUZZ_CHECK(to_json(e, true).dump() == before, "a rejected body changes nothing");
    return;
  }
  FUZZ_CHECK(!validate_name("name", e.name), "accepted name is valid");
  FUZZ_CHECK(!validate_environment_type("type", e.type), "accepted type is valid");
  FUZZ_CHECK(e.domain.empty() || !validate_domain("domain", e.domain),
             "accepted domain is valid");
  FUZZ_CHECK(!validate_variables("environmentVariables", e.variables),
             "accepted variables are valid");
  FUZZ_CHECK(!validate_environment_settings(e.settings), "accepted settings are valid");
  to_json(e, true).dump();
  to_json(e, false).dump();
}

void read_responses(const nlohmann::json& j) {
  // The console reads these from a server; they must fail cleanly, not throw.
  if (auto x = project_from_json(j))
    to_json(*x).dump();
  if (auto x = environment_from_json(j))
    to_json(*x, true).dump();
  if (auto x = deployment_from_json(j))
    to_json(*x).dump();
  if (auto x = log_line_from_json(j))
    to_json(*x).dump();
  if (auto x = node_status_from_json(j))
    to_json(*x).dump();
}

void parse_page(const std::string& text) {
  // "PAGE&LIMIT", either part possibly absent.
  auto amp = text.find('&');
  std::string page = text.substr(0, amp);
  std::string limit = amp == std::string::npos ? std::string{} : text.substr(amp + 1);
  auto res = parse_page_request(page.empty() ? nullptr : &page,
                                amp == std::string::npos ? nullptr : &limit);
  if (!res) {
    check_rejection(res.error());
    return;
  }
  FUZZ_CHECK(res->page >= 1, "page >= 1");
  FUZZ_CHECK(res->limit >= 1 && res->limit <= max_page_limit, "1 <= limit <= max");
  FUZZ_CHECK(res->offset() >= 0, "offset >= 0"); // UBSan reports an overflow
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  if (size <= 64)
    parse_page(text);
  auto body = parse_json_object(text);
  if (!body) {
    check_rejection(body.error());
    return 0;
  }
  FUZZ_CHECK(body->is_object(), "a parsed body is an object");
  for (bool creating : {true, false}) {
    apply_project(*body, creating, false);
    apply_project(*body, creating, true);
    apply_environment(*body, creating);
  }
  read_responses(*body);
  return 0;
}
