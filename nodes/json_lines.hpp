// Incremental line splitter for streamed responses (Docker's JSON-lines
// progress streams, build output text). Bytes go in as they arrive; complete
// lines come out without their trailing "\n" or "\r\n". A line longer than
// the splitter's limit comes out cut to the limit (the rest of it is
// dropped), so endless output without a newline cannot fill the memory.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace gilgal {

class line_splitter {
public:
  using line_callback = std::function<void(std::string_view)>;

  explicit line_splitter(line_callback on_line, size_t max_line_bytes = size_t{1} << 20)
    : on_line_(std::move(on_line)), max_line_(max_line_bytes) {
    // nop
  }

  /// Appends bytes; calls the callback once per completed line, in order.
  void feed(std::string_view bytes);

  /// Emits the unterminated remainder, if any, as a last line.
  void finish();

private:
  void take(std::string_view piece);

  line_callback on_line_;
  size_t max_line_;
  std::string pending_;
};

} // namespace gilgal
