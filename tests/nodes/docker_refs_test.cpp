// References checked before they become Docker API URL path segments.
#define CAF_SUITE nodes.docker_refs
#include <caf/test/unit_test.hpp>

#include "nodes/docker_refs.hpp"
#include "protocol/error.hpp"

using namespace gilgal;

CAF_TEST(only 12 to 64 lowercase hex digits are IDs) {
  CAF_CHECK(is_docker_object_id("302af17c01bd"));
  CAF_CHECK(is_docker_object_id(std::string(64, 'f')));
  CAF_CHECK(!is_docker_object_id("302af17c01b"));
  CAF_CHECK(!is_docker_object_id(std::string(65, 'a')));
  CAF_CHECK(!is_docker_object_id("302AF17C01BD"));
  CAF_CHECK(!is_docker_object_id("x/../../images/NAME?force=1#"));
}

CAF_TEST(container references are IDs or plain names) {
  for (std::string good : {"302af17c01bd", "gilgal-1234abcd-5678ef90"}) {
    auto seg = container_path_segment(good);
    CAF_REQUIRE(seg);
    CAF_CHECK_EQUAL(*seg, good);
  }
  for (auto bad : {"", "x/../../images/NAME?force=1#", "..", "a/b", "a?b", "a#b", "a%2Fb",
                   "-flag", "a b", "sha256:302af17c01bd"}) {
    auto seg = container_path_segment(bad);
    CAF_CHECK(!seg);
    if (!seg)
      CAF_CHECK_EQUAL(code_of(seg.error()), errc::invalid_argument);
  }
}

CAF_TEST(image references keep their grammar and lose nothing else) {
  auto id = image_path_segment("sha256:" + std::string(64, 'a'));
  CAF_REQUIRE(id);
  CAF_CHECK_EQUAL(*id, std::string(64, 'a'));
  for (std::string good : {"gilgal-1234abcd-5678ef90:latest", "127.0.0.1:5000/gilgal/app:abc"}) {
    auto seg = image_path_segment(good);
    CAF_REQUIRE(seg);
    CAF_CHECK_EQUAL(*seg, good);
  }
  for (auto bad : {"", "x/../../images/NAME?force=1#", "a/../b", "./a", "a//b", "a/", "a?b",
                   "a#b", "a%2e%2e", "a b", "-x"}) {
    auto seg = image_path_segment(bad);
    CAF_CHECK(!seg);
  }
}

CAF_TEST(api paths with dot components or fragments are refused) {
  CAF_CHECK(is_plain_api_path("/containers/302af17c01bd/json"));
  CAF_CHECK(is_plain_api_path("/images/json?filters=%7B%7D"));
  CAF_CHECK(is_plain_api_path("/images/gilgal-test%2Fbusybox%3Alatest/get"));
  CAF_CHECK(!is_plain_api_path("/images/a%2F..%2Fb/json"));
  CAF_CHECK(!is_plain_api_path("/containers/a%3Fforce=1/json"));
  CAF_CHECK(!is_plain_api_path("/containers/a%2/json"));
  CAF_CHECK(!is_plain_api_path("/containers/x/../../images/NAME?force=1"));
  CAF_CHECK(!is_plain_api_path("/containers/a#?force=1"));
  CAF_CHECK(!is_plain_api_path("/containers/%2e%2e/json"));
  CAF_CHECK(!is_plain_api_path("/containers//json"));
  CAF_CHECK(!is_plain_api_path("containers/x"));
  CAF_CHECK(!is_plain_api_path("/containers/a b"));
}
