// A repository's .dockerignore (parse_dockerignore) and the matching of
// context paths against it (is_ignored). The input is the .dockerignore
// text, then, after a NUL byte, NUL-separated paths to match.
//
// Properties: no crash, no hang; patterns are never empty, never start with
// '/' and never end with '/'; ".git" and everything below it stay ignored
// whatever the patterns say.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_check.hpp"
#include "nodes/build_context.hpp"

using namespace gilgal;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  auto nul = input.find('\0');
  auto patterns = parse_dockerignore(input.substr(0, nul));
  for (auto& p : patterns) {
    FUZZ_CHECK(!p.empty(), "no empty pattern");
    auto body = p[0] == '!' ? p.substr(1) : p;
    FUZZ_CHECK(!body.empty() && body.front() != '/' && body.back() != '/',
               "no leading or trailing slash");
  }
  std::vector<std::string> paths = {".git", ".git/config", "Dockerfile", "src/app.js"};
  if (nul != std::string::npos) {
    size_t pos = nul + 1;
    while (pos <= input.size() && paths.size() < 64) {
      auto end = input.find('\0', pos);
      paths.push_back(input.substr(pos, end == std::string::npos ? end : end - pos));
      if (end == std::string::npos)
        break;
      pos = end + 1;
    }
  }
  for (auto& path : paths)
    is_ignored(path, patterns);
  FUZZ_CHECK(is_ignored(".git", patterns) && is_ignored(".git/config", patterns),
             ".git is always ignored");
  return 0;
}
