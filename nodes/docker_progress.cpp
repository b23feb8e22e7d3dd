#include "nodes/docker_progress.hpp"

#include <nlohmann/json.hpp>

namespace gilgal {

docker_progress::docker_progress(docker_line_callback on_line)
  : on_line_(std::move(on_line)),
    json_([this](std::string_view l) { on_json(l); }, max_json_line_bytes),
    text_(
      [this](std::string_view l) {
        if (on_line_)
          on_line_(l);
      },
      max_text_line_bytes) {
  // nop
}

void docker_progress::finish() {
  json_.finish();
  text_.finish();
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
    if (auto d = j.find("errorDetail"); d != j.end() && d->is_object())
      if (auto m = d->find("message"); m != d->end() && m->is_string())
        msg = m->get<std::string>();
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
    if (aux.contains("ID") && aux["ID"].is_string()) {
      auto id = aux["ID"].get<std::string>();
      if (id.compare(0, 7, "sha256:") == 0 && id.size() == 71
          && id.find_first_not_of("0123456789abcdef", 7) == std::string::npos)
        image_id_ = std::move(id);
    }
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
