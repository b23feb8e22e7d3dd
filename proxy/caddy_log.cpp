#include "proxy/caddy_log.hpp"

#include <algorithm>
#include <fstream>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

namespace gilgal::proxy {

namespace {

constexpr size_t max_entry_text = 500;
constexpr int64_t max_read_bytes = 1 << 20;

int64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

} // namespace

caddy_log_follower::caddy_log_follower(std::string path)
  : path_(std::move(path)), offset_(file_size(path_)) {
}

caddy_log_follower::entry parse_caddy_log_line(const std::string& line) {
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (!j.is_object())
    return {"info", line.substr(0, max_entry_text)};
  caddy_log_follower::entry e;
  e.level = j.value("level", "info");
  e.text = j.value("msg", "");
  if (j.contains("logger") && j["logger"].is_string())
    e.text += " (" + j["logger"].get<std::string>() + ")";
  for (auto& [key, value] : j.items()) {
    if (key == "level" || key == "ts" || key == "logger" || key == "msg")
      continue;
    e.text += " " + key + "=" + (value.is_string() ? value.get<std::string>() : value.dump());
  }
  if (e.text.size() > max_entry_text)
    e.text = e.text.substr(0, max_entry_text) + "...";
  return e;
}

std::vector<caddy_log_follower::entry> caddy_log_follower::read_new() {
  std::vector<entry> out;
  auto size = file_size(path_);
  if (size < offset_) { // rolled over or truncated
    offset_ = 0;
    partial_.clear();
  }
  if (size == offset_)
    return out;
  std::ifstream in{path_, std::ios::binary};
  if (!in)
    return out;
  in.seekg(offset_);
  auto want = std::min<int64_t>(size - offset_, max_read_bytes);
  std::string chunk(static_cast<size_t>(want), '\0');
  in.read(chunk.data(), want);
  chunk.resize(static_cast<size_t>(in.gcount()));
  offset_ += static_cast<int64_t>(chunk.size());
  partial_ += chunk;
  size_t start = 0;
  for (auto nl = partial_.find('\n'); nl != std::string::npos; nl = partial_.find('\n', start)) {
    auto line = partial_.substr(start, nl - start);
    start = nl + 1;
    if (!line.empty())
      out.push_back(parse_caddy_log_line(line));
  }
  partial_.erase(0, start);
  if (partial_.size() > max_read_bytes)
    partial_.clear();
  return out;
}

} // namespace gilgal::proxy
