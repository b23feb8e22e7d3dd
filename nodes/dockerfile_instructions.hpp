// A Dockerfile read as the classic builder reads it: parser directives, line
// continuations, comments. Only what Gilgal needs to look at or place an
// instruction; it does not validate the file (Docker does, at build time).
#pragma once

#include <string>
#include <vector>

namespace gilgal {

/// One instruction with its continuation lines joined (each line trimmed and
/// its escape character removed, lines joined with a space).
struct dockerfile_instruction {
  int first_line = 0;  // 1-based line where the instruction starts
  int last_line = 0;   // 1-based line of its last continuation
  std::string keyword; // lower case ("from", "run", ...); "" for an empty one
  std::string text;    // the whole instruction, keyword included
};

/// The escape character from a leading `# escape=X` parser directive: '\\'
/// unless the directive names '`'.
char dockerfile_escape_char(const std::string& dockerfile);

/// The instructions in order. Comments and blank lines inside a continuation
/// are skipped, as the builder skips them.
std::vector<dockerfile_instruction> dockerfile_instructions(const std::string& dockerfile);

/// `text` split at whitespace.
std::vector<std::string> dockerfile_words(const std::string& text);

} // namespace gilgal
