// Which host names reach an environment: the domain (and aliases) its owner
// set, or else a name Gilgal gives it under the apps domain,
// "<environment>-<project>.<apps domain>" (e.g. production-shop.localhost).
// Pure functions: no I/O.
#pragma once

#include <string>
#include <vector>

namespace gilgal::proxy {

/// A DNS label made of `name`: lower-case letters and digits, every other run
/// of characters one '-', no '-' at either end, at most 40 characters; "app"
/// when nothing is left.
std::string host_label(const std::string& name);

/// "<environment>-<project>.<apps_domain>" of the labels of both names.
std::string generated_host(const std::string& environment_name, const std::string& project_name,
                           const std::string& apps_domain);

/// What assign_hosts needs of an environment.
struct host_claim {
  std::string environment_id;
  std::string environment_name;
  std::string project_name;
  std::string domain;               // empty: a generated host
  std::vector<std::string> aliases; // only with a domain
};

/// The hosts of each claim, in the order given (callers pass the oldest
/// environment first). A domain and its aliases are taken as they are (the
/// store keeps them unique). A generated host that is some environment's
/// domain or alias, or was given to an earlier environment, gets the first 8
/// characters of the environment id appended to its first label
/// ("production-shop-3f2a9c1d.localhost"), so that no host reaches two
/// environments.
std::vector<std::vector<std::string>> assign_hosts(const std::vector<host_claim>& claims,
                                                   const std::string& apps_domain);

} // namespace gilgal::proxy

namespace gilgal::proxy {

/// The URL visitors reach a host at: "https://HOST" (or "http://HOST") with
/// the port of `listen` unless it is the scheme's default (":80" / ":443").
std::string app_url(const std::string& host, bool https, const std::string& listen);

} // namespace gilgal::proxy
