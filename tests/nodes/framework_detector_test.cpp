#define CAF_SUITE nodes.framework_detector
#include <caf/test/unit_test.hpp>

#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

#include "nodes/framework_detector.hpp"
#include "protocol/error.hpp"
#include "tests/fixtures/services.hpp"

using namespace gilgal;

namespace {

struct fixture {
  std::string dir = test::make_temp_dir("gilgal-detect");

  ~fixture() { test::remove_tree(dir); }

  void file(const std::string& name, const std::string& text = "") {
    auto slash = name.rfind('/');
    if (slash != std::string::npos)
      ::mkdir((dir + "/" + name.substr(0, slash)).c_str(), 0755);
    std::ofstream(dir + "/" + name) << text;
  }

  detection detect(const std::string& configured = "auto") {
    auto d = detect_framework(dir, configured);
    if (!d)
      CAF_FAIL("detection failed: " << message_of(d.error()));
    return *d;
  }

  caf::error detect_error(const std::string& configured = "auto") {
    auto d = detect_framework(dir, configured);
    if (d)
      CAF_FAIL("detection unexpectedly found " << d->framework);
    return d.error();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(framework_detector_tests, fixture)

CAF_TEST(nothing recognisable names everything looked for) {
  file("README.md", "hi");
  auto err = detect_error();
  CAF_CHECK_EQUAL(code_of(err), errc::build_failed);
  CAF_CHECK_EQUAL(message_of(err), "no Dockerfile, package.json, manage.py, requirements.txt, "
                                   "pyproject.toml or index.html found");
}

CAF_TEST(dockerfile wins over everything) {
  file("Dockerfile", "FROM scratch\n");
  file("package.json", R"({"dependencies":{"next":"14"}})");
  file("manage.py");
  file("index.html");
  auto d = detect();
  CAF_CHECK_EQUAL(d.framework, "dockerfile");
  CAF_CHECK(d.start_command.empty());
}

CAF_TEST(nextjs) {
  file("package.json", R"({"scripts":{"start":"next start"},"dependencies":{"next":"14","react":"18"}})");
  file("index.html");
  auto d = detect();
  CAF_CHECK_EQUAL(d.framework, "nextjs");
  CAF_CHECK_EQUAL(d.reason, "package.json depends on next");
  CAF_CHECK_EQUAL(d.start_command, "npm start");
}

CAF_TEST(nextjs in devDependencies without start script) {
  file("package.json", R"({"devDependencies":{"next":"14"}})");
  auto d = detect();
  CAF_CHECK_EQUAL(d.framework, "nextjs");
  CAF_CHECK(d.start_command.find("next start") != std::string::npos);
}

CAF_TEST(react with vite or react-scripts) {
  file("package.json", R"({"scripts":{"build":"vite build"},"devDependencies":{"vite":"5"}})");
  auto d = detect();
  CAF_CHECK_EQUAL(d.framework, "react");
  CAF_CHECK_EQUAL(d.reason, "package.json depends on vite");
  CAF_CHECK(d.start_command.empty());
  file("package.json", R"({"dependencies":{"react-scripts":"5","react":"18"},"scripts":{"start":"react-scripts start"}})");
  auto d2 = detect();
  CAF_CHECK_EQUAL(d2.framework, "react");
  CAF_CHECK_EQUAL(d2.reason, "package.json depends on react-scripts");
}

CAF_TEST(nodejs with start script or main) {
  file("package.json", R"({"scripts":{"start":"node server.js"}})");
  file("requirements.txt");
  auto d = detect();
  CAF_CHECK_EQUAL(d.framework, "nodejs");
  CAF_CHECK_EQUAL(d.start_command, "npm start");
  CAF_CHECK_EQUAL(d.start_source, "package.json");
  file("package.json", R"({"main":"src/app's.js"})");
  auto d2 = detect();
  CAF_CHECK_EQUAL(d2.framework, "nodejs");
  CAF_CHECK_EQUAL(d2.start_command, "node 'src/app'\\''s.js'");
}

CAF_TEST(package json without markers falls through to other files) {
  file("package.json", R"({"name":"tools-only","devDependencies":{"eslint":"8"}})");
  file("index.html");
  CAF_CHECK_EQUAL(detect().framework, "static");
}

CAF_TEST(package json without markers and nothing else fails) {
  file("package.json", R"({"name":"x"})");
  auto err = detect_error();
  CAF_CHECK_EQUAL(code_of(err), errc::build_failed);
  CAF_CHECK(message_of(err).find("index.html") != std::string::npos);
}

CAF_TEST(malformed package json is a clear error) {
  file("package.json", "{ not json");
  auto err = detect_error();
  CAF_CHECK_EQUAL(code_of(err), errc::build_failed);
  CAF_CHECK(message_of(err).find("package.json") != std::string::npos);
  file("package.json", "[1,2]");
  CAF_CHECK(message_of(detect_error()).find("package.json") != std::string::npos);
}

CAF_TEST(django with runserver or gunicorn) {
  file("manage.py");
  file("requirements.txt", "Django==4.2\n");
  file("mysite/wsgi.py");
  auto d = detect();
  CAF_CHECK_EQUAL(d.framework, "django");
  CAF_CHECK_EQUAL(d.start_command, "python manage.py runserver \"0.0.0.0:$PORT\" --noreload");
  file("requirements.txt", "Django==4.2\ngunicorn==21.2\n");
  auto d2 = detect();
  CAF_CHECK_EQUAL(d2.start_command, "gunicorn --bind \"0.0.0.0:$PORT\" mysite.wsgi");
}

CAF_TEST(python with requirements or pyproject) {
  file("requirements.txt", "flask\n");
  file("app.py");
  auto d = detect();
  CAF_CHECK_EQUAL(d.framework, "python");
  CAF_CHECK_EQUAL(d.reason, "the repository has requirements.txt");
  CAF_CHECK_EQUAL(d.start_command, "python app.py");
  file("main.py");
  CAF_CHECK_EQUAL(detect().start_command, "python main.py");
}

CAF_TEST(python from pyproject) {
  file("pyproject.toml", "[project]\nname='x'\n");
  file("main.py");
  auto d = detect();
  CAF_CHECK_EQUAL(d.framework, "python");
  CAF_CHECK_EQUAL(d.reason, "the repository has pyproject.toml");
}

CAF_TEST(python without entry point fails clearly) {
  file("requirements.txt");
  auto err = detect_error();
  CAF_CHECK_EQUAL(code_of(err), errc::build_failed);
  CAF_CHECK(message_of(err).find("main.py or app.py") != std::string::npos);
}

CAF_TEST(procfile web line is the start command) {
  file("requirements.txt");
  file("Procfile", "release: python migrate.py\r\nweb: gunicorn app:app --bind 0.0.0.0:$PORT\r\n");
  auto d = detect();
  CAF_CHECK_EQUAL(d.framework, "python");
  CAF_CHECK_EQUAL(d.start_command, "gunicorn app:app --bind 0.0.0.0:$PORT");
  CAF_CHECK_EQUAL(d.start_source, "Procfile");
  auto web = procfile_web_command(dir);
  CAF_REQUIRE(web);
  CAF_CHECK_EQUAL(*web, "gunicorn app:app --bind 0.0.0.0:$PORT");
}

CAF_TEST(procfile overrides npm start) {
  file("package.json", R"({"scripts":{"start":"node a.js"}})");
  file("Procfile", "web: node b.js\n");
  auto d = detect();
  CAF_CHECK_EQUAL(d.framework, "nodejs");
  CAF_CHECK_EQUAL(d.start_command, "node b.js");
}

CAF_TEST(static site) {
  file("index.html", "<h1>hi</h1>");
  auto d = detect();
  CAF_CHECK_EQUAL(d.framework, "static");
  CAF_CHECK(d.start_command.empty());
}

CAF_TEST(precedence follows the documented order) {
  file("index.html");
  CAF_CHECK_EQUAL(detect().framework, "static");
  file("pyproject.toml");
  file("main.py");
  CAF_CHECK_EQUAL(detect().framework, "python");
  file("requirements.txt");
  CAF_CHECK_EQUAL(detect().reason, "the repository has requirements.txt");
  file("manage.py");
  CAF_CHECK_EQUAL(detect().framework, "django");
  file("package.json", R"({"main":"index.js"})");
  CAF_CHECK_EQUAL(detect().framework, "nodejs");
  file("package.json", R"({"main":"index.js","devDependencies":{"vite":"5"}})");
  CAF_CHECK_EQUAL(detect().framework, "react");
  file("package.json", R"({"main":"index.js","devDependencies":{"vite":"5"},"dependencies":{"next":"1"}})");
  CAF_CHECK_EQUAL(detect().framework, "nextjs");
  file("Dockerfile", "FROM scratch");
  CAF_CHECK_EQUAL(detect().framework, "dockerfile");
}

CAF_TEST(configured framework forces the recipe) {
  file("Dockerfile", "FROM scratch");
  file("index.html");
  auto d = detect("static");
  CAF_CHECK_EQUAL(d.framework, "static");
  CAF_CHECK_EQUAL(d.reason, "framework configured as static");
  file("app.py");
  CAF_CHECK_EQUAL(detect("python").start_command, "python app.py");
  CAF_CHECK_EQUAL(detect("").framework, "dockerfile");
  // A forced framework whose files are missing fails clearly.
  CAF_CHECK_EQUAL(code_of(detect_error("nodejs")), errc::build_failed);
  CAF_CHECK_EQUAL(code_of(detect_error("django")), errc::build_failed);
  CAF_CHECK_EQUAL(code_of(detect_error("cobol")), errc::invalid_argument);
}

CAF_TEST(configured dockerfile needs a dockerfile) {
  file("index.html");
  auto err = detect_error("dockerfile");
  CAF_CHECK_EQUAL(code_of(err), errc::build_failed);
  CAF_CHECK(message_of(err).find("Dockerfile") != std::string::npos);
}

CAF_TEST(symlinked manifests are not followed) {
  CAF_REQUIRE_EQUAL(::symlink("/etc/hostname", (dir + "/index.html").c_str()), 0);
  CAF_CHECK_EQUAL(code_of(detect_error()), errc::build_failed);
}

CAF_TEST_FIXTURE_SCOPE_END()
