// tests/support/shell.hpp — run a command line through /bin/sh and read what it printed: the CLI tests
// (`tickrt run`, `tickrt backtest`) check exit codes and messages this way.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace tickrt::test {

enum class Capture { both, stderr_only };

// Runs `cmd`; `out` gets its stdout and stderr (or stderr alone, stdout discarded). Returns the exit
// status, -1 when it did not exit normally. The capture file is per process: ctest runs the tests of
// one binary in parallel processes.
inline int sh(const std::string& cmd, std::string& out, Capture what = Capture::both) {
  namespace fs = std::filesystem;
  const std::string f = (fs::temp_directory_path() / ("tickrt_test_sh_" + std::to_string(::getpid()) + ".txt")).string();
  const std::string redirect = what == Capture::both ? " >" + f + " 2>&1" : " >/dev/null 2>" + f;
  const int rc = std::system((cmd + redirect).c_str());
  std::ifstream in(f);
  out.assign(std::istreambuf_iterator<char>(in), {});
  in.close();
  fs::remove(f);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace tickrt::test
