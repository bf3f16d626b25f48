#include "fix/loopback_acceptor.hpp"

#include <poll.h>

namespace tickrt::fix {

LoopbackAcceptor::LoopbackAcceptor(FIX::Application& app, FIX::MessageStoreFactory& store,
                                   const FIX::SessionSettings& settings, FIX::LogFactory& log, std::string host,
                                   std::uint16_t port)
    : FIX::Acceptor(app, store, settings, log), host_(std::move(host)), want_port_(port) {}

LoopbackAcceptor::~LoopbackAcceptor() {
  // FIX::Acceptor's destructor does not stop: a running accept loop would outlive us.
  stop(true);
  close_connections();  // one accepted in the instant stop() began would otherwise be left
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

void LoopbackAcceptor::onInitialize(const FIX::SessionSettings&) {
  if (listen_fd_ >= 0) return;  // restarted after stop(): keep the bound socket and port
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(want_port_);
  if (::inet_pton(AF_INET, host_.c_str(), &addr.sin_addr) != 1) {
    throw FIX::RuntimeError("FIX acceptor: '" + host_ + "' is not a dotted IPv4 address");
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw FIX::RuntimeError(std::string("FIX acceptor: socket(): ") + std::strerror(errno));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 16) != 0) {
    const std::string err = std::strerror(errno);
    ::close(fd);
    throw FIX::RuntimeError("FIX acceptor: cannot listen on " + host_ + ":" + std::to_string(want_port_) + ": " +
                            err);
  }
  sockaddr_in got{};
  socklen_t len = sizeof got;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&got), &len);
  listen_fd_ = fd;
  bound_port_.store(ntohs(got.sin_port), std::memory_order_release);
}

void LoopbackAcceptor::onStart() {
  // Runs on QuickFIX's acceptor thread until stop() sets isStopped(). The 100 ms poll bounds
  // how long stop() waits for this loop; it costs nothing while connections are open.
  const std::set<FIX::SessionID> sessions = getSessions();
  while (!isStopped()) {
    pollfd p{listen_fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, 100);
    if (r <= 0 || isStopped()) {
      reap_finished();
      continue;
    }
    const int s = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (s < 0) continue;
    const int one = 1;
    ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // FIX messages are small and latency-bound
    auto conn = std::make_unique<Conn>();
    conn->fd = s;
    Conn* c = conn.get();
    FIX::Log* log = getLog();
    c->thread = std::thread([c, sessions, log] {
      // QuickFIX's connection: frames the stream, finds the session by CompIDs on logon, runs
      // Session::next() each second for heartbeats and timeouts, closes the socket on exit.
      FIX::ThreadedSocketConnection qc(c->fd, sessions, log);
      while (qc.read()) {
      }
      c->done.store(true, std::memory_order_release);
    });
    std::lock_guard<std::mutex> lock(conns_mu_);
    conns_.push_back(std::move(conn));
  }
}

bool LoopbackAcceptor::onPoll(double) { return false; }

void LoopbackAcceptor::drop_connections() {
  std::lock_guard<std::mutex> lock(conns_mu_);
  for (auto& c : conns_) {
    if (!c->done.load(std::memory_order_acquire)) ::shutdown(c->fd, SHUT_RDWR);
  }
}

void LoopbackAcceptor::reap_finished() {
  std::lock_guard<std::mutex> lock(conns_mu_);
  for (auto it = conns_.begin(); it != conns_.end();) {
    if ((*it)->done.load(std::memory_order_acquire)) {
      (*it)->thread.join();
      it = conns_.erase(it);
    } else {
      ++it;
    }
  }
}

void LoopbackAcceptor::onStop() { close_connections(); }

void LoopbackAcceptor::close_connections() {
  // FIX::Acceptor::stop() has logged the sessions out (and waited unless forced) and set
  // isStopped(). Wake every connection thread still reading: shutdown() (not close(): the
  // connection owns and closes its descriptor) makes its recv() return 0, it disconnects the
  // session and returns.
  std::vector<std::unique_ptr<Conn>> conns;
  {
    std::lock_guard<std::mutex> lock(conns_mu_);
    conns.swap(conns_);
  }
  for (auto& c : conns) {
    if (!c->done.load(std::memory_order_acquire)) ::shutdown(c->fd, SHUT_RDWR);
  }
  for (auto& c : conns) c->thread.join();
}

}  // namespace tickrt::fix
