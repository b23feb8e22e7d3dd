#include "nodes/build_inputs.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "protocol/bytes.hpp"

namespace gilgal {

namespace {

/// Bump when detection, recipe rendering or the build's options change what
/// the same inputs produce.
constexpr const char* builder_rules = "gilgal-build-inputs-v1";

/// Length-prefixed, so that no two different lists give the same text.
void add(std::string& text, const std::string& field) {
  text += std::to_string(field.size()) + ":" + field + "\n";
}

/// The recipe templates (*.Dockerfile) of the directory, sorted by name, with
/// their contents. A missing directory adds nothing: the build then fails for
/// its own reason.
void add_templates(std::string& text, const std::string& dir) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::directory_iterator i{dir, ec}, end; !ec && i != end; i.increment(ec)) {
    auto& p = i->path();
    if (p.extension() == ".Dockerfile" && i->is_regular_file(ec))
      files.push_back(p);
  }
  std::sort(files.begin(), files.end());
  for (auto& p : files) {
    std::ifstream in{p, std::ios::binary};
    std::ostringstream content;
    content << in.rdbuf();
    add(text, p.filename().string());
    add(text, content.str());
  }
}

} // namespace

std::string build_inputs_digest(const std::string& framework_setting, const base_images& images,
                                 const std::string& recipes_dir,
                                 const std::map<std::string, std::string>& build_variables) {
  std::string text;
  add(text, builder_rules);
  add(text, framework_setting);
  add(text, images.node);
  add(text, images.python);
  add(text, images.nginx);
  add(text, std::to_string(build_variables.size()));
  for (auto& [name, value] : build_variables) {
    add(text, name);
    add(text, value);
  }
  add_templates(text, recipes_dir);
  return sha256_hex(text);
}

} // namespace gilgal
