#include "http/request_context.hpp"

#include "protocol/json.hpp"
#include "protocol/validation.hpp"

namespace gilgal {

const std::string& request_context::param(const std::string& name) const {
  static const std::string none;
  auto i = params.find(name);
  return i == params.end() ? none : i->second;
}

caf::expected<nlohmann::json> request_context::json_body() const {
  return parse_json_object(req.body);
}

caf::expected<page_request> request_context::page() const {
  std::string page_text;
  std::string limit_text;
  bool has_page = req.has_param("page");
  bool has_limit = req.has_param("limit");
  if (has_page)
    page_text = req.get_param_value("page");
  if (has_limit)
    limit_text = req.get_param_value("limit");
  return parse_page_request(has_page ? &page_text : nullptr,
                            has_limit ? &limit_text : nullptr);
}

void request_context::reply(int status, const nlohmann::json& body) {
  res.status = status;
  // Replace invalid UTF-8 rather than throwing: stored text is ours to show.
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

void request_context::reply_text(int status, std::string json_text) {
  res.status = status;
  res.body = std::move(json_text);
  res.set_header("Content-Type", "application/json");
}

void request_context::reply_empty(int status) {
  res.status = status;
  res.body.clear();
}

} // namespace gilgal
