// tests/fix helpers: a matching engine with one symbol, temp dirs, and a plain QuickFIX initiator
// (TestClient) that records every message it receives — the "other counterparty" of the tests,
// written with nothing but QuickFIX.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fix/quickfix.hpp"
#include "sim/matching_engine.hpp"

namespace tickrt::fix::test {

// A fresh directory under the system temp dir, removed at scope end.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag) {
    path = std::filesystem::temp_directory_path() /
           ("tickrt-fix-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string sub(const std::string& s) const { return (path / s).string(); }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

inline sim::SimConfig engine_config() {
  sim::SimConfig cfg;
  sim::SymbolSpec s;
  (void)s.name.assign("BTCUSDT");
  (void)s.base.assign("BTC");
  (void)s.quote.assign("USDT");
  s.tick_size = Price::from_raw(1'000'000);  // 0.01
  s.step_size = Qty::from_raw(1'000);        // 0.00001
  s.min_qty = Qty::from_raw(1'000);
  cfg.symbols.push_back(s);
  cfg.start_balances.push_back({sim::AssetName::from("USDT"), 1'000'000LL * kDecimalScale});
  cfg.start_balances.push_back({sim::AssetName::from("BTC"), 100LL * kDecimalScale});
  cfg.maker_fee_bps = 0;
  cfg.taker_fee_bps = 0;
  return cfg;
}

template <class Pred>
bool wait_until(Pred p, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!p()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// A plain QuickFIX initiator. Records received messages (app and admin) as raw FIX strings.
class TestClient final : public FIX::Application {
 public:
  struct Options {
    std::string sender;              // our CompID
    std::string target = "TICKRT-SIM";
    std::uint16_t port = 0;
    std::string store_dir;
    std::string username, password;
    int heartbeat_s = 30;
    bool data_dictionary = true;     // validate what the acceptor sends against FIX44.xml
  };

  explicit TestClient(Options o) : o_(std::move(o)), id_("FIX.4.4", o_.sender, o_.target) {
    FIX::Dictionary d;
    d.setString("ConnectionType", "initiator");
    d.setString("BeginString", "FIX.4.4");
    d.setString("SenderCompID", o_.sender);
    d.setString("TargetCompID", o_.target);
    d.setString("SocketConnectHost", "127.0.0.1");
    d.setString("SocketConnectPort", std::to_string(o_.port));
    d.setString("HeartBtInt", std::to_string(o_.heartbeat_s));
    d.setString("ReconnectInterval", "1");
    d.setString("FileStorePath", o_.store_dir);
    d.setString("StartTime", "00:00:00");
    d.setString("EndTime", "00:00:00");
    d.setString("CheckLatency", "N");
    d.setString("UseDataDictionary", o_.data_dictionary ? "Y" : "N");
    if (o_.data_dictionary) d.setString("DataDictionary", "data/fix/FIX44.xml");
    // QuickFIX's SocketInitiator reads ReconnectInterval from the [DEFAULT] section only.
    FIX::Dictionary defaults;
    defaults.setString("ReconnectInterval", "1");
    settings_.set(defaults);
    settings_.set(id_, d);
    store_ = std::make_unique<FIX::FileStoreFactory>(o_.store_dir);
    const bool ev = std::getenv("FIXLOG") != nullptr;  // debugging: client events on stdout
    log_ = std::make_unique<FIX::ScreenLogFactory>(false, false, ev);
    init_ = std::make_unique<FIX::SocketInitiator>(*this, *store_, settings_, *log_);
  }
  ~TestClient() override { stop(); }

  void start() { init_->start(); }
  void stop() {
    if (init_) init_->stop(true);
  }
  bool logged_on() const {
    FIX::Session* s = FIX::Session::lookupSession(id_);
    return s != nullptr && s->isLoggedOn();
  }
  bool wait_logon(std::chrono::milliseconds t = std::chrono::milliseconds(5000)) {
    return wait_until([&] { return logged_on(); }, t);
  }
  bool send(FIX::Message m) { return FIX::Session::sendToTarget(m, id_); }

  // Waits for a received message (after index `from`) matching pred; returns its index or -1.
  int wait_for(const std::function<bool(const FIX::Message&)>& pred, std::size_t from = 0,
               std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    std::unique_lock<std::mutex> lock(mu_);
    int found = -1;
    cv_.wait_for(lock, timeout, [&] {
      for (std::size_t i = from; i < msgs_.size(); ++i) {
        if (pred(msgs_[i])) {
          found = static_cast<int>(i);
          return true;
        }
      }
      return false;
    });
    return found;
  }
  FIX::Message at(std::size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    return msgs_.at(i);
  }
  std::size_t count() {
    std::lock_guard<std::mutex> lock(mu_);
    return msgs_.size();
  }
  std::vector<std::string> logout_texts() {
    std::lock_guard<std::mutex> lock(mu_);
    return logout_texts_;
  }
  const FIX::SessionID& id() const { return id_; }

  // FIX::Application
  void onCreate(const FIX::SessionID&) override {}
  void onLogon(const FIX::SessionID&) override {}
  void onLogout(const FIX::SessionID&) override {}
  void toAdmin(FIX::Message& m, const FIX::SessionID&) override {
    if (m.getHeader().getField(35) == "A") {
      if (!o_.username.empty()) m.setField(553, o_.username);
      if (!o_.password.empty()) m.setField(554, o_.password);
    }
  }
  void toApp(FIX::Message&, const FIX::SessionID&) override {}
  void fromAdmin(const FIX::Message& m, const FIX::SessionID&) override {
    if (m.getHeader().getField(35) == "5" && m.isSetField(58)) {
      std::lock_guard<std::mutex> lock(mu_);
      logout_texts_.push_back(m.getField(58));
    }
    record(m);
  }
  void fromApp(const FIX::Message& m, const FIX::SessionID&) override { record(m); }

 private:
  void record(const FIX::Message& m) {
    std::lock_guard<std::mutex> lock(mu_);
    msgs_.push_back(m);
    cv_.notify_all();
  }

  Options o_;
  FIX::SessionID id_;
  FIX::SessionSettings settings_;
  std::unique_ptr<FIX::FileStoreFactory> store_;
  std::unique_ptr<FIX::LogFactory> log_;
  std::unique_ptr<FIX::SocketInitiator> init_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<FIX::Message> msgs_;
  std::vector<std::string> logout_texts_;
};

inline std::string type_of(const FIX::Message& m) { return m.getHeader().getField(35); }
inline std::string get(const FIX::Message& m, int tag) { return m.isSetField(tag) ? m.getField(tag) : std::string(); }

// A NewOrderSingle as a counterparty writes it, field by field.
inline FIX::Message nos(const std::string& clid, char side, const std::string& qty, const std::string& px,
                        const std::string& ord_type = "2") {
  FIX::Message m;
  m.getHeader().setField(FIX::MsgType("D"));
  m.setField(11, clid);
  m.setField(55, "BTCUSDT");
  m.setField(54, std::string(1, side));
  m.setField(60, "20261129-05:00:00.000");
  m.setField(38, qty);
  m.setField(40, ord_type);
  if (!px.empty()) m.setField(44, px);
  m.setField(59, "1");
  return m;
}

inline FIX::Message cancel_req(const std::string& clid, const std::string& orig, char side = '1') {
  FIX::Message m;
  m.getHeader().setField(FIX::MsgType("F"));
  m.setField(41, orig);
  m.setField(11, clid);
  m.setField(55, "BTCUSDT");
  m.setField(54, std::string(1, side));
  m.setField(60, "20261129-05:00:00.000");
  return m;
}

}  // namespace tickrt::fix::test
