#include "nodes/framework_detector.hpp"

#include "nodes/ascii_text.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <vector>

#include <dirent.h>
#include <sys/stat.h>

#include <caf/optional.hpp>
#include <nlohmann/json.hpp>

#include "nodes/repo_file.hpp"
#include "protocol/error.hpp"

namespace gilgal {

namespace {

const char* const looked_for =
  "no Dockerfile, package.json, manage.py, requirements.txt, pyproject.toml or index.html found";

/// A regular file (symbolic links are not followed: they could point outside
/// the checkout). For files whose presence alone matters: their content is
/// never read by Gilgal, and Docker copies a link as a link.
bool is_file(const std::string& dir, const std::string& relative) {
  return repo_entry_at(dir, relative) == repo_entry::file;
}

bool is_dir(const std::string& dir, const std::string& relative) {
  return repo_entry_at(dir, relative) == repo_entry::directory;
}

/// The content of a repository file the detector reads; an empty optional
/// when it is absent; an error when it is present but unsafe to read.
caf::expected<caf::optional<std::string>> read_optional(const std::string& dir,
                                                        const char* name) {
  auto text = read_repo_file(dir, name);
  if (text)
    return caf::optional<std::string>{std::move(*text)};
  if (code_of(text.error()) == errc::not_found)
    return caf::optional<std::string>{};
  return std::move(text.error());
}

std::string trim(const std::string& s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b])))
    ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])))
    --e;
  return s.substr(b, e - b);
}

/// Single-quotes a word for /bin/sh.
std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

caf::error failed(const std::string& msg) {
  return make_error(errc::build_failed, msg);
}

/// package.json, parsed.
struct package_info {
  bool present = false;
  nlohmann::json doc;

  bool depends_on(const char* name) const {
    for (auto* section : {"dependencies", "devDependencies"}) {
      auto it = doc.find(section);
      if (it != doc.end() && it->is_object() && it->contains(name))
        return true;
    }
    return false;
  }

  std::string script(const char* name) const {
    auto it = doc.find("scripts");
    if (it == doc.end() || !it->is_object())
      return {};
    auto s = it->find(name);
    return s != it->end() && s->is_string() ? s->get<std::string>() : std::string{};
  }

  std::string main() const {
    auto it = doc.find("main");
    return it != doc.end() && it->is_string() ? it->get<std::string>() : std::string{};
  }
};

caf::expected<package_info> read_package_json(const std::string& dir) {
  package_info info;
  auto text = read_optional(dir, "package.json");
  if (!text)
    return std::move(text.error());
  if (!*text)
    return info;
  auto doc = parse_package_json(**text);
  if (!doc)
    return std::move(doc.error());
  info.present = true;
  info.doc = std::move(*doc);
  return info;
}

/// The Django project package: the directory holding wsgi.py next to manage.py.
std::string django_wsgi_module(const std::string& dir) {
  std::vector<std::string> candidates;
  if (DIR* d = ::opendir(dir.c_str())) { // the checkout itself, made by Gilgal
    while (auto* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.empty() || name[0] == '.')
        continue;
      bool identifier = std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
      });
      if (identifier && is_dir(dir, name) && is_file(dir, name + "/wsgi.py"))
        candidates.push_back(name);
    }
    ::closedir(d);
  }
  std::sort(candidates.begin(), candidates.end());
  return candidates.empty() ? std::string{} : candidates.front() + ".wsgi";
}

caf::expected<bool> python_requires(const std::string& dir, const char* package) {
  for (auto* f : {"requirements.txt", "pyproject.toml"}) {
    auto text = read_optional(dir, f);
    if (!text)
      return std::move(text.error());
    if (*text && ascii_lower(**text).find(package) != std::string::npos)
      return true;
  }
  return false;
}

void set_start(detection& d, const std::string& procfile, std::string fallback,
               const char* fallback_source) {
  if (!procfile.empty()) {
    d.start_command = procfile;
    d.start_source = "Procfile";
  } else {
    d.start_command = std::move(fallback);
    d.start_source = fallback_source;
  }
}

caf::error node_start(detection& d, const package_info& pkg, const std::string& procfile,
                      const std::string& dir) {
  if (!pkg.script("start").empty()) {
    set_start(d, procfile, "npm start", "package.json");
  } else if (!pkg.main().empty()) {
    set_start(d, procfile, "node " + sh_quote(pkg.main()), "package.json");
  } else if (d.framework == "nextjs") {
    set_start(d, procfile, "node_modules/.bin/next start -p \"$PORT\"", "default");
  } else if (!procfile.empty()) {
    set_start(d, procfile, "", "");
  } else if (is_file(dir, "server.js")) {
    set_start(d, procfile, "node server.js", "default");
  } else if (is_file(dir, "index.js")) {
    set_start(d, procfile, "node index.js", "default");
  } else {
    return failed("Node.js app: no Procfile web: line, no scripts.start or main in "
                  "package.json, and no server.js or index.js found");
  }
  return {};
}

caf::error python_start(detection& d, const std::string& procfile, const std::string& dir) {
  if (!procfile.empty())
    set_start(d, procfile, "", "");
  else if (is_file(dir, "main.py"))
    set_start(d, procfile, "python main.py", "default");
  else if (is_file(dir, "app.py"))
    set_start(d, procfile, "python app.py", "default");
  else
    return failed("Python app: no Procfile web: line, main.py or app.py found");
  return {};
}

caf::error django_start(detection& d, const std::string& procfile, const std::string& dir) {
  if (!is_file(dir, "manage.py"))
    return failed("Django app: no manage.py found");
  auto wsgi = django_wsgi_module(dir);
  auto gunicorn = python_requires(dir, "gunicorn");
  if (!gunicorn)
    return std::move(gunicorn.error());
  if (*gunicorn && !wsgi.empty())
    set_start(d, procfile, "gunicorn --bind \"0.0.0.0:$PORT\" " + wsgi, "default");
  else
    set_start(d, procfile, "python manage.py runserver \"0.0.0.0:$PORT\" --noreload", "default");
  return {};
}

/// Fills start_command for a framework that runs a process of its own.
caf::error fill_start(detection& d, const std::string& dir, const package_info& pkg) {
  auto web = procfile_web_command(dir);
  if (!web)
    return std::move(web.error());
  const auto& procfile = *web;
  if (d.framework == "nextjs" || d.framework == "nodejs") {
    if (!pkg.present)
      return failed(d.framework + " app: no package.json found");
    return node_start(d, pkg, procfile, dir);
  }
  if (d.framework == "react" && !pkg.present)
    return failed("react app: no package.json found");
  if (d.framework == "django")
    return django_start(d, procfile, dir);
  if (d.framework == "python")
    return python_start(d, procfile, dir);
  return {};
}

} // namespace

std::string parse_procfile_web(std::string_view text) {
  std::istringstream in{std::string{text}};
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos || trim(line.substr(0, colon)) != "web")
      continue;
    auto cmd = trim(line.substr(colon + 1));
    // A command is one line of printable text (tabs allowed).
    bool printable = std::all_of(cmd.begin(), cmd.end(), [](char c) {
      auto u = static_cast<unsigned char>(c);
      return (u >= 0x20 && u != 0x7F) || c == '\t';
    });
    if (!cmd.empty() && printable)
      return cmd;
  }
  return {};
}

caf::expected<nlohmann::json> parse_package_json(std::string_view text) {
  auto doc = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded())
    return failed("package.json: malformed JSON");
  if (!doc.is_object())
    return failed("package.json: must be a JSON object");
  return doc;
}

caf::expected<std::string> procfile_web_command(const std::string& dir) {
  auto text = read_optional(dir, "Procfile");
  if (!text)
    return std::move(text.error());
  return *text ? parse_procfile_web(**text) : std::string{};
}

caf::expected<detection> detect_framework(const std::string& dir, const std::string& configured) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return make_error(errc::internal, "source directory does not exist: " + dir);
  // A Dockerfile that is not a plain file is refused rather than overlooked.
  auto dockerfile = repo_entry_at(dir, "Dockerfile");
  if (dockerfile != repo_entry::file && dockerfile != repo_entry::absent)
    return failed("Dockerfile: is not a regular file (Gilgal reads only regular files "
                  "inside the repository)");
  auto pkg = read_package_json(dir);
  detection d;
  if (!configured.empty() && configured != "auto") {
    static const char* const known[] = {"dockerfile", "nextjs", "react", "nodejs",
                                        "django", "python", "static"};
    if (std::find(std::begin(known), std::end(known), configured) == std::end(known))
      return make_error(errc::invalid_argument, "framework: unknown value '" + configured + "'");
    d.framework = configured;
    d.reason = "framework configured as " + configured;
    if (configured == "dockerfile") {
      if (dockerfile != repo_entry::file)
        return failed("framework configured as dockerfile but the repository has no Dockerfile");
      return d;
    }
    if (!pkg && (configured == "nextjs" || configured == "react" || configured == "nodejs"))
      return pkg.error();
    if (auto err = fill_start(d, dir, pkg ? *pkg : package_info{}))
      return err;
    return d;
  }
  if (dockerfile == repo_entry::file) {
    d.framework = "dockerfile";
    d.reason = "the repository has a Dockerfile";
    return d;
  }
  if (!pkg)
    return pkg.error();
  if (pkg->present) {
    if (pkg->depends_on("next")) {
      d.framework = "nextjs";
      d.reason = "package.json depends on next";
    } else if (pkg->depends_on("vite") || pkg->depends_on("react-scripts")) {
      d.framework = "react";
      d.reason = pkg->depends_on("vite") ? "package.json depends on vite"
                                         : "package.json depends on react-scripts";
    } else if (!pkg->script("start").empty() || !pkg->main().empty()) {
      d.framework = "nodejs";
      d.reason = !pkg->script("start").empty() ? "package.json has a start script"
                                               : "package.json has a main entry";
    }
  }
  if (d.framework.empty()) {
    if (is_file(dir, "manage.py")) {
      d.framework = "django";
      d.reason = "the repository has manage.py";
    } else if (is_file(dir, "requirements.txt")) {
      d.framework = "python";
      d.reason = "the repository has requirements.txt";
    } else if (is_file(dir, "pyproject.toml")) {
      d.framework = "python";
      d.reason = "the repository has pyproject.toml";
    } else if (is_file(dir, "index.html")) {
      d.framework = "static";
      d.reason = "the repository has index.html";
    } else if (pkg->present) {
      return failed("package.json has no next, vite or react-scripts dependency, no "
                    "scripts.start and no main; and no manage.py, requirements.txt, "
                    "pyproject.toml or index.html found");
    } else {
      return failed(looked_for);
    }
  }
  if (auto err = fill_start(d, dir, *pkg))
    return err;
  return d;
}

} // namespace gilgal
