// bus/jobs.cpp — distributed backtests: coordinator and worker (jobs.hpp).
#include "bus/jobs.hpp"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include "backtest/backtester.hpp"
#include "backtest/metrics.hpp"
#include "backtest/report.hpp"
#include "backtest/result.hpp"
#include "bus/nats_client.hpp"
#include "core/clock.hpp"

namespace tickrt::bus {

namespace fs = std::filesystem;
namespace bt = backtest;

namespace {

constexpr const char* kJobStream = "BTJOBS";
constexpr const char* kResultStream = "BTRES";
constexpr const char* kWorkers = "workers";

struct Job {
  std::string sweep;
  int index = 0, total = 0;
  bt::EngineSpec engine;
  bool zero = false;
  std::string data, base_dir, command;
  std::uint64_t seed = 1;
  std::int64_t ack_wait_s = 60;
  std::string toml;
};

std::string encode_job(const Job& j) {
  std::ostringstream o;
  o << "tickrt-job 1\nsweep=" << j.sweep << "\nindex=" << j.index << "\ntotal=" << j.total << "\nlabel=" << j.engine.label
    << "\nengine=" << j.engine.path << "\nprecision=" << j.engine.precision << "\nzero=" << (j.zero ? 1 : 0) << "\ndata=" << j.data
    << "\nseed=" << j.seed << "\nack_wait_s=" << j.ack_wait_s << "\nbase_dir=" << j.base_dir << "\ncommand=" << j.command
    << "\n---\n" << j.toml;
  return o.str();
}

// Errors name the line that is wrong: a garbled job is refused (terminated), never run half-read.
Result<Job> decode_job(std::string_view text) {
  Job j;
  const std::size_t sep = text.find("\n---\n");
  if (text.rfind("tickrt-job 1\n", 0) != 0 || sep == std::string_view::npos)
    return Status(Code::parse_error, "job: not a 'tickrt-job 1' message");
  j.toml = std::string(text.substr(sep + 5));
  std::istringstream in{std::string(text.substr(13, sep - 13))};
  std::string line;
  int fields = 0;
  while (std::getline(in, line)) {
    const std::size_t eq = line.find('=');
    if (eq == std::string::npos) return Status(Code::parse_error, "job: line '" + line + "' is not key=value");
    const std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    ++fields;
    try {
      if (k == "sweep") j.sweep = v;
      else if (k == "index") j.index = std::stoi(v);
      else if (k == "total") j.total = std::stoi(v);
      else if (k == "label") j.engine.label = v;
      else if (k == "engine") j.engine.path = v;
      else if (k == "precision") j.engine.precision = v;
      else if (k == "zero") j.zero = v == "1";
      else if (k == "data") j.data = v;
      else if (k == "seed") j.seed = std::stoull(v);
      else if (k == "ack_wait_s") j.ack_wait_s = std::stoll(v);
      else if (k == "base_dir") j.base_dir = v;
      else if (k == "command") j.command = v;
      else return Status(Code::parse_error, "job: unknown key '" + k + "'");
    } catch (const std::exception&) {
      return Status(Code::parse_error, "job: bad value in '" + line + "'");
    }
  }
  if (fields < 12 || j.sweep.empty() || j.engine.path.empty() || j.data.empty())
    return Status(Code::parse_error, "job: missing sweep, engine or data");
  return j;
}

Status ensure_pull_consumer(NatsConn& c, std::int64_t ack_wait_s, bool update) {
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = kWorkers;
  cc.AckPolicy = js_AckExplicit;
  cc.AckWait = ack_wait_s * 1'000'000'000LL;
  cc.MaxAckPending = 1024;
  jsConsumerInfo* ci = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_GetConsumerInfo(&ci, c.js(), kJobStream, kWorkers, nullptr, &jerr);
  if (s == NATS_OK) {
    jsConsumerInfo_Destroy(ci);
    if (!update) return Status::Ok();
    s = js_UpdateConsumer(&ci, c.js(), kJobStream, &cc, nullptr, &jerr);
    if (s == NATS_OK) jsConsumerInfo_Destroy(ci);
    return nats_status(s, "update consumer BTJOBS/workers (AckWait)", jerr);
  }
  s = js_AddConsumer(&ci, c.js(), kJobStream, &cc, nullptr, &jerr);
  if (s == NATS_OK) jsConsumerInfo_Destroy(ci);
  return nats_status(s, "create consumer BTJOBS/workers", jerr);
}

std::string abs_path(const std::string& p, const std::string& base_dir) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  std::error_code ec;
  if (fs::exists(p, ec)) return fs::absolute(p).lexically_normal().string();
  return (fs::path(base_dir) / p).lexically_normal().string();
}

}  // namespace

Result<int> run_sweep(const SweepOptions& o, std::ostream& out) {
  auto cfg = o.config.empty() ? bt::parse_backtest_config(bt::kDefaultBacktestToml, "<embedded>", o.source_root)
                              : bt::load_backtest_config(o.config);
  if (!cfg.ok()) return cfg.status();
  bt::BacktestConfig c = std::move(cfg.value());
  if (!o.engines.empty()) c.engines = bt::parse_engine_list(o.engines);
  if (!o.data.empty()) c.data = o.data;
  if (o.seed >= 0) c.seed = static_cast<std::uint64_t>(o.seed);
  if (o.twins == "on") c.zero_latency_twins = true;
  else if (o.twins == "off") c.zero_latency_twins = false;
  if (c.engines.empty()) return Status(Code::invalid_argument, "backtest --distributed: no engine (--engines)");
  if (c.data.empty()) return Status(Code::invalid_argument, "backtest --distributed: no data (--data)");
  for (auto& e : c.engines) {
    e.path = abs_path(e.path, ".");
    if (!fs::is_regular_file(e.path)) return Status(Code::not_found, "engine " + e.path + ": file not found");
  }
  for (auto& d : c.data) {
    d = abs_path(d, c.base_dir);
    if (!fs::is_regular_file(d)) return Status(Code::not_found, "data " + d + ": file not found");
  }
  const std::string out_dir = o.out.empty() ? c.out : o.out;

  auto conn = NatsConn::connect(o.url, "tickrt-backtest-coordinator", false);
  if (!conn.ok()) return conn.status().with_context("backtest --distributed");
  NatsConn& nc = *conn.value();
  TICKRT_RETURN_IF_ERROR(nc.ensure_stream(kJobStream, {"bt.job.>"}, true));
  TICKRT_RETURN_IF_ERROR(nc.ensure_stream(kResultStream, {"bt.result.>"}, false, 7 * 24 * 3600));
  TICKRT_RETURN_IF_ERROR(ensure_pull_consumer(nc, o.ack_wait_s, true));

  char sweep[32];
  std::snprintf(sweep, sizeof(sweep), "s%" PRIx64, static_cast<std::uint64_t>(now_ns()));
  const int Z = c.zero_latency_twins ? 2 : 1, E = static_cast<int>(c.engines.size()), D = static_cast<int>(c.data.size());
  const int total = D * E * Z;
  // Results first (an ordered consumer from the stream's start on this sweep's subjects), then jobs.
  natsSubscription* rsub = nullptr;
  TICKRT_RETURN_IF_ERROR(subscribe_ordered(nc.js(), &rsub, std::string("bt.result.") + sweep + ".>"));
  for (int d = 0; d < D; ++d)
    for (int e = 0; e < E; ++e)
      for (int z = 0; z < Z; ++z) {
        Job j;
        j.sweep = sweep;
        j.index = (d * E + e) * Z + z;
        j.total = total;
        j.engine = c.engines[static_cast<std::size_t>(e)];
        j.zero = z == 1;
        j.data = c.data[static_cast<std::size_t>(d)];
        j.seed = c.seed;
        j.ack_wait_s = o.ack_wait_s;
        j.base_dir = c.base_dir;
        j.command = o.command;
        j.toml = c.effective_toml;
        const std::string text = encode_job(j);
        const std::string subj = std::string("bt.job.") + sweep + "." + std::to_string(j.index);
        jsErrCode jerr = static_cast<jsErrCode>(0);
        const natsStatus s = js_Publish(nullptr, nc.js(), subj.c_str(), text.data(), static_cast<int>(text.size()), nullptr, &jerr);
        if (s != NATS_OK) {
          natsSubscription_Destroy(rsub);
          return nats_status(s, "publish job " + subj, jerr);
        }
      }
  out << "sweep " << sweep << ": " << total << " jobs (" << D << " data file(s) x " << E << " engine(s) x " << Z
      << ") on " << kJobStream << "; waiting for workers (tickrt worker --nats " << o.url << ")" << std::endl;

  std::map<int, bt::BacktestResult> got;
  std::uint64_t duplicates = 0;
  const std::int64_t deadline = now_ns() + static_cast<std::int64_t>(o.timeout_s * 1e9);
  Status st = Status::Ok();
  while (static_cast<int>(got.size()) < total) {
    if (now_ns() > deadline) {
      st = Status(Code::resource_exhausted, "backtest --distributed: " + std::to_string(total - static_cast<int>(got.size())) + " of " +
                                                std::to_string(total) + " results missing after " + std::to_string(o.timeout_s) + " s");
      break;
    }
    natsMsg* m = nullptr;
    const natsStatus s = natsSubscription_NextMsg(&m, rsub, 1000);
    if (s == NATS_TIMEOUT) continue;
    if (s != NATS_OK) {
      st = nats_status(s, "waiting for results");
      break;
    }
    const std::string subj = natsMsg_GetSubject(m);
    const int k = std::atoi(subj.substr(subj.rfind('.') + 1).c_str());
    auto r = bt::from_json(std::string(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m))));
    natsMsg_Destroy(m);
    if (!r.ok()) {
      st = r.status().with_context("result " + subj);
      break;
    }
    if (r.value().runs.size() != 1 || k < 0 || k >= total) {
      st = Status(Code::parse_error, "result " + subj + ": expected one run of job 0.." + std::to_string(total - 1));
      break;
    }
    if (got.count(k) != 0) {
      ++duplicates;  // a worker died after storing its result, before its ack: the redo's copy
      continue;
    }
    out << "  result " << k + 1 << "/" << total << ": " << r.value().runs[0].name << " on " << fs::path(r.value().data_files.at(0)).filename().string()
        << " (" << r.value().machine << ")" << std::endl;
    got.emplace(k, std::move(r.value()));
  }
  natsSubscription_Unsubscribe(rsub);
  natsSubscription_Destroy(rsub);
  if (!st.ok()) return st;

  // The usual report, once per data file: the runs in run_all's order (engine, then its twin).
  for (int d = 0; d < D; ++d) {
    bt::BacktestResult res;
    for (int e = 0; e < E; ++e)
      for (int z = 0; z < Z; ++z) {
        bt::BacktestResult& one = got.at((d * E + e) * Z + z);
        if (res.runs.empty()) {
          res = one;
          res.runs.clear();
          res.command = o.command;
        }
        res.start_ns = std::min(res.start_ns, one.start_ns);
        res.end_ns = std::max(res.end_ns, one.end_ns);
        if (res.machine.find(one.machine) == std::string::npos) res.machine += "; " + one.machine;
        res.runs.push_back(std::move(one.runs[0]));
      }
    bt::MetricsConfig mc;
    mc.capital = c.capital;
    TICKRT_RETURN_IF_ERROR(bt::finalize(res, mc).with_context("finalize " + c.data[static_cast<std::size_t>(d)]));
    const std::string dir = D == 1 ? out_dir : (fs::path(out_dir) / fs::path(c.data[static_cast<std::size_t>(d)]).stem().stem()).string();
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status(Code::io_error, dir + ": cannot create the output directory: " + ec.message());
    TICKRT_RETURN_IF_ERROR(bt::write_report(res, dir));
    for (const bt::EngineRun& r : res.runs) {
      char buf[256];
      std::snprintf(buf, sizeof(buf), "%-24s fills %6zu  pnl_net %10.4f  sharpe %8.3f  max_dd %8.4f\n", r.name.c_str(), r.fills.size(),
                    r.metrics.pnl_net, r.metrics.sharpe, r.metrics.max_drawdown);
      out << buf;
    }
    out << "report: " << dir << "\n";
  }
  if (duplicates > 0) out << duplicates << " duplicate result(s) dropped (redelivered jobs)\n";
  return total;
}

Status run_worker(const WorkerOptions& o, const std::atomic<bool>& stop, std::ostream& out) {
  auto conn = NatsConn::connect(o.url, "tickrt-worker-" + o.name, false);
  if (!conn.ok()) return conn.status().with_context("worker --nats");
  NatsConn& nc = *conn.value();
  TICKRT_RETURN_IF_ERROR(nc.ensure_stream(kJobStream, {"bt.job.>"}, true));
  TICKRT_RETURN_IF_ERROR(nc.ensure_stream(kResultStream, {"bt.result.>"}, false, 7 * 24 * 3600));
  TICKRT_RETURN_IF_ERROR(ensure_pull_consumer(nc, 60, false));
  natsSubscription* sub = nullptr;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = kJobStream;
  so.Consumer = kWorkers;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_PullSubscribe(&sub, nc.js(), "bt.job.>", kWorkers, nullptr, &so, &jerr);
  if (s != NATS_OK) return nats_status(s, "worker: bind BTJOBS/workers", jerr);
  int done = 0;
  std::int64_t last_job = now_ns();
  Status result = Status::Ok();
  while (!stop.load() && (o.max_jobs == 0 || done < o.max_jobs)) {
    if (o.idle_exit_s > 0 && now_ns() - last_job > static_cast<std::int64_t>(o.idle_exit_s * 1e9)) break;
    natsMsgList list{};
    s = natsSubscription_Fetch(&list, sub, 1, 1000, &jerr);
    if (s == NATS_TIMEOUT || list.Count == 0) {
      natsMsgList_Destroy(&list);
      continue;
    }
    if (s != NATS_OK) {
      natsMsgList_Destroy(&list);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // server restarting: retry
      continue;
    }
    natsMsg* msg = list.Msgs[0];
    const std::uint64_t delivery = delivered_count(msg);
    auto job = decode_job(std::string_view(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg))));
    if (!job.ok()) {
      out << "worker " << o.name << ": refused a job: " << job.status().to_string() << std::endl;
      natsMsg_Term(msg, nullptr);  // never redeliver a message that cannot be read
      natsMsgList_Destroy(&list);
      continue;
    }
    const Job& j = job.value();
    out << "worker " << o.name << ": job " << j.index << "/" << j.total << " of sweep " << j.sweep << " started (delivery " << delivery
        << "): " << (j.engine.label.empty() ? j.engine.path : j.engine.label) << (j.zero ? "@0lat" : "") << " on " << j.data << std::endl;
    // Heartbeat: "in progress" every AckWait / 3 while the backtest runs (a dead worker stops them).
    std::atomic<bool> running{true};
    std::thread hb([&] {
      const auto period = std::chrono::milliseconds(std::max<std::int64_t>(100, j.ack_wait_s * 1000 / 3));
      auto next = std::chrono::steady_clock::now() + period;
      while (running.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (std::chrono::steady_clock::now() >= next) {
          natsMsg_InProgress(msg, nullptr);
          next += period;
        }
      }
    });
    Status st = Status::Ok();
    std::string json;
    {
      auto pc = bt::parse_backtest_config(j.toml, "job " + std::to_string(j.index) + " of sweep " + j.sweep, j.base_dir);
      if (!pc.ok()) st = pc.status();
      if (st.ok()) {
        bt::BacktestConfig c = std::move(pc.value());
        c.engines = {j.engine};
        c.data = {j.data};
        c.seed = j.seed;
        c.zero_latency_twins = false;
        auto b = bt::Backtester::create(c);
        if (!b.ok()) st = b.status();
        if (st.ok()) {
          auto r = b.value()->run(bt::RunRequest{0, j.zero});
          if (!r.ok()) st = r.status();
          if (st.ok()) {
            bt::BacktestResult res;
            res.title = c.title;
            res.machine = bt::machine_name();
            res.command = j.command;
            res.seed = c.seed;
            res.data_files = c.data;
            res.config_toml = c.effective_toml;
            res.start_ns = b.value()->data().start_ns();
            res.end_ns = b.value()->data().end_ns();
            res.runs.push_back(std::move(r.value()));
            json = bt::to_json(res);
          }
        }
      }
    }
    running.store(false);
    hb.join();
    if (!st.ok()) {
      // The job's own inputs are wrong (same on every worker): terminate it, say why.
      out << "worker " << o.name << ": job " << j.index << " failed: " << st.to_string() << std::endl;
      natsMsg_Term(msg, nullptr);
      natsMsgList_Destroy(&list);
      continue;
    }
    const std::string subj = "bt.result." + j.sweep + "." + std::to_string(j.index);
    s = js_Publish(nullptr, nc.js(), subj.c_str(), json.data(), static_cast<int>(json.size()), nullptr, &jerr);
    if (s != NATS_OK) {
      // Result not stored: leave the job unacknowledged; it comes back after AckWait.
      out << "worker " << o.name << ": " << nats_status(s, "publish " + subj, jerr).to_string() << std::endl;
      natsMsgList_Destroy(&list);
      continue;
    }
    natsMsg_AckSync(msg, nullptr, nullptr);
    natsMsgList_Destroy(&list);
    ++done;
    last_job = now_ns();
    out << "worker " << o.name << ": job " << j.index << " done (" << json.size() << " bytes of result)" << std::endl;
  }
  natsSubscription_Destroy(sub);
  out << "worker " << o.name << ": " << done << " job(s) done\n";
  return result;
}

}  // namespace tickrt::bus
