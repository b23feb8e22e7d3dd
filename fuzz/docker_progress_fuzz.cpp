// Docker's build / push / pull progress stream (docker_progress over
// line_splitter): bytes as the daemon, or a build step's output inside it,
// produces them, cut into chunks at fuzzer-chosen places.
//
// Properties: no crash, no exception; the lines and what is read from the
// stream (error, image id) do not depend on how the bytes were chunked; no
// line holds a line break or exceeds max_text_line_bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_check.hpp"
#include "nodes/docker_progress.hpp"

using namespace gilgal;

namespace {

struct outcome {
  std::vector<std::string> lines;
  std::string error;
  std::string image_id;

  bool operator==(const outcome& other) const {
    return lines == other.lines && error == other.error && image_id == other.image_id;
  }
};

/// Feeds `stream` in pieces of the given sizes (the rest in one piece).
outcome parse(const std::string& stream, const std::vector<size_t>& cuts) {
  outcome out;
  docker_progress progress{[&](std::string_view line) { out.lines.emplace_back(line); }};
  size_t pos = 0;
  for (auto n : cuts) {
    if (pos >= stream.size())
      break;
    auto piece = std::string_view{stream}.substr(pos, n);
    progress.feed(piece);
    pos += piece.size();
  }
  if (pos < stream.size())
    progress.feed(std::string_view{stream}.substr(pos));
  progress.finish();
  out.error = progress.error();
  out.image_id = progress.image_id();
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The whole input is the stream (so seeds are plain streams); the chunk
  // sizes of the second reading are derived from its bytes.
  std::string stream(reinterpret_cast<const char*>(data), size);
  std::vector<size_t> cuts;
  for (size_t i = 0; i < 8 && i < size; ++i)
    cuts.push_back(data[(i * 31) % size] % 64);
  auto whole = parse(stream, {});
  auto chunked = parse(stream, cuts);
  FUZZ_CHECK(whole == chunked, "chunking does not change the outcome");
  for (auto& line : whole.lines) {
    FUZZ_CHECK(line.find('\n') == std::string::npos, "a line holds no newline");
    FUZZ_CHECK(line.size() <= docker_progress::max_text_line_bytes, "a line is capped");
  }
  return 0;
}
