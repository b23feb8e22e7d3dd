// Reading Docker's JSON-lines progress streams (build, push, pull): each line
// is one JSON object with "stream", "status", "aux" or "error" members.
#pragma once

#include <string>
#include <string_view>

#include "nodes/docker_types.hpp"
#include "nodes/json_lines.hpp"

namespace gilgal {

/// Consumes the raw body of a progress stream. Text of "stream" members is
/// re-split into lines; "status" members become "ID: status" lines (progress
/// bar updates are skipped). Every line goes to `on_line`.
class docker_progress {
public:
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

  /// The image id from "aux": {"ID": ...} or "Successfully built ID".
  const std::string& image_id() const noexcept {
    return image_id_.empty() ? short_id_ : image_id_;
  }

  /// The classic builder's current intermediate container (from " ---> Running
  /// in ID" until "Removing intermediate container ID"), empty if none.
  const std::string& running_container() const noexcept {
    return running_container_;
  }

  /// The classic builder's latest layer (" ---> ID"): the image the next
  /// step's container is created from. Empty before the first.
  const std::string& last_layer() const noexcept {
    return last_layer_;
  }

  /// The command of the step in progress when it is a RUN ("Step 2/5 : RUN
  /// CMD" -> "CMD"), empty otherwise.
  const std::string& run_command() const noexcept {
    return run_command_;
  }

private:
  void on_json(std::string_view line);
  void on_text(std::string_view line);

  docker_line_callback on_line_;
  line_splitter json_;
  line_splitter text_;
  std::string error_;
  std::string image_id_;
  std::string short_id_;
  std::string running_container_;
  std::string last_layer_;
  std::string run_command_;
};

} // namespace gilgal
