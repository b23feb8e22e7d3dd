#include "actors/node_directory.hpp"

namespace gilgal {

void node_directory::set(const std::string& node, const std::string& address) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto& current = addresses_[node];
  if (current != address) {
    current = address;
    ++version_;
  }
}

std::string node_directory::address_of(const std::string& node) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = addresses_.find(node);
  return i == addresses_.end() ? std::string{} : i->second;
}

uint64_t node_directory::version() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return version_;
}

} // namespace gilgal
