// Renders the Dockerfile a project is built with: the repository's own, or a
// recipe template (config/recipes/<framework>.Dockerfile) with its
// placeholders filled from the base-image settings and the detection.
//
// Placeholders: {{NODE_IMAGE}}, {{PYTHON_IMAGE}}, {{NGINX_IMAGE}} (image
// references, replaced as they are), {{START_COMMAND}} (replaced by a JSON
// string literal, for CMD ["/bin/sh", "-c", {{START_COMMAND}}]) and
// {{BUILD_ARGS}} (one `ARG NAME` line per build variable of the environment,
// or nothing: placed in a build stage, it makes the values Docker passes as
// build args visible to that stage's RUN steps, e.g. VITE_* to `npm run build`). Comment lines
// ('#' first) are left as they are.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "config/settings.hpp"
#include "nodes/framework_detector.hpp"

namespace gilgal {

struct rendered_recipe {
  /// The detected or configured framework ("dockerfile" for the repository's own).
  std::string framework;
  /// The Dockerfile text.
  std::string dockerfile;
  /// Where the builder puts it in the build context: "Dockerfile" when it is
  /// the repository's own (already there), else "Dockerfile.gilgal".
  std::string dockerfile_name;
  /// True when the Dockerfile is the repository's own.
  bool from_repository = false;
};

/// Replaces every {{NAME}} outside comment lines by values[NAME].
/// errc::internal names a placeholder that has no value.
caf::expected<std::string> render_template(const std::string& text,
                                           const std::map<std::string, std::string>& values);

/// The start command as written into CMD: prefixed with `exec ` when it is a
/// simple command (so the app, not /bin/sh, receives signals).
std::string start_command_for_cmd(const std::string& command);

/// `ARG NAME` lines for {{BUILD_ARGS}} ("" for none). Names are variable
/// names ([A-Za-z_][A-Za-z0-9_]*, validated by the API).
std::string build_arg_lines(const std::vector<std::string>& names);

/// Renders the Dockerfile for `d`. `recipes_dir` holds <framework>.Dockerfile
/// templates; `source_dir` is the checkout (for the repository's own
/// Dockerfile, which is used as it is: it declares its own ARGs).
/// `build_arg_names` fill {{BUILD_ARGS}}. Errors: errc::invalid_argument for a bad base-image reference,
/// errc::internal for a missing template or placeholder, errc::build_failed
/// when the repository's Dockerfile cannot be read.
caf::expected<rendered_recipe> render_recipe(const detection& d, const base_images& images,
                                             const std::string& recipes_dir,
                                             const std::string& source_dir,
                                             const std::vector<std::string>& build_arg_names = {});

} // namespace gilgal
