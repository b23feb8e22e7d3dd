// An incremental parser of a Server-Sent Events stream (the WHATWG event
// stream format): bytes go in as they arrive, in pieces of any size; each
// complete event (ended by a blank line) comes out through a callback.
#pragma once

#include <functional>
#include <string>

namespace gilgal::cli {

struct sse_event {
  std::string id;    // the `id:` field ("" if none)
  std::string event; // the `event:` field; "message" if none
  std::string data;  // `data:` lines joined with '\n'
};

class sse_parser {
public:
  /// Called once per complete event; returning false stops the parse.
  using handler = std::function<bool(const sse_event&)>;

  explicit sse_parser(handler on_event) : on_event_(std::move(on_event)) {
  }

  /// Feeds bytes. Returns false if the handler asked to stop.
  bool feed(const char* data, size_t size);

  /// Drops a partial line and event (after a reconnect).
  void reset();

private:
  bool line(const std::string& text);

  handler on_event_;
  std::string buffer_;   // bytes of an unfinished line
  sse_event current_;
  bool has_data_ = false;
  bool skip_lf_ = false; // the last line ended with '\r': a following '\n' belongs to it
};

} // namespace gilgal::cli
