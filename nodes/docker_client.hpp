// Synchronous client of the Docker Engine API over libcurl: a unix socket
// ("unix:///var/run/docker.sock") or plain HTTP ("tcp://host:port"). Never the
// docker CLI, never a shell.
//
// Threading: every call is blocking (run it on a detached actor or a dedicated
// thread) and uses its own curl handles, so one instance may be shared by
// threads: a node holds one for its whole life (node_resources) and all its
// workers use it. The API version is negotiated once per host and process
// (GET /version: min(server, 1.45)) and shared by every client of that host,
// so no operation pays for a GET /version (10-30 ms on a busy daemon).
// version() asks again and updates the shared value.
//
// Errors: errc::unavailable when the daemon cannot be reached, errc::not_found
// for 404, errc::conflict for 409, errc::invalid_argument for 400,
// errc::build_failed for build errors, errc::cancelled when an abort_signal
// fired, errc::timeout at a deadline; the message carries Docker's text.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "nodes/abort_signal.hpp"
#include "nodes/docker_types.hpp"
#include "protocol/error.hpp"

namespace gilgal {

class docker_client {
public:
  /// The highest API version this client speaks.
  static constexpr const char* max_api_version = "1.45";

  /// `host` is "unix:///path/to/docker.sock" or "tcp://host:port"; anything
  /// else makes every call fail with errc::invalid_argument.
  explicit docker_client(std::string host);

  const std::string& host() const noexcept {
    return host_;
  }

  // -- daemon ----------------------------------------------------------------

  /// GET /version (unversioned); also fixes the negotiated API version.
  caf::expected<docker_version> version();

  /// The "/v1.xx" prefix in use, negotiating on first use.
  caf::expected<std::string> api_prefix();

  // -- images (nodes/docker_images.cpp) --------------------------------------

  /// POST /build with a tar archive (see nodes/build_context). Calls `on_line`
  /// for every line of build output, in order, without trailing newline.
  /// Returns the image id ("sha256:..."). errc::build_failed with Docker's
  /// message when a step fails; errc::cancelled when opts.abort fires (the
  /// connection is closed, so Docker stops the build and, with forcerm, removes
  /// its container); errc::timeout past opts.timeout.
  caf::expected<std::string> build(std::string_view context_tar, const build_options& opts,
                                   const docker_line_callback& on_line = {});

  caf::expected<image_info> inspect_image(const std::string& name);

  /// False for a 404; errors otherwise.
  caf::expected<bool> image_exists(const std::string& name);

  /// GET /images/json with `label` filters ("key" or "key=value"), all must match.
  caf::expected<std::vector<image_info>> list_images(const std::vector<std::string>& labels);

  /// Adds the reference repo:tag to `source`.
  caf::expected<void> tag_image(const std::string& source, const std::string& repo,
                                const std::string& tag);

  caf::expected<void> remove_image(const std::string& name, bool force = false);

  /// POST /images/NAME/push. Progress lines go to `on_line` ("tag: status").
  /// Errors reported by the registry → errc::unavailable with its message.
  caf::expected<void> push_image(const std::string& name, const std::string& tag,
                                 const registry_auth& auth,
                                 const docker_line_callback& on_line = {},
                                 std::shared_ptr<abort_signal> abort = nullptr,
                                 std::chrono::milliseconds timeout = std::chrono::minutes{30});

  /// POST /images/create?fromImage=NAME&tag=TAG. Unknown image → not_found;
  /// registry errors → unavailable.
  caf::expected<void> pull_image(const std::string& name, const std::string& tag,
                                 const registry_auth& auth = {},
                                 const docker_line_callback& on_line = {},
                                 std::shared_ptr<abort_signal> abort = nullptr,
                                 std::chrono::milliseconds timeout = std::chrono::minutes{30});

  /// POST /images/prune: dangling images (or all unused ones when
  /// `dangling_only` is false) carrying every `labels` filter.
  caf::expected<prune_result> prune_images(const std::vector<std::string>& labels,
                                           bool dangling_only = true);

  // -- containers (nodes/docker_containers.cpp) ------------------------------

  /// POST /containers/create; returns the id. A taken name → conflict, a
  /// missing image → not_found.
  caf::expected<std::string> create_container(const container_spec& spec);

  /// Starting a running container succeeds. Docker's failures → run_failed.
  caf::expected<void> start_container(const std::string& id);

  /// SIGTERM, then SIGKILL after `grace`. Stopping a stopped one succeeds.
  caf::expected<void> stop_container(const std::string& id,
                                     std::chrono::seconds grace = std::chrono::seconds{10});

  /// POST /containers/ID/restart: stop (SIGTERM, SIGKILL after `grace`), then start.
  caf::expected<void> restart_container(const std::string& id,
                                        std::chrono::seconds grace = std::chrono::seconds{10});

  caf::expected<void> remove_container(const std::string& id, bool force = true,
                                       bool volumes = true);

  caf::expected<container_info> inspect_container(const std::string& id);

  /// POST /containers/ID/update with {"PidsLimit": pids} (Docker applies it
  /// to a running container at once).
  caf::expected<void> set_pids_limit(const std::string& id, int64_t pids);

  /// GET /containers/json?all=... with `label` filters ("key" or "key=value").
  caf::expected<std::vector<container_summary>>
  list_containers(const std::vector<std::string>& labels, bool all = true);

  /// The last `tail` lines of stdout and stderr, interleaved as written.
  caf::expected<std::vector<std::string>> container_logs(const std::string& id,
                                                         int tail = 100);

  /// One sample (GET /containers/ID/stats?stream=false; takes about a second).
  caf::expected<container_stats> stats(const std::string& id);

  // -- networks (nodes/docker_networks.cpp) ----------------------------------

  /// POST /networks/create: a bridge network named `name` carrying `labels`;
  /// returns its id. A name that exists → errc::conflict.
  caf::expected<std::string> create_network(const std::string& name, const label_map& labels);

  /// DELETE /networks/NAME: false when it did not exist; errc::conflict while
  /// a container is attached to it.
  caf::expected<bool> remove_network(const std::string& name);

  /// Names of the networks carrying every `labels` filter ("key" or "key=value").
  caf::expected<std::vector<std::string>> list_networks(const std::vector<std::string>& labels);

  // -- transport (nodes/docker_client.cpp) -----------------------------------

  struct request {
    const char* method = "GET";
    std::string path;            // e.g. "/containers/json?all=1", no version prefix
    bool versioned = true;       // prepend the negotiated "/v1.xx"
    std::string_view body;       // not copied; must outlive the call
    std::string content_type = "application/json";
    std::vector<std::string> headers; // extra "Name: value" lines
    std::chrono::milliseconds timeout = std::chrono::seconds{60};
    abort_signal* abort = nullptr;
    /// When set and the status is 2xx, the body is passed here as it arrives
    /// instead of being collected.
    std::function<void(std::string_view)> on_chunk;
  };

  struct response {
    long status = 0;
    std::string body;            // collected body (error bodies always)
  };

  /// One HTTP exchange. Errors are transport errors only (unavailable,
  /// timeout, cancelled); HTTP statuses are in the response.
  caf::expected<response> perform(const request& req);

  /// Maps a non-2xx response to our error enum. `server_error` is used for
  /// 5xx; `what` prefixes the message ("create container").
  static caf::error http_error(const response& res, errc server_error,
                               const std::string& what);

  /// Percent-encodes a query parameter value.
  static std::string escape(std::string_view value);

  /// `{"label":[...]}` (plus extra keys) as a URL-encoded filters parameter.
  static std::string label_filters(const std::vector<std::string>& labels,
                                   const std::vector<std::pair<std::string, std::string>>&
                                     extra = {});

private:
  std::string host_;
  std::string socket_path_; // unix socket, or empty for tcp
  std::string base_url_;    // "http://localhost" or "http://host:port"
  struct negotiated {
    std::mutex mtx;
    std::string prefix;     // "/v1.41" once negotiated
  };
  std::shared_ptr<negotiated> negotiated_; // shared by every client of host_

  /// The negotiation of `host` in this process (one per host string).
  static std::shared_ptr<negotiated> negotiation_of(const std::string& host);
};

/// "1.41" < "1.45": compares dotted numeric versions. Exposed for tests.
int compare_api_versions(const std::string& a, const std::string& b);

} // namespace gilgal
