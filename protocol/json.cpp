#include "protocol/json.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <tuple>
#include <type_traits>

#include "protocol/error.hpp"
#include "protocol/validation.hpp"

using nlohmann::json;

namespace gilgal {

namespace {

constexpr size_t max_build_variables_bytes = 64 * 1024;

caf::error bad(const std::string& field, const std::string& why) {
  return make_error(errc::invalid_argument, field + ": " + why);
}

/// A field name as it may appear in an error message (client text, bounded).
std::string shown(const std::string& key) {
  std::string out;
  for (unsigned char c : key.substr(0, 64))
    out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  return key.size() > 64 ? out + "..." : out;
}

json str_or_null(const std::string& s) {
  return s.empty() ? json(nullptr) : json(s);
}

json labels_json(const std::map<std::string, std::string>& labels) {
  auto j = json::object();
  for (auto& [k, v] : labels)
    j[k] = v;
  return j;
}

template <class T>
json num_or_null(T x) {
  return x == 0 ? json(nullptr) : json(x);
}

caf::error reject_unknown(const json& obj, const std::string& prefix,
                          std::initializer_list<const char*> known) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool ok = false;
    for (auto k : known)
      if (it.key() == k)
        ok = true;
    if (!ok)
      return bad(prefix + shown(it.key()), "unknown field");
  }
  return {};
}

/// A string member, validated by `check`. Absent: nothing happens.
template <class Check>
caf::error read_string(const json& obj, const char* key, std::string& out, Check check) {
  auto it = obj.find(key);
  if (it == obj.end())
    return {};
  if (!it->is_string())
    return bad(key, "must be a string");
  auto value = it->get<std::string>();
  if (auto err = check(key, value))
    return err;
  out = std::move(value);
  return {};
}

/// An integer member or null (0 = server default).
caf::error read_int(const json& obj, const std::string& field, const char* key,
                    int64_t& out) {
  auto it = obj.find(key);
  if (it == obj.end())
    return {};
  if (it->is_null()) {
    out = 0;
    return {};
  }
  if (!it->is_number_integer())
    return bad(field, "must be an integer or null");
  if (it->is_number_unsigned()
      && it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return bad(field, "out of range");
  out = it->get<int64_t>();
  if (out == 0)
    return bad(field, "must not be 0 (use null for the server default)");
  return {};
}

caf::error read_settings(const json& body, environment_settings& s) {
  if (auto it = body.find("resources"); it != body.end()) {
    if (it->is_null()) {
      s.memory_mb = 0;
      s.cpus = 0;
      s.pids = 0;
    } else if (!it->is_object()) {
      return bad("resources", "must be an object or null");
    } else {
      if (auto err = reject_unknown(*it, "resources.", {"memoryMb", "cpus", "pids"}))
        return err;
      if (auto err = read_int(*it, "resources.memoryMb", "memoryMb", s.memory_mb))
        return err;
      if (auto err = read_int(*it, "resources.pids", "pids", s.pids))
        return err;
      if (auto c = it->find("cpus"); c != it->end()) {
        if (c->is_null())
          s.cpus = 0;
        else if (!c->is_number())
          return bad("resources.cpus", "must be a number or null");
        else if ((s.cpus = c->get<double>()) == 0)
          return bad("resources.cpus", "must not be 0 (use null for the server default)");
      }
    }
  }
  if (auto it = body.find("healthCheck"); it != body.end()) {
    if (it->is_null()) {
      s.health_check_path.clear();
      s.health_check_timeout_seconds = 0;
    } else if (!it->is_object()) {
      return bad("healthCheck", "must be an object or null");
    } else {
      if (auto err = reject_unknown(*it, "healthCheck.", {"path", "timeoutSeconds"}))
        return err;
      if (auto p = it->find("path"); p != it->end()) {
        if (p->is_null())
          s.health_check_path.clear();
        else if (!p->is_string())
          return bad("healthCheck.path", "must be a string or null");
        else if ((s.health_check_path = p->get<std::string>()).empty())
          return bad("healthCheck.path", "must not be empty (use null for the default)");
      }
      if (auto err = read_int(*it, "healthCheck.timeoutSeconds", "timeoutSeconds",
                              s.health_check_timeout_seconds))
        return err;
    }
  }
  return validate_environment_settings(s);
}

/// buildNodeLabels / runNodeLabels: an object of string -> string (merged in a
/// PATCH, a null value deletes a label), or null for none.
caf::error read_labels(const json& body, const char* field,
                       std::map<std::string, std::string>& labels, bool creating) {
  auto it = body.find(field);
  if (it == body.end())
    return {};
  if (it->is_null()) {
    labels.clear();
    return {};
  }
  if (!it->is_object())
    return bad(field, "must be an object of string values or null");
  auto out = creating ? std::map<std::string, std::string>{} : labels;
  for (auto v = it->begin(); v != it->end(); ++v) {
    auto name = std::string{field} + "." + shown(v.key());
    if (auto err = validate_node_label_key(field, v.key()))
      return err;
    if (v->is_null() && !creating) {
      out.erase(v.key());
      continue;
    }
    if (!v->is_string())
      return bad(name, creating ? "must be a string" : "must be a string or null");
    out[v.key()] = v->get<std::string>();
  }
  labels = std::move(out);
  return {};
}

/// environmentVariables / buildVariables: an object of NAME -> string; in a
/// PATCH it merges and a null value deletes that variable.
caf::error read_variables(const json& body, const char* field,
                          std::map<std::string, std::string>& target, bool creating) {
  auto it = body.find(field);
  if (it == body.end())
    return {};
  if (!it->is_object())
    return bad(field, "must be an object of string values");
  auto vars = creating ? std::map<std::string, std::string>{} : target;
  for (auto v = it->begin(); v != it->end(); ++v) {
    if (auto err = validate_variable_name(field, v.key()))
      return err;
    if (v->is_null() && !creating) {
      vars.erase(v.key());
      continue;
    }
    if (!v->is_string())
      return bad(std::string{field} + "." + v.key(),
                 creating ? "must be a string" : "must be a string or null");
    vars[v.key()] = v->get<std::string>();
  }
  if (auto err = validate_variables(field, vars))
    return err;
  target = std::move(vars);
  return {};
}

/// notifications: an array of {"url", "events"} (replacing the list), or null
/// for none.
caf::error read_notifications(const json& body, std::vector<notification_target>& out) {
  auto it = body.find("notifications");
  if (it == body.end())
    return {};
  if (it->is_null()) {
    out.clear();
    return {};
  }
  if (!it->is_array())
    return bad("notifications", "must be an array of {\"url\", \"events\"} or null");
  if (it->size() > max_notification_targets)
    return bad("notifications",
               "at most " + std::to_string(max_notification_targets) + " targets");
  std::vector<notification_target> targets;
  for (size_t i = 0; i < it->size(); ++i) {
    auto& item = (*it)[i];
    auto field = "notifications[" + std::to_string(i) + "]";
    if (!item.is_object())
      return bad(field, "must be an object {\"url\", \"events\"}");
    if (auto err = reject_unknown(item, field + ".", {"url", "events"}))
      return err;
    notification_target t;
    auto url = item.find("url");
    if (url == item.end() || !url->is_string())
      return bad(field + ".url", "a string is required");
    t.url = url->get<std::string>();
    if (auto err = validate_notification_url(field + ".url", t.url))
      return err;
    auto events = item.find("events");
    if (events == item.end() || !events->is_array() || events->empty())
      return bad(field + ".events", "a non-empty array of event names is required");
    for (auto& ev : *events) {
      if (!ev.is_string() || !is_notification_event(ev.get<std::string>()))
        return bad(field + ".events",
                   "events are deployment.started, deployment.succeeded, deployment.failed "
                   "and deployment.cancelled");
      auto name = ev.get<std::string>();
      if (std::find(t.events.begin(), t.events.end(), name) == t.events.end())
        t.events.push_back(std::move(name));
    }
    targets.push_back(std::move(t));
  }
  out = std::move(targets);
  return {};
}

// -- reading response JSON -----------------------------------------------------

void get_to(const json& j, const char* key, std::string& out) {
  if (auto it = j.find(key); it != j.end() && !it->is_null())
    out = it->get<std::string>();
}

/// A status or kind in its text form; absent or null keeps `out`, an unknown
/// text throws (guarded turns it into invalid_argument).
template <class Enum, class Parse>
void get_enum(const json& j, const char* key, Enum& out, Parse parse) {
  std::string text;
  get_to(j, key, text);
  if (text.empty())
    return;
  auto x = parse(text);
  if (!x)
    throw std::invalid_argument(std::string{key} + ": unknown value \"" + text + "\"");
  out = *x;
}

void get_to(const json& j, const char* key, deployment_status& out) {
  get_enum(j, key, out, parse_deployment_status);
}

void get_to(const json& j, const char* key, deployment_kind& out) {
  get_enum(j, key, out, parse_deployment_kind);
}

template <class T>
void get_num(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null())
    return;
  if constexpr (std::is_integral_v<T>) {
    // Converting a float, or an integer out of T's range, would be undefined.
    bool fits = it->is_number_unsigned()
                  ? it->template get<uint64_t>()
                      <= static_cast<uint64_t>(std::numeric_limits<T>::max())
                  : it->is_number_integer()
                      && it->template get<int64_t>() >= std::numeric_limits<T>::min()
                      && it->template get<int64_t>() <= std::numeric_limits<T>::max();
    if (!fits)
      throw std::invalid_argument(std::string{key} + ": not an integer in range");
  }
  out = it->template get<T>();
}

void get_labels(const json& j, const char* key, std::map<std::string, std::string>& out) {
  if (auto it = j.find(key); it != j.end() && it->is_object())
    for (auto v = it->begin(); v != it->end(); ++v)
      out[v.key()] = v->get<std::string>();
}

template <class F>
auto guarded(const json& j, const char* what, F f) -> caf::expected<decltype(f())> {
  if (!j.is_object())
    return make_error(errc::invalid_argument, std::string{what} + ": not a JSON object");
  try {
    return f();
  } catch (const std::exception& e) {
    return make_error(errc::invalid_argument, std::string{what} + ": " + e.what());
  }
}

} // namespace

// -- records -> JSON -----------------------------------------------------------

json to_json(const preview_settings& x) {
  return json{{"enabled", x.enabled},
              {"baseEnvironmentId", str_or_null(x.base_environment_id)},
              {"domain", str_or_null(x.domain)},
              {"ttlHours", x.ttl_hours},
              {"maxPreviews", x.max_previews}};
}

json to_json(const project& x) {
  auto notifications = json::array();
  for (auto& n : x.notifications)
    notifications.push_back({{"url", n.url}, {"events", n.events}});
  return json{{"id", x.id},
              {"name", x.name},
              {"repositoryUrl", x.repository_url},
              {"branch", x.branch},
              {"framework", x.framework},
              // The token is write-only: only whether one is stored shows.
              {"hasRepositoryToken", x.has_repository_token},
              {"deployKey", str_or_null(x.deploy_public_key)},
              {"notifications", std::move(notifications)},
              {"previews", to_json(x.previews)},
              {"createdAt", x.created_at},
              {"updatedAt", x.updated_at}};
}

json to_json(const notification_attempt& x) {
  return json{{"id", x.id},
              {"deliveryId", x.delivery_id},
              {"event", x.event},
              {"deploymentId", x.deployment_id},
              {"url", x.url},
              {"attempt", x.attempt},
              {"statusCode", num_or_null(x.status_code)},
              {"success", x.success},
              {"error", str_or_null(x.error)},
              {"createdAt", x.created_at}};
}

json to_json(const environment& x, bool show_values) {
  auto vars = json::object();
  for (auto& [k, v] : x.variables)
    vars[k] = show_values ? v : std::string{masked_value};
  return json{{"id", x.id},
              {"projectId", x.project_id},
              {"name", x.name},
              {"type", x.type},
              {"domain", str_or_null(x.domain)},
              {"aliases", x.aliases},
              {"environmentVariables", std::move(vars)},
              {"buildVariables", labels_json(x.build_variables)},
              {"resources",
               {{"memoryMb", num_or_null(x.settings.memory_mb)},
                {"cpus", num_or_null(x.settings.cpus)},
                {"pids", num_or_null(x.settings.pids)}}},
              {"healthCheck",
               {{"path", str_or_null(x.settings.health_check_path)},
                {"timeoutSeconds", num_or_null(x.settings.health_check_timeout_seconds)}}},
              {"buildNodeLabels", labels_json(x.settings.build_labels)},
              {"runNodeLabels", labels_json(x.settings.run_labels)},
              {"autoDeploy", x.auto_deploy},
              {"branch", str_or_null(x.branch)},
              {"preview", x.preview.pull_request > 0
                            ? json{{"pullRequest", x.preview.pull_request},
                                   {"provider", x.preview.provider},
                                   {"branch", str_or_null(x.preview.branch)}}
                            : json(nullptr)},
              {"createdAt", x.created_at},
              {"updatedAt", x.updated_at}};
}

void write_json(json_writer& w, const environment& x, bool show_values, const std::string& url,
                const std::string& live_deployment_id) {
  // Keys in nlohmann's (sorted) order: the same text as to_json(x).dump()
  // with "url" and "liveDeploymentId" added.
  w.begin_object();
  w.key("aliases").begin_array();
  for (auto& alias : x.aliases)
    w.value(alias);
  w.end_array();
  w.key("autoDeploy").value(x.auto_deploy);
  w.key("branch").string_or_null(x.branch);
  w.key("buildNodeLabels").string_map(x.settings.build_labels);
  w.key("buildVariables").string_map(x.build_variables);
  w.key("createdAt").value(x.created_at);
  w.key("domain").string_or_null(x.domain);
  w.key("environmentVariables").begin_object();
  for (auto& [k, v] : x.variables)
    w.entry(k, show_values ? v : std::string{masked_value});
  w.end_object();
  w.key("healthCheck").begin_object();
  w.key("path").string_or_null(x.settings.health_check_path);
  w.key("timeoutSeconds").number_or_null(x.settings.health_check_timeout_seconds);
  w.end_object();
  w.key("id").value(x.id);
  w.key("liveDeploymentId").string_or_null(live_deployment_id);
  w.key("name").value(x.name);
  if (x.preview.pull_request > 0) {
    w.key("preview").begin_object();
    w.key("branch").string_or_null(x.preview.branch);
    w.key("provider").value(x.preview.provider);
    w.key("pullRequest").value(x.preview.pull_request);
    w.end_object();
  } else {
    w.key("preview").null();
  }
  w.key("projectId").value(x.project_id);
  w.key("resources").begin_object();
  w.key("cpus").number_or_null(x.settings.cpus);
  w.key("memoryMb").number_or_null(x.settings.memory_mb);
  w.key("pids").number_or_null(x.settings.pids);
  w.end_object();
  w.key("runNodeLabels").string_map(x.settings.run_labels);
  w.key("type").value(x.type);
  w.key("updatedAt").value(x.updated_at);
  w.key("url").string_or_null(url);
  w.end_object();
}

json to_json(const deployment& x) {
  return json{{"id", x.id},
              {"projectId", x.project_id},
              {"environmentId", x.environment_id},
              {"commitSha", str_or_null(x.commit_sha)},
              {"commitMessage", str_or_null(x.commit_message)},
              {"status", to_string(x.status)},
              {"durationSeconds",
               x.duration_seconds ? json(*x.duration_seconds) : json(nullptr)},
              {"deployedAt", str_or_null(x.deployed_at)},
              {"containerId", str_or_null(x.container_id)},
              {"imageName", str_or_null(x.image_name)},
              {"port", num_or_null(x.port)},
              {"errorMessage", str_or_null(x.error_message)},
              {"kind", to_string(x.kind)},
              {"rollbackOf", str_or_null(x.rollback_of)},
              {"buildNode", str_or_null(x.build_node)},
              {"runNode", str_or_null(x.run_node)},
              {"trigger", to_json(x.trigger)},
              {"createdAt", x.created_at},
              {"updatedAt", x.updated_at},
              // The seed's own names, for API clients written from it.
              {"duration_seconds", x.duration_seconds
                                     ? json(static_cast<int64_t>(std::llround(*x.duration_seconds)))
                                     : json(nullptr)},
              {"container_id", str_or_null(x.container_id)},
              {"deployed_at", str_or_null(x.deployed_at)}};
}

json to_json(const deployment_trigger& x) {
  auto j = json{{"kind", x.kind}};
  if (!x.provider.empty())
    j["provider"] = x.provider;
  if (!x.delivery_id.empty())
    j["deliveryId"] = x.delivery_id;
  return j;
}

json to_json(const log_line& x) {
  return json{{"seq", x.seq},
              {"timestamp", x.timestamp},
              {"level", x.level},
              {"message", x.message}};
}

json to_json(const user& x) {
  return json{{"id", x.id}, {"name", x.name}, {"createdAt", x.created_at}};
}

json to_json(const node_status& x) {
  return json{{"name", x.name},
              {"state", x.state},
              {"capacity", x.capacity},
              {"runningBuilds", x.running_builds},
              {"runningRuns", x.running_runs},
              {"labels", labels_json(x.labels)},
              {"address", str_or_null(x.address)},
              {"lastHeartbeat", str_or_null(x.last_heartbeat)},
              {"joinedAt", str_or_null(x.joined_at)},
              {"local", x.local}};
}

json error_json(const std::string& code, const std::string& message) {
  return json{{"error", {{"code", code}, {"message", message}}}};
}

// -- request bodies ------------------------------------------------------------

caf::expected<json> parse_json_object(const std::string& text) {
  if (text.empty())
    return bad("body", "a JSON object is required");
  // Bound the nesting depth before parsing: no request needs more than 3.
  constexpr int max_depth = 16;
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth)
        return bad("body", "JSON nested too deeply");
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    return bad("body", "malformed JSON at byte " + std::to_string(e.byte));
  } catch (const std::exception&) {
    return bad("body", "malformed JSON");
  }
  if (!j.is_object())
    return bad("body", "must be a JSON object");
  return j;
}

/// previews: an object whose members replace the stored ones (absent members
/// stay), or null for the defaults (previews off).
caf::error read_previews(const json& body, preview_settings& out) {
  auto it = body.find("previews");
  if (it == body.end())
    return {};
  if (it->is_null()) {
    out = preview_settings{};
    return {};
  }
  if (!it->is_object())
    return bad("previews", "must be an object or null");
  if (auto err = reject_unknown(*it, "previews.", {"enabled", "baseEnvironmentId", "domain",
                                                   "ttlHours", "maxPreviews"}))
    return err;
  auto x = out;
  if (auto e = it->find("enabled"); e != it->end()) {
    if (!e->is_boolean())
      return bad("previews.enabled", "must be true or false");
    x.enabled = e->get<bool>();
  }
  if (auto b = it->find("baseEnvironmentId"); b != it->end()) {
    if (b->is_null())
      x.base_environment_id.clear();
    else if (!b->is_string() || b->get<std::string>().empty())
      return bad("previews.baseEnvironmentId", "must be an environment id or null");
    else
      x.base_environment_id = b->get<std::string>();
  }
  if (auto d = it->find("domain"); d != it->end()) {
    if (d->is_null()) {
      x.domain.clear();
    } else if (!d->is_string()) {
      return bad("previews.domain", "must be a host name or null");
    } else {
      auto domain = d->get<std::string>();
      if (auto err = validate_domain("previews.domain", domain))
        return err;
      if (domain.size() > max_preview_domain_length) // room for "pr-<number>."
        return bad("previews.domain", "at most " + std::to_string(max_preview_domain_length)
                                        + " characters");
      x.domain = std::move(domain);
    }
  }
  if (auto t = it->find("ttlHours"); t != it->end()) {
    if (!t->is_number() || !std::isfinite(t->get<double>()) || t->get<double>() <= 0
        || t->get<double>() > max_preview_ttl_hours)
      return bad("previews.ttlHours", "must be a number of hours above 0 and at most "
                                        + std::to_string(static_cast<int>(max_preview_ttl_hours)));
    x.ttl_hours = t->get<double>();
  }
  if (auto m = it->find("maxPreviews"); m != it->end()) {
    if (!m->is_number_integer() || m->get<int64_t>() < 1
        || m->get<int64_t>() > max_previews_limit)
      return bad("previews.maxPreviews",
                 "must be an integer from 1 to " + std::to_string(max_previews_limit));
    x.max_previews = m->get<int64_t>();
  }
  out = std::move(x);
  return {};
}

caf::error apply_project_json(const json& body, project& target, bool creating,
                              bool allow_local_sources) {
  if (!body.is_object())
    return bad("body", "must be a JSON object");
  if (auto err = reject_unknown(body, "", {"name", "repositoryUrl", "branch", "framework",
                                           "repositoryToken", "notifications", "previews"}))
    return err;
  if (creating) {
    for (auto key : {"name", "repositoryUrl"})
      if (!body.contains(key))
        return bad(key, "is required");
    target.branch = "main";
    target.framework = "auto";
  }
  auto p = target;
  if (auto err = read_string(body, "name", p.name, validate_name))
    return err;
  if (auto err = read_string(body, "repositoryUrl", p.repository_url,
                             [&](const std::string& f, const std::string& v) {
                               return validate_repository_url(f, v, allow_local_sources);
                             }))
    return err;
  if (auto err = read_string(body, "branch", p.branch, validate_branch))
    return err;
  if (auto err = read_string(body, "framework", p.framework, validate_framework))
    return err;
  // null or "" removes the stored token; absent keeps it.
  if (auto it = body.find("repositoryToken"); it != body.end()) {
    std::string token;
    if (!it->is_null())
      if (auto err = read_string(body, "repositoryToken", token, validate_repository_token))
        return err;
    p.repository_token = std::move(token);
  }
  if (auto err = read_notifications(body, p.notifications))
    return err;
  if (auto err = read_previews(body, p.previews))
    return err;
  target = std::move(p);
  return {};
}

caf::error apply_trigger_json(const json& body, deployment& target) {
  if (!body.is_object())
    return bad("body", "must be a JSON object");
  if (auto err = reject_unknown(body, "", {"environmentId", "commitSha", "commitMessage"}))
    return err;
  if (!body.contains("environmentId"))
    return bad("environmentId", "is required");
  auto d = target;
  auto any = [](const std::string&, const std::string&) { return caf::error{}; };
  if (auto err = read_string(body, "environmentId", d.environment_id, any))
    return err;
  for (auto [key, out, check] :
       {std::make_tuple("commitSha", &d.commit_sha, &validate_commit_sha),
        std::make_tuple("commitMessage", &d.commit_message, &validate_commit_message)}) {
    if (auto it = body.find(key); it != body.end() && it->is_null())
      continue;
    if (auto err = read_string(body, key, *out, check))
      return err;
  }
  for (auto& c : d.commit_sha)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  target = std::move(d);
  return {};
}

caf::error apply_environment_json(const json& body, environment& target, bool creating) {
  if (!body.is_object())
    return bad("body", "must be a JSON object");
  if (auto err = reject_unknown(body, "", {"name", "type", "domain", "aliases",
                                           "environmentVariables", "buildVariables", "resources",
                                           "healthCheck", "buildNodeLabels", "runNodeLabels",
                                           "autoDeploy", "branch"}))
    return err;
  if (creating)
    for (auto key : {"name", "type"})
      if (!body.contains(key))
        return bad(key, "is required");
  auto e = target;
  if (auto err = read_string(body, "name", e.name, validate_name))
    return err;
  if (auto err = read_string(body, "type", e.type, validate_environment_type))
    return err;
  if (auto it = body.find("domain"); it != body.end()) {
    if (it->is_null()) {
      e.domain.clear();
    } else if (!it->is_string()) {
      return bad("domain", "must be a string or null");
    } else {
      auto d = it->get<std::string>();
      if (!d.empty())
        if (auto err = validate_domain("domain", d))
          return err;
      e.domain = std::move(d);
    }
  }
  if (auto it = body.find("aliases"); it != body.end()) {
    if (it->is_null()) {
      e.aliases.clear();
    } else if (!it->is_array()) {
      return bad("aliases", "must be an array of host names or null");
    } else {
      if (it->size() > max_aliases)
        return bad("aliases", "at most " + std::to_string(max_aliases) + " host names");
      std::vector<std::string> aliases;
      for (auto& a : *it) {
        if (!a.is_string())
          return bad("aliases", "must be an array of host names or null");
        auto host = a.get<std::string>();
        if (auto err = validate_domain("aliases", host))
          return err;
        for (auto& seen : aliases)
          if (equal_hosts(seen, host))
            return bad("aliases", host + " is given twice");
        if (equal_hosts(host, e.domain))
          return bad("aliases", host + " is the domain itself");
        aliases.push_back(std::move(host));
      }
      e.aliases = std::move(aliases);
    }
  }
  if (!e.aliases.empty() && e.domain.empty())
    return bad("aliases", "need a domain");
  if (auto err = read_variables(body, "environmentVariables", e.variables, creating))
    return err;
  if (auto err = read_variables(body, "buildVariables", e.build_variables, creating))
    return err;
  // They travel in the query string of Docker's build call: keep them small.
  size_t build_bytes = 0;
  for (auto& [name, value] : e.build_variables)
    build_bytes += name.size() + value.size();
  if (build_bytes > max_build_variables_bytes)
    return bad("buildVariables", "at most 64 KiB of names and values in all");
  if (auto err = read_labels(body, "buildNodeLabels", e.settings.build_labels, creating))
    return err;
  if (auto err = read_labels(body, "runNodeLabels", e.settings.run_labels, creating))
    return err;
  if (auto err = read_settings(body, e.settings))
    return err;
  if (auto it = body.find("autoDeploy"); it != body.end()) {
    if (!it->is_boolean())
      return bad("autoDeploy", "must be true or false");
    e.auto_deploy = it->get<bool>();
  }
  if (auto it = body.find("branch"); it != body.end()) {
    if (it->is_null())
      e.branch.clear(); // the project's branch
    else if (auto err = read_string(body, "branch", e.branch, validate_branch))
      return err;
  }
  target = std::move(e);
  return {};
}

// -- response JSON -> records ----------------------------------------------------

caf::expected<project> project_from_json(const json& j) {
  return guarded(j, "project", [&] {
    project x;
    get_to(j, "id", x.id);
    get_to(j, "name", x.name);
    get_to(j, "repositoryUrl", x.repository_url);
    get_to(j, "branch", x.branch);
    get_to(j, "framework", x.framework);
    if (auto it = j.find("hasRepositoryToken"); it != j.end() && it->is_boolean())
      x.has_repository_token = it->get<bool>();
    if (auto it = j.find("deployKey"); it != j.end() && it->is_string())
      x.deploy_public_key = it->get<std::string>();
    if (auto it = j.find("notifications"); it != j.end() && it->is_array())
      for (auto& n : *it) {
        notification_target t;
        get_to(n, "url", t.url);
        if (auto ev = n.find("events"); ev != n.end() && ev->is_array())
          for (auto& e : *ev)
            t.events.push_back(e.get<std::string>());
        x.notifications.push_back(std::move(t));
      }
    if (auto it = j.find("previews"); it != j.end() && it->is_object()) {
      if (auto e = it->find("enabled"); e != it->end() && e->is_boolean())
        x.previews.enabled = e->get<bool>();
      get_to(*it, "baseEnvironmentId", x.previews.base_environment_id);
      get_to(*it, "domain", x.previews.domain);
      get_num(*it, "ttlHours", x.previews.ttl_hours);
      get_num(*it, "maxPreviews", x.previews.max_previews);
    }
    get_to(j, "createdAt", x.created_at);
    get_to(j, "updatedAt", x.updated_at);
    return x;
  });
}

caf::expected<environment> environment_from_json(const json& j) {
  return guarded(j, "environment", [&] {
    environment x;
    get_to(j, "id", x.id);
    get_to(j, "projectId", x.project_id);
    get_to(j, "name", x.name);
    get_to(j, "type", x.type);
    get_to(j, "domain", x.domain);
    if (auto it = j.find("aliases"); it != j.end() && it->is_array())
      for (auto& a : *it)
        x.aliases.push_back(a.get<std::string>());
    if (auto it = j.find("environmentVariables"); it != j.end() && it->is_object())
      for (auto v = it->begin(); v != it->end(); ++v)
        x.variables[v.key()] = v->get<std::string>();
    get_labels(j, "buildVariables", x.build_variables);
    if (auto it = j.find("resources"); it != j.end() && it->is_object()) {
      get_num(*it, "memoryMb", x.settings.memory_mb);
      get_num(*it, "cpus", x.settings.cpus);
      get_num(*it, "pids", x.settings.pids);
    }
    if (auto it = j.find("healthCheck"); it != j.end() && it->is_object()) {
      get_to(*it, "path", x.settings.health_check_path);
      get_num(*it, "timeoutSeconds", x.settings.health_check_timeout_seconds);
    }
    get_labels(j, "buildNodeLabels", x.settings.build_labels);
    get_labels(j, "runNodeLabels", x.settings.run_labels);
    if (auto it = j.find("autoDeploy"); it != j.end() && it->is_boolean())
      x.auto_deploy = it->get<bool>();
    get_to(j, "branch", x.branch);
    if (auto it = j.find("preview"); it != j.end() && it->is_object()) {
      get_num(*it, "pullRequest", x.preview.pull_request);
      get_to(*it, "provider", x.preview.provider);
      get_to(*it, "branch", x.preview.branch);
    }
    get_to(j, "createdAt", x.created_at);
    get_to(j, "updatedAt", x.updated_at);
    return x;
  });
}

caf::expected<deployment> deployment_from_json(const json& j) {
  return guarded(j, "deployment", [&] {
    deployment x;
    get_to(j, "id", x.id);
    get_to(j, "projectId", x.project_id);
    get_to(j, "environmentId", x.environment_id);
    get_to(j, "commitSha", x.commit_sha);
    get_to(j, "commitMessage", x.commit_message);
    get_to(j, "status", x.status);
    if (auto it = j.find("durationSeconds"); it != j.end() && it->is_number())
      x.duration_seconds = it->get<double>();
    get_to(j, "deployedAt", x.deployed_at);
    get_to(j, "containerId", x.container_id);
    get_to(j, "imageName", x.image_name);
    get_num(j, "port", x.port);
    get_to(j, "errorMessage", x.error_message);
    get_to(j, "kind", x.kind);
    get_to(j, "rollbackOf", x.rollback_of);
    get_to(j, "buildNode", x.build_node);
    get_to(j, "runNode", x.run_node);
    if (auto it = j.find("trigger"); it != j.end() && it->is_object()) {
      get_to(*it, "kind", x.trigger.kind);
      get_to(*it, "provider", x.trigger.provider);
      get_to(*it, "deliveryId", x.trigger.delivery_id);
    }
    get_to(j, "createdAt", x.created_at);
    get_to(j, "updatedAt", x.updated_at);
    return x;
  });
}

caf::expected<log_line> log_line_from_json(const json& j) {
  return guarded(j, "log line", [&] {
    log_line x;
    get_num(j, "seq", x.seq);
    get_to(j, "timestamp", x.timestamp);
    get_to(j, "level", x.level);
    get_to(j, "message", x.message);
    return x;
  });
}

caf::expected<node_status> node_status_from_json(const json& j) {
  return guarded(j, "node", [&] {
    node_status x;
    get_to(j, "name", x.name);
    get_to(j, "state", x.state);
    get_num(j, "capacity", x.capacity);
    get_num(j, "runningBuilds", x.running_builds);
    get_num(j, "runningRuns", x.running_runs);
    get_labels(j, "labels", x.labels);
    get_to(j, "lastHeartbeat", x.last_heartbeat);
    get_to(j, "joinedAt", x.joined_at);
    if (auto it = j.find("local"); it != j.end() && it->is_boolean())
      x.local = it->get<bool>();
    return x;
  });
}

} // namespace gilgal
