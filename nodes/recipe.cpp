#include "nodes/recipe.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "nodes/repo_file.hpp"
#include "protocol/bytes.hpp"
#include "protocol/error.hpp"

namespace gilgal {

namespace {

constexpr size_t max_dockerfile_bytes = 1 << 20;

/// A recipe template (Gilgal's own files, so links are followed).
bool read_template(const std::string& path, std::string& out) {
  struct stat st;
  int rc = ::stat(path.c_str(), &st);
  if (rc != 0 || !S_ISREG(st.st_mode) || static_cast<size_t>(st.st_size) > max_dockerfile_bytes)
    return false;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

/// An image reference: [registry/]name[:tag][@digest], nothing else.
caf::error check_image(const char* key, const std::string& ref) {
  auto ok = !ref.empty() && ref.size() <= 512 && ref[0] != '-'
            && std::all_of(ref.begin(), ref.end(), [](char c) {
                 return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_'
                        || c == '-' || c == '/' || c == ':' || c == '@';
               });
  if (!ok)
    return make_error(errc::invalid_argument,
                      std::string("images.") + key + ": not a valid image reference");
  return {};
}

} // namespace

caf::expected<std::string> render_template(const std::string& text,
                                           const std::map<std::string, std::string>& values) {
  std::string out;
  out.reserve(text.size() + 256);
  size_t begin = 0;
  while (begin < text.size()) {
    auto end = text.find('\n', begin);
    end = end == std::string::npos ? text.size() : end + 1;
    auto line = text.substr(begin, end - begin);
    begin = end;
    auto first = line.find_first_not_of(" \t");
    if (first != std::string::npos && line[first] == '#') {
      out += line;
      continue;
    }
    size_t pos = 0;
    for (;;) {
      auto open = line.find("{{", pos);
      if (open == std::string::npos) {
        out.append(line, pos, std::string::npos);
        break;
      }
      auto close = line.find("}}", open + 2);
      if (close == std::string::npos)
        return make_error(errc::internal, "recipe template: unterminated placeholder '"
                                            + line.substr(open, 40) + "'");
      auto name = line.substr(open + 2, close - open - 2);
      auto it = values.find(name);
      if (it == values.end())
        return make_error(errc::internal,
                          "recipe template: no value for placeholder {{" + name + "}}");
      out.append(line, pos, open - pos);
      out += it->second;
      pos = close + 2;
    }
  }
  return out;
}

std::string start_command_for_cmd(const std::string& command) {
  static const std::string operators = ";&|<>()`\n\\";
  auto simple = command.find_first_of(operators) == std::string::npos;
  if (!simple || command.compare(0, 5, "exec ") == 0)
    return command;
  return "exec " + command;
}

std::string build_arg_lines(const std::vector<std::string>& names) {
  std::string out;
  for (auto& name : names)
    out += (out.empty() ? "" : "\n") + std::string{"ARG "} + name;
  return out;
}

caf::expected<rendered_recipe> render_recipe(const detection& d, const base_images& images,
                                             const std::string& recipes_dir,
                                             const std::string& source_dir,
                                             const std::vector<std::string>& build_arg_names) {
  rendered_recipe result;
  result.framework = d.framework;
  if (d.framework == "dockerfile") {
    auto text = read_repo_file(source_dir, "Dockerfile");
    if (!text)
      return make_error(errc::build_failed, code_of(text.error()) == errc::not_found
                                              ? std::string{"Dockerfile: not found"}
                                              : message_of(text.error()));
    result.dockerfile = std::move(*text);
    result.dockerfile_name = "Dockerfile";
    result.from_repository = true;
    return result;
  }
  static const char* const known[] = {"nextjs", "react", "nodejs", "django", "python", "static"};
  if (std::find(std::begin(known), std::end(known), d.framework) == std::end(known))
    return make_error(errc::invalid_argument, "framework: no recipe for '" + d.framework + "'");
  if (auto err = check_image("node", images.node))
    return err;
  if (auto err = check_image("python", images.python))
    return err;
  if (auto err = check_image("nginx", images.nginx))
    return err;
  auto path = recipes_dir + "/" + d.framework + ".Dockerfile";
  std::string text;
  if (!read_template(path, text))
    return make_error(errc::internal, "recipe template missing: " + path);
  std::map<std::string, std::string> values{
    {"NODE_IMAGE", images.node},
    {"PYTHON_IMAGE", images.python},
    {"NGINX_IMAGE", images.nginx},
    {"BUILD_ARGS", build_arg_lines(build_arg_names)},
    // A JSON string literal: quotes, backslashes and control characters escaped.
    {"START_COMMAND", nlohmann::json(start_command_for_cmd(d.start_command))
                         .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)},
  };
  auto rendered = render_template(text, values);
  if (!rendered)
    return make_error(errc::internal,
                      d.framework + ".Dockerfile: " + message_of(rendered.error()));
  result.dockerfile = std::move(*rendered);
  result.dockerfile_name = "Dockerfile.gilgal";
  return result;
}

} // namespace gilgal
