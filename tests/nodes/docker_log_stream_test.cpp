// The parser of Docker's multiplexed container log stream: frames split
// anywhere, both streams, timestamps, invalid UTF-8, control characters and
// the line cap.
#define CAF_SUITE nodes.docker_log_stream
#include <caf/test/unit_test.hpp>

#include <vector>

#include "nodes/docker_log_stream.hpp"
#include "protocol/utf8.hpp"

using namespace gilgal;

namespace {

std::string frame(int stream, const std::string& payload) {
  std::string out(8, '\0');
  out[0] = static_cast<char>(stream);
  auto n = static_cast<uint32_t>(payload.size());
  out[4] = static_cast<char>(n >> 24);
  out[5] = static_cast<char>(n >> 16);
  out[6] = static_cast<char>(n >> 8);
  out[7] = static_cast<char>(n);
  return out + payload;
}

struct collected {
  std::vector<container_log_line> lines;
  docker_log_stream parser{[this](container_log_line l) { lines.push_back(std::move(l)); }, 64};
};

} // namespace

CAF_TEST(frames split at every byte give the same lines) {
  auto bytes = frame(1, "2026-01-02T03:04:05.123456789Z hello\n")
               + frame(2, "2026-01-02T03:04:06.000000001Z oops\n");
  for (size_t cut = 0; cut <= bytes.size(); ++cut) {
    collected c;
    c.parser.feed(std::string_view{bytes}.substr(0, cut));
    c.parser.feed(std::string_view{bytes}.substr(cut));
    c.parser.finish();
    CAF_REQUIRE_EQUAL(c.lines.size(), 2u);
    CAF_CHECK_EQUAL(c.lines[0].timestamp, "2026-01-02T03:04:05.123456789Z");
    CAF_CHECK_EQUAL(c.lines[0].stream, "stdout");
    CAF_CHECK_EQUAL(c.lines[0].message, "hello");
    CAF_CHECK_EQUAL(c.lines[1].stream, "stderr");
    CAF_CHECK_EQUAL(c.lines[1].message, "oops");
  }
}

CAF_TEST(a line spread over frames of its stream is joined and streams do not mix) {
  collected c;
  c.parser.feed(frame(1, "2026-01-02T03:04:05.1Z par") + frame(2, "2026-01-02T03:04:05.2Z err\n")
                + frame(1, "tial\r\n"));
  CAF_REQUIRE_EQUAL(c.lines.size(), 2u);
  CAF_CHECK_EQUAL(c.lines[0].message, "err");
  CAF_CHECK_EQUAL(c.lines[1].message, "partial");
}

CAF_TEST(bytes are made safe and long lines cut) {
  collected c;
  c.parser.feed(frame(1, "2026-01-02T03:04:05.1Z \x1b[31mred\xff\n"));
  c.parser.feed(frame(1, "2026-01-02T03:04:05.2Z " + std::string(1000, 'x') + "\n"));
  c.parser.feed(frame(1, "no stamp at all"));
  c.parser.finish();
  CAF_REQUIRE_EQUAL(c.lines.size(), 3u);
  CAF_CHECK(is_valid_utf8(c.lines[0].message));
  CAF_CHECK_EQUAL(c.lines[0].message.find('\x1b'), std::string::npos);
  CAF_CHECK(c.lines[0].message.find("red") != std::string::npos);
  CAF_CHECK_EQUAL(c.lines[1].message.size(), 64u);
  CAF_CHECK_EQUAL(c.lines[2].timestamp, "");
  CAF_CHECK_EQUAL(c.lines[2].message, "no stamp at all");
}
