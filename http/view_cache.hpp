// Views the API derives from the store (what the proxy serves of every
// environment, rendered pages of lists), kept only while the store's write
// epoch (store::write_epoch) stays where it was when their reads began. Any
// write through the store retires every view at once, so a request made after
// a write has been answered never sees a view from before that write. Nothing
// is stale for a while: there is no time-based expiry to wait out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace gilgal {

/// A rendered JSON view of something a user owns: shown only to that user.
struct owned_view {
  std::string owner_id;
  std::string json;
};

template <class View>
class view_cache {
public:
  /// Keeps at most `capacity` views (all of one epoch).
  explicit view_cache(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {
  }

  /// The view kept under `key` for `epoch`, or null.
  std::shared_ptr<const View> find(const std::string& key, uint64_t epoch) const {
    std::lock_guard<std::mutex> guard{mtx_};
    if (epoch != epoch_)
      return nullptr;
    auto i = views_.find(key);
    return i == views_.end() ? nullptr : i->second;
  }

  /// Keeps `view` under `key`. `epoch` is the write epoch read before the
  /// reads it was computed from began. A newer epoch retires the views kept;
  /// a view of an older epoch than the newest seen is not kept.
  void put(const std::string& key, uint64_t epoch, std::shared_ptr<const View> view) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (epoch < epoch_)
      return;
    if (epoch > epoch_) {
      views_.clear();
      epoch_ = epoch;
    }
    if (views_.size() >= capacity_ && views_.count(key) == 0)
      views_.clear(); // many keys at once: start over rather than grow
    views_[key] = std::move(view);
  }

private:
  size_t capacity_;
  mutable std::mutex mtx_;
  uint64_t epoch_ = 0;
  std::unordered_map<std::string, std::shared_ptr<const View>> views_;
};

} // namespace gilgal
