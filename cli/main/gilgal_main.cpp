#include "cli/commands.hpp"

int main(int argc, char** argv) {
  return gilgal::run_cli(argc, argv);
}
