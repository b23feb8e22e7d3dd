#include "cli/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace gilgal::cli {

void configure_logging(const std::string& level) {
  auto logger = spdlog::get("gilgal");
  if (!logger)
    logger = spdlog::stderr_color_mt("gilgal");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::flush_on(spdlog::level::info);
}

} // namespace gilgal::cli
