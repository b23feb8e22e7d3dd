#define CAF_SUITE nodes.dockerfile_sources
#include <caf/test/unit_test.hpp>

#include <map>

#include "nodes/dockerfile_sources.hpp"
#include "protocol/error.hpp"

using namespace gilgal;

namespace {

/// A resolver answering from a table; other names do not resolve.
host_resolver table(std::map<std::string, std::string> dns) {
  return [dns](const std::string& host) -> caf::expected<std::vector<ip_address>> {
    auto i = dns.find(host);
    if (i == dns.end())
      return make_error(errc::unavailable, "could not resolve host " + host);
    return std::vector<ip_address>{*parse_ip_literal(i->second)};
  };
}

const host_resolver dns = table({{"files.example.com", "93.184.216.34"},
                                 {"metadata.attacker.example", "169.254.169.254"},
                                 {"intranet.attacker.example", "10.0.0.8"}});

caf::error check(const std::string& dockerfile, bool allow = false) {
  return check_remote_sources(dockerfile, allow, dns);
}

} // namespace

CAF_TEST(remote sources are found in every spelling) {
  auto found = remote_sources("FROM scratch\n"
                              "# ADD http://commented.example/x /x\n"
                              "ADD local.txt /app/\n"
                              "add http://a.example/1 /x\n"
                              "ADD --chown=1:1 --checksum=sha256:00 https://b.example/2 /x\n"
                              "ADD [\"https://c.example/3\", \"/x\"]\n"
                              "ADD src.tar \\\n"
                              "    \"http://d.example/4\" /dest/\n"
                              "ONBUILD ADD http://e.example/5 /x\n"
                              "COPY http://not-fetched.example/ /x\n"
                              "ADD ${URL} /x\n"
                              "ADD git@git.example:a/b.git /src\n"
                              "ADD http://dest-only.example/\n");
  std::vector<std::string> sources;
  std::vector<int> lines;
  for (auto& s : found) {
    sources.push_back(s.source);
    lines.push_back(s.line);
  }
  CAF_CHECK_EQUAL(sources, (std::vector<std::string>{
                             "http://a.example/1", "https://b.example/2", "https://c.example/3",
                             "\"http://d.example/4\"", "http://e.example/5", "${URL}",
                             "git@git.example:a/b.git"}));
  CAF_CHECK_EQUAL(lines, (std::vector<int>{4, 5, 6, 7, 9, 11, 12}));
}

CAF_TEST(the escape directive changes continuations) {
  auto found = remote_sources("# escape=`\nFROM scratch\nADD a.txt `\n  http://x.example/y /z\n");
  CAF_REQUIRE_EQUAL(found.size(), 1u);
  CAF_CHECK_EQUAL(found[0].source, "http://x.example/y");
  CAF_CHECK_EQUAL(found[0].line, 3);
}

// The attack: a repository's Dockerfile makes the daemon fetch the cloud
// metadata service or a service on the host or the private network into the
// image, where the tenant reads it.
CAF_TEST(adds of private targets are refused) {
  for (auto dockerfile :
       {"FROM scratch\nADD http://169.254.169.254/latest/meta-data/iam /x\n",
        "FROM scratch\nADD http://127.0.0.1:2375/containers/json /x\n",
        "FROM scratch\nADD http://localhost:8080/ /x\n",
        "FROM scratch\nADD http://[::1]/ /x\n",
        "FROM scratch\nADD http://0x7f.1/ /x\n",
        "FROM scratch\nADD \"http://127.0.0.\\1/\" /x\n",
        "FROM scratch\nADD [\"http://10.1.2.3/secret\", \"/x\"]\n",
        "FROM scratch\nADD http://metadata.attacker.example/ /x\n",
        "FROM scratch\nADD https://files.example.com/ok http://intranet.attacker.example/ /x/\n",
        "FROM scratch\nARG H=127.0.0.1\nADD http://${H}/ /x\n",
        "FROM scratch\nADD $URL /x\n",
        "FROM scratch\nADD http://unresolvable.example/ /x\n"}) {
    auto err = check(dockerfile);
    CAF_REQUIRE(err);
    CAF_CHECK_EQUAL(code_of(err), errc::build_failed);
    CAF_MESSAGE(message_of(err));
    CAF_CHECK(message_of(err).find("Dockerfile line ") == 0);
  }
  CAF_CHECK(message_of(check("FROM scratch\nADD http://169.254.169.254/x /x\n"))
              .find("link-local")
            != std::string::npos);
  CAF_CHECK(message_of(check("FROM scratch\nADD http://metadata.attacker.example/ /x\n"))
              .find("resolves to 169.254.169.254")
            != std::string::npos);
  // --allow-private-targets lets private hosts through; variables stay refused.
  CAF_CHECK(!check("FROM scratch\nADD http://127.0.0.1:8000/f /x\n", true));
  CAF_CHECK(check("FROM scratch\nADD http://${H}/ /x\n", true));
}

CAF_TEST(public and local sources pass) {
  CAF_CHECK(!check("FROM scratch\nADD https://files.example.com/app.tar.gz /x\n"
                   "ADD app.tar.gz /srv/\nCOPY . /app\nRUN echo http://127.0.0.1\n"));
  CAF_CHECK(!check("FROM scratch\nCOPY ${DIR}/x /y\n"));
}
