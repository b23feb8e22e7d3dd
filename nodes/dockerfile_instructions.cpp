#include "nodes/dockerfile_instructions.hpp"

#include "nodes/ascii_text.hpp"

#include <cctype>

namespace gilgal {

char dockerfile_escape_char(const std::string& dockerfile) {
  size_t pos = 0;
  while (pos < dockerfile.size()) {
    auto end = dockerfile.find('\n', pos);
    auto line = trim_blanks(dockerfile.substr(pos, end == std::string::npos ? std::string::npos
                                                                       : end - pos));
    if (line.empty() || line[0] != '#')
      break; // directives only come first
    auto body = ascii_lower(trim_blanks(line.substr(1)));
    if (body.compare(0, 6, "escape") == 0) {
      auto eq = body.find('=');
      auto value = eq == std::string::npos ? std::string{} : trim_blanks(body.substr(eq + 1));
      return value == "`" ? '`' : '\\';
    }
    if (end == std::string::npos)
      break;
    pos = end + 1;
  }
  return '\\';
}

std::vector<std::string> dockerfile_words(const std::string& text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    auto start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    if (i > start)
      words.push_back(text.substr(start, i - start));
  }
  return words;
}

std::vector<dockerfile_instruction> dockerfile_instructions(const std::string& dockerfile) {
  auto escape = dockerfile_escape_char(dockerfile);
  std::vector<dockerfile_instruction> out;
  dockerfile_instruction current;
  auto finish = [&] {
    if (trim_blanks(current.text).empty())
      return;
    auto words = dockerfile_words(current.text);
    current.keyword = words.empty() ? std::string{} : ascii_lower(words[0]);
    out.push_back(current);
  };
  bool continuing = false;
  int number = 0;
  size_t pos = 0;
  while (pos <= dockerfile.size()) {
    auto end = dockerfile.find('\n', pos);
    auto raw = dockerfile.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    ++number;
    auto line = trim_blanks(raw);
    bool comment = !line.empty() && line[0] == '#';
    if (!comment && !(continuing && line.empty())) {
      if (!continuing)
        current = dockerfile_instruction{number, number, {}, {}};
      current.last_line = number;
      bool continues = !line.empty() && line.back() == escape;
      if (continues)
        line.pop_back();
      current.text += line + " ";
      continuing = continues;
      if (!continuing)
        finish();
    }
    if (end == std::string::npos)
      break;
    pos = end + 1;
  }
  if (continuing)
    finish();
  return out;
}

} // namespace gilgal
