#include "nodes/docker_refs.hpp"

#include <algorithm>

#include "protocol/error.hpp"

namespace gilgal {

namespace {

bool is_alnum(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/// Shown in error messages: printable ASCII only, at most 80 characters.
std::string shown(std::string_view ref) {
  std::string out;
  for (char c : ref.substr(0, 80))
    out += (c >= 0x20 && c < 0x7F) ? c : '?';
  return out;
}

/// Every '/'-separated component is non-empty and neither "." nor "..".
bool plain_components(std::string_view path) noexcept {
  size_t start = 0;
  for (;;) {
    auto slash = path.find('/', start);
    auto part = path.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (part.empty() || part == "." || part == "..")
      return false;
    if (slash == std::string_view::npos)
      return true;
    start = slash + 1;
  }
}

} // namespace

bool is_docker_object_id(std::string_view text) noexcept {
  return text.size() >= 12 && text.size() <= 64
         && std::all_of(text.begin(), text.end(),
                        [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

caf::expected<std::string> container_path_segment(std::string_view ref) {
  if (is_docker_object_id(ref))
    return std::string{ref};
  bool name = !ref.empty() && ref.size() <= 128 && is_alnum(ref[0])
              && std::all_of(ref.begin(), ref.end(), [](char c) {
                   return is_alnum(c) || c == '_' || c == '.' || c == '-';
                 });
  if (!name)
    return make_error(errc::invalid_argument,
                      "not a container ID or name: '" + shown(ref) + "'");
  return std::string{ref};
}

caf::expected<std::string> image_path_segment(std::string_view ref) {
  static constexpr std::string_view digest_prefix = "sha256:";
  if (ref.substr(0, digest_prefix.size()) == digest_prefix
      && is_docker_object_id(ref.substr(digest_prefix.size())))
    return std::string{ref.substr(digest_prefix.size())};
  bool ok = !ref.empty() && ref.size() <= 512 && is_alnum(ref[0])
            && std::all_of(ref.begin(), ref.end(), [](char c) {
                 return is_alnum(c) || c == '.' || c == '_' || c == '-' || c == '/' || c == ':'
                        || c == '@';
               })
            && plain_components(ref);
  if (!ok)
    return make_error(errc::invalid_argument,
                      "not an image ID or reference: '" + shown(ref) + "'");
  return std::string{ref};
}

bool is_plain_api_path(std::string_view path) noexcept {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  auto part = path.substr(0, path.find('?'));
  if (part.empty() || part[0] != '/' || part.size() > 4096)
    return false;
  // Judged as the daemon reads it: percent escapes decoded.
  char decoded[4096];
  size_t n = 0;
  for (size_t i = 0; i < part.size(); ++i) {
    char c = part[i];
    if (c == '%') {
      if (i + 2 >= part.size() || hex(part[i + 1]) < 0 || hex(part[i + 2]) < 0)
        return false;
      c = static_cast<char>(hex(part[i + 1]) * 16 + hex(part[i + 2]));
      i += 2;
    }
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || c == '#' || c == '?')
      return false;
    decoded[n++] = c;
  }
  auto query = path.substr(part.size());
  if (!std::all_of(query.begin(), query.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u > 0x20 && u < 0x7F && c != '#';
      }))
    return false;
  return plain_components(std::string_view{decoded + 1, n - 1});
}

} // namespace gilgal
