// A repository's package.json (parse_package_json), and the members
// detection asks of it (dependencies, scripts.start, main) read the way
// nodes/framework_detector.cpp reads them.
//
// Properties: no crash, no exception (members of any type, any nesting);
// a rejection is build_failed with a message.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz/fuzz_check.hpp"
#include "nodes/framework_detector.hpp"
#include "protocol/error.hpp"

using namespace gilgal;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto doc = parse_package_json(text);
  if (!doc) {
    FUZZ_CHECK(code_of(doc.error()) == errc::build_failed, "rejection is build_failed");
    FUZZ_CHECK(!message_of(doc.error()).empty(), "rejection has a message");
    return 0;
  }
  FUZZ_CHECK(doc->is_object(), "an accepted manifest is an object");
  for (auto* section : {"dependencies", "devDependencies"})
    if (auto it = doc->find(section); it != doc->end() && it->is_object())
      it->contains("next");
  if (auto it = doc->find("scripts"); it != doc->end() && it->is_object())
    if (auto s = it->find("start"); s != it->end() && s->is_string())
      s->get<std::string>();
  doc->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
