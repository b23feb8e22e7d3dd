#include "cli/console_client.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <thread>

#include "cli/console_format.hpp"
#include "cli/console_http.hpp"
#include "cli/console_sse.hpp"
#include "http/http_status.hpp"
#include "protocol/error.hpp"

namespace gilgal::cli {

namespace {

using nlohmann::json;

constexpr std::chrono::seconds read_timeout{60};
// The server sends a keepalive comment every 15 s while a log is quiet.
constexpr std::chrono::seconds follow_idle_timeout{45};
constexpr int page_limit = 100;

/// The server's error message of a non-2xx answer.
caf::error api_error(int status, const std::string& body) {
  std::string message;
  try {
    auto j = json::parse(body);
    if (j.is_object() && j.contains("error") && j["error"].is_object())
      message = j["error"].value("message", "");
  } catch (const std::exception&) {
    // not our JSON: fall back to the status
  }
  if (message.empty())
    message = "the server answered HTTP " + std::to_string(status);
  return make_error(errc_of_http_status(status), message);
}

/// What a followed stream's event was to its reader.
enum class stream_step { skipped, shown, ended };

/// Follows the SSE stream at `path` across reconnects until an event is
/// `ended`. Before each connection `resume` gives its Last-Event-ID (empty:
/// none). A connection that showed a line resets the count of failures.
/// Errors: the server's 4xx answer, or errc::unavailable ("`lost`: reason")
/// after more than `max_retries` failed connections in a row; between them it
/// waits 0.25 s, 0.5 s, 1 s, 2 s, then every 4 s.
caf::error follow_stream(const console_target& target, const std::string& path,
                         const std::function<std::string()>& resume,
                         const std::function<stream_step(const sse_event&)>& on_event,
                         const std::string& lost, int max_retries,
                         const api_client::reconnect_handler& on_reconnect) {
  int failures = 0;
  for (;;) {
    bool ended = false;
    bool progressed = false;
    sse_parser parser{[&](const sse_event& ev) {
      auto step = on_event(ev);
      if (step == stream_step::shown)
        progressed = true;
      ended = step == stream_step::ended;
      return !ended; // stop reading: the stream is over
    }};
    http_call call;
    call.path = path;
    call.timeout = std::chrono::seconds{0};
    call.idle_timeout = follow_idle_timeout;
    call.headers.push_back("Accept: text/event-stream");
    if (auto id = resume(); !id.empty())
      call.headers.push_back("Last-Event-ID: " + id);
    call.on_data = [&](std::string_view data) { return parser.feed(data.data(), data.size()); };
    auto res = perform(target, call);
    if (ended)
      return {};
    std::string why;
    if (res && res->status >= 400 && res->status < 500)
      return api_error(static_cast<int>(res->status), res->body);
    if (res && res->status >= 500)
      why = "the server answered HTTP " + std::to_string(res->status);
    else if (!res)
      why = error_text(res.error());
    else
      why = "the log stream ended early";
    if (progressed)
      failures = 0;
    if (++failures > max_retries)
      return make_error(errc::unavailable, lost + ": " + why);
    if (on_reconnect)
      on_reconnect(failures, why);
    auto wait = std::chrono::milliseconds{250 << std::min(failures - 1, 4)};
    std::this_thread::sleep_for(wait);
  }
}

caf::expected<json> to_result(const console_target& t, const caf::expected<http_reply>& res) {
  if (!res)
    return res.error();
  if (res->status < 200 || res->status > 299)
    return api_error(static_cast<int>(res->status), res->body);
  if (res->body.empty())
    return json::object();
  try {
    return json::parse(res->body);
  } catch (const std::exception&) {
    return make_error(errc::internal,
                      "the server at " + t.url + " did not answer JSON (is it Gilgal?)");
  }
}

/// `items` of one matching name, or an error naming the alternatives.
caf::expected<json> pick(const std::vector<json>& items, const std::string& id_or_name,
                         const std::string& what, const std::string& list_hint) {
  for (auto& item : items)
    if (item.value("id", "") == id_or_name)
      return item;
  std::vector<const json*> named;
  for (auto& item : items)
    if (item.value("name", "") == id_or_name)
      named.push_back(&item);
  if (named.size() == 1)
    return *named.front();
  if (named.empty())
    return make_error(errc::not_found, "no " + what + " with the name or id '" + id_or_name
                                         + "' (" + list_hint + " lists them)");
  std::string ids;
  for (auto* item : named)
    ids += (ids.empty() ? "" : ", ") + item->value("id", "");
  return make_error(errc::conflict, "the " + what + " name '" + id_or_name
                                      + "' is ambiguous; use one of the ids: " + ids);
}

} // namespace

std::string path_segment(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

int exit_code_of(const caf::error& err) {
  return code_of(err) == errc::unavailable ? console_exit::unreachable : console_exit::failed;
}

std::string error_text(const caf::error& err) {
  auto msg = message_of(err);
  return msg.empty() ? std::string{to_string(code_of(err))} : msg;
}

caf::expected<json> api_client::get(const std::string& path) const {
  http_call call;
  call.path = path;
  call.timeout = read_timeout;
  return to_result(target_, perform(target_, call));
}

caf::expected<json> api_client::post(const std::string& path, const json& body,
                                     const std::string& idempotency_key,
                                     std::chrono::seconds timeout) const {
  return send("POST", path, body, idempotency_key, timeout);
}

caf::expected<json> api_client::patch(const std::string& path, const json& body) const {
  return send("PATCH", path, body);
}

caf::expected<json> api_client::del(const std::string& path) const {
  http_call call;
  call.method = "DELETE";
  call.path = path;
  call.timeout = read_timeout;
  return to_result(target_, perform(target_, call));
}

caf::expected<json> api_client::send(const std::string& method, const std::string& path,
                                     const json& body, const std::string& idempotency_key,
                                     std::chrono::seconds timeout) const {
  http_call call;
  call.method = method;
  call.path = path;
  call.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  call.timeout = timeout.count() > 0 ? timeout : read_timeout;
  if (!idempotency_key.empty())
    call.headers.push_back("Idempotency-Key: " + idempotency_key);
  return to_result(target_, perform(target_, call));
}

caf::expected<std::vector<json>> api_client::get_all(const std::string& path) const {
  std::vector<json> items;
  auto sep = path.find('?') == std::string::npos ? "?" : "&";
  for (int page = 1;; ++page) {
    auto res = get(path + sep + "page=" + std::to_string(page)
                   + "&limit=" + std::to_string(page_limit));
    if (!res)
      return res.error();
    if (!res->is_object() || !(*res)["items"].is_array())
      return make_error(errc::internal, "unexpected answer to GET " + path);
    for (auto& item : (*res)["items"])
      items.push_back(item);
    if (!res->value("hasMore", false) || (*res)["items"].empty())
      return items;
  }
}

caf::expected<json> api_client::resolve_project(const std::string& id_or_name) const {
  auto all = get_all("/api/projects");
  if (!all)
    return all.error();
  return pick(*all, id_or_name, "project", "`gilgal projects`");
}

caf::expected<json> api_client::resolve_environment(const std::string& project_id,
                                                    const std::string& id_or_name) const {
  auto all = get_all("/api/projects/" + path_segment(project_id) + "/environments");
  if (!all)
    return all.error();
  return pick(*all, id_or_name, "environment in this project", "`gilgal envs PROJECT`");
}

caf::expected<std::string> api_client::follow_log(const std::string& deployment_id,
                                                  int64_t& last_seq,
                                                  const line_handler& on_line,
                                                  const reconnect_handler& on_reconnect,
                                                  int max_retries) const {
  std::string end_status;
  auto on_event = [&](const sse_event& ev) {
    if (ev.event == "end") {
      try {
        end_status = json::parse(ev.data).value("status", "");
      } catch (const std::exception&) {
        end_status.clear();
      }
      return stream_step::ended;
    }
    if (ev.event != "log")
      return stream_step::skipped;
    json line;
    try {
      line = json::parse(ev.data);
    } catch (const std::exception&) {
      return stream_step::skipped; // a line we cannot read is skipped, not fatal
    }
    int64_t seq = line.is_object() ? int_of(line, "seq", 0) : 0;
    if (seq == 0 && !ev.id.empty())
      seq = std::strtoll(ev.id.c_str(), nullptr, 10);
    if (seq != 0 && seq <= last_seq)
      return stream_step::skipped; // already shown before a reconnect
    on_line(line);
    if (seq > last_seq)
      last_seq = seq;
    return stream_step::shown;
  };
  auto resume = [&] { return last_seq > 0 ? std::to_string(last_seq) : std::string{}; };
  auto err = follow_stream(target_,
                           "/api/deployments/" + path_segment(deployment_id) + "/logs?follow=1",
                           resume, on_event,
                           "lost the log stream of deployment " + deployment_id + " from "
                             + target_.url,
                           max_retries, on_reconnect);
  if (err)
    return err;
  return end_status.empty() ? std::string{"unknown"} : end_status;
}

caf::expected<std::string> api_client::follow_app_log(const std::string& environment_id,
                                                      int tail, const line_handler& on_line,
                                                      const reconnect_handler& on_reconnect,
                                                      int max_retries) const {
  auto path = "/api/environments/" + path_segment(environment_id) + "/logs?follow=1";
  if (tail >= 0)
    path += "&tail=" + std::to_string(tail);
  std::string last_id; // timestamp of the last line shown
  std::string end_reason;
  auto on_event = [&](const sse_event& ev) {
    if (ev.event == "end") {
      try {
        end_reason = json::parse(ev.data).value("reason", "");
      } catch (const std::exception&) {
        end_reason.clear();
      }
      return stream_step::ended;
    }
    if (ev.event != "log")
      return stream_step::skipped;
    json line;
    try {
      line = json::parse(ev.data);
    } catch (const std::exception&) {
      return stream_step::skipped;
    }
    on_line(line);
    if (!ev.id.empty())
      last_id = ev.id;
    return stream_step::shown;
  };
  auto err = follow_stream(target_, path, [&] { return last_id; }, on_event,
                           "lost the runtime log stream from " + target_.url, max_retries,
                           on_reconnect);
  if (err)
    return err;
  return end_reason.empty() ? std::string{"the stream ended"} : end_reason;
}

} // namespace gilgal::cli
