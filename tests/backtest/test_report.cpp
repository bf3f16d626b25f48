// tests/backtest/test_report.cpp — the report files: what each CSV holds, the HTML is one offline file
// with the hooks the browser test and scripts use. (The browser itself: test_report_browser.cpp.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "backtest/metrics.hpp"
#include "backtest/report.hpp"
#include "report_fixture.hpp"

namespace tickrt::backtest {
namespace {

namespace fs = std::filesystem;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Split one CSV line (quotes honoured).
std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') { out.back() += '"'; ++i; }
      else if (c == '"') quoted = false;
      else out.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

std::vector<std::vector<std::string>> read_csv(const fs::path& p) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(slurp(p));
  std::string line;
  while (std::getline(in, line)) rows.push_back(split_csv(line));
  return rows;
}

std::size_t count(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = hay.find(needle); at != std::string::npos; at = hay.find(needle, at + needle.size())) ++n;
  return n;
}

class ReportFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    r_ = testing::synthetic_result();
    const Status st = finalize(r_);
    ASSERT_TRUE(st.ok()) << st.to_string();
    dir_ = fs::temp_directory_path() / ("tickrt_report_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    const Status w = write_report(r_, (dir_ / "out").string());
    ASSERT_TRUE(w.ok()) << w.to_string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  BacktestResult r_;
  fs::path dir_;
};

TEST_F(ReportFiles, EveryFileIsWrittenAndJsonReadsBack) {
  for (const char* f : {"report.html", "result.json", "runs.csv", "comparison.csv", "fills.csv", "round_trips.csv",
                        "equity.csv"})
    EXPECT_GT(fs::file_size(dir_ / "out" / f), 0u) << f;
  Result<BacktestResult> back = from_json(slurp(dir_ / "out" / "result.json"));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(to_json(back.value()), to_json(r_));
}

TEST_F(ReportFiles, CsvsHoldEveryRunMetricFillAndPoint) {
  const auto runs = read_csv(dir_ / "out" / "runs.csv");
  ASSERT_EQ(runs.size(), 1 + r_.runs.size());
  const auto& head = runs[0];
  for (const auto& row : runs) EXPECT_EQ(row.size(), head.size());
  auto col = [&](const std::string& name) {
    const auto it = std::find(head.begin(), head.end(), name);
    EXPECT_NE(it, head.end()) << name;
    return std::size_t(it - head.begin());
  };
  for (std::size_t i = 0; i < r_.runs.size(); ++i) {
    const EngineRun& run = r_.runs[i];
    EXPECT_EQ(runs[i + 1][col("name")], run.name);
    // Exact: the CSV numbers read back to the same doubles.
    EXPECT_EQ(std::stod(runs[i + 1][col("sharpe")]), run.metrics.sharpe);
    EXPECT_EQ(std::stod(runs[i + 1][col("pnl_net")]), run.metrics.pnl_net);
    EXPECT_EQ(std::stod(runs[i + 1][col("max_drawdown")]), run.metrics.max_drawdown);
    EXPECT_EQ(std::stoull(runs[i + 1][col("round_trips")]), run.metrics.round_trips);
    EXPECT_EQ(std::stod(runs[i + 1][col("inference_p99_ns")]), run.latency[0].p99_ns);
    EXPECT_EQ(runs[i + 1][col("annualisation")], run.metrics.annualisation);  // it has commas: quoted
  }
  const auto cmp = read_csv(dir_ / "out" / "comparison.csv");
  ASSERT_EQ(cmp.size(), 1 + r_.comparisons.size());
  std::size_t latency_rows = 0;
  for (std::size_t i = 1; i < cmp.size(); ++i) latency_rows += cmp[i][0] == "latency";
  EXPECT_EQ(latency_rows, 2u);  // fp32 vs fp32@0lat, int8 vs int8@0lat

  std::size_t fills = 0, points = 0, trips = 0;
  for (const EngineRun& run : r_.runs) {
    fills += run.fills.size();
    points += run.equity.size();
    trips += run.metrics.round_trips;
  }
  EXPECT_EQ(read_csv(dir_ / "out" / "fills.csv").size(), 1 + fills);
  EXPECT_EQ(read_csv(dir_ / "out" / "equity.csv").size(), 1 + points);
  EXPECT_EQ(read_csv(dir_ / "out" / "round_trips.csv").size(), 1 + trips);
}

TEST_F(ReportFiles, HtmlIsOneOfflineFileWithTheHooks) {
  const std::string html = slurp(dir_ / "out" / "report.html");
  // Nothing is fetched: no external resource of any kind.
  for (const char* ref : {"src=", "href=", "url(", "@import", "<link", "<iframe", "<img", "<object", "fetch(",
                          "XMLHttpRequest"})
    EXPECT_EQ(html.find(ref), std::string::npos) << ref;
  // Text is escaped (the title has <, &, quotes).
  EXPECT_EQ(html.find("<test>"), std::string::npos);
  EXPECT_NE(html.find("synthetic fp32 vs int8 &lt;test&gt; &amp; &quot;quotes&quot;"), std::string::npos);
  // The embedded data cannot close its script element early.
  const auto data_at = html.find("<script type=\"application/json\" id=\"report-data\">");
  ASSERT_NE(data_at, std::string::npos);
  const auto data_end = html.find("</script>", data_at);
  EXPECT_EQ(html.substr(data_at, data_end - data_at).find("</"), std::string::npos);
  // The hooks.
  for (const char* id : {"id=\"meta\"", "id=\"annualisation\"", "id=\"engines\"", "id=\"comparison\"",
                         "id=\"metrics\"", "id=\"chart-equity\"", "id=\"chart-drawdown\"", "id=\"latency\"",
                         "id=\"counters\"", "body data-report=\"pending\""})
    EXPECT_NE(html.find(id), std::string::npos) << id;
  std::size_t hists = 0;
  for (const EngineRun& run : r_.runs) hists += run.latency.size();
  EXPECT_EQ(count(html, "class=\"hist chart\""), hists);
  EXPECT_NE(html.find(r_.runs[0].metrics.annualisation), std::string::npos);
  EXPECT_EQ(count(html, "<tr data-baseline="), r_.comparisons.size());
  for (const Comparison& c : r_.comparisons) {
    const std::string row = "<tr data-baseline=\"" + c.baseline + "\" data-run=\"" + c.run + "\"";
    const auto at = html.find(row);
    ASSERT_NE(at, std::string::npos) << row;
    EXPECT_NE(html.find(std::string("data-flag=\"") + (c.sharpe_flag ? "1" : "0") + "\"", at), std::string::npos);
  }
  // The seed and every data file are in the header.
  EXPECT_NE(html.find("<span id=\"seed\">42</span>"), std::string::npos);
  for (const std::string& f : r_.data_files) EXPECT_NE(html.find(f), std::string::npos) << f;
}

TEST(Report, CurvesAreReducedForThePageOnly) {
  BacktestResult r = testing::synthetic_result(3, 6000);
  ASSERT_TRUE(finalize(r).ok());
  ReportOptions small;
  small.max_points_per_curve = 100;
  const std::string full = render_html(r), reduced = render_html(r, small);
  EXPECT_LT(reduced.size(), full.size() / 2);
  // The CSV keeps every point whatever the page shows.
  EXPECT_EQ(count(equity_csv(r), "\n"), 1 + 4 * 6000u);
}

TEST(Report, IdenticalCurvesAreNamed) {
  BacktestResult r = testing::synthetic_result(3, 300);
  r.runs[2].equity = r.runs[0].equity;  // fp32@0lat = fp32: one line hides the other
  const std::string html = render_html(r);
  EXPECT_NE(html.find("drawn on top of each other: fp32 = fp32@0lat."), std::string::npos);
  r.runs[2].equity.back().equity += 1e-9;
  EXPECT_EQ(render_html(r).find("id=\"identical-curves\""), std::string::npos);
}

TEST(Report, EmptyResultStillRenders) {
  BacktestResult r;
  const std::string html = render_html(r);
  EXPECT_NE(html.find("id=\"chart-equity\""), std::string::npos);
  EXPECT_NE(html.find("not computed"), std::string::npos);
}

TEST(Report, UnwritableDirectoryIsNamed) {
  const fs::path file = fs::temp_directory_path() / ("tickrt_report_file_" + std::to_string(::getpid()));
  { std::ofstream(file) << "x"; }
  const Status st = write_report(BacktestResult{}, (file / "sub").string());
  fs::remove(file);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find((file / "sub").string()), std::string::npos) << st.message();
}

TEST(Report, FormatFixed) {
  EXPECT_EQ(format_fixed(1.005, 1), "1.0");
  EXPECT_EQ(format_fixed(-0.001, 2), "0.00");  // no "-0.00"
  EXPECT_EQ(format_fixed(-2.5, 1), "-2.5");
  EXPECT_EQ(format_fixed(std::numeric_limits<double>::quiet_NaN(), 2), "-");
}

}  // namespace
}  // namespace tickrt::backtest
