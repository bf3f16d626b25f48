// fix/loopback_acceptor.hpp — a QuickFIX acceptor that listens on one host:port it chooses
// (127.0.0.1 by default, port 0 = ephemeral) and reports the port it got.
//
// Why not FIX::SocketAcceptor: QuickFIX 1.15.1 binds its acceptor sockets to INADDR_ANY (every
// interface) and offers no way to read back an ephemeral port. A simulator must not listen on
// the outside world, and parallel test runs must not fight over fixed ports, so this class
// implements QuickFIX's FIX::Acceptor hooks itself: bind + listen in onInitialize, an accept
// loop in onStart (QuickFIX's acceptor thread), one thread per connection driving QuickFIX's own
// FIX::ThreadedSocketConnection (framing, session lookup by CompIDs, Session::next()), exactly
// as FIX::ThreadedSocketAcceptor does. Everything at the session level (logon, heartbeats,
// TestRequest, resend, sequence numbers, the message store) is QuickFIX's.
//
// Who calls, when: construct, start(), stop() from one control thread (setup path). QuickFIX
// calls the Application from the connection threads (one per logged-on counterparty).
// Limits: one listening socket; at most one connection per session (QuickFIX refuses a second
// logon for a session already logged on).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fix/quickfix.hpp"

namespace tickrt::fix {

class LoopbackAcceptor final : public FIX::Acceptor {
 public:
  // host: dotted IPv4 to bind ("127.0.0.1"); port 0 picks a free port (read it with port()).
  // Throws FIX::ConfigError like FIX::SocketAcceptor when the settings are invalid.
  LoopbackAcceptor(FIX::Application& app, FIX::MessageStoreFactory& store, const FIX::SessionSettings& settings,
                   FIX::LogFactory& log, std::string host, std::uint16_t port);
  ~LoopbackAcceptor() override;

  LoopbackAcceptor(const LoopbackAcceptor&) = delete;
  LoopbackAcceptor& operator=(const LoopbackAcceptor&) = delete;

  // Drops every open connection (shutdown(2): the connection thread sees EOF, disconnects its
  // session and closes its own descriptor). Any thread. Used for simulated outages: closing a
  // session's socket from a thread other than its reader would race the descriptor's reuse.
  void drop_connections();

  // The bound port; 0 until start() has bound the socket.
  std::uint16_t port() const noexcept { return bound_port_.load(std::memory_order_acquire); }

 private:
  struct Conn {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  void onConfigure(const FIX::SessionSettings&) override {}
  void onInitialize(const FIX::SessionSettings&) override;  // bind + listen (throws FIX::RuntimeError)
  void onStart() override;                                  // accept loop on QuickFIX's thread
  bool onPoll(double) override;                             // not supported: use start()
  void onStop() override;                                   // close, wake and join connections
  void reap_finished();
  void close_connections();

  std::string host_;
  std::uint16_t want_port_;
  std::atomic<std::uint16_t> bound_port_{0};
  int listen_fd_ = -1;
  std::mutex conns_mu_;  // control/accept threads only, never a trading thread
  std::vector<std::unique_ptr<Conn>> conns_;
};

}  // namespace tickrt::fix
