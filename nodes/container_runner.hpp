// The runner's blocking work for one job: pull the image from the registry
// when it is not on this node (nodes/image_puller), allocate a host port, create and
// start the container with the environment's variables plus PORT, limits
// (never above the server's maxima) and security defaults on the environment's
// own network (nodes/environment_network), then wait until it answers HTTP. On any failure (or an
// abort) the container is removed and its port released; on failure its last
// log lines go to the deployment log first.
#pragma once

#include <map>
#include <memory>

#include <caf/expected.hpp>

#include "nodes/abort_signal.hpp"
#include "nodes/docker_client.hpp"
#include "nodes/image_builder.hpp"
#include "nodes/node_settings.hpp"
#include "nodes/port_allocator.hpp"
#include "protocol/messages.hpp"

namespace gilgal {

/// The container port an image listens on: its single EXPOSEd TCP port, else 8080.
int container_port_of(const std::vector<std::string>& exposed_ports);

caf::expected<run_result> run_container(const run_job& job, const node_settings& node,
                                        docker_client& docker, port_allocator& ports,
                                        const std::shared_ptr<abort_signal>& abort,
                                        const log_function& log);

/// The Gilgal containers of `environment_id` (running or not), except
/// `keep_container_id`: those a new live container replaces.
caf::expected<std::vector<std::string>>
containers_to_retire(const std::string& environment_id, const std::string& keep_container_id,
                     docker_client& docker);

/// Every container Gilgal manages on the node: container id -> deployment id.
caf::expected<std::map<std::string, std::string>>
list_managed_containers(docker_client& docker);

/// Stops and removes one container (and its environment's network once no
/// container of the environment is left); false if it did not exist.
caf::expected<bool> remove_container_and_port(const std::string& container_id,
                                              docker_client& docker,
                                              port_allocator& ports);

} // namespace gilgal
