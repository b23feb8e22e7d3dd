#include "nodes/docker_progress.hpp"

#include <nlohmann/json.hpp>

namespace gilgal {

docker_progress::docker_progress(docker_line_callback on_line)
  : on_line_(std::move(on_line)),
    json_([this](std::string_view l) { on_json(l); }),
    text_([this](std::string_view l) { on_text(l); }) {
  // nop
}

void docker_progress::finish() {
  json_.finish();
  text_.finish();
}

namespace {

bool is_hex_id(std::string_view s) {
  return s.size() >= 12 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

} // namespace

void docker_progress::on_text(std::string_view line) {
  static constexpr std::string_view built = "Successfully built ";
  static constexpr std::string_view running = " ---> Running in ";
  static constexpr std::string_view layer = " ---> ";
  static constexpr std::string_view removing = "Removing intermediate container ";
  static constexpr std::string_view step = "Step ";
  static constexpr std::string_view run_step = " : RUN ";
  if (line.substr(0, built.size()) == built) {
    short_id_ = std::string{line.substr(built.size())};
  } else if (line.substr(0, running.size()) == running) {
    running_container_ = std::string{line.substr(running.size())};
  } else if (line.substr(0, layer.size()) == layer && is_hex_id(line.substr(layer.size()))) {
    last_layer_ = std::string{line.substr(layer.size())};
  } else if (line.find(removing) != std::string_view::npos) {
    running_container_.clear();
  } else if (line.substr(0, step.size()) == step) {
    auto at = line.find(run_step);
    run_command_ = at == std::string_view::npos ? std::string{}
                                                : std::string{line.substr(at + run_step.size())};
  }
  if (on_line_)
    on_line_(line);
}

void docker_progress::on_json(std::string_view line) {
  if (line.empty())
    return;
  auto j = nlohmann::json::parse(line.begin(), line.end(), nullptr, false);
  if (!j.is_object()) {
    text_.feed(line);
    text_.feed("\n");
    return;
  }
  if (j.contains("error") || j.contains("errorDetail")) {
    std::string msg;
    if (j.contains("errorDetail") && j["errorDetail"].is_object())
      msg = j["errorDetail"].value("message", "");
    if (msg.empty() && j.contains("error") && j["error"].is_string())
      msg = j["error"].get<std::string>();
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == '\r'))
      msg.pop_back();
    if (error_.empty())
      error_ = msg.empty() ? "unknown docker error" : msg;
    text_.feed(error_);
    text_.feed("\n");
    return;
  }
  if (j.contains("stream") && j["stream"].is_string()) {
    text_.feed(j["stream"].get<std::string>());
  }
  if (j.contains("aux") && j["aux"].is_object()) {
    const auto& aux = j["aux"];
    if (aux.contains("ID") && aux["ID"].is_string())
      image_id_ = aux["ID"].get<std::string>();
  }
  if (j.contains("status") && j["status"].is_string()) {
    // Progress bar updates ("Downloading", "Pushing" with a progress member)
    // would flood a log; their start and end states are kept.
    if (j.contains("progress") && j["progress"].is_string()
        && !j["progress"].get<std::string>().empty())
      return;
    std::string text;
    if (j.contains("id") && j["id"].is_string())
      text = j["id"].get<std::string>() + ": ";
    text += j["status"].get<std::string>();
    text += '\n';
    text_.feed(text);
  }
}

} // namespace gilgal
