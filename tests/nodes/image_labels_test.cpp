#define CAF_SUITE nodes.image_labels
#include <caf/test/unit_test.hpp>

#include "nodes/dockerfile_instructions.hpp"
#include "nodes/image_labels.hpp"

using namespace gilgal;

namespace {

const label_map labels{{"gilgal.inputs", "abc"}, {"gilgal.project", "p1"}};
const std::string label_line = "LABEL gilgal.inputs=\"abc\" gilgal.project=\"p1\"\n";

} // namespace

CAF_TEST(image labels hold only what stays the same from commit to commit) {
  auto l = image_labels("proj", "fp", "node");
  CAF_CHECK_EQUAL(l.size(), 3u);
  CAF_CHECK_EQUAL(l["gilgal.project"], "proj");
  CAF_CHECK_EQUAL(l["gilgal.inputs"], "fp");
  CAF_CHECK_EQUAL(l["gilgal.framework"], "node");
}

CAF_TEST(the label goes right after the final stage FROM) {
  auto one = "FROM busybox\nCOPY . /app\nCMD [\"httpd\"]\n";
  CAF_CHECK_EQUAL(with_final_stage_labels(one, labels),
                  "FROM busybox\n" + label_line + "COPY . /app\nCMD [\"httpd\"]\n");
  auto two = "FROM node AS build\nRUN make\n\nfrom busybox\nCOPY --from=build /out /app\n";
  CAF_CHECK_EQUAL(with_final_stage_labels(two, labels),
                  "FROM node AS build\nRUN make\n\nfrom busybox\n" + label_line
                    + "COPY --from=build /out /app\n");
}

CAF_TEST(a FROM that continues over lines or sits in a comment or a RUN) {
  auto continued = "FROM \\\n  busybox \\\n  AS final\nRUN true\n";
  CAF_CHECK_EQUAL(with_final_stage_labels(continued, labels),
                  "FROM \\\n  busybox \\\n  AS final\n" + label_line + "RUN true\n");
  // "FROM" starting a continuation line of a RUN, or in a comment, is no FROM.
  auto tricky = "FROM busybox\nRUN echo \\\nFROM x\n# FROM y\nCMD true\n";
  CAF_CHECK_EQUAL(with_final_stage_labels(tricky, labels),
                  "FROM busybox\n" + label_line + "RUN echo \\\nFROM x\n# FROM y\nCMD true\n");
}

CAF_TEST(a FROM on the last line without a newline and a file without FROM) {
  CAF_CHECK_EQUAL(with_final_stage_labels("FROM busybox", labels), "FROM busybox\n" + label_line);
  CAF_CHECK_EQUAL(with_final_stage_labels("RUN true", labels), "RUN true\n" + label_line);
  CAF_CHECK_EQUAL(with_final_stage_labels("", labels), label_line);
}

CAF_TEST(values are escaped with the file escape character) {
  label_map hostile{{"k", "a\"b\\c\nd"}};
  CAF_CHECK_EQUAL(with_final_stage_labels("FROM x\n", hostile),
                  "FROM x\nLABEL k=\"a\\\"b\\\\c d\"\n");
  CAF_CHECK_EQUAL(with_final_stage_labels("# escape=`\nFROM x\n", hostile),
                  "# escape=`\nFROM x\nLABEL k=\"a`\"b\\c d\"\n");
}

CAF_TEST(instructions know their first and last line and keyword) {
  auto ins = dockerfile_instructions("# c\nFROM a \\\n\n# inside\n  AS b\nrun x\n");
  CAF_REQUIRE_EQUAL(ins.size(), 2u);
  CAF_CHECK_EQUAL(ins[0].keyword, "from");
  CAF_CHECK_EQUAL(ins[0].first_line, 2);
  CAF_CHECK_EQUAL(ins[0].last_line, 5);
  CAF_CHECK_EQUAL(ins[1].keyword, "run");
  CAF_CHECK_EQUAL(ins[1].first_line, 6);
}
