// A repository's Procfile (parse_procfile_web): the start command of
// the app comes from its first usable `web:` line.
//
// Properties: no crash; the command is one line of printable text (tabs
// allowed), trimmed, and appears verbatim in the input.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_check.hpp"
#include "nodes/framework_detector.hpp"

using namespace gilgal;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto cmd = parse_procfile_web(text);
  if (cmd.empty())
    return 0;
  for (char c : cmd)
    FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 || c == '\t',
               "the command holds no control character but tab");
  FUZZ_CHECK(!std::isspace(static_cast<unsigned char>(cmd.front()))
               && !std::isspace(static_cast<unsigned char>(cmd.back())),
             "the command is trimmed");
  FUZZ_CHECK(text.find(cmd) != std::string::npos, "the command comes from the input");
  return 0;
}
