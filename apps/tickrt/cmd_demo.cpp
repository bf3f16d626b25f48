// placeholder: replaced when the demo verbs land
#include <CLI/CLI.hpp>
#include "commands.hpp"
namespace tickrt::cli { void register_demo(CLI::App&) {} }
