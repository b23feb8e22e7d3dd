// The labels on the images Gilgal builds, and where they go in the Dockerfile.
//
// They hold only what stays the same from one commit of a project to the next
// (project, build inputs digest, framework), and they go right after the final
// stage's FROM: the LABEL step is then in Docker's layer cache for every later
// commit, also one that changes the Dockerfile below it. A LABEL at the end,
// and also the build API's `labels` parameter (Docker 20.10's classic builder
// appends one LABEL step per label), is one more uncached step per label (a
// container commit) in every build of a new layer. What differs per
// deployment (environment, deployment) is on the containers; the commit is in
// the image's name and the record.
#pragma once

#include <string>

#include "nodes/docker_types.hpp"

namespace gilgal {

/// gilgal.project (image retention and pruning select by it), gilgal.inputs
/// (nodes/build_inputs: an image is reused when it matches) and
/// gilgal.framework.
label_map image_labels(const std::string& project_id, const std::string& inputs_digest,
                       const std::string& framework);

/// `dockerfile` with one `LABEL k="v" ...` instruction inserted after the last
/// line of its final FROM instruction (appended at the end when there is no
/// FROM: Docker then fails the build for its own reason). Values have quotes
/// and escape characters escaped and newlines replaced by spaces.
std::string with_final_stage_labels(const std::string& dockerfile, const label_map& labels);

} // namespace gilgal
