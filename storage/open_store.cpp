// open_store: picks the backend from the URL (see store.hpp). A PostgreSQL URL
// may carry `pool_size=N` (connections in the pool, default 8) in its query.
#include <filesystem>

#include "storage/postgres_store.hpp"
#include "storage/sqlite_store.hpp"
#include "storage/store.hpp"

namespace gilgal {

namespace {

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

/// Removes Gilgal's own `pool_size=N` from a PostgreSQL URL's query (libpq
/// rejects unknown parameters) and returns N, or the default.
caf::expected<size_t> take_pool_size(std::string& url) {
  auto q = url.find('?');
  if (q == std::string::npos)
    return postgres_store::default_pool_size;
  size_t pool = postgres_store::default_pool_size;
  std::string kept;
  size_t pos = q + 1;
  while (pos <= url.size()) {
    auto amp = url.find('&', pos);
    if (amp == std::string::npos)
      amp = url.size();
    auto param = url.substr(pos, amp - pos);
    if (starts_with(param, "pool_size=")) {
      auto value = param.substr(10);
      if (value.empty() || value.size() > 4
          || value.find_first_not_of("0123456789") != std::string::npos || std::stoi(value) < 1)
        return make_error(errc::invalid_argument,
                          "database URL: pool_size must be a number from 1 to 9999");
      pool = static_cast<size_t>(std::stoi(value));
    } else if (!param.empty()) {
      kept += (kept.empty() ? "" : "&") + param;
    }
    pos = amp + 1;
  }
  url = url.substr(0, q) + (kept.empty() ? "" : "?" + kept);
  return pool;
}

} // namespace

caf::expected<std::unique_ptr<store>> open_store(const std::string& database_url,
                                                 std::shared_ptr<const secret_box> cipher) {
  if (database_url.empty())
    return make_error(errc::invalid_argument, "database URL is empty");
  if (starts_with(database_url, "postgresql://") || starts_with(database_url, "postgres://")) {
    std::string url = database_url;
    auto pool = take_pool_size(url);
    if (!pool)
      return std::move(pool.error());
    auto st = postgres_store::open(url, std::move(cipher), *pool);
    if (!st)
      return std::move(st.error());
    return std::unique_ptr<store>{std::move(*st)};
  }
  std::string path = database_url;
  if (starts_with(path, "sqlite://"))
    path = path.substr(9);
  std::error_code ec;
  auto parent = std::filesystem::path{path}.parent_path();
  if (!parent.empty()) {
    std::filesystem::create_directories(parent, ec);
    if (ec)
      return make_error(errc::unavailable, "cannot create directory " + parent.string()
                                             + " for the database: " + ec.message());
  }
  auto st = sqlite_store::open(path, std::move(cipher));
  if (!st)
    return std::move(st.error());
  return std::unique_ptr<store>{std::move(*st)};
}

} // namespace gilgal
