#include "cli/console_sse.hpp"

namespace gilgal::cli {

bool sse_parser::feed(const char* data, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    char c = data[i];
    if (skip_lf_) {
      skip_lf_ = false;
      if (c == '\n')
        continue;
    }
    if (c == '\r' || c == '\n') {
      skip_lf_ = c == '\r';
      std::string text;
      text.swap(buffer_);
      if (!line(text))
        return false;
      continue;
    }
    buffer_ += c;
  }
  return true;
}

void sse_parser::reset() {
  buffer_.clear();
  current_ = sse_event{};
  has_data_ = false;
  skip_lf_ = false;
}

bool sse_parser::line(const std::string& text) {
  if (text.empty()) { // dispatch
    bool go_on = true;
    if (has_data_ || !current_.event.empty()) {
      if (current_.event.empty())
        current_.event = "message";
      go_on = on_event_(current_);
    }
    current_ = sse_event{};
    has_data_ = false;
    return go_on;
  }
  if (text[0] == ':') // comment (keepalive)
    return true;
  auto colon = text.find(':');
  auto field = text.substr(0, colon);
  std::string value;
  if (colon != std::string::npos) {
    value = text.substr(colon + 1);
    if (!value.empty() && value[0] == ' ')
      value.erase(0, 1);
  }
  if (field == "data") {
    if (has_data_)
      current_.data += '\n';
    current_.data += value;
    has_data_ = true;
  } else if (field == "event") {
    current_.event = value;
  } else if (field == "id") {
    if (value.find('\0') == std::string::npos)
      current_.id = value;
  } // "retry" and unknown fields are ignored
  return true;
}

} // namespace gilgal::cli
