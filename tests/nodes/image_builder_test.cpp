// The builder on hostile repositories, through real git and real Docker:
// links to /dev/zero and /etc/shadow committed as .dockerignore,
// package.json and Procfile fail the build at once with a message naming the
// file (the deployment fails clearly), nothing is read through them and the
// process does not grow; a repository over the clone cap fails likewise, and
// so does a build context over its cap. (A FIFO and a 2 GiB sparse file
// cannot travel through git: tests/nodes/repo_file_test plants them in a
// checkout directly.) And the names of the images it makes.
#define CAF_SUITE nodes.image_builder
#include <caf/test/unit_test.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <filesystem>

#include <unistd.h>

#include "nodes/docker_client.hpp"
#include "nodes/image_builder.hpp"
#include "protocol/error.hpp"
#include "protocol/ids.hpp"
#include "tests/fixtures/git_repo.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_images.hpp"

using namespace gilgal;
using namespace std::chrono_literals;

namespace {

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      long kib = 0;
      in >> kib;
      return kib;
    }
    in.ignore(1 << 12, '\n');
  }
  return 0;
}

struct fixture {
  std::string dir = test::make_temp_dir("gilgal-builder");
  docker_client docker{test::docker_host_or_default()};
  node_settings node;
  std::mutex mtx;
  std::vector<std::string> lines;

  fixture() {
    CAF_REQUIRE(test::ensure_busybox_image(docker));
    node.cfg.docker_host = test::docker_host_or_default();
    node.cfg.allow_local_sources = true;
    node.cfg.git_retries = 1;
    node.work_root = dir + "/work";
  }

  ~fixture() {
    test::remove_tree(dir);
  }

  bool logged(const std::string& text) {
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& l : lines)
      if (l.find(text) != std::string::npos)
        return true;
    return false;
  }

  /// Whether the last build took its LABEL step from the layer cache: Docker's
  /// classic builder prints "Step 2/3 : LABEL ..." and then " ---> Using
  /// cache" for a step it takes from the cache.
  bool label_step_cached() {
    std::lock_guard<std::mutex> guard{mtx};
    bool label_step = false, cached = false;
    for (size_t i = 0; i < lines.size(); ++i)
      if (lines[i].find(": LABEL gilgal.") != std::string::npos) {
        label_step = true;
        cached = i + 1 < lines.size() && lines[i + 1].find("Using cache") != std::string::npos;
      }
    return label_step && cached;
  }

  caf::expected<build_result> build(const test::git_repo& repo,
                                    const std::string& project_id = new_uuid(),
                                    const std::string& commit = {}) {
    build_job job;
    job.deployment_id = new_uuid();
    job.environment_id = new_uuid();
    job.source.id = project_id;
    job.source.name = "hostile";
    job.source.repository_url = repo.path();
    job.source.branch = "main";
    job.commit_sha = commit;
    return build_image(job, node, docker, abort_signal::make(),
                       [this](const std::string&, const std::string& msg) {
                         std::lock_guard<std::mutex> guard{mtx};
                         lines.push_back(msg);
                       });
  }

  /// Nothing of the build's work directory is left behind.
  bool work_dir_empty() {
    std::error_code ec;
    return std::filesystem::is_empty(node.work_root, ec) || !std::filesystem::exists(node.work_root);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(image_builder_tests, fixture)

CAF_TEST(links to dev zero and etc shadow fail the build naming the file) {
  struct variant {
    const char* file;
    const char* target;
    std::map<std::string, std::string> others; // what makes the file matter
  };
  std::vector<variant> variants{
    {".dockerignore", "/dev/zero", {{"Dockerfile", "FROM gilgal-test/busybox:latest\n"}}},
    {".dockerignore", "/etc/shadow", {{"Dockerfile", "FROM gilgal-test/busybox:latest\n"}}},
    {"package.json", "/dev/zero", {{"index.js", "1"}}},
    {"package.json", "/etc/shadow", {{"index.js", "1"}}},
    {"Procfile", "/dev/zero", {{"requirements.txt", "flask\n"}, {"app.py", "1"}}},
    {"Procfile", "/etc/shadow", {{"requirements.txt", "flask\n"}, {"app.py", "1"}}},
  };
  auto rss_before = rss_kib();
  for (auto& v : variants) {
    test::git_repo repo;
    CAF_REQUIRE_EQUAL(::symlink(v.target, (repo.path() + "/" + v.file).c_str()), 0);
    repo.commit(v.others);
    auto t0 = std::chrono::steady_clock::now();
    auto built = build(repo);
    auto took = std::chrono::steady_clock::now() - t0;
    CAF_REQUIRE(!built);
    CAF_MESSAGE(v.file << " -> " << v.target << ": " << message_of(built.error()) << " ("
                       << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                       << " ms)");
    CAF_CHECK_EQUAL(code_of(built.error()), errc::build_failed);
    CAF_CHECK(message_of(built.error()).find(std::string{v.file} + ": is a symbolic link")
              == 0);
    CAF_CHECK_LESS(took, 30s);
    CAF_CHECK(work_dir_empty());
  }
  CAF_CHECK_LESS(rss_kib() - rss_before, 32 * 1024);
}

CAF_TEST(a repository over the clone cap fails the build) {
  node.cfg.clone_max_mb = 1;
  test::git_repo repo;
  // 3 MB that do not compress: the checkout and .git hold 6 MB.
  std::string noise(3 << 20, '\0');
  uint64_t x = 0x9E3779B97F4A7C15ull; // xorshift: incompressible test data
  for (auto& c : noise) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x >> 56);
  }
  repo.commit({{"Dockerfile", "FROM gilgal-test/busybox:latest\n"}, {"blob.bin", noise}});
  auto built = build(repo);
  CAF_REQUIRE(!built);
  CAF_MESSAGE(message_of(built.error()));
  CAF_CHECK_EQUAL(code_of(built.error()), errc::build_failed);
  CAF_CHECK(message_of(built.error()).find("more than 1 MiB on disk") != std::string::npos);
  CAF_CHECK(work_dir_empty());
}

CAF_TEST(a build context over its cap fails the build) {
  node.cfg.build_context_max_mb = 1;
  test::git_repo repo;
  repo.commit({{"Dockerfile", "FROM gilgal-test/busybox:latest\n"},
               {"big.txt", std::string(3 << 20, 'z')}});
  auto built = build(repo);
  CAF_REQUIRE(!built);
  CAF_MESSAGE(message_of(built.error()));
  CAF_CHECK_EQUAL(code_of(built.error()), errc::build_failed);
  CAF_CHECK(message_of(built.error()).find("build context exceeds 1 MiB") == 0);
}

CAF_TEST(a new commit finds the label step in the layer cache) {
  test::git_repo repo;
  repo.commit({{"Dockerfile", "FROM gilgal-test/busybox:latest\nCOPY a.txt /a.txt\n"},
               {"a.txt", "one\n"}});
  auto project = new_uuid();
  auto first = build(repo, project);
  CAF_REQUIRE(first);
  repo.commit({{"a.txt", "two\n"}});
  lines.clear();
  auto second = build(repo, project);
  CAF_REQUIRE(second);
  CAF_CHECK_NOT_EQUAL(first->image_name, second->image_name);
  CAF_CHECK(label_step_cached());
  auto image = docker.inspect_image(second->image_name);
  CAF_REQUIRE(image);
  CAF_CHECK_EQUAL(image->labels["gilgal.project"], project);
  CAF_CHECK_EQUAL(image->labels["gilgal.inputs"].size(), 64u); // hex SHA-256
  CAF_CHECK_EQUAL(image->labels["gilgal.framework"], "dockerfile");
  // A commit that changes the Dockerfile below the label: the label step is
  // still cached (its values do not depend on the Dockerfile).
  repo.commit({{"Dockerfile",
                "FROM gilgal-test/busybox:latest\nRUN echo " + new_uuid() + " > /n\n"
                  + "COPY a.txt /a.txt\n"}});
  lines.clear();
  auto third = build(repo, project);
  CAF_REQUIRE(third);
  CAF_CHECK(label_step_cached());
  for (auto& name : {first->image_name, second->image_name, third->image_name})
    CAF_CHECK(docker.remove_image(name, true));
}

CAF_TEST(a built commit is reused without a fetch while its build inputs stay) {
  test::git_repo repo;
  auto sha = repo.commit({{"Dockerfile", "FROM gilgal-test/busybox:latest\nCOPY a.txt /a\n"},
                          {"a.txt", new_uuid()}});
  auto project = new_uuid();
  auto first = build(repo, project, sha);
  CAF_REQUIRE(first);
  CAF_CHECK(!first->cache_hit);
  // The repository goes away: only the image can answer now.
  auto away = repo.path() + ".away";
  CAF_REQUIRE_EQUAL(std::rename(repo.path().c_str(), away.c_str()), 0);
  lines.clear();
  auto second = build(repo, project, sha);
  if (!second)
    CAF_ERROR("the reuse fetched: " << message_of(second.error()));
  else {
    CAF_CHECK(second->cache_hit);
    CAF_CHECK_EQUAL(second->image_id, first->image_id);
    CAF_CHECK_EQUAL(second->image_name, first->image_name);
    CAF_CHECK_EQUAL(second->commit_sha, sha);
    CAF_CHECK_EQUAL(second->framework, "dockerfile");
  }
  CAF_CHECK(logged("exists with the same build inputs: reused (no fetch, no build)"));
  CAF_CHECK(!logged("Fetching commit"));
  // Other build inputs (here the base images of the recipes) name the same
  // image but need a fetch and a build: without the repository, that fails.
  node.cfg.images.node = "gilgal-test/other-node:1";
  auto other = build(repo, project, sha);
  CAF_CHECK(!other);
  CAF_REQUIRE_EQUAL(std::rename(away.c_str(), repo.path().c_str()), 0);
  lines.clear();
  auto rebuilt = build(repo, project, sha);
  CAF_REQUIRE(rebuilt);
  CAF_CHECK(!rebuilt->cache_hit);
  CAF_CHECK(logged("Fetching commit"));
  CAF_CHECK_NOT_EQUAL(rebuilt->image_id, first->image_id); // another gilgal.inputs
  // A branch deployment (no commit given) resolves the head, then reuses.
  lines.clear();
  auto branch = build(repo, project);
  CAF_REQUIRE(branch);
  CAF_CHECK(branch->cache_hit);
  CAF_CHECK_EQUAL(branch->image_id, rebuilt->image_id);
  CAF_CHECK(!logged("Fetching commit"));
  CAF_CHECK(docker.remove_image(rebuilt->image_name, true));
  (void) docker.remove_image(first->image_id, true); // untagged by the rebuild
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST(image names carry the build variables) {
  auto project = std::string{"0123abcd-0000-4000-8000-000000000000"};
  auto commit = std::string{"a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"};
  CAF_CHECK_EQUAL(image_name_for(project, commit), "gilgal-0123abcd-a1b2c3d4");
  CAF_CHECK_EQUAL(build_variables_tag({}), "");
  std::map<std::string, std::string> prod{{"VITE_API_URL", "https://api.example.com"}};
  std::map<std::string, std::string> staging{{"VITE_API_URL", "https://staging.example.com"}};
  auto tag = build_variables_tag(prod);
  CAF_CHECK_EQUAL(tag.size(), 8u);
  CAF_CHECK_EQUAL(image_name_for(project, commit, prod), "gilgal-0123abcd-a1b2c3d4-" + tag);
  // Same values, same name (a cache hit); other values, another name.
  CAF_CHECK_EQUAL(build_variables_tag(prod), tag);
  CAF_CHECK_NOT_EQUAL(build_variables_tag(staging), tag);
  // Names and values cannot be shifted into each other.
  CAF_CHECK_NOT_EQUAL(build_variables_tag({{"A", "B=C"}}), build_variables_tag({{"A=B", "C"}}));
  CAF_CHECK_NOT_EQUAL(build_variables_tag({{"A", ""}}), build_variables_tag({}));
}
