// tests/backtest/test_report_browser.cpp — open report.html in headless Chromium (Debian `chromium`)
// and check in the DOM it rendered that every chart was drawn and the key numbers are there.
//
// Offline: the page is a local file, and Chromium's resolver maps every host to NOTFOUND, so a page
// that tried to fetch anything would get nothing (and test_report.cpp checks it references nothing).
// One Chromium run under `timeout` (60 s; it takes 1-3 s). No chromium: GTEST_SKIP with the reason.
// $TICKRT_CHROMIUM names another binary.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sys/wait.h>
#include <unistd.h>

#include "backtest/metrics.hpp"
#include "backtest/report.hpp"
#include "report_fixture.hpp"

namespace tickrt::backtest {
namespace {

namespace fs = std::filesystem;

std::string find_chromium() {
  if (const char* env = std::getenv("TICKRT_CHROMIUM"); env && *env) return fs::exists(env) ? env : "";
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/bin:/bin";
  for (const char* name : {"chromium", "chromium-browser", "google-chrome", "chrome"}) {
    std::size_t start = 0;
    while (start <= dirs.size()) {
      const std::size_t end = std::min(dirs.find(':', start), dirs.size());
      const fs::path p = fs::path(dirs.substr(start, end - start)) / name;
      if (!p.empty() && ::access(p.c_str(), X_OK) == 0) return p.string();
      start = end + 1;
    }
  }
  return "";
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

struct Captured {
  int status = -1;
  std::string out;
};

Captured run_capture(const std::string& cmd) {
  Captured r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// The opening tags named `tag` in `dom` (Chromium serialises attributes with double quotes).
std::vector<std::string> tags(const std::string& dom, const std::string& tag) {
  std::vector<std::string> out;
  const std::regex re("<" + tag + "\\b[^>]*>");
  for (auto it = std::sregex_iterator(dom.begin(), dom.end(), re); it != std::sregex_iterator(); ++it)
    out.push_back(it->str());
  return out;
}
std::string attr(const std::string& tag, const std::string& name) {
  std::smatch m;
  const std::regex re("\\s" + name + "=\"([^\"]*)\"");
  return std::regex_search(tag, m, re) ? m[1].str() : std::string("<absent>");
}

class ReportBrowser : public ::testing::Test {
 protected:
  void SetUp() override {
    chromium_ = find_chromium();
    if (chromium_.empty())
      GTEST_SKIP() << "chromium not found (Debian package `chromium`, scripts/install-deps.sh test; or set "
                      "TICKRT_CHROMIUM): the report was not opened in a browser";
    if (std::system("command -v timeout >/dev/null 2>&1") != 0) GTEST_SKIP() << "coreutils `timeout` not found";
    dir_ = fs::temp_directory_path() / ("tickrt_report_browser_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  // Chromium's rendered DOM of report.html (stdout of --dump-dom).
  std::string dump_dom(const fs::path& html, const char* extra = "") {
    const std::string cmd = "timeout -k 5 60 " + quote(chromium_) +
                            " --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run"
                            " --disable-extensions --disable-background-networking --disable-component-update"
                            " --disable-sync --disable-default-apps --mute-audio --no-default-browser-check"
                            " --host-resolver-rules='MAP * ~NOTFOUND' --user-data-dir=" +
                            quote((dir_ / "profile").string()) + " " + extra + " --dump-dom " +
                            quote("file://" + fs::absolute(html).string()) + " 2>" +
                            quote((dir_ / "chromium.log").string());
    const Captured r = run_capture(cmd);
    EXPECT_EQ(r.status, 0) << "chromium failed (124 = timed out); command: " << cmd;
    return r.out;
  }
  std::string chromium_;
  fs::path dir_;
};

TEST_F(ReportBrowser, ChartsRenderAndKeyNumbersAppear) {
  BacktestResult r = testing::synthetic_result();
  ASSERT_TRUE(finalize(r).ok());
  // The fixture's INT8 run decides differently from FP32 often enough to move Sharpe past 5%:
  // the page must show at least one flag (checked below against every comparison either way).
  bool any_flag = false;
  for (const Comparison& c : r.comparisons) any_flag = any_flag || c.sharpe_flag;
  ASSERT_TRUE(any_flag) << "fixture should produce a flagged comparison";
  const fs::path out = dir_ / "report";
  ASSERT_TRUE(write_report(r, out.string()).ok());

  const std::string dom = dump_dom(out / "report.html");
  ASSERT_FALSE(dom.empty()) << "no DOM from chromium";

  // The script finished.
  const auto bodies = tags(dom, "body");
  ASSERT_EQ(bodies.size(), 1u);
  ASSERT_EQ(attr(bodies[0], "data-report"), "rendered") << bodies[0];

  // Equity and drawdown: one drawn path per run, with a real curve in `d`.
  for (const char* id : {"chart-equity", "chart-drawdown"}) {
    std::string svg;
    for (const std::string& t : tags(dom, "svg"))
      if (attr(t, "id") == id) svg = t;
    ASSERT_FALSE(svg.empty()) << id;
    EXPECT_EQ(attr(svg, "data-rendered"), "1") << id;
    EXPECT_EQ(attr(svg, "data-series"), std::to_string(r.runs.size())) << id;
    EXPECT_NE(attr(svg, "viewBox"), "<absent>") << id;
  }
  std::vector<std::string> paths;
  for (const std::string& t : tags(dom, "path"))
    if (attr(t, "class") == "series") paths.push_back(t);
  ASSERT_EQ(paths.size(), 2 * r.runs.size());
  const std::regex curve("^M[-0-9.]+ [-0-9.]+(L[-0-9.]+ [-0-9.]+){50,}$");
  for (const std::string& p : paths) {
    EXPECT_TRUE(std::regex_match(attr(p, "d"), curve)) << p.substr(0, 200);
    EXPECT_GT(std::stoi(attr(p, "data-points")), 50);
  }
  for (const EngineRun& run : r.runs) {
    std::size_t n = 0;
    for (const std::string& p : paths) n += attr(p, "data-run") == run.name;
    EXPECT_EQ(n, 2u) << run.name;
  }

  // Latency histograms: every (run, distribution) drawn, with bars.
  std::size_t hists = 0, expected = 0;
  for (const EngineRun& run : r.runs) expected += run.latency.size();
  for (const std::string& t : tags(dom, "svg")) {
    if (attr(t, "class") != "hist chart") continue;
    ++hists;
    EXPECT_EQ(attr(t, "data-rendered"), "1") << t;
    EXPECT_GT(std::stoi(attr(t, "data-bars")), 0) << t;
  }
  EXPECT_EQ(hists, expected);
  EXPECT_GE(tags(dom, "rect").size(), expected);

  // Key numbers: each run's Sharpe in its metrics row, as the page prints it.
  for (const EngineRun& run : r.runs) {
    const auto row = dom.find("<tr data-run=\"" + run.name + "\">");
    ASSERT_NE(row, std::string::npos) << run.name;
    const auto row_end = dom.find("</tr>", row);
    const std::string tr = dom.substr(row, row_end - row);
    const std::regex cell("data-metric=\"sharpe\"[^>]*>([^<]*)</td>");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(tr, m, cell)) << tr;
    EXPECT_EQ(m[1].str(), format_fixed(run.metrics.sharpe, 2)) << run.name;
  }
  // The flags: every comparison row carries its flag, flagged rows are highlighted.
  for (const Comparison& c : r.comparisons) {
    const auto at = dom.find("<tr data-baseline=\"" + c.baseline + "\" data-run=\"" + c.run + "\"");
    ASSERT_NE(at, std::string::npos) << c.baseline << " vs " << c.run;
    const std::string tr = dom.substr(at, dom.find("</tr>", at) - at);
    EXPECT_NE(tr.find(std::string("data-flag=\"") + (c.sharpe_flag ? "1" : "0") + "\""), std::string::npos) << tr;
    EXPECT_EQ(tr.find("class=\"flag\"") != std::string::npos, c.sharpe_flag) << tr;
    EXPECT_NE(tr.find((c.sharpe_diff_pct > 0 ? "+" : "") + format_fixed(c.sharpe_diff_pct, 1) + "%"), std::string::npos)
        << tr;
  }
  EXPECT_NE(dom.find(r.runs[0].metrics.annualisation), std::string::npos);
}

// The page reports a drawing failure instead of showing empty charts silently: break the data.
TEST_F(ReportBrowser, BrokenDataIsReportedInThePage) {
  BacktestResult r = testing::synthetic_result(5, 300);
  ASSERT_TRUE(finalize(r).ok());
  std::string html = render_html(r);
  const std::string open = "<script type=\"application/json\" id=\"report-data\">";
  const auto at = html.find(open);
  ASSERT_NE(at, std::string::npos);
  html.insert(at + open.size(), "{broken");
  fs::create_directories(dir_);
  { std::ofstream(dir_ / "broken.html") << html; }
  const std::string dom = dump_dom(dir_ / "broken.html");
  const auto bodies = tags(dom, "body");
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(attr(bodies[0], "data-report").rfind("error: ", 0), 0u) << bodies[0];
}

}  // namespace
}  // namespace tickrt::backtest
