#include "proxy/app_hosts.hpp"

#include <cctype>
#include <set>

namespace gilgal::proxy {

namespace {

constexpr size_t max_label_part = 40;

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

} // namespace

std::string host_label(const std::string& name) {
  std::string out;
  bool dash = false;
  for (unsigned char c : name) {
    if (std::isalnum(c) && c < 0x80) {
      if (dash && !out.empty())
        out += '-';
      dash = false;
      out += static_cast<char>(std::tolower(c));
      if (out.size() >= max_label_part)
        break;
    } else {
      dash = true;
    }
  }
  while (!out.empty() && out.back() == '-')
    out.pop_back();
  return out.empty() ? "app" : out;
}

std::string generated_host(const std::string& environment_name, const std::string& project_name,
                           const std::string& apps_domain) {
  return host_label(environment_name) + "-" + host_label(project_name) + "." + lower(apps_domain);
}

std::vector<std::vector<std::string>> assign_hosts(const std::vector<host_claim>& claims,
                                                   const std::string& apps_domain) {
  std::vector<std::vector<std::string>> out;
  std::set<std::string> taken; // every domain and alias, then each generated host given
  for (auto& c : claims)
    if (!c.domain.empty()) {
      taken.insert(lower(c.domain));
      for (auto& a : c.aliases)
        taken.insert(lower(a));
    }
  for (auto& c : claims) {
    std::vector<std::string> hosts;
    if (!c.domain.empty()) {
      hosts.push_back(lower(c.domain));
      for (auto& a : c.aliases)
        hosts.push_back(lower(a));
    } else {
      auto host = generated_host(c.environment_name, c.project_name, apps_domain);
      if (taken.count(host) > 0) {
        auto dot = host.find('.');
        host = host.substr(0, dot) + "-" + lower(c.environment_id.substr(0, 8))
               + host.substr(dot);
      }
      taken.insert(host);
      hosts.push_back(host);
    }
    out.push_back(std::move(hosts));
  }
  return out;
}

} // namespace gilgal::proxy

namespace gilgal::proxy {

std::string app_url(const std::string& host, bool https, const std::string& listen) {
  auto colon = listen.rfind(':');
  auto port = colon == std::string::npos ? std::string{} : listen.substr(colon + 1);
  std::string url = (https ? "https://" : "http://") + host;
  if (!port.empty() && port != (https ? "443" : "80"))
    url += ":" + port;
  return url;
}

} // namespace gilgal::proxy
