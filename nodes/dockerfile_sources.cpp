#include "nodes/dockerfile_sources.hpp"

#include <cctype>

#include <nlohmann/json.hpp>

#include "nodes/dockerfile_instructions.hpp"
#include "protocol/error.hpp"

namespace gilgal {

namespace {

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos)
    return {};
  auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

/// The sources of `ADD [--flags] src... dest` or its JSON form.
std::vector<std::string> add_sources(const std::string& arguments) {
  auto args = trim(arguments);
  // Flags come first: --chown=x, --chmod=x, --checksum=x, --link, --keep-git-dir.
  while (args.compare(0, 2, "--") == 0) {
    auto space = args.find_first_of(" \t");
    args = space == std::string::npos ? std::string{} : trim(args.substr(space));
  }
  std::vector<std::string> items;
  if (!args.empty() && args.front() == '[') {
    auto j = nlohmann::json::parse(args, nullptr, false);
    if (j.is_array()) {
      for (auto& x : j)
        if (x.is_string())
          items.push_back(x.get<std::string>());
    } else {
      items = dockerfile_words(args); // the builder reads a broken JSON form as words
    }
  } else {
    items = dockerfile_words(args);
  }
  if (!items.empty())
    items.pop_back(); // the destination
  return items;
}

/// The source as the builder sees it after removing quotes and escapes.
std::string unquoted(const std::string& source, char escape) {
  std::string out;
  for (char c : source)
    if (c != '"' && c != '\'' && c != escape)
      out += c;
  return out;
}

bool looks_remote(const std::string& s) {
  auto scheme = s.find("://");
  if (scheme != std::string::npos && scheme > 0) {
    bool all_scheme_chars = true;
    for (size_t i = 0; i < scheme; ++i) {
      auto c = static_cast<unsigned char>(s[i]);
      all_scheme_chars = all_scheme_chars && (std::isalnum(c) || c == '+' || c == '-' || c == '.');
    }
    if (all_scheme_chars)
      return true;
  }
  return s.compare(0, 4, "git@") == 0;
}

} // namespace

std::vector<dockerfile_remote_source> remote_sources(const std::string& dockerfile) {
  auto escape = dockerfile_escape_char(dockerfile);
  std::vector<dockerfile_remote_source> out;
  for (auto& ins : dockerfile_instructions(dockerfile)) {
    auto words = dockerfile_words(ins.text);
    if (words.empty())
      continue;
    auto keyword = lower(words[0]);
    auto rest = trim(ins.text.substr(ins.text.find(words[0]) + words[0].size()));
    if (keyword == "onbuild" && words.size() > 1) {
      keyword = lower(words[1]);
      rest = trim(rest.substr(rest.find(words[1]) + words[1].size()));
    }
    if (keyword != "add")
      continue;
    for (auto& source : add_sources(rest)) {
      auto plain = unquoted(source, escape);
      if (plain.find('$') != std::string::npos || looks_remote(plain))
        out.push_back({ins.first_line, source});
    }
  }
  return out;
}

caf::error check_remote_sources(const std::string& dockerfile, bool allow_private,
                                const host_resolver& resolve) {
  auto escape = dockerfile_escape_char(dockerfile);
  for (auto& src : remote_sources(dockerfile)) {
    auto where = "Dockerfile line " + std::to_string(src.line) + ": ADD " + src.source;
    auto plain = unquoted(src.source, escape);
    if (plain.find('$') != std::string::npos)
      return make_error(errc::build_failed,
                        where + ": variables are not allowed in ADD sources on this server "
                                "(the host of a URL could not be checked); use COPY for "
                                "files of the repository");
    auto target = parse_url_target(plain);
    if (!target)
      return make_error(errc::build_failed, where + ": the URL has no host");
    auto addresses = resolve_target(where, target->host, allow_private, resolve);
    if (!addresses) // a refusal names `where` already; a lookup failure does not
      return make_error(errc::build_failed,
                        code_of(addresses.error()) == errc::invalid_argument
                          ? message_of(addresses.error())
                          : where + ": " + message_of(addresses.error()));
  }
  return {};
}

} // namespace gilgal
