#define CAF_SUITE nodes.build_context
#include <caf/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <map>

#include <archive.h>
#include <archive_entry.h>

#include "nodes/build_context.hpp"
#include "protocol/error.hpp"
#include "tests/fixtures/services.hpp"

using namespace gilgal;
namespace fs = std::filesystem;

namespace {

struct tar_entry {
  std::string content;
  int type = 0;
  int perm = 0;
  std::string symlink;
};

// Reads a tar archive back with libarchive: path -> entry.
std::map<std::string, tar_entry> read_tar(const std::string& data) {
  std::map<std::string, tar_entry> out;
  auto* a = archive_read_new();
  archive_read_support_format_tar(a);
  if (archive_read_open_memory(a, data.data(), data.size()) != ARCHIVE_OK) {
    archive_read_free(a);
    return out;
  }
  archive_entry* e = nullptr;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    tar_entry t;
    t.type = archive_entry_filetype(e);
    t.perm = archive_entry_perm(e);
    if (auto* s = archive_entry_symlink(e))
      t.symlink = s;
    char buf[4096];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0)
      t.content.append(buf, static_cast<size_t>(n));
    out.emplace(archive_entry_pathname(e), std::move(t));
  }
  archive_read_free(a);
  return out;
}

void write(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path{path}.parent_path());
  std::ofstream{path, std::ios::binary} << content;
}

struct fixture {
  std::string dir = test::make_temp_dir("gilgal-ctx-test");
  ~fixture() {
    test::remove_tree(dir);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(build_context_tests, fixture)

CAF_TEST(a directory becomes a tar with files dirs symlinks and extra files) {
  write(dir + "/app.js", "console.log('hi')\n");
  write(dir + "/src/lib/util.js", "module.exports = 1\n");
  write(dir + "/run.sh", "#!/bin/sh\n");
  fs::permissions(dir + "/run.sh", fs::perms::owner_all | fs::perms::group_read
                                     | fs::perms::others_read);
  fs::create_symlink("app.js", dir + "/link.js");
  write(dir + "/.git/HEAD", "ref: refs/heads/main\n");
  write(dir + "/Dockerfile", "FROM original\n");
  build_context_options opts;
  opts.extra_files["Dockerfile"] = "FROM generated\n";
  opts.extra_files["gen/extra.txt"] = "x";
  auto tar = make_build_context(dir, opts);
  CAF_REQUIRE(tar);
  auto entries = read_tar(*tar);
  CAF_CHECK_EQUAL(entries.count("app.js"), 1u);
  CAF_CHECK_EQUAL(entries["app.js"].content, "console.log('hi')\n");
  CAF_CHECK_EQUAL(entries["src/lib/util.js"].content, "module.exports = 1\n");
  CAF_CHECK_EQUAL(entries["src/"].type, AE_IFDIR);
  CAF_CHECK_EQUAL(entries["run.sh"].perm, 0744);
  CAF_CHECK_EQUAL(entries["link.js"].type, AE_IFLNK);
  CAF_CHECK_EQUAL(entries["link.js"].symlink, "app.js");
  CAF_CHECK_EQUAL(entries["Dockerfile"].content, "FROM generated\n");
  CAF_CHECK_EQUAL(entries["gen/extra.txt"].content, "x");
  for (const auto& kvp : entries)
    CAF_CHECK(kvp.first.compare(0, 4, ".git") != 0);
}

CAF_TEST(dockerignore excludes and re-includes) {
  write(dir + "/keep.txt", "k");
  write(dir + "/debug.log", "d");
  write(dir + "/important.log", "i");
  write(dir + "/node_modules/x/index.js", "n");
  write(dir + "/Dockerfile", "FROM x\n");
  write(dir + "/.dockerignore", "# comment\n\n*.log\n!important.log\n/node_modules/\nDockerfile\n");
  auto tar = make_build_context(dir);
  CAF_REQUIRE(tar);
  auto entries = read_tar(*tar);
  CAF_CHECK_EQUAL(entries.count("keep.txt"), 1u);
  CAF_CHECK_EQUAL(entries.count("debug.log"), 0u);
  CAF_CHECK_EQUAL(entries.count("important.log"), 1u);
  CAF_CHECK_EQUAL(entries.count("node_modules/"), 0u);
  CAF_CHECK_EQUAL(entries.count("node_modules/x/index.js"), 0u);
  // The Dockerfile and .dockerignore are always sent, as the docker CLI does.
  CAF_CHECK_EQUAL(entries.count("Dockerfile"), 1u);
  CAF_CHECK_EQUAL(entries.count(".dockerignore"), 1u);
}

CAF_TEST(pattern parsing and matching) {
  auto p = parse_dockerignore(" ./build/ \n#x\n!/dist/keep\n**\n");
  CAF_REQUIRE_EQUAL(p.size(), 3u);
  CAF_CHECK_EQUAL(p[0], "build");
  CAF_CHECK_EQUAL(p[1], "!dist/keep");
  CAF_CHECK(is_ignored("build/out.o", {"build"}));
  CAF_CHECK(!is_ignored("src/build.c", {"build"}));
  CAF_CHECK(is_ignored("src/a.tmp", {"src/*.tmp"}));
  CAF_CHECK(is_ignored(".git", {}));
  CAF_CHECK(is_ignored(".git/config", {}));
  CAF_CHECK(!is_ignored(".gitignore", {}));
}

CAF_TEST(only a first character of a line negates) {
  // Found by fuzz/dockerignore_fuzz.cpp: "./!x" became the negation "!x".
  auto p = parse_dockerignore("*\n./!keep\n/./tmp\n");
  CAF_REQUIRE_EQUAL(p.size(), 3u);
  CAF_CHECK_EQUAL(p[1], "\\!keep");
  CAF_CHECK_EQUAL(p[2], "tmp");
  CAF_CHECK(is_ignored("keep", p));
  CAF_CHECK(is_ignored("!keep", p));
  CAF_CHECK(is_ignored("tmp/x", {p[2]}));
  CAF_CHECK(is_ignored("!keep", {p[1]}));
  CAF_CHECK(!is_ignored("keep", {p[1]}));
}

CAF_TEST(errors are values) {
  auto missing = make_build_context(dir + "/nope");
  CAF_REQUIRE(!missing);
  CAF_CHECK_EQUAL(code_of(missing.error()), errc::not_found);
  write(dir + "/big.bin", std::string(100000, 'x'));
  build_context_options opts;
  opts.max_bytes = 10000;
  auto big = make_build_context(dir, opts);
  CAF_REQUIRE(!big);
  CAF_CHECK_EQUAL(code_of(big.error()), errc::payload_too_large);
}

CAF_TEST_FIXTURE_SCOPE_END()
