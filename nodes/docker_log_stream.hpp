// Incremental parser of Docker's container log stream (GET
// /containers/ID/logs with timestamps=1, no TTY): frames of
// [stream(1) 0 0 0 size(4, big endian)] payload, in pieces of any size. Each
// stream's payload is split into lines; a line starts with Docker's
// RFC 3339 nano timestamp and a space. Every line comes out sanitised for
// the API (protocol/utf8: valid UTF-8, control characters shown as text)
// and cut at `max_line_bytes`.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "protocol/messages.hpp"

namespace gilgal {

class docker_log_stream {
public:
  /// A line longer than this is cut (the rest of it is dropped).
  static constexpr size_t default_max_line_bytes = 16 * 1024;

  using line_callback = std::function<void(container_log_line)>;

  explicit docker_log_stream(line_callback on_line,
                             size_t max_line_bytes = default_max_line_bytes)
    : on_line_(std::move(on_line)), max_line_(max_line_bytes) {
  }

  /// Appends bytes; calls the callback once per completed line, in order.
  void feed(std::string_view bytes);

  /// Emits each stream's unterminated remainder as a last line.
  void finish();

private:
  struct pending_line {
    std::string text;
    bool cut = false; // the line reached max_line_ bytes; the rest is dropped
  };

  void payload(int stream, std::string_view bytes);
  void emit(int stream, pending_line& line);

  line_callback on_line_;
  size_t max_line_;
  std::string header_;          // bytes of an incomplete frame header
  size_t frame_left_ = 0;       // payload bytes of the current frame still to come
  int frame_stream_ = 1;        // 1 stdout, 2 stderr
  pending_line lines_[3];       // by stream (0 stdin is never written)
};

} // namespace gilgal
