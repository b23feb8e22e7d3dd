#include "protocol/json_writer.hpp"

#include <nlohmann/json.hpp>

namespace gilgal {

void json_writer::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!has_items_.empty()) {
    if (has_items_.back())
      out_ += ',';
    has_items_.back() = true;
  }
}

json_writer& json_writer::begin_object() {
  before_value();
  out_ += '{';
  has_items_.push_back(false);
  return *this;
}

json_writer& json_writer::end_object() {
  has_items_.pop_back();
  out_ += '}';
  return *this;
}

json_writer& json_writer::begin_array() {
  before_value();
  out_ += '[';
  has_items_.push_back(false);
  return *this;
}

json_writer& json_writer::end_array() {
  has_items_.pop_back();
  out_ += ']';
  return *this;
}

json_writer& json_writer::key(const char* k) {
  before_value();
  out_ += '"';
  out_ += k;
  out_ += "\":";
  after_key_ = true;
  return *this;
}

void json_writer::text(const std::string& s) {
  // Printable ASCII without quote or backslash is written as it is; anything
  // else (escapes, UTF-8, invalid bytes) takes nlohmann's own path.
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      out_ += nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return;
    }
  out_ += '"';
  out_ += s;
  out_ += '"';
}

json_writer& json_writer::value(const std::string& s) {
  before_value();
  text(s);
  return *this;
}

json_writer& json_writer::value(const char* s) {
  return value(std::string{s});
}

json_writer& json_writer::value(int64_t x) {
  before_value();
  out_ += std::to_string(x);
  return *this;
}

json_writer& json_writer::value(double x) {
  before_value();
  out_ += nlohmann::json(x).dump(); // nlohmann's shortest round-trip form
  return *this;
}

json_writer& json_writer::value(bool x) {
  before_value();
  out_ += x ? "true" : "false";
  return *this;
}

json_writer& json_writer::null() {
  before_value();
  out_ += "null";
  return *this;
}

json_writer& json_writer::string_or_null(const std::string& s) {
  return s.empty() ? null() : value(s);
}

json_writer& json_writer::number_or_null(int64_t x) {
  return x == 0 ? null() : value(x);
}

json_writer& json_writer::number_or_null(double x) {
  return x == 0 ? null() : value(x);
}

json_writer& json_writer::entry(const std::string& k, const std::string& v) {
  before_value();
  text(k);
  out_ += ':';
  after_key_ = true;
  return value(v);
}

json_writer& json_writer::string_map(const std::map<std::string, std::string>& m) {
  begin_object();
  for (auto& [k, v] : m)
    entry(k, v);
  return end_object();
}

} // namespace gilgal
