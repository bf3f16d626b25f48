// tests/metrics: exposition format parsed back, registration errors, single-writer counters under
// a concurrent scrape, the HTTP endpoints (metrics, health 200/503, control with bearer token),
// and a real Prometheus scraping the server and answering a query with the value we set.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics/metrics.hpp"
#include "risk/risk.hpp"

extern char** environ;

namespace tickrt::metrics {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// ---- a parser for the text format, independent of the renderer ------------------------------
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};
struct Parsed {
  std::map<std::string, std::string> type;  // family -> type
  std::map<std::string, std::string> help;
  std::vector<Sample> samples;
  std::string error;
};

double parse_float(const std::string& s) {
  if (s == "+Inf") return INFINITY;
  if (s == "-Inf") return -INFINITY;
  if (s == "NaN") return NAN;
  std::size_t used = 0;
  const double v = std::stod(s, &used);
  if (used != s.size()) throw std::runtime_error("trailing characters in value '" + s + "'");
  return v;
}

Parsed parse_exposition(const std::string& text) {
  Parsed p;
  std::istringstream in(text);
  std::string line;
  int ln = 0;
  const std::regex name_re("[a-zA-Z_:][a-zA-Z0-9_:]*");
  while (std::getline(in, line)) {
    ++ln;
    auto fail = [&](const std::string& why) { p.error = "line " + std::to_string(ln) + ": " + why + ": " + line; };
    if (line.empty()) continue;
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      const std::string rest = line.substr(7);
      const auto sp = rest.find(' ');
      if (sp == std::string::npos) return fail("no text"), p;
      const std::string fam = rest.substr(0, sp);
      if (!std::regex_match(fam, name_re)) return fail("bad family name"), p;
      if (line[2] == 'T') {
        const std::string t = rest.substr(sp + 1);
        if (t != "counter" && t != "gauge" && t != "histogram" && t != "summary" && t != "untyped") return fail("bad type"), p;
        if (p.type.count(fam)) return fail("TYPE twice"), p;
        p.type[fam] = t;
      } else {
        p.help[fam] = rest.substr(sp + 1);
      }
      continue;
    }
    if (line[0] == '#') continue;
    Sample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (!std::regex_match(s.name, name_re)) return fail("bad sample name"), p;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::size_t eq = line.find('=', i);
        if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') return fail("bad label"), p;
        const std::string k = line.substr(i, eq - i);
        std::string v;
        std::size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\') {
            ++j;
            if (j >= line.size()) return fail("dangling escape"), p;
            if (line[j] == 'n') v.push_back('\n');
            else if (line[j] == '\\' || line[j] == '"') v.push_back(line[j]);
            else return fail("bad escape"), p;
          } else {
            v.push_back(line[j]);
          }
        }
        if (j >= line.size()) return fail("unterminated label value"), p;
        s.labels[k] = v;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) return fail("unterminated labels"), p;
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') return fail("no value"), p;
    try {
      s.value = parse_float(line.substr(i + 1));
    } catch (const std::exception& e) {
      return fail(e.what()), p;
    }
    // Its family must have been declared before (TYPE precedes samples).
    std::string fam = s.name;
    for (const char* suf : {"_bucket", "_sum", "_count"}) {
      const std::string sf(suf);
      if (!p.type.count(fam) && fam.size() > sf.size() && fam.compare(fam.size() - sf.size(), sf.size(), sf) == 0) {
        const std::string base = fam.substr(0, fam.size() - sf.size());
        if (p.type.count(base) && p.type[base] == "histogram") fam = base;
      }
    }
    if (!p.type.count(fam)) return fail("sample before its TYPE"), p;
    p.samples.push_back(std::move(s));
  }
  return p;
}

const Sample* find(const Parsed& p, const std::string& name, const std::map<std::string, std::string>& labels) {
  for (const Sample& s : p.samples) {
    if (s.name == name && s.labels == labels) return &s;
  }
  return nullptr;
}

TEST(Exposition, RendersAndParsesBack) {
  Registry r;
  Counter* c = r.counter("tickrt_messages_total", "Messages.\nSecond line with \\ backslash").value();
  Gauge* g = r.gauge("tickrt_pnl_quote", "PnL.").value();
  Gauge* pos = r.gauge("tickrt_position", "Pos.", {{"symbol", "BTC\"USDT\\x\ny"}}).value();
  const std::int64_t bounds[] = {1'000, 10'000, 100'000};
  Histogram* h = r.histogram("tickrt_stage_latency_seconds", "Latency.", {{"stage", "inference"}}, bounds, 1e-9).value();
  Histogram* h2 = r.histogram("tickrt_stage_latency_seconds", "Latency.", {{"stage", "book"}}, bounds, 1e-9).value();
  ASSERT_TRUE(r.info("tickrt_engine_info", "Build.", {{"version", "0.1.0"}}).ok());
  ASSERT_TRUE(r.counter_fn("tickrt_rejects_total", "Rejects.", {{"reason", "order_rate"}}, [] { return 7.0; }).ok());
  c->add(41);
  c->add();
  g->set(-12.5);
  pos->set(0.003);
  for (std::int64_t v : {500, 1'000, 1'001, 9'999, 50'000, 2'000'000}) h->observe(v);
  (void)h2;

  const std::string text = r.render();
  const Parsed p = parse_exposition(text);
  ASSERT_TRUE(p.error.empty()) << p.error << "\n" << text;
  EXPECT_EQ(p.type.at("tickrt_messages_total"), "counter");
  EXPECT_EQ(p.type.at("tickrt_stage_latency_seconds"), "histogram");
  EXPECT_EQ(p.help.at("tickrt_messages_total"), "Messages.\\nSecond line with \\\\ backslash");
  ASSERT_NE(find(p, "tickrt_messages_total", {}), nullptr);
  EXPECT_EQ(find(p, "tickrt_messages_total", {})->value, 42);
  EXPECT_EQ(find(p, "tickrt_pnl_quote", {})->value, -12.5);
  const Sample* ps = find(p, "tickrt_position", {{"symbol", "BTC\"USDT\\x\ny"}});  // escaping round-trips
  ASSERT_NE(ps, nullptr) << text;
  EXPECT_EQ(ps->value, 0.003);
  EXPECT_EQ(find(p, "tickrt_engine_info", {{"version", "0.1.0"}})->value, 1);
  EXPECT_EQ(find(p, "tickrt_rejects_total", {{"reason", "order_rate"}})->value, 7);
  // Histogram: cumulative buckets with le in seconds, +Inf == _count, _sum in seconds.
  auto b = [&](const char* le) {
    const Sample* s = find(p, "tickrt_stage_latency_seconds_bucket", {{"stage", "inference"}, {"le", le}});
    EXPECT_NE(s, nullptr) << le << "\n" << text;
    return s ? s->value : -1;
  };
  EXPECT_EQ(b("1e-06"), 2);    // 500, 1000 (le is inclusive)
  EXPECT_EQ(b("1e-05"), 4);    // + 1001, 9999
  EXPECT_EQ(b("0.0001"), 5);   // + 50000
  EXPECT_EQ(b("+Inf"), 6);     // + 2 ms
  EXPECT_EQ(find(p, "tickrt_stage_latency_seconds_count", {{"stage", "inference"}})->value, 6);
  EXPECT_NEAR(find(p, "tickrt_stage_latency_seconds_sum", {{"stage", "inference"}})->value, 2'062'500e-9, 1e-15);
  EXPECT_EQ(find(p, "tickrt_stage_latency_seconds_count", {{"stage", "book"}})->value, 0);
  // One TYPE line per family even with several series.
  std::size_t n = 0;
  for (std::size_t at = 0; (at = text.find("# TYPE tickrt_stage_latency_seconds ", at)) != std::string::npos; ++at) ++n;
  EXPECT_EQ(n, 1u);
}

TEST(Exposition, FloatFormats) {
  EXPECT_EQ(format_value(INFINITY), "+Inf");
  EXPECT_EQ(format_value(-INFINITY), "-Inf");
  EXPECT_EQ(format_value(NAN), "NaN");
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(0.0001), "0.0001");
  EXPECT_EQ(format_value(0.00001), "1e-05");
  EXPECT_EQ(format_value(2.5e-6), "2.5e-06");
  EXPECT_EQ(format_value(250000), "250000");
  EXPECT_EQ(format_value(1e6), "1e+06");
  EXPECT_EQ(format_value(-12.5), "-12.5");
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(parse_float(format_value(1.0 / 3)), 1.0 / 3);  // round-trips exactly
}

TEST(Registry, ErrorsNameTheMetric) {
  Registry r;
  auto bad = r.counter("9bad", "x");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("9bad"), std::string::npos);
  EXPECT_FALSE(r.counter("ok_total", "x", {{"__reserved", "v"}}).ok());
  EXPECT_FALSE(r.counter("ok_total", "x", {{"bad-label", "v"}}).ok());
  ASSERT_TRUE(r.counter("ok_total", "x", {{"a", "1"}}).ok());
  auto dup = r.counter("ok_total", "x", {{"a", "1"}});
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("registered twice"), std::string::npos);
  EXPECT_FALSE(r.gauge("ok_total", "x", {{"a", "2"}}).ok());  // another type
  const std::int64_t unsorted[] = {10, 5};
  auto h = r.histogram("h_seconds", "x", {}, unsorted);
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("index 1"), std::string::npos);
  const std::int64_t ok[] = {1};
  EXPECT_FALSE(r.histogram("h2_seconds", "x", {{"le", "1"}}, ok).ok());
  EXPECT_FALSE(r.counter_fn("f_total", "x", {}, nullptr).ok());
}

TEST(Registry, SingleWriterCountsAreExactUnderConcurrentScrapes) {
  Registry r;
  Counter* c = r.counter("w_total", "x").value();
  const std::int64_t bounds[] = {10, 100};
  Histogram* h = r.histogram("w_hist", "x", {}, bounds).value();
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; i < 2'000'000; ++i) {
      c->add();
      h->observe(i % 200);
    }
    done = true;
  });
  int scrapes = 0;
  do {
    const Parsed p = parse_exposition(r.render());
    ASSERT_TRUE(p.error.empty()) << p.error;
    // +Inf equals _count in every scrape, even mid-write.
    EXPECT_EQ(find(p, "w_hist_bucket", {{"le", "+Inf"}})->value, find(p, "w_hist_count", {})->value);
    ++scrapes;
  } while (!done.load());
  writer.join();
  const Parsed p = parse_exposition(r.render());
  EXPECT_EQ(find(p, "w_total", {})->value, 2'000'000);
  EXPECT_EQ(find(p, "w_hist_bucket", {{"le", "10"}})->value, 11 * 10'000);
  EXPECT_EQ(find(p, "w_hist_count", {})->value, 2'000'000);
  EXPECT_GT(scrapes, 0);
}

TEST(Standard, RegistersTheTickrtNamesAndRiskRejects) {
  Registry r;
  const std::string_view stages[] = {"book", "inference"};
  const std::string_view symbols[] = {"BTCUSDT"};
  auto m = register_standard(r, "0.1.0", stages, symbols);
  ASSERT_TRUE(m.ok()) << m.status().to_string();
  risk::RiskEngine eng(risk::AccountLimits{}, 0);
  const auto sym = eng.add_symbol("BTCUSDT", risk::SymbolLimits{}).value();
  exec::OrderRequest o;
  o.symbol = exec::SymbolName::from("BTCUSDT");
  o.qty = Qty::from_raw(1);
  o.price = Price::from_int(1);
  EXPECT_EQ(eng.check_new(sym, o, {}, 1), risk::Reason::no_market_data);
  ASSERT_TRUE(register_risk(r, eng).ok());
  m->stage_latency[1]->observe(20'000);
  m->messages->add(3);
  eng.kill(risk::KillCause::operator_, 2);
  const Parsed p = parse_exposition(r.render());
  ASSERT_TRUE(p.error.empty()) << p.error;
  EXPECT_EQ(find(p, "tickrt_rejects_total", {{"reason", "no_market_data"}})->value, 1);
  EXPECT_EQ(find(p, "tickrt_rejects_total", {{"reason", "order_rate"}})->value, 0);
  EXPECT_EQ(find(p, "tickrt_kill_switch_latched", {})->value, 1);
  EXPECT_EQ(find(p, "tickrt_stage_latency_seconds_count", {{"stage", "inference"}})->value, 1);
  EXPECT_EQ(find(p, "tickrt_messages_total", {})->value, 3);
  EXPECT_NE(find(p, "tickrt_position", {{"symbol", "BTCUSDT"}}), nullptr);
  EXPECT_NE(find(p, "tickrt_batch_size_bucket", {{"le", "256"}}), nullptr);
}

// ---- HTTP -----------------------------------------------------------------------------------
struct Reply {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string www_authenticate;
};

Reply request(std::uint16_t port, http::verb verb, const std::string& target, const std::string& auth = "",
              const std::string& body = "") {
  asio::io_context ioc;
  tcp::socket s(ioc);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!auth.empty()) req.set(http::field::authorization, auth);
  req.body() = body;
  req.prepare_payload();
  http::write(s, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res);
  beast::error_code ec;
  s.shutdown(tcp::socket::shutdown_both, ec);
  return {static_cast<int>(res.result_int()), res.body(), std::string(res[http::field::content_type]),
          std::string(res[http::field::www_authenticate])};
}

TEST(Server, MetricsHealthAndControlWithToken) {
  Registry r;
  r.counter("tickrt_orders_total", "Orders.").value()->add(5);
  ServerConfig cfg;
  cfg.port = 0;
  cfg.bearer_token = "s3cret-token";
  cfg.max_body = 1024;
  MetricsServer srv(r, cfg);
  std::atomic<bool> healthy{true};
  srv.set_health([&] {
    return HealthReport{healthy.load(), healthy ? R"({"status":"ok"})" : R"({"status":"unhealthy","reason":"kill switch latched"})"};
  });
  std::string got_reason;
  int kills = 0;
  srv.set_control("reset", [&](std::string_view body) {
    got_reason = std::string(body);
    return ControlResult{200, R"({"reset":true})"};
  });
  srv.set_control("kill", [&](std::string_view) {
    ++kills;
    healthy = false;
    return ControlResult{202, R"({"kill":"requested"})"};
  });
  ASSERT_TRUE(srv.start().ok());
  const std::uint16_t port = srv.port();
  ASSERT_NE(port, 0);

  Reply m = request(port, http::verb::get, "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(m.body.find("tickrt_orders_total 5\n"), std::string::npos) << m.body;
  EXPECT_EQ(request(port, http::verb::get, "/health").status, 200);

  // Control without, with a wrong, and with a truncated token: 401 and the callback is not run.
  Reply u = request(port, http::verb::post, "/control/kill");
  EXPECT_EQ(u.status, 401);
  EXPECT_NE(u.www_authenticate.find("Bearer"), std::string::npos);
  EXPECT_EQ(request(port, http::verb::post, "/control/kill", "Bearer wrong").status, 401);
  EXPECT_EQ(request(port, http::verb::post, "/control/kill", "Bearer s3cret-toke").status, 401);
  EXPECT_EQ(request(port, http::verb::post, "/control/kill", "Bearer s3cret-token-longer").status, 401);
  EXPECT_EQ(request(port, http::verb::post, "/control/kill", "s3cret-token").status, 401);
  EXPECT_EQ(kills, 0);

  Reply k = request(port, http::verb::post, "/control/kill", "Bearer s3cret-token");
  EXPECT_EQ(k.status, 202);
  EXPECT_EQ(k.body, R"({"kill":"requested"})");
  EXPECT_EQ(kills, 1);
  Reply h = request(port, http::verb::get, "/health");
  EXPECT_EQ(h.status, 503);
  EXPECT_NE(h.body.find("kill switch latched"), std::string::npos);
  EXPECT_EQ(request(port, http::verb::post, "/control/reset", "Bearer s3cret-token", "ops: all clear").status, 200);
  EXPECT_EQ(got_reason, "ops: all clear");

  EXPECT_EQ(request(port, http::verb::post, "/control/swap", "Bearer s3cret-token").status, 404);  // not installed
  EXPECT_EQ(request(port, http::verb::get, "/control/kill", "Bearer s3cret-token").status, 405);
  EXPECT_EQ(request(port, http::verb::post, "/metrics").status, 405);
  EXPECT_EQ(request(port, http::verb::get, "/nope").status, 404);
  EXPECT_EQ(request(port, http::verb::post, "/control/reset", "Bearer s3cret-token", std::string(2000, 'x')).status, 413);
  EXPECT_EQ(kills, 1);
  srv.stop();
}

TEST(Server, ControlDisabledWithoutTokenAndBindErrorsNameTheAddress) {
  Registry r;
  ServerConfig cfg;
  cfg.port = 0;
  MetricsServer srv(r, cfg);
  srv.set_control("kill", [](std::string_view) { return ControlResult{}; });
  ASSERT_TRUE(srv.start().ok());
  EXPECT_EQ(request(srv.port(), http::verb::post, "/control/kill", "Bearer ").status, 403);
  // The same port again: the bind error names the address.
  ServerConfig again;
  again.port = srv.port();
  MetricsServer second(r, again);
  Status st = second.start();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("127.0.0.1:" + std::to_string(srv.port())), std::string::npos) << st.message();
  ServerConfig bad;
  bad.address = "not-an-ip";
  MetricsServer third(r, bad);
  EXPECT_FALSE(third.start().ok());
}

TEST(Server, ParseListen) {
  ServerConfig c;
  ASSERT_TRUE(parse_listen("0.0.0.0:9100", c).ok());
  EXPECT_EQ(c.address, "0.0.0.0");
  EXPECT_EQ(c.port, 9100);
  ASSERT_TRUE(parse_listen("[::1]:0", c).ok());
  EXPECT_EQ(c.address, "::1");
  EXPECT_EQ(c.port, 0);
  for (const char* bad : {"9464", "localhost:9464", "127.0.0.1:", "127.0.0.1:70000", "127.0.0.1:9x", ":9464"}) {
    Status st = parse_listen(bad, c);
    EXPECT_FALSE(st.ok()) << bad;
    EXPECT_NE(st.message().find(bad), std::string::npos) << st.message();
  }
}

TEST(Server, TokenCompare) {
  EXPECT_TRUE(token_equal("abc", "abc"));
  EXPECT_FALSE(token_equal("abd", "abc"));
  EXPECT_FALSE(token_equal("ab", "abc"));
  EXPECT_FALSE(token_equal("abcd", "abc"));
  EXPECT_FALSE(token_equal("", ""));  // an empty configured token never matches
}

// ---- a real Prometheus ----------------------------------------------------------------------
std::uint16_t free_port() {
  asio::io_context ioc;
  tcp::acceptor a(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

std::string prometheus_binary() {
  if (const char* e = std::getenv("TICKRT_PROMETHEUS")) return e;
  for (const char* p : {"/usr/bin/prometheus", "/usr/local/bin/prometheus"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return {};
}

TEST(Prometheus, ScrapesTheServerAndAnswersAQuery) {
  const std::string bin = prometheus_binary();
  if (bin.empty()) GTEST_SKIP() << "prometheus not installed (apt-get install prometheus, or set TICKRT_PROMETHEUS)";

  Registry r;
  const std::string_view stages[] = {"inference"};
  const std::string_view symbols[] = {"BTCUSDT"};
  auto m = register_standard(r, "test-1", stages, symbols);
  ASSERT_TRUE(m.ok());
  m->orders->add(4242);
  m->position[0]->set(-0.125);
  for (int i = 0; i < 100; ++i) m->stage_latency[0]->observe(30'000);  // 30 us
  ServerConfig cfg;
  cfg.port = 0;
  MetricsServer srv(r, cfg);
  ASSERT_TRUE(srv.start().ok());

  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("tickrt_prom_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "data");
  {
    std::ofstream y(dir / "prometheus.yml");
    y << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
      << "scrape_configs:\n  - job_name: tickrt\n    static_configs:\n      - targets: ['127.0.0.1:" << srv.port()
      << "']\n";
  }
  const std::uint16_t prom_port = free_port();
  const std::string a0 = bin, a1 = "--config.file=" + (dir / "prometheus.yml").string(),
                    a2 = "--storage.tsdb.path=" + (dir / "data").string(),
                    a3 = "--web.listen-address=127.0.0.1:" + std::to_string(prom_port), a4 = "--log.level=warn";
  char* argv[] = {const_cast<char*>(a0.c_str()), const_cast<char*>(a1.c_str()), const_cast<char*>(a2.c_str()),
                  const_cast<char*>(a3.c_str()), const_cast<char*>(a4.c_str()), nullptr};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  const std::string log = (dir / "prometheus.log").string();
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv, environ), 0);
  posix_spawn_file_actions_destroy(&fa);

  auto query = [&](const std::string& promql) -> std::string {
    // URL-encode the few characters our queries use.
    std::string q;
    for (char ch : promql) {
      if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.') q.push_back(ch);
      else {
        char b[4];
        std::snprintf(b, sizeof b, "%%%02X", static_cast<unsigned char>(ch));
        q += b;
      }
    }
    try {
      Reply rep = request(prom_port, http::verb::get, "/api/v1/query?query=" + q);
      if (rep.status != 200) return {};
      auto j = nlohmann::json::parse(rep.body);
      if (j.value("status", "") != "success" || j["data"]["result"].empty()) return {};
      return j["data"]["result"][0]["value"][1].get<std::string>();
    } catch (const std::exception&) {
      return {};  // not up yet
    }
  };
  std::string orders, position, count;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
  while (std::chrono::steady_clock::now() < deadline) {
    orders = query("tickrt_orders_total{job=\"tickrt\"}");
    position = query("tickrt_position{symbol=\"BTCUSDT\"}");
    count = query("tickrt_stage_latency_seconds_count{stage=\"inference\"}");
    if (!orders.empty() && !position.empty() && !count.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  ::kill(pid, SIGTERM);
  int wst = 0;
  for (int i = 0; i < 100 && ::waitpid(pid, &wst, WNOHANG) == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (::waitpid(pid, &wst, WNOHANG) == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &wst, 0);
  }
  std::string prom_log;
  {
    std::ifstream in(log);
    prom_log.assign(std::istreambuf_iterator<char>(in), {});
  }
  fs::remove_all(dir);
  ASSERT_FALSE(orders.empty()) << "Prometheus never returned tickrt_orders_total; its log:\n" << prom_log;
  EXPECT_EQ(orders, "4242");
  EXPECT_EQ(position, "-0.125");
  EXPECT_EQ(count, "100");
  EXPECT_GT(srv.requests(), 0u);
}

}  // namespace
}  // namespace tickrt::metrics

namespace tickrt::metrics {
namespace {

// promtool (shipped with prometheus) lints the exposition: parse errors and naming problems.
TEST(Prometheus, PromtoolAcceptsTheStandardSet) {
  if (::access("/usr/bin/promtool", X_OK) != 0) GTEST_SKIP() << "promtool not installed (Debian package prometheus)";
  Registry r;
  const std::string_view stages[] = {"book", "inference"};
  const std::string_view symbols[] = {"BTCUSDT", "ETHUSDT"};
  auto m = register_standard(r, "0.1.0", stages, symbols);
  ASSERT_TRUE(m.ok());
  risk::RiskEngine eng(risk::AccountLimits{}, 0);
  ASSERT_TRUE(register_risk(r, eng).ok());
  m->stage_latency[0]->observe(1234);
  const std::string path = std::filesystem::temp_directory_path() / ("tickrt_promtool_" + std::to_string(::getpid()) + ".txt");
  {
    std::ofstream f(path);
    f << r.render();
  }
  const std::string cmd = "/usr/bin/promtool check metrics < " + path + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  const int rc = ::pclose(p);
  std::filesystem::remove(path);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "") << out;
}

}  // namespace
}  // namespace tickrt::metrics
