#include "cli/store_access.hpp"

#include <filesystem>

#include "protocol/error.hpp"

namespace gilgal::cli {

caf::expected<void> ensure_data_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(dir, ec))
    return caf::unit;
  if (!fs::create_directories(dir, ec) || ec)
    return make_error(errc::unavailable,
                      "data_dir: cannot create " + dir + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec)
    return make_error(errc::unavailable, "data_dir: cannot set mode 0700 on " + dir);
  return caf::unit;
}

caf::expected<std::shared_ptr<store>> open_configured_store(const settings& s) {
  if (auto res = ensure_data_dir(s.data_dir); !res)
    return res.error();
  auto box = secret_box::from_environment_or_file(s.data_dir);
  if (!box)
    return box.error();
  auto cipher = std::make_shared<const secret_box>(std::move(*box));
  auto db = open_store(s.effective_database_url(), std::move(cipher));
  if (!db)
    return db.error();
  return std::shared_ptr<store>{std::move(*db)};
}

std::string describe_store(const settings& s) {
  auto url = s.effective_database_url();
  for (const char* scheme : {"postgresql://", "postgres://"}) {
    std::string prefix = scheme;
    if (url.compare(0, prefix.size(), prefix) != 0)
      continue;
    auto rest = url.substr(prefix.size());
    if (auto at = rest.rfind('@', rest.find('/')); at != std::string::npos)
      rest = rest.substr(at + 1); // drop user and password
    if (auto end = rest.find_first_of("/?"); end != std::string::npos)
      rest = rest.substr(0, end);
    return "PostgreSQL at " + (rest.empty() ? std::string{"local socket"} : rest);
  }
  return "SQLite file " + url;
}

} // namespace gilgal::cli
