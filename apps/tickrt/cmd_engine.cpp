// placeholder: replaced when the engine verbs land
#include <CLI/CLI.hpp>
#include "commands.hpp"
namespace tickrt::cli { void register_engine(CLI::App&) {} }
