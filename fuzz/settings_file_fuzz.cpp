// The server's settings file (apply_config_text: TOML via toml11).
//
// Properties: no crash, no exception; a rejection is invalid_argument with a
// message and changes nothing; accepted settings stay within the ranges the
// keys document.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/settings.hpp"
#include "config/settings_file.hpp"
#include "fuzz/fuzz_check.hpp"
#include "protocol/error.hpp"

using namespace gilgal;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  settings s;
  auto res = apply_config_text(text, "fuzz.toml", s);
  if (!res) {
    FUZZ_CHECK(code_of(res.error()) == errc::invalid_argument, "rejection is invalid_argument");
    FUZZ_CHECK(!message_of(res.error()).empty(), "rejection has a message");
    settings defaults;
    FUZZ_CHECK(s.listen == defaults.listen && s.data_dir == defaults.data_dir
                 && s.port_range_begin == defaults.port_range_begin
                 && s.max_body_bytes == defaults.max_body_bytes,
               "a rejected file changes nothing");
    return 0;
  }
  FUZZ_CHECK(s.port_range_begin >= 1 && s.port_range_begin <= 65535, "port range begin");
  FUZZ_CHECK(s.port_range_end >= 1 && s.port_range_end <= 65535, "port range end");
  FUZZ_CHECK(s.default_cpus > 0 && s.default_cpus <= 1024, "default cpus");
  FUZZ_CHECK(s.max_body_bytes >= 1024, "max body bytes");
  validate(s); // may refuse; must not crash
  return 0;
}
