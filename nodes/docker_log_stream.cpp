#include "nodes/docker_log_stream.hpp"

#include <algorithm>

#include "protocol/utf8.hpp"

namespace gilgal {

namespace {

/// Docker's stamp: "2024-01-02T03:04:05.123456789Z" (at least "YYYY-MM-DDTHH:MM:SS").
bool looks_like_timestamp(std::string_view text) {
  return text.size() >= 20 && text[4] == '-' && text[7] == '-' && text[10] == 'T'
         && text[13] == ':' && text[16] == ':';
}

} // namespace

void docker_log_stream::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    if (frame_left_ == 0) {
      auto need = 8 - header_.size();
      auto take = std::min(need, bytes.size());
      header_.append(bytes.data(), take);
      bytes.remove_prefix(take);
      if (header_.size() < 8)
        return;
      auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(header_[i])); };
      frame_stream_ = b(0) == 2 ? 2 : 1;
      frame_left_ = (b(4) << 24) | (b(5) << 16) | (b(6) << 8) | b(7);
      header_.clear();
      continue;
    }
    auto take = std::min(frame_left_, bytes.size());
    payload(frame_stream_, bytes.substr(0, take));
    bytes.remove_prefix(take);
    frame_left_ -= take;
  }
}

void docker_log_stream::payload(int stream, std::string_view bytes) {
  auto& line = lines_[stream];
  while (!bytes.empty()) {
    auto nl = bytes.find('\n');
    auto piece = bytes.substr(0, nl);
    if (!line.cut) {
      auto room = max_line_ + 64 - line.text.size(); // the stamp is not part of the cap
      if (piece.size() > room) {
        line.text.append(piece.data(), room);
        line.cut = true;
      } else {
        line.text.append(piece.data(), piece.size());
      }
    }
    if (nl == std::string_view::npos)
      return;
    emit(stream, line);
    bytes.remove_prefix(nl + 1);
  }
}

void docker_log_stream::emit(int stream, pending_line& line) {
  std::string_view text = line.text;
  container_log_line out;
  out.stream = stream == 2 ? "stderr" : "stdout";
  auto space = text.find(' ');
  if (space != std::string_view::npos && looks_like_timestamp(text.substr(0, space))) {
    out.timestamp = sanitize_log_text(text.substr(0, space));
    text.remove_prefix(space + 1);
  }
  if (!text.empty() && text.back() == '\r')
    text.remove_suffix(1);
  out.message = sanitize_log_text(text);
  truncate_utf8(out.message, max_line_);
  line.text.clear();
  line.cut = false;
  on_line_(std::move(out));
}

void docker_log_stream::finish() {
  for (int stream : {1, 2})
    if (!lines_[stream].text.empty())
      emit(stream, lines_[stream]);
}

} // namespace gilgal
