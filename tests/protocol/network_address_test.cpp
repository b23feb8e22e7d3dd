#define CAF_SUITE protocol.network_address
#include <caf/test/unit_test.hpp>

#include "protocol/error.hpp"
#include "protocol/network_address.hpp"

using namespace gilgal;

namespace {

address_scope scope(const char* text) {
  auto ip = parse_ip_literal(text);
  if (!ip)
    CAF_FAIL("not an IP literal: " << text);
  return scope_of(*ip);
}

} // namespace

CAF_TEST(ip literals in every form resolvers accept) {
  for (auto text : {"127.0.0.1", "127.1", "0x7f.0.0.1", "0177.0.0.1", "2130706433", "0x7f000001",
                    "::1", "[::1]", "fe80::1%eth0", "::ffff:127.0.0.1", "[2001:db8::1]"})
    CAF_CHECK(parse_ip_literal(text));
  CAF_CHECK_EQUAL(parse_ip_literal("2130706433")->to_string(), "127.0.0.1");
  CAF_CHECK_EQUAL(parse_ip_literal("0x7f.1")->to_string(), "127.0.0.1");
  for (auto text : {"github.com", "localhost", "a.b", "", "1.2.3.4 x", "1.2.3.4.5", "[::1",
                    "::g", "deadbeef.example", "256.1.1.1"})
    CAF_CHECK(!parse_ip_literal(text));
}

CAF_TEST(scopes of addresses) {
  CAF_CHECK(scope("127.0.0.1") == address_scope::loopback);
  CAF_CHECK(scope("127.255.1.2") == address_scope::loopback);
  CAF_CHECK(scope("::1") == address_scope::loopback);
  CAF_CHECK(scope("::ffff:127.0.0.1") == address_scope::loopback);
  CAF_CHECK(scope("::127.0.0.1") == address_scope::loopback);
  CAF_CHECK(scope("169.254.169.254") == address_scope::link_local);
  CAF_CHECK(scope("fe80::1") == address_scope::link_local);
  CAF_CHECK(scope("::ffff:169.254.169.254") == address_scope::link_local);
  CAF_CHECK(scope("64:ff9b::a9fe:a9fe") == address_scope::link_local); // NAT64 of 169.254.169.254
  CAF_CHECK(scope("2002:a9fe:a9fe::1") == address_scope::link_local);  // 6to4 of it
  for (auto text : {"10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.255", "192.168.0.1",
                    "100.64.0.1", "100.127.255.255", "fd00::1", "fc00::1", "fec0::1",
                    "::ffff:10.1.2.3"})
    CAF_CHECK(scope(text) == address_scope::private_network);
  for (auto text : {"0.0.0.0", "0.1.2.3", "::"})
    CAF_CHECK(scope(text) == address_scope::unspecified);
  for (auto text : {"224.0.0.1", "239.255.255.250", "ff02::1"})
    CAF_CHECK(scope(text) == address_scope::multicast);
  for (auto text : {"240.0.0.1", "255.255.255.255", "192.0.0.8", "192.0.2.1", "198.18.0.1",
                    "198.51.100.1", "203.0.113.1", "2001:db8::1", "100::1"})
    CAF_CHECK(scope(text) == address_scope::reserved);
  for (auto text : {"8.8.8.8", "93.184.216.34", "172.15.255.255", "172.32.0.1", "100.63.0.1",
                    "100.128.0.1", "169.253.1.1", "192.169.0.1", "2606:4700::1111",
                    "::ffff:8.8.8.8"})
    CAF_CHECK(scope(text) == address_scope::public_internet);
}

CAF_TEST(names of this machine) {
  for (auto name : {"localhost", "LocalHost", "localhost.", "api.localhost", "localhost.localdomain",
                    "ip6-localhost", "ip6-loopback"})
    CAF_CHECK(is_local_hostname(name));
  for (auto name : {"localhost.example.com", "mylocalhost", "github.com"})
    CAF_CHECK(!is_local_hostname(name));
}

CAF_TEST(hosts of urls) {
  auto t = parse_url_target("https://user:pw@Git.Example.com:8443/a/b.git");
  CAF_REQUIRE(t);
  CAF_CHECK_EQUAL(t->scheme, "https");
  CAF_CHECK_EQUAL(t->host, "git.example.com");
  CAF_CHECK_EQUAL(t->port, 8443);
  t = parse_url_target("https://[::1]/x");
  CAF_REQUIRE(t);
  CAF_CHECK_EQUAL(t->host, "::1");
  CAF_CHECK_EQUAL(t->port, 443);
  t = parse_url_target("git@github.com:a/b.git");
  CAF_REQUIRE(t);
  CAF_CHECK_EQUAL(t->scheme, "ssh");
  CAF_CHECK_EQUAL(t->host, "github.com");
  t = parse_url_target("http://169.254.169.254?x=1");
  CAF_REQUIRE(t);
  CAF_CHECK_EQUAL(t->host, "169.254.169.254");
  CAF_CHECK_EQUAL(t->port, 80);
  // The last '@' ends the user part, as curl reads it.
  t = parse_url_target("https://github.com@127.0.0.1/x");
  CAF_REQUIRE(t);
  CAF_CHECK_EQUAL(t->host, "127.0.0.1");
  for (auto url : {"https:///x", "https://h:99999/x", "https://h:x/", "/srv/repo", "https://[::1/x"})
    CAF_CHECK(!parse_url_target(url));
}

CAF_TEST(target checks name the field and the reason) {
  auto err = check_target_host("webhookUrl", "169.254.169.254", false);
  CAF_REQUIRE(err);
  CAF_CHECK_EQUAL(code_of(err), errc::invalid_argument);
  CAF_CHECK(message_of(err).find("webhookUrl: host 169.254.169.254 is a link-local address")
            == 0);
  CAF_CHECK(message_of(err).find("--allow-private-targets") != std::string::npos);
  CAF_CHECK(check_target_host("f", "8.8.8.8", false));
  CAF_CHECK(check_target_host("f", "localhost", false));
  CAF_CHECK(!check_target_host("f", "github.com", false));
  CAF_CHECK(!check_target_host("f", "127.0.0.1", true));
  auto ip = parse_ip_literal("10.0.0.7");
  err = check_resolved_address("f", "git.corp", *ip, false);
  CAF_CHECK(message_of(err).find("f: host git.corp resolves to 10.0.0.7, a private-range")
            == 0);
  CAF_CHECK(!check_resolved_address("f", "git.corp", *ip, true));
  CAF_CHECK(!check_resolved_address("f", "x", *parse_ip_literal("8.8.4.4"), false));
}
