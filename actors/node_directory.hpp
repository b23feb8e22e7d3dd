// Where each node publishes its containers' ports, by node name: the
// scheduler records a node's advertised address when it joins (one writer),
// the router reads it to route to containers on that node. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace gilgal {

class node_directory {
public:
  /// Records the address a node advertised ("" : none, the control plane's).
  void set(const std::string& node, const std::string& address);

  /// The node's advertised address; empty when unknown or none.
  std::string address_of(const std::string& node) const;

  /// Changes with every set() that changed an address (readers re-derive).
  uint64_t version() const;

private:
  mutable std::mutex mtx_;
  std::map<std::string, std::string> addresses_;
  uint64_t version_ = 0;
};

} // namespace gilgal
