#include "nodes/image_labels.hpp"

#include "nodes/dockerfile_instructions.hpp"

namespace gilgal {

label_map image_labels(const std::string& project_id, const std::string& inputs_digest,
                       const std::string& framework) {
  return {{"gilgal.project", project_id},
          {"gilgal.inputs", inputs_digest},
          {"gilgal.framework", framework}};
}

std::string with_final_stage_labels(const std::string& dockerfile, const label_map& labels) {
  auto escape = dockerfile_escape_char(dockerfile);
  std::string instruction = "LABEL";
  for (auto& [key, value] : labels) {
    instruction += ' ' + key + "=\"";
    for (char c : value) {
      if (c == '"' || c == escape)
        instruction += escape;
      instruction += c == '\n' || c == '\r' ? ' ' : c;
    }
    instruction += '"';
  }
  instruction += '\n';

  int after_line = 0; // 0: append at the end
  for (auto& ins : dockerfile_instructions(dockerfile))
    if (ins.keyword == "from")
      after_line = ins.last_line;
  if (after_line > 0) {
    size_t pos = 0;
    for (int line = 0; line < after_line && pos != std::string::npos; ++line) {
      pos = dockerfile.find('\n', pos);
      if (pos != std::string::npos)
        ++pos;
    }
    if (pos != std::string::npos)
      return dockerfile.substr(0, pos) + instruction + dockerfile.substr(pos);
  }
  auto out = dockerfile; // no FROM, or the FROM is the last line without a newline
  if (!out.empty() && out.back() != '\n')
    out += '\n';
  return out + instruction;
}

} // namespace gilgal
