// Opening the configured store, shared by `serve` and the admin commands.
#pragma once

#include <memory>
#include <string>

#include <caf/expected.hpp>

#include "config/settings.hpp"
#include "storage/store.hpp"

namespace gilgal::cli {

/// Creates `dir` (and parents) if missing; a directory it creates gets mode 0700.
caf::expected<void> ensure_data_dir(const std::string& dir);

/// Ensures the data dir, loads the secret key (GILGAL_SECRET_KEY or
/// DATA_DIR/secret.key) and opens the store of s.effective_database_url().
caf::expected<std::shared_ptr<store>> open_configured_store(const settings& s);

/// A description of the store safe to log: the SQLite path, or "PostgreSQL at
/// HOST" without user name or password.
std::string describe_store(const settings& s);

} // namespace gilgal::cli
