// `gilgal nodes`: the build farm's nodes (GET /api/nodes) as an aligned table,
// or the API's JSON with --json.
#include <iostream>

#include "cli/console_commands.hpp"
#include "cli/console_format.hpp"

namespace gilgal::cli {

namespace {

using nlohmann::json;

/// "k=v,k2=v2", or "-" for none.
std::string labels_text(const json& labels) {
  if (!labels.is_object() || labels.empty())
    return "-";
  std::string out;
  for (auto& [k, v] : labels.items())
    out += (out.empty() ? "" : ",") + k + "=" + (v.is_string() ? v.get<std::string>() : "");
  return out;
}

std::string int_text(const json& x, const char* key) {
  auto it = x.find(key);
  return it != x.end() && it->is_number_integer() ? std::to_string(it->get<int64_t>()) : "-";
}

int list_nodes(const api_client& api) {
  auto body = api.get("/api/nodes");
  if (!body)
    return report(body.error());
  if (api.target().json) {
    print_json(*body);
    return console_exit::ok;
  }
  text_table table{
    {"NAME", "STATE", "CAPACITY", "BUILDS", "RUNS", "LAST-HEARTBEAT", "LABELS"}};
  table.flexible(0, 12).flexible(6, 12);
  for (auto& x : body->value("nodes", json::array())) {
    auto heartbeat = str_of(x, "lastHeartbeat", "");
    table.add({str_of(x, "name"), str_of(x, "state"), int_text(x, "capacity"), int_text(x, "runningBuilds"),
               int_text(x, "runningRuns"), heartbeat.empty() ? "-" : age_of(heartbeat),
               labels_text(x.value("labels", json::object()))});
  }
  if (table.empty())
    std::cout << "no nodes (the server runs without a local node and none has joined; "
                 "start one with gilgal node --join)"
              << std::endl;
  else
    table.print(std::cout);
  return console_exit::ok;
}

} // namespace

void add_console_node_commands(CLI::App& app, int& exit_code) {
  add_console_command(app, exit_code, "nodes",
                      "List the build farm's nodes: name, state (up/down), capacity, builds "
                      "and container starts in progress, last heartbeat, labels.",
                      [](const api_client& api) { return list_nodes(api); });
}

} // namespace gilgal::cli
