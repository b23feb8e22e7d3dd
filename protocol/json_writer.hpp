// JSON text written straight into a string, without building a document: for
// hot responses (lists). It writes byte for byte what nlohmann's
// dump(-1, ' ', false, error_handler_t::replace) writes for the same value, so
// both paths stay interchangeable (tests/protocol/json_writer_test.cpp checks
// it). Callers give object keys in nlohmann's order: sorted by bytes.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace gilgal {

class json_writer {
public:
  explicit json_writer(std::string& out) : out_(out) {
  }

  json_writer& begin_object();
  json_writer& end_object();
  json_writer& begin_array();
  json_writer& end_array();

  /// An object key; `k` is plain ASCII needing no escape (a literal).
  json_writer& key(const char* k);

  json_writer& value(const std::string& s);
  json_writer& value(const char* s);
  json_writer& value(int64_t x);
  json_writer& value(double x);
  json_writer& value(bool x);
  json_writer& null();

  /// null for an empty string / a zero.
  json_writer& string_or_null(const std::string& s);
  json_writer& number_or_null(int64_t x);
  json_writer& number_or_null(double x);

  /// One member of the open object whose key is data (escaped as needed).
  json_writer& entry(const std::string& k, const std::string& v);

  /// An object of strings, in the map's (byte) order.
  json_writer& string_map(const std::map<std::string, std::string>& m);

private:
  void before_value();
  void text(const std::string& s);

  std::string& out_;
  std::vector<bool> has_items_; // per open container
  bool after_key_ = false;
};

} // namespace gilgal
