#include "cli/console_follow.hpp"

#include <csignal>
#include <cstring>
#include <iostream>
#include <unistd.h>

#include "cli/console_format.hpp"
#include "protocol/deployment_state.hpp"

namespace gilgal::cli {

namespace {

// Written by the SIGINT handler; prepared before the handler is installed.
char interrupt_message[512];
size_t interrupt_message_size = 0;

extern "C" void on_interrupt(int) {
  // Only async-signal-safe calls here.
  ssize_t ignored = ::write(STDERR_FILENO, interrupt_message, interrupt_message_size);
  (void) ignored;
  ::_exit(console_exit::interrupted);
}

void install_interrupt_handler(const std::string& deployment_id) {
  auto text = "\nStopped following; deployment " + deployment_id
              + " goes on on the server.\n`gilgal logs " + deployment_id
              + " -f` follows it again, `gilgal cancel " + deployment_id + "` cancels it.\n";
  interrupt_message_size = std::min(text.size(), sizeof interrupt_message);
  std::memcpy(interrupt_message, text.data(), interrupt_message_size);
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
}

} // namespace

caf::expected<std::string> follow_and_print(const api_client& api,
                                            const std::string& deployment_id,
                                            std::ostream& out, bool json_lines) {
  install_interrupt_handler(deployment_id);
  int64_t last_seq = 0;
  return api.follow_log(
    deployment_id, last_seq,
    [&](const nlohmann::json& line) {
      if (json_lines)
        out << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
      else
        out << format_log_line(line) << std::endl;
    },
    [&](int attempt, const std::string& why) {
      std::cerr << "(" << why << "; reconnecting, attempt " << attempt << ")" << std::endl;
    });
}

int exit_code_of_status(const std::string& status) {
  auto x = parse_deployment_status(status);
  if (x == deployment_status::success)
    return console_exit::ok;
  if (x == deployment_status::cancelled)
    return console_exit::cancelled;
  return console_exit::failed;
}

} // namespace gilgal::cli
