// Reading Docker's JSON-lines progress streams (build, push, pull): each line
// is one JSON object with "stream", "status", "aux" or "error" members.
//
// The text of "stream" members is whatever the build's RUN steps print, so
// nothing is taken from it: the image id comes from "aux" alone, errors from
// "error"/"errorDetail" alone. Lines are cut at max_text_line_bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "nodes/docker_types.hpp"
#include "nodes/json_lines.hpp"

namespace gilgal {

class docker_progress {
public:
  /// Longest line handed on (one more than a log line keeps, so the logger
  /// sees it was cut); longest JSON message read.
  static constexpr size_t max_text_line_bytes = (size_t{16} << 10) + 1;
  static constexpr size_t max_json_line_bytes = size_t{4} << 20;

  explicit docker_progress(docker_line_callback on_line);

  docker_progress(const docker_progress&) = delete;
  docker_progress& operator=(const docker_progress&) = delete;

  /// Raw bytes as they arrive from the daemon.
  void feed(std::string_view bytes) {
    json_.feed(bytes);
  }

  /// Flushes partial lines at the end of the stream.
  void finish();

  /// The first "error" message seen, empty if none.
  const std::string& error() const noexcept {
    return error_;
  }

  /// The image id from "aux": {"ID": "sha256:..."}, empty if none came.
  const std::string& image_id() const noexcept {
    return image_id_;
  }

private:
  void on_json(std::string_view line);

  docker_line_callback on_line_;
  line_splitter json_;
  line_splitter text_;
  std::string error_;
  std::string image_id_;
};

} // namespace gilgal
