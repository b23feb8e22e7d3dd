// The operator console (`gilgal deploy`, `projects`, `envs`, `deployments`,
// `logs`, `cancel`, `rollback`, `nodes`) as a user runs it: the real `gilgal` binary
// against a real `gilgal serve`, deploying local git repositories into the
// real Docker daemon. Plus unit tests of its SSE parser, URL and formatting.
#define CAF_SUITE cli.console
#include <caf/test/unit_test.hpp>

#include <fstream>
#include <future>
#include <sstream>
#include <sys/stat.h>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli/console_format.hpp"
#include "cli/console_options.hpp"
#include "cli/console_sse.hpp"
#include "nodes/docker_client.hpp"
#include "protocol/error.hpp"
#include "protocol/ids.hpp"
#include "tests/fixtures/gilgal_server.hpp"
#include "tests/fixtures/git_repo.hpp"
#include "tests/fixtures/services.hpp"
#include "tests/fixtures/test_certs.hpp"
#include "tests/fixtures/test_images.hpp"
#include "tests/fixtures/tls_relay.hpp"

using namespace gilgal;
using namespace gilgal::test;
using nlohmann::json;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      out.push_back(line);
  return out;
}

std::string show(const command_result& r) {
  return "exit " + std::to_string(r.exit_code) + "\n--- stdout\n" + r.out + "--- stderr\n"
         + r.err;
}

json api(gilgal_server& srv, const std::string& method, const std::string& path,
         const json& body = json::object()) {
  auto cli = srv.client();
  auto headers = gilgal_server::bearer(srv.token());
  httplib::Result res = method == "POST"
                          ? cli->Post(path, headers, body.dump(), "application/json")
                          : cli->Get(path, headers);
  if (!res || res->status >= 300)
    throw std::runtime_error(method + " " + path + " failed: "
                             + (res ? std::to_string(res->status) + " " + res->body
                                    : std::string{"no response"}));
  return json::parse(res->body);
}

const char* web_dockerfile = R"(FROM gilgal-test/busybox:latest
COPY www /www
CMD ["/bin/sh","-c","exec httpd -f -p $PORT -h /www"]
)";

const char* failing_dockerfile = R"(FROM gilgal-test/busybox:latest
RUN false
)";

server_options docker_server_options() {
  server_options opts;
  opts.allow_local_sources = true;
  auto port_base = 33000 + static_cast<int>(::getpid() % 400) * 5;
  opts.extra_args = {"--docker-host",      docker_host_or_default(),
                     "--port-range-begin", std::to_string(port_base),
                     "--port-range-end",   std::to_string(port_base + 200),
                     "--git-retries",      "1"};
  return opts;
}

/// A server with one project ("demo", from a local repository) and one
/// environment ("production"); removes the environment's containers and
/// images at the end.
struct deploy_fixture {
  docker_client docker{docker_host_or_default()};
  git_repo repo;
  gilgal_server srv{docker_server_options()};
  std::string project_id;
  std::string env_id;

  deploy_fixture() {
    auto image = ensure_busybox_image(docker);
    if (!image)
      CAF_FAIL("busybox test image: " << message_of(image.error()));
    repo.commit({{"Dockerfile", web_dockerfile}, {"www/index.html", "hello from the console\n"}},
                "first version");
    project_id = api(srv, "POST", "/api/projects",
                     {{"name", "demo"}, {"repositoryUrl", repo.path()}, {"branch", "main"}})
                   .at("id");
    env_id = api(srv, "POST", "/api/projects/" + project_id + "/environments",
                 {{"name", "production"},
                  {"type", "production"},
                  {"healthCheck", {{"timeoutSeconds", 30}}}})
               .at("id");
  }

  ~deploy_fixture() {
    if (auto list = docker.list_containers({"gilgal.environment=" + env_id}, true))
      for (auto& c : *list)
        docker.remove_container(c.id, true, true);
    // And the images built for it (the busybox base image is kept).
    if (auto images = docker.list_images({"gilgal.environment=" + env_id}))
      for (auto& img : *images)
        docker.remove_image(img.id, true);
  }

  command_result run(const std::vector<std::string>& args) {
    process_options p;
    p.env = {{"COLUMNS", "80"}}; // stdout is a pipe: tables fit 80 columns
    p.deadline = std::chrono::seconds{300};
    return srv.run(args, p);
  }
};

/// A Dockerfile whose build takes `seconds` and prints "slow build started"
/// first; `salt` defeats Docker's layer cache between tests.
std::string slow_dockerfile(int seconds) {
  auto salt = std::to_string(::getpid()) + "-"
              + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  return "FROM gilgal-test/busybox:latest\nRUN echo slow build started " + salt + " && sleep "
         + std::to_string(seconds) + "\nCOPY www /www\n"
         + R"(CMD ["/bin/sh","-c","exec httpd -f -p $PORT -h /www"])" + "\n";
}

/// Waits until the project has a deployment whose log contains `text`; its id.
std::string await_log_line(gilgal_server& srv, const std::string& project_id,
                           const std::string& text,
                           std::chrono::seconds limit = std::chrono::seconds{120}) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    try {
      auto list = api(srv, "GET", "/api/projects/" + project_id + "/deployments");
      if (!list.at("items").empty()) {
        std::string id = list["items"][0].at("id");
        auto logs = api(srv, "GET", "/api/deployments/" + id + "/logs?limit=100");
        for (auto& l : logs.at("items"))
          if (contains(l.value("message", ""), text))
            return id;
      }
    } catch (const std::exception&) {
      // the server may be restarting
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  CAF_FAIL("no deployment log line containing '" << text << "' within the deadline");
  return {};
}

/// Waits until the deployment's status is terminal; the status.
std::string await_end(gilgal_server& srv, const std::string& id,
                      std::chrono::seconds limit = std::chrono::seconds{180}) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    auto st = api(srv, "GET", "/api/deployments/" + id).value("status", "");
    if (st != "pending" && st != "building")
      return st;
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  CAF_FAIL("deployment " << id << " did not end within the deadline");
  return {};
}

size_t count_of(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1))
    ++n;
  return n;
}

/// The deployment id that `gilgal deploy` printed first ("Deployment ID of ...").
std::string deployment_id_in(const std::string& out) {
  auto at = out.find("Deployment ");
  if (at == std::string::npos)
    return {};
  auto begin = at + 11;
  return out.substr(begin, out.find(' ', begin) - begin);
}

} // namespace

// -- units ----------------------------------------------------------------------

CAF_TEST(sse parser assembles events from pieces of any size) {
  std::vector<cli::sse_event> events;
  cli::sse_parser parser{[&](const cli::sse_event& ev) {
    events.push_back(ev);
    return true;
  }};
  std::string stream = ": keepalive\n\nid: 1\nevent: log\ndata: {\"seq\":1}\n\n"
                       "id: 2\r\nevent: log\r\ndata: a\r\ndata: b\r\n\r\n"
                       "data:no space\n\nevent: end\ndata: {\"status\":\"success\"}\n\n";
  for (char c : stream) // one byte at a time: the worst fragmentation
    CAF_CHECK(parser.feed(&c, 1));
  CAF_REQUIRE_EQUAL(events.size(), 4u);
  CAF_CHECK_EQUAL(events[0].id, "1");
  CAF_CHECK_EQUAL(events[0].event, "log");
  CAF_CHECK_EQUAL(events[0].data, "{\"seq\":1}");
  CAF_CHECK_EQUAL(events[1].id, "2");
  CAF_CHECK_EQUAL(events[1].data, "a\nb");
  CAF_CHECK_EQUAL(events[2].event, "message");
  CAF_CHECK_EQUAL(events[2].data, "no space");
  CAF_CHECK_EQUAL(events[3].event, "end");
  // A handler returning false stops the feed; reset() drops a partial event.
  cli::sse_parser stopper{[](const cli::sse_event&) { return false; }};
  std::string two = "data: x\n\ndata: y\n\n";
  CAF_CHECK(!stopper.feed(two.data(), two.size()));
  int seen = 0;
  cli::sse_parser counter{[&](const cli::sse_event&) { return ++seen, true; }};
  std::string partial = "data: half";
  counter.feed(partial.data(), partial.size());
  counter.reset();
  std::string next = "\ndata: whole\n\n";
  counter.feed(next.data(), next.size());
  CAF_CHECK_EQUAL(seen, 1);
}

CAF_TEST(console urls) {
  auto t = cli::parse_console_url("http://example.com:9000/gilgal/");
  CAF_REQUIRE(t);
  CAF_CHECK_EQUAL(t->host, "example.com");
  CAF_CHECK_EQUAL(t->port, 9000);
  CAF_CHECK_EQUAL(t->base_path, "/gilgal");
  CAF_CHECK_EQUAL(t->url, "http://example.com:9000/gilgal");
  auto v6 = cli::parse_console_url("http://[::1]:8080");
  CAF_REQUIRE(v6);
  CAF_CHECK_EQUAL(v6->host, "::1");
  CAF_CHECK_EQUAL(v6->port, 8080);
  auto plain = cli::parse_console_url("http://localhost");
  CAF_REQUIRE(plain);
  CAF_CHECK_EQUAL(plain->port, 80);
  CAF_CHECK(!plain->https);
  auto tls = cli::parse_console_url("https://gilgal.example.com/");
  CAF_REQUIRE(tls);
  CAF_CHECK(tls->https);
  CAF_CHECK_EQUAL(tls->port, 443);
  CAF_CHECK_EQUAL(tls->url, "https://gilgal.example.com");
  for (auto* bad : {"127.0.0.1:8080", "https://", "http://:80", "http://h:0", "http://h:x",
                    "http://u:p@h", "ftp://h", "https://h:99999"})
    CAF_CHECK(!cli::parse_console_url(bad));
}

CAF_TEST(console formatting) {
  using std::chrono::seconds;
  std::chrono::system_clock::time_point t0;
  CAF_REQUIRE(parse_rfc3339("2025-12-30T10:30:00Z", t0));
  CAF_CHECK_EQUAL(cli::age_of("2025-12-30T10:30:00Z", t0 + seconds{5}), "5s ago");
  CAF_CHECK_EQUAL(cli::age_of("2025-12-30T10:30:00.250Z", t0 + seconds{3 * 3600}), "2h ago");
  CAF_CHECK_EQUAL(cli::duration_of(json(130)), "2m10s");
  CAF_CHECK_EQUAL(cli::duration_of(json(nullptr)), "-");
  CAF_CHECK_EQUAL(cli::commit8(json("a1b2c3d4e5f6")), "a1b2c3d4");
  CAF_CHECK_EQUAL(cli::format_log_line({{"seq", 1},
                                        {"timestamp", "2025-12-30T10:30:00Z"},
                                        {"level", "info"},
                                        {"message", "Starting deployment pipeline..."}}),
                  "[2025-12-30T10:30:00Z] info: Starting deployment pipeline...");
  std::ostringstream out;
  cli::text_table table{{"ID", "NAME"}};
  table.add({"1", "short"});
  table.add({"12345", "x"});
  table.print(out, 80);
  CAF_CHECK_EQUAL(out.str(), "ID     NAME\n1      short\n12345  x\n");
}

CAF_TEST(tables fit the terminal width) {
  cli::text_table table{{"ID", "NAME", "NOTE", "EXTRA"}};
  table.flexible(1, 6).droppable(2, 2).droppable(3, 1);
  table.add({"0123456789", "a-rather-long-name", "note text", "x"});
  auto printed = [&](size_t width) {
    std::ostringstream out;
    table.print(out, width);
    return lines_of(out.str());
  };
  // Wide enough: everything, whole.
  auto wide = printed(80);
  CAF_CHECK_EQUAL(wide[1], "0123456789  a-rather-long-name  note text  x");
  // Narrower: the flexible column is cut first ("..."), then NOTE (rank 2)
  // is left out before EXTRA (rank 1); the id is never cut.
  auto cut = printed(40);
  CAF_CHECK_EQUAL(cut[0].substr(0, 12), "ID          ");
  for (auto& line : cut)
    CAF_CHECK_LESS_OR_EQUAL(line.size(), 40u);
  CAF_CHECK(contains(cut[1], "note text"));
  CAF_CHECK(contains(cut[1], "..."));
  auto narrow = printed(28);
  for (auto& line : narrow)
    CAF_CHECK_LESS_OR_EQUAL(line.size(), 28u);
  CAF_CHECK(!contains(narrow[0], "NOTE"));
  CAF_CHECK(contains(narrow[0], "EXTRA"));
  CAF_CHECK(contains(narrow[1], "0123456789"));
  // Narrower than the columns that cannot shrink: those are printed whole.
  auto tiny = printed(5);
  CAF_CHECK_EQUAL(tiny[1].substr(0, 10), "0123456789");
}

// -- against a real server -----------------------------------------------------------

CAF_TEST(help says that ctrl-c only stops following) {
  auto res = run_gilgal({"deploy", "--help"});
  CAF_CHECK_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.out, "Ctrl-C"));
  CAF_CHECK(contains(res.out, "--commit"));
  CAF_CHECK(contains(res.out, "--token"));
  for (auto* cmd : {"deployments", "logs", "projects", "envs", "cancel", "rollback", "status",
                    "open"})
    CAF_CHECK_EQUAL(run_gilgal({cmd, "--help"}).exit_code, 0);
}

CAF_TEST(configuration errors and an unreachable server) {
  gilgal_server srv;
  // No token anywhere: a clear error, no request.
  auto res = srv.run({"projects"}, {{{"GILGAL_TOKEN", ""}}});
  CAF_CHECK_EQUAL(res.exit_code, 2);
  CAF_CHECK(contains(res.err, "no API token"));
  // A wrong token: the server's message.
  res = srv.run({"projects"}, {{{"GILGAL_TOKEN", "glg_nope"}}});
  CAF_CHECK_EQUAL(res.exit_code, 1);
  CAF_CHECK(contains(res.err, "missing or invalid bearer token"));
  // Nobody listening.
  auto url = "http://127.0.0.1:" + std::to_string(free_port());
  res = srv.run({"projects"}, {{{"GILGAL_URL", url}}});
  CAF_CHECK_EQUAL(res.exit_code, 4);
  CAF_CHECK(contains(res.err, "cannot reach Gilgal at " + url));
  // The config file of the user's config directory; flags win over it.
  auto dir = make_temp_dir("gilgal-console-config");
  ::mkdir((dir + "/gilgal").c_str(), 0700);
  {
    std::ofstream f{dir + "/gilgal/config.toml"};
    f << "url = \"" << srv.base_url() << "\"\ntoken = \"" << srv.token() << "\"\n";
  }
  ::chmod((dir + "/gilgal/config.toml").c_str(), 0600);
  process_options from_file{{{"GILGAL_URL", ""}, {"GILGAL_TOKEN", ""}, {"XDG_CONFIG_HOME", dir}}};
  res = srv.run({"projects"}, from_file);
  CAF_CHECK_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.out, "no projects"));
  res = srv.run({"projects", "--url", url}, from_file);
  CAF_CHECK_EQUAL(res.exit_code, 4);
  { // a typo is an error, not a silent default
    std::ofstream f{dir + "/gilgal/config.toml"};
    f << "tokne = \"x\"\n";
  }
  res = srv.run({"projects"}, from_file);
  CAF_CHECK_EQUAL(res.exit_code, 2);
  CAF_CHECK(contains(res.err, "unknown key 'tokne'"));
  remove_tree(dir);
  // The token is never printed.
  res = srv.run({"projects", "--url", url});
  CAF_CHECK(!contains(res.out + res.err, srv.token()));
}

CAF_TEST(projects and environments by name and by id) {
  gilgal_server srv;
  auto shop = api(srv, "POST", "/api/projects",
                  {{"name", "shop"}, {"repositoryUrl", "https://example.com/acme/shop.git"}});
  api(srv, "POST", "/api/projects",
      {{"name", "blog"}, {"repositoryUrl", "https://example.com/acme/blog.git"}});
  std::string shop_id = shop.at("id");
  auto prod = api(srv, "POST", "/api/projects/" + shop_id + "/environments",
                  {{"name", "production"},
                   {"type", "production"},
                   {"environmentVariables", {{"API_KEY", "s3cret-value"}}}});
  api(srv, "POST", "/api/projects/" + shop_id + "/environments",
      {{"name", "staging"}, {"type", "staging"}});

  auto res = srv.run({"projects"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  auto rows = lines_of(res.out);
  CAF_REQUIRE_EQUAL(rows.size(), 3u);
  CAF_CHECK_EQUAL(rows[0].rfind("ID", 0), 0u);
  CAF_CHECK(contains(res.out, "shop"));
  CAF_CHECK(contains(res.out, "blog"));
  CAF_CHECK(contains(res.out, shop_id));
  // Aligned: the NAME column starts at the same offset on every row.
  auto name_at = rows[0].find("NAME");
  CAF_CHECK(rows[1].substr(name_at, 4) == "shop" || rows[1].substr(name_at, 4) == "blog");

  res = srv.run({"projects", "--json"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  auto page = json::parse(res.out);
  CAF_CHECK_EQUAL(page.at("total"), 2);
  CAF_CHECK_EQUAL(page.at("items").size(), 2u);

  res = srv.run({"projects", "--limit", "1"});
  CAF_CHECK_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.out, "--page 2 for more"));

  for (auto& which : {std::string{"shop"}, shop_id}) {
    res = srv.run({"envs", which});
    CAF_REQUIRE_EQUAL(res.exit_code, 0);
    CAF_CHECK(contains(res.out, "production"));
    CAF_CHECK(contains(res.out, "staging"));
    CAF_CHECK(contains(res.out, prod.at("id").get<std::string>()));
    CAF_CHECK(!contains(res.out, "s3cret-value"));
  }
  res = srv.run({"envs", "shop", "--json"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  CAF_CHECK_EQUAL(json::parse(res.out).at("items").size(), 2u);

  res = srv.run({"envs", "nosuch"});
  CAF_CHECK_EQUAL(res.exit_code, 1);
  CAF_CHECK(contains(res.err, "no project with the name or id 'nosuch'"));
  res = srv.run({"deploy", "shop", "nosuch"});
  CAF_CHECK_EQUAL(res.exit_code, 1);
  CAF_CHECK(contains(res.err, "no environment in this project with the name or id 'nosuch'"));
  // Another user sees none of them.
  srv.create_user("bob");
  res = srv.run({"envs", shop_id}, {{{"GILGAL_TOKEN", srv.token_of("bob")}}});
  CAF_CHECK_EQUAL(res.exit_code, 1);
  res = srv.run({"deployments", "shop"});
  CAF_CHECK_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.out, "no deployments"));
}

CAF_TEST(create projects and environments over https with cacert) {
  gilgal_server srv;
  test_certs certs;
  tls_relay relay{certs.file("control-plane.pem"), certs.file("control-plane.key"),
                  srv.port()};
  auto https = [&](const std::vector<std::string>& args, std::map<std::string, std::string> env =
                                                            {}) {
    process_options p;
    p.env = {{"GILGAL_URL", relay.url()}, {"COLUMNS", "80"}};
    for (auto& [k, v] : env)
      p.env[k] = v;
    return srv.run(args, p);
  };
  auto ca = certs.file("ca.pem");

  // Without the CA: refused, clearly, and nothing was sent past the handshake.
  auto res = https({"projects"});
  CAF_CHECK_EQUAL(res.exit_code, 4);
  CAF_CHECK(contains(res.err, "cannot reach Gilgal at " + relay.url()));
  CAF_CHECK(contains(res.err, "certificate is not trusted"));
  CAF_CHECK(contains(res.err, "--cacert"));
  CAF_CHECK_EQUAL(relay.relayed(), 0);
  // An unreadable CA file is a configuration error.
  res = https({"projects", "--cacert", "/nonexistent/ca.pem"});
  CAF_CHECK_EQUAL(res.exit_code, 2);
  CAF_CHECK(contains(res.err, "cacert /nonexistent/ca.pem: cannot be read"));
  // The wrong CA (the certificate itself is not a CA): refused.
  res = https({"projects", "--cacert", certs.file("node.pem")});
  CAF_CHECK_EQUAL(res.exit_code, 4);
  CAF_CHECK(contains(res.err, "not signed by the CA in"));

  // With --cacert: a project is created and listed over https.
  res = https({"projects", "create", "shop", "https://git.example.com/acme/shop.git",
               "--branch", "release", "--cacert", ca});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.out, "Project shop created: "));
  auto projects = api(srv, "GET", "/api/projects");
  CAF_REQUIRE_EQUAL(projects.at("total"), 1);
  auto shop = projects["items"][0];
  CAF_CHECK_EQUAL(shop.at("branch"), "release");
  CAF_CHECK(contains(res.out, shop.at("id").get<std::string>()));
  CAF_CHECK_GREATER(relay.relayed(), 0);
  // GILGAL_CACERT works as well as the flag; --json gives the API's JSON.
  res = https({"projects", "--json"}, {{"GILGAL_CACERT", ca}});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  auto listed = json::parse(res.out);
  CAF_CHECK_EQUAL(listed.at("items").at(0).at("name"), "shop");
  // The server's refusal is printed, naming the field.
  res = https({"projects", "create", "bad name!", "https://git.example.com/x.git", "--cacert",
               ca});
  CAF_CHECK_EQUAL(res.exit_code, 1);
  CAF_CHECK(contains(res.err, "error: name"));
  res = https({"projects", "create", "--json", "blog", "https://git.example.com/acme/blog.git",
               "--cacert", ca});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  auto blog = json::parse(res.out);
  CAF_CHECK_EQUAL(blog.at("branch"), "main");

  // An environment with runtime and build variables.
  res = https({"envs", "create", "shop", "production", "--type", "production", "--domain",
               "shop.example.com", "--var", "API_KEY=s3cret-value", "--build-var",
               "VITE_API_URL=https://api.example.com", "--cacert", ca});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.out, "Environment production of shop created: "));
  CAF_CHECK(!contains(res.out, "s3cret-value"));
  res = https({"envs", "shop", "--json", "--cacert", ca});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  auto env = json::parse(res.out).at("items").at(0);
  CAF_CHECK_EQUAL(env.at("domain"), "shop.example.com");
  CAF_CHECK_EQUAL(env.at("buildVariables").at("VITE_API_URL"), "https://api.example.com");
  CAF_CHECK_EQUAL(env.at("environmentVariables").size(), 1u);
  res = https({"envs", "create", "shop", "qa", "--type", "nonsense", "--cacert", ca});
  CAF_CHECK_EQUAL(res.exit_code, 1);
  CAF_CHECK(contains(res.err, "error: type"));
  res = https({"envs", "create", "shop", "qa", "--type", "staging", "--var", "NOEQUALS",
               "--cacert", ca});
  CAF_CHECK_EQUAL(res.exit_code, 1);
  CAF_CHECK(contains(res.err, "--var: expected KEY=VALUE"));
  res = https({"envs", "--cacert", ca});
  CAF_CHECK_EQUAL(res.exit_code, 2);
  CAF_CHECK(contains(res.err, "PROJECT is required"));
  // Tables fit 80 columns.
  res = https({"envs", "shop", "--cacert", ca});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.out, env.at("id").get<std::string>()));
  for (auto& line : lines_of(res.out))
    CAF_CHECK_LESS_OR_EQUAL(line.size(), 80u);
  res = https({"projects", "--cacert", ca});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  for (auto& line : lines_of(res.out))
    CAF_CHECK_LESS_OR_EQUAL(line.size(), 80u);

  // Nothing deployed yet: status says so; open has no URL to give (unless
  // the server publishes one).
  res = https({"status", "shop", "production", "--cacert", ca});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.out, "shop / production (production)"));
  CAF_CHECK(contains(res.out, "not deployed"));
  res = https({"open", "shop", "production", "--cacert", ca});
  if (env.contains("url") && env["url"].is_string()) {
    CAF_CHECK_EQUAL(res.exit_code, 0);
    CAF_CHECK_EQUAL(res.out, env["url"].get<std::string>() + "\n");
  } else {
    CAF_CHECK_EQUAL(res.exit_code, 1);
    CAF_CHECK(contains(res.err, "has no URL yet"));
  }
}

CAF_TEST(webhook prints the urls and a secret that the hook accepts once made) {
  gilgal_server srv;
  auto shop = api(srv, "POST", "/api/projects",
                  {{"name", "shop"}, {"repositoryUrl", "https://example.com/acme/shop.git"}});
  std::string shop_id = shop.at("id");
  auto res = srv.run({"envs", "create", "shop", "production", "--type", "production",
                      "--auto-deploy", "--branch", "release"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  auto envs = api(srv, "GET", "/api/projects/" + shop_id + "/environments");
  CAF_REQUIRE_EQUAL(envs.at("items").size(), 1u);
  CAF_CHECK_EQUAL(envs["items"][0].at("autoDeploy"), true);
  CAF_CHECK_EQUAL(envs["items"][0].at("branch"), "release");
  res = srv.run({"webhook", "shop"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.out, srv.base_url() + "/hooks/github/" + shop_id));
  CAF_CHECK(contains(res.out, "/hooks/gitlab/" + shop_id));
  auto secret = res.last_line();
  CAF_CHECK_EQUAL(secret.size(), 64u);
  // The secret printed is the one the hook checks (GitLab sends it as it is).
  auto cli = srv.client();
  httplib::Headers h{{"X-Gitlab-Event", "Note Hook"}, {"X-Gitlab-Token", secret}};
  auto hook = cli->Post(("/hooks/gitlab/" + shop_id).c_str(), h, "{}", "application/json");
  CAF_REQUIRE(hook);
  CAF_CHECK_EQUAL(hook->status, 200);
  // Running it again replaces it: the old one is refused.
  res = srv.run({"webhook", shop_id, "--json"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  auto rotated = json::parse(res.out); // CAF's check macros keep references: no temporaries
  CAF_CHECK_NOT_EQUAL(rotated.at("secret"), secret);
  hook = cli->Post(("/hooks/gitlab/" + shop_id).c_str(), h, "{}", "application/json");
  CAF_REQUIRE(hook);
  CAF_CHECK_EQUAL(hook->status, 401);
  res = srv.run({"webhook", "nosuch"});
  CAF_CHECK_EQUAL(res.exit_code, 1);
}

CAF_TEST(nodes lists the in-process node) {
  gilgal_server srv{[] {
    server_options o;
    o.extra_args = {"--max-concurrent-builds", "3"};
    return o;
  }()};
  auto res = srv.run({"nodes"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  auto rows = lines_of(res.out);
  CAF_REQUIRE_EQUAL(rows.size(), 2u);
  CAF_CHECK_EQUAL(rows[0].rfind("NAME", 0), 0u);
  for (auto col : {"STATE", "CAPACITY", "BUILDS", "RUNS", "LAST-HEARTBEAT", "LABELS"})
    CAF_CHECK(contains(rows[0], col));
  // "local  up  3  0  0  0s ago  -", columns aligned under the header.
  CAF_CHECK_EQUAL(rows[1].rfind("local ", 0), 0u);
  CAF_CHECK_EQUAL(rows[1].substr(rows[0].find("STATE"), 2), "up");
  CAF_CHECK_EQUAL(rows[1].substr(rows[0].find("CAPACITY"), 1), "3");
  CAF_CHECK_EQUAL(rows[1].substr(rows[0].find("BUILDS"), 1), "0");
  CAF_CHECK(contains(rows[1], " ago"));
  res = srv.run({"nodes", "--json"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  auto body = json::parse(res.out);
  CAF_REQUIRE_EQUAL(body.at("nodes").size(), 1u);
  CAF_CHECK_EQUAL(body["nodes"][0].at("name"), "local");
  CAF_CHECK_EQUAL(body["nodes"][0].at("capacity"), 3);
  CAF_CHECK_EQUAL(body["nodes"][0].at("local"), true);
  // A wrong token: the server's refusal, exit 1.
  res = srv.run({"nodes"}, {{{"GILGAL_TOKEN", "glg_nope"}}});
  CAF_CHECK_EQUAL(res.exit_code, 1);
  CAF_CHECK(contains(res.err, "missing or invalid bearer token"));
}

CAF_TEST(deploy follows the log to success and the other commands see it) {
  deploy_fixture f;
  auto res = f.run({"deploy", "demo", "production", "--message", "from the console"});
  if (res.exit_code != 0)
    CAF_MESSAGE(show(res) << "\n--- server log\n" << f.srv.log());
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.out, "Deployment completed successfully"));
  CAF_CHECK(contains(res.out, "info: Starting deployment pipeline..."));
  CAF_CHECK(contains(res.out, "succeeded"));
  auto id = deployment_id_in(res.out);
  CAF_REQUIRE(is_uuid(id));
  CAF_MESSAGE("deployed " << id);

  // The container answers.
  auto d = api(f.srv, "GET", "/api/deployments/" + id);
  CAF_CHECK_EQUAL(d.at("status"), "success");
  CAF_CHECK_EQUAL(d.at("commitMessage"), "from the console");
  httplib::Client app{"127.0.0.1", d.at("port").get<int>()};
  auto page = app.Get("/index.html");
  CAF_REQUIRE(page);
  CAF_CHECK_EQUAL(page->body, "hello from the console\n");

  res = f.run({"logs", id});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  auto lines = lines_of(res.out);
  CAF_REQUIRE(lines.size() >= 4);
  CAF_CHECK_EQUAL(lines.front().front(), '[');
  CAF_CHECK(contains(res.out, "info: Deployment completed successfully"));

  res = f.run({"logs", id, "--json"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  CAF_CHECK_EQUAL(lines_of(res.out).size(), lines.size());
  for (auto& l : lines_of(res.out))
    CAF_CHECK(json::parse(l).contains("seq"));

  res = f.run({"logs", id, "--page", "1", "--limit", "2", "--json"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  CAF_CHECK_EQUAL(json::parse(res.out).at("items").size(), 2u);

  // -f of a finished deployment prints everything and returns.
  res = f.run({"logs", id, "-f"});
  CAF_CHECK_EQUAL(res.exit_code, 0);
  CAF_CHECK_EQUAL(lines_of(res.out).size(), lines.size());

  res = f.run({"deployments", "demo"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.out, id));
  CAF_CHECK(contains(res.out, "success"));
  CAF_CHECK(contains(res.out, "production"));
  CAF_CHECK(contains(res.out, d.at("commitSha").get<std::string>().substr(0, 8)));
  res = f.run({"deployments", f.project_id, "--json"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  auto newest = json::parse(res.out).at("items").at(0).value("id", "");
  CAF_CHECK_EQUAL(newest, id);

  // A finished deployment cannot be cancelled: the server's 409 message.
  res = f.run({"cancel", id});
  CAF_CHECK_EQUAL(res.exit_code, 1);
  CAF_CHECK(contains(res.err, "already finished"));
  // No earlier successful deployment: the server's 409, clearly.
  res = f.run({"rollback", id});
  CAF_CHECK_EQUAL(res.exit_code, 1);
  CAF_CHECK(contains(res.err, "error: no earlier successful deployment"));
  // A second version, then a rollback to the first.
  f.repo.commit({{"www/index.html", "second version\n"}}, "second version");
  res = f.run({"deploy", "demo", "production"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  auto second = deployment_id_in(res.out);
  res = f.run({"rollback", second});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.out, "Rolled back to previous deployment " + id));
  res = f.run({"deployments", "demo", "--json"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  auto latest = json::parse(res.out).at("items").at(0);
  CAF_CHECK_EQUAL(latest.value("kind", ""), "rollback");
  CAF_CHECK_EQUAL(latest.value("status", ""), "success");
  httplib::Client back{"127.0.0.1", latest.value("port", 0)};
  auto again = back.Get("/index.html");
  CAF_REQUIRE(again);
  CAF_CHECK_EQUAL(again->body, "hello from the console\n");
  res = f.run({"logs", "00000000-0000-4000-8000-000000000000"});
  CAF_CHECK_EQUAL(res.exit_code, 1);

  // status: the live deployment (the rollback), its container and its use.
  res = f.run({"status", "demo", "production"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.out, "demo / production (production)"));
  CAF_CHECK(contains(res.out, "Live       " + latest.value("id", "")));
  CAF_CHECK(contains(res.out, "State      running"));
  CAF_CHECK(contains(res.out, "Restarts   0"));
  CAF_CHECK(contains(res.out, "port " + std::to_string(latest.value("port", 0))));
  CAF_CHECK(contains(res.out, "MiB"));
  CAF_CHECK(contains(res.out, "CPU"));
  for (auto& line : lines_of(res.out))
    CAF_CHECK_LESS_OR_EQUAL(line.size(), 80u);
  res = f.run({"status", "demo", "production", "--json"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  auto st = json::parse(res.out);
  CAF_CHECK_EQUAL(st.at("liveDeployment").at("id"), latest.at("id"));
  CAF_CHECK_EQUAL(st.at("health").at("restartCount"), 0);
  CAF_CHECK(st.at("health").at("memoryBytes").get<int64_t>() > 0);
  CAF_CHECK_EQUAL(st.at("state"), "running");
  res = f.run({"deployments", "demo"});
  for (auto& line : lines_of(res.out))
    CAF_CHECK_LESS_OR_EQUAL(line.size(), 80u);
}

CAF_TEST(a failing build exits non zero and json gives the final deployment) {
  deploy_fixture f;
  f.repo.commit({{"Dockerfile", failing_dockerfile}}, "broken");
  auto res = f.run({"deploy", "demo", "production"});
  CAF_CHECK_EQUAL(res.exit_code, 1);
  CAF_CHECK(contains(res.out, "failed"));
  CAF_CHECK(!contains(res.out, "Deployment completed successfully"));

  res = f.run({"deploy", f.project_id, f.env_id, "--json"});
  CAF_CHECK_EQUAL(res.exit_code, 1);
  auto d = json::parse(res.out); // stdout is the final deployment's JSON only
  CAF_CHECK_EQUAL(d.at("status"), "failed");
  CAF_CHECK(d.at("errorMessage").is_string());
  CAF_CHECK(contains(res.err, "Starting deployment pipeline"));

  res = f.run({"deploy", "demo", "production", "--commit", "xyz"});
  CAF_CHECK_EQUAL(res.exit_code, 1);
  CAF_CHECK(contains(res.err, "commitSha"));
}

CAF_TEST(cancel while deploy follows ends it with exit code 3) {
  deploy_fixture f;
  f.repo.commit({{"Dockerfile", slow_dockerfile(60)}}, "slow");
  auto follower = std::async(std::launch::async,
                             [&] { return f.run({"deploy", "demo", "production"}); });
  auto id = await_log_line(f.srv, f.project_id, "slow build started");
  auto res = f.run({"cancel", id});
  CAF_CHECK_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.out, "Deployment cancelled"));
  auto deploy = follower.get();
  CAF_CHECK_EQUAL(deploy.exit_code, 3);
  CAF_CHECK(contains(deploy.out, "was cancelled"));
  CAF_CHECK_EQUAL(api(f.srv, "GET", "/api/deployments/" + id).value("status", ""), "cancelled");
}

CAF_TEST(ctrl c stops following without cancelling) {
  deploy_fixture f;
  f.repo.commit({{"Dockerfile", slow_dockerfile(6)}}, "slow");
  // timeout(1) sends SIGINT after 2 s, as a terminal's Ctrl-C would.
  process_options p;
  p.env = {{"GILGAL_URL", f.srv.base_url()}, {"GILGAL_TOKEN", f.srv.token()}};
  auto res = run_process({"/usr/bin/timeout", "--preserve-status", "-s", "INT", "2",
                          GILGAL_BINARY, "deploy", "demo", "production"},
                         p);
  CAF_CHECK_EQUAL(res.exit_code, 130);
  CAF_CHECK(contains(res.err, "Stopped following"));
  auto id = deployment_id_in(res.out);
  CAF_REQUIRE(is_uuid(id));
  CAF_CHECK_EQUAL(await_end(f.srv, id), "success");
}

CAF_TEST(deploy reconnects after the server is killed and resumes without duplicates) {
  deploy_fixture f;
  f.repo.commit({{"Dockerfile", slow_dockerfile(30)}}, "slow");
  auto follower = std::async(std::launch::async,
                             [&] { return f.run({"deploy", "demo", "production"}); });
  await_log_line(f.srv, f.project_id, "slow build started");
  f.srv.kill_hard();
  f.srv.start(); // recovery ends the interrupted deployment
  auto res = follower.get();
  CAF_MESSAGE(res.out << res.err);
  CAF_CHECK_EQUAL(res.exit_code, 1);
  CAF_CHECK(contains(res.err, "reconnecting"));
  CAF_CHECK(contains(res.out, "interrupted by restart"));
  CAF_CHECK_EQUAL(count_of(res.out, "Starting deployment pipeline..."), 1u);
  CAF_CHECK_EQUAL(count_of(res.out, "slow build started"), 1u);
}
