// Small text helpers for the files Gilgal reads from repositories
// (Dockerfiles, Procfiles, .dockerignore, git output).
#pragma once

#include <cctype>
#include <string>

namespace gilgal {

/// `s` with ASCII letters in lower case.
inline std::string ascii_lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// `s` without leading and trailing spaces, tabs and carriage returns.
inline std::string trim_blanks(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos)
    return {};
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

} // namespace gilgal
