// What decides the image built from one commit, besides the commit itself.
//
// The builder labels each image with this digest (gilgal.inputs). An image
// named for the project, commit and build variables (image_name_for) whose
// label equals the digest a new job computes is the image that job would
// build: the builder reuses it without fetching or building.
#pragma once

#include <map>
#include <string>

#include "config/settings.hpp"

namespace gilgal {

/// Hex SHA-256 over everything a build reads besides the commit: the
/// project's framework setting, the base images and the recipe templates
/// (their contents) of `recipes_dir`, and the build variables (names and
/// values). A version string in it changes when the builder's own rules do.
std::string build_inputs_digest(const std::string& framework_setting, const base_images& images,
                                 const std::string& recipes_dir,
                                 const std::map<std::string, std::string>& build_variables);

} // namespace gilgal
