#define CAF_SUITE http.openapi_coverage
#include <caf/test/unit_test.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "http/api_routes.hpp"

using namespace gilgal;

namespace {

/// (METHOD, "/path/{param}") pairs under `paths:` of an OpenAPI YAML file,
/// read line by line: a path is a key indented by two spaces that starts with
/// '/', an operation a key indented by four spaces named like an HTTP method.
std::set<std::pair<std::string, std::string>> described_operations(const std::string& file) {
  std::ifstream in{file};
  if (!in)
    CAF_FAIL("cannot read " << file);
  std::set<std::pair<std::string, std::string>> out;
  static const std::set<std::string> methods = {"get",    "put",     "post", "delete",
                                                "patch",  "options", "head", "trace"};
  bool in_paths = false;
  std::string path;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.empty() || line.front() == '#')
      continue;
    if (line.front() != ' ') { // a top-level key
      in_paths = line.rfind("paths:", 0) == 0;
      continue;
    }
    if (!in_paths)
      continue;
    auto indent = line.find_first_not_of(' ');
    auto colon = line.find(':', indent);
    if (colon == std::string::npos)
      continue;
    auto key = line.substr(indent, colon - indent);
    if (key.size() >= 2 && (key.front() == '"' || key.front() == '\''))
      key = key.substr(1, key.size() - 2);
    if (indent == 2 && !key.empty() && key.front() == '/') {
      path = key;
    } else if (indent == 4 && !path.empty() && methods.count(key) > 0) {
      std::string upper;
      for (char c : key)
        upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out.emplace(upper, path);
    }
  }
  return out;
}

/// "/api/projects/:id" -> "/api/projects/{id}".
std::string openapi_form(const std::string& pattern) {
  std::string out;
  std::istringstream in{pattern.substr(1)};
  std::string seg;
  while (std::getline(in, seg, '/'))
    out += "/" + (seg.size() > 1 && seg.front() == ':' ? "{" + seg.substr(1) + "}" : seg);
  return out;
}

std::string openapi_file() {
  return std::string{GILGAL_TEST_SOURCE_DIR} + "/../docs/openapi.yaml";
}

} // namespace

CAF_TEST(the parser reads the description) {
  auto ops = described_operations(openapi_file());
  CAF_CHECK(ops.count({"GET", "/healthz"}) == 1);
  CAF_CHECK_GREATER_OR_EQUAL(ops.size(), 11u);
  CAF_CHECK_EQUAL(openapi_form("/api/projects/:projectId/environments"),
                  "/api/projects/{projectId}/environments");
}

CAF_TEST(every served route is described) {
  auto ops = described_operations(openapi_file());
  auto routes = api_route_table();
  CAF_REQUIRE(!routes.empty());
  for (auto& r : routes) {
    auto key = std::make_pair(r.method, openapi_form(r.pattern));
    if (ops.count(key) == 0)
      CAF_ERROR("docs/openapi.yaml lacks " << r.method << " " << key.second);
    else
      CAF_CHECK(true);
  }
}

CAF_TEST(every described operation is served) {
  // The converse keeps the description honest.
  std::set<std::pair<std::string, std::string>> served;
  for (auto& r : api_route_table())
    served.emplace(r.method, openapi_form(r.pattern));
  for (auto& op : described_operations(openapi_file())) {
    if (served.count(op) == 0)
      CAF_ERROR("docs/openapi.yaml describes " << op.first << " " << op.second
                                               << " which the server does not serve");
    else
      CAF_CHECK(true);
  }
}
