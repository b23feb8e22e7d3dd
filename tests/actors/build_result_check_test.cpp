// What a build node reports must be what it was asked for: the image of the
// deployment's own project and commit, pushed (if at all) to that project's
// repository of a registry.
#define CAF_SUITE actors.build_result_check
#include <caf/test/unit_test.hpp>

#include "actors/build_result_check.hpp"
#include "nodes/image_builder.hpp"
#include "protocol/error.hpp"

using namespace gilgal;

namespace {

const std::string project = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
const std::string sha = "abcdef1234567890abcdef1234567890abcdef12";

build_result honest() {
  build_result res;
  res.commit_sha = sha;
  res.image_name = "gilgal-0f1e2d3c-abcdef12";
  res.registry_image = "127.0.0.1:5000/" + project + ":abcdef12";
  return res;
}

std::string refusal(const build_result& res, const std::string& requested = "") {
  auto ok = check_build_result(res, project, requested);
  if (ok)
    return "accepted";
  CAF_CHECK_EQUAL(code_of(ok.error()), errc::build_failed);
  return message_of(ok.error());
}

} // namespace

CAF_TEST(the image of the project and commit that was built passes) {
  CAF_CHECK(check_build_result(honest(), project, ""));
  CAF_CHECK(check_build_result(honest(), project, "main"));
  CAF_CHECK(check_build_result(honest(), project, "ABCDEF1"));
  CAF_CHECK(check_build_result(honest(), project, sha));
  auto local = honest();
  local.registry_image.clear();
  CAF_CHECK(check_build_result(local, project, ""));
  auto with_path = honest();
  with_path.registry_image = "registry.example.com:443/team/" + project + ":abcdef12";
  CAF_CHECK(check_build_result(with_path, project, ""));
}

CAF_TEST(another image name fails the deployment naming the expected one) {
  auto other = honest();
  other.image_name = "postgres";
  CAF_CHECK_EQUAL(refusal(other), "the build node returned the image 'postgres' instead of "
                                  "gilgal-0f1e2d3c-abcdef12");
  auto foreign = honest();
  foreign.image_name = "gilgal-99999999-abcdef12"; // another project's image
  CAF_CHECK(refusal(foreign).find("instead of gilgal-0f1e2d3c-abcdef12") != std::string::npos);
  auto nasty = honest();
  nasty.image_name = std::string("gilgal-\n\x1b[31m") + std::string(300, 'x');
  auto msg = refusal(nasty);
  CAF_CHECK(msg.find('\n') == std::string::npos);
  CAF_CHECK(msg.find('\x1b') == std::string::npos);
  CAF_CHECK(msg.size() < 250);
}

CAF_TEST(a commit other than the one asked for or not a full sha is refused) {
  auto short_sha = honest();
  short_sha.commit_sha = "abcdef12";
  CAF_CHECK_EQUAL(refusal(short_sha), "the build node returned an invalid commit 'abcdef12'");
  CAF_CHECK_EQUAL(refusal(honest(), "1234567"),
                  "the build node returned commit " + sha
                    + " instead of the requested '1234567'");
}

CAF_TEST(a registry image outside the project repository is refused) {
  for (auto ref : std::vector<std::string>{"127.0.0.1:5000/another-project:abcdef12",
                   "127.0.0.1:5000/" + project + ":deadbeef", "/" + project + ":abcdef12",
                   "evil host/" + project + ":abcdef12", "a/../" + project + ":abcdef12",
                   project + ":abcdef12"}) {
    auto res = honest();
    res.registry_image = ref;
    CAF_CHECK(refusal(res).find("the build node returned the registry image '") == 0);
  }
}

CAF_TEST(with build variables the image and registry tag carry their tag) {
  std::map<std::string, std::string> vars{{"VITE_API_URL", "https://api.example.com"}};
  auto tag = build_variables_tag(vars);
  auto res = honest();
  res.image_name = "gilgal-0f1e2d3c-abcdef12-" + tag;
  res.registry_image = "127.0.0.1:5000/" + project + ":abcdef12-" + tag;
  CAF_CHECK(check_build_result(res, project, "", vars));
  // The image built without them (or with other values) is not this build.
  CAF_CHECK(!check_build_result(honest(), project, "", vars));
  CAF_CHECK(!check_build_result(res, project, "", {}));
  CAF_CHECK(!check_build_result(res, project, "", {{"VITE_API_URL", "https://other"}}));
  auto untagged_push = res;
  untagged_push.registry_image = "127.0.0.1:5000/" + project + ":abcdef12";
  CAF_CHECK(!check_build_result(untagged_push, project, "", vars));
}
