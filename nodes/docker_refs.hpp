// Container and image references as they go into Docker Engine API URLs.
// A reference can come from build output, a node or a stored record, so it is
// checked before it becomes a path segment: an ID must be 12 to 64 lowercase
// hex digits, a name must follow Docker's grammar, and nothing may contain
// "?", "#", "%", a "." or ".." component, or a space — the URL addresses the
// object named and no other endpoint.
#pragma once

#include <string>
#include <string_view>

#include <caf/expected.hpp>

namespace gilgal {

/// ^[0-9a-f]{12,64}$: a full or short container or image ID.
bool is_docker_object_id(std::string_view text) noexcept;

/// The path segment for a container: its ID, or a container name
/// ([A-Za-z0-9][A-Za-z0-9_.-]*, at most 128 characters). errc::invalid_argument otherwise.
caf::expected<std::string> container_path_segment(std::string_view ref);

/// The path segment for an image: an ID ("sha256:" + hex becomes the hex), or
/// a reference [host[:port]/]path[:tag][@digest] of letters, digits and
/// "._-/:@" whose '/'-separated components are not empty, "." or "..".
/// errc::invalid_argument otherwise.
caf::expected<std::string> image_path_segment(std::string_view ref);

/// True when the path part of an API request path (before '?'), with its
/// percent escapes decoded, has no empty, "." or ".." component, no '#' or
/// '?', and no space or control character; and the query has no '#', space
/// or control character. docker_client::perform refuses other paths.
bool is_plain_api_path(std::string_view path) noexcept;

} // namespace gilgal
