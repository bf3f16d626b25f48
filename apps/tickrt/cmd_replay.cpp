// placeholder: replaced when the replay verbs land
#include <CLI/CLI.hpp>
#include "commands.hpp"
namespace tickrt::cli { void register_replay(CLI::App&) {} }
