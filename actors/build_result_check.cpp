#include "actors/build_result_check.hpp"

#include <cctype>

#include "nodes/image_builder.hpp"
#include "protocol/bytes.hpp"
#include "protocol/error.hpp"

namespace gilgal {

namespace {

// A node's text made safe to quote in an error message.
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text.substr(0, 100))
    out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  return out + (text.size() > 100 ? "...'" : "'");
}

bool valid_registry_host(const std::string& host) {
  if (host.empty() || host.front() == '/' || host.back() == '/')
    return false;
  for (char c : host)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != ':'
        && c != '/' && c != '_')
      return false;
  return host.find("//") == std::string::npos && host.find("..") == std::string::npos;
}

caf::error refused(const std::string& what) {
  return make_error(errc::build_failed, "the build node returned " + what);
}

} // namespace

caf::expected<void> check_build_result(const build_result& res, const std::string& project_id,
                                       const std::string& requested,
                                       const std::map<std::string, std::string>& build_variables) {
  auto& sha = res.commit_sha;
  if (sha.size() != 40 || !is_lower_hex(sha))
    return refused("an invalid commit " + quoted(sha));
  auto wanted = requested;
  for (auto& c : wanted)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (wanted.size() >= 7 && wanted.size() <= 40 && is_lower_hex(wanted)
      && sha.compare(0, wanted.size(), wanted) != 0)
    return refused("commit " + sha + " instead of the requested " + quoted(requested));
  auto expected_name = image_name_for(project_id, sha, build_variables);
  if (res.image_name != expected_name)
    return refused("the image " + quoted(res.image_name) + " instead of " + expected_name);
  if (res.registry_image.empty())
    return caf::unit;
  auto vars_tag = build_variables_tag(build_variables);
  auto suffix = "/" + project_id + ":" + sha.substr(0, 8) + (vars_tag.empty() ? "" : "-" + vars_tag);
  auto& ref = res.registry_image;
  if (ref.size() <= suffix.size() || ref.compare(ref.size() - suffix.size(), suffix.size(), suffix) != 0
      || !valid_registry_host(ref.substr(0, ref.size() - suffix.size())))
    return refused("the registry image " + quoted(ref) + ", not <registry>" + suffix);
  return caf::unit;
}

} // namespace gilgal
