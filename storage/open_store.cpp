// open_store: picks the backend from the URL (see store.hpp).
#include <filesystem>

#include "storage/postgres_store.hpp"
#include "storage/sqlite_store.hpp"
#include "storage/store.hpp"

namespace gilgal {

namespace {

bool starts_with(const std::string& s, const char* prefix) {
  return s.rfind(prefix, 0) == 0;
}

} // namespace

caf::expected<std::unique_ptr<store>> open_store(const std::string& database_url,
                                                 std::shared_ptr<const secret_box> cipher) {
  if (database_url.empty())
    return make_error(errc::invalid_argument, "database URL is empty");
  if (starts_with(database_url, "postgresql://") || starts_with(database_url, "postgres://")) {
    auto st = postgres_store::open(database_url, std::move(cipher));
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
