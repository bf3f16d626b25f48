// exec/send_warm.cpp — see send_warm.hpp.
#include "exec/send_warm.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace tickrt::exec {

namespace {
Status sys_error(const char* what) { return Status(Code::io_error, std::string("send-path warmer: ") + what + ": " + std::strerror(errno)); }
}  // namespace

Result<LoopbackPair> LoopbackPair::open() {
  using R = Result<LoopbackPair>;
  LoopbackPair p;
  const int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l < 0) return R(sys_error("socket"));
  sockaddr_in ad{};
  ad.sin_family = AF_INET;
  ad.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ad.sin_port = 0;  // ephemeral
  socklen_t len = sizeof ad;
  if (::bind(l, reinterpret_cast<sockaddr*>(&ad), sizeof ad) != 0 || ::listen(l, 1) != 0 ||
      ::getsockname(l, reinterpret_cast<sockaddr*>(&ad), &len) != 0) {
    Status st = sys_error("bind/listen on 127.0.0.1");
    ::close(l);
    return R(st);
  }
  p.tx_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (p.tx_ < 0 || ::connect(p.tx_, reinterpret_cast<sockaddr*>(&ad), sizeof ad) != 0) {
    Status st = sys_error("connect to its own listener");
    ::close(l);
    return R(st);
  }
  p.rx_ = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
  ::close(l);
  if (p.rx_ < 0) return R(sys_error("accept"));
  const int one = 1;
  for (int fd : {p.tx_, p.rx_})
    if (::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) return R(sys_error("TCP_NODELAY"));
  return R(std::move(p));
}

LoopbackPair& LoopbackPair::operator=(LoopbackPair&& o) noexcept {
  std::swap(tx_, o.tx_);
  std::swap(rx_, o.rx_);
  return *this;  // o closes what this held
}

LoopbackPair::~LoopbackPair() {
  if (tx_ >= 0) ::close(tx_);
  if (rx_ >= 0) ::close(rx_);
}

Result<std::unique_ptr<SendPathWarmer>> SendPathWarmer::open() {
  using R = Result<std::unique_ptr<SendPathWarmer>>;
  auto p = LoopbackPair::open();
  if (!p.ok()) return R(p.status());
  std::unique_ptr<SendPathWarmer> w(new SendPathWarmer());
  w->pair_ = std::move(p.value());
  for (int fd : {w->pair_.tx(), w->pair_.rx()}) {
    const int fl = ::fcntl(fd, F_GETFL, 0);
    if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) return R(sys_error("O_NONBLOCK"));
  }
  return R(std::move(w));
}

bool SendPathWarmer::warm(const char* p, std::size_t n) noexcept {
  n = std::min(n, kMaxBytes);
  bool ok = true;
  if (n > 0) {
    const ssize_t s = ::send(pair_.tx(), p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (s < 0) ok = false;
    else bump(sends_, 1);
  }
  // Loopback delivers inside send(): the bytes are already in the rx end's queue. Drain everything (a bounded
  // number of reads: the queue never holds more than a few sends).
  for (int i = 0; i < 8; ++i) {
    const ssize_t r = ::recv(pair_.rx(), drain_, sizeof drain_, MSG_DONTWAIT);
    if (r > 0) {
      bump(drained_, static_cast<std::uint64_t>(r));
      continue;
    }
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) ok = false;
    break;
  }
  if (!ok) bump(errors_, 1);
  return ok;
}

}  // namespace tickrt::exec
