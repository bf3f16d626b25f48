// pipeline/wire_tap.cpp — loopback relay with stamps (see wire_tap.hpp).
#include "pipeline/wire_tap.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/clock.hpp"

namespace tickrt::pipeline {

struct WireTap::Conn {
  int client = -1, venue = -1;
  bool decided = false;     // first client bytes seen
  bool md = false;          // the market-data WebSocket
  bool upgraded = false;    // venue's 101 answer passed
  std::string head;         // venue's HTTP answer until \r\n\r\n (md) / request tail (orders)
  unsigned char hdr[14];
  int hdr_len = 0, hdr_need = 2;
  std::uint64_t payload_left = 0;
  bool in_payload = false;
  bool fin = false;
  int opcode = 0;
};

namespace {

int connect_local(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

bool write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

WireTap::WireTap(std::uint16_t venue_port) : venue_port_(venue_port) { frame_ns_.reserve(1 << 20); }

WireTap::~WireTap() { stop(); }

Status WireTap::start() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) return Status(Code::io_error, std::string("wire tap: socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = 0;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || ::listen(listen_fd_, 16) != 0)
    return Status(Code::io_error, std::string("wire tap: bind/listen 127.0.0.1:0: ") + std::strerror(errno));
  socklen_t len = sizeof(a);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { loop(); });
  return Status::Ok();
}

void WireTap::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  for (Conn* c : conns_) {
    if (c->client >= 0) ::close(c->client);
    if (c->venue >= 0) ::close(c->venue);
    delete c;
  }
  conns_.clear();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
}

std::int64_t WireTap::frame_ns(std::uint64_t n) const {
  std::lock_guard<std::mutex> g(mu_);
  return n >= 1 && n <= frame_ns_.size() ? frame_ns_[n - 1] : 0;
}

std::int64_t WireTap::order_ns(const std::string& id) const {
  std::lock_guard<std::mutex> g(mu_);
  auto it = order_ns_.find(id);
  return it == order_ns_.end() ? 0 : it->second;
}

std::uint64_t WireTap::frames() const {
  std::lock_guard<std::mutex> g(mu_);
  return frame_ns_.size();
}

void WireTap::on_upstream_bytes(Conn& c, const char* p, std::size_t n) {
  if (!c.md) return;
  std::size_t i = 0;
  if (!c.upgraded) {
    // The venue's HTTP 101 answer, then frames.
    for (; i < n && !c.upgraded; ++i) {
      c.head.push_back(p[i]);
      if (c.head.size() >= 4 && c.head.compare(c.head.size() - 4, 4, "\r\n\r\n") == 0) c.upgraded = true;
    }
  }
  while (i < n) {
    if (!c.in_payload) {
      c.hdr[c.hdr_len++] = static_cast<unsigned char>(p[i++]);
      if (c.hdr_len == 2) {
        const unsigned len7 = c.hdr[1] & 0x7Fu;
        c.hdr_need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((c.hdr[1] & 0x80u) ? 4 : 0);
      }
      if (c.hdr_len >= 2 && c.hdr_len == c.hdr_need) {
        c.fin = (c.hdr[0] & 0x80u) != 0;
        c.opcode = c.hdr[0] & 0x0F;
        const unsigned len7 = c.hdr[1] & 0x7Fu;
        std::uint64_t len = len7;
        if (len7 == 126) len = (static_cast<std::uint64_t>(c.hdr[2]) << 8) | c.hdr[3];
        if (len7 == 127) {
          len = 0;
          for (int k = 0; k < 8; ++k) len = (len << 8) | c.hdr[2 + k];
        }
        c.payload_left = len;
        c.in_payload = true;
        c.hdr_len = 0;
        c.hdr_need = 2;
      }
    }
    if (c.in_payload) {
      const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(c.payload_left, n - i));
      i += take;
      c.payload_left -= take;
      if (c.payload_left == 0) {
        c.in_payload = false;
        // Data messages only (text, binary, or the last fragment): what the client counts.
        if (c.fin && c.opcode != 0x8 && c.opcode != 0x9 && c.opcode != 0xA) {
          const std::int64_t t = now_ns();
          std::lock_guard<std::mutex> g(mu_);
          frame_ns_.push_back(t);
        }
      }
    }
  }
}

void WireTap::on_downstream_bytes(Conn& c, const char* p, std::size_t n) {
  if (!c.decided) {
    c.decided = true;
    if (!md_claimed_ && n >= 11 && std::memcmp(p, "GET /stream", 11) == 0) {
      c.md = true;
      md_claimed_ = true;
    }
  }
  if (c.md) return;
  // Order requests: find newClientOrderId=<id> (the id may straddle two reads: keep a tail).
  static constexpr std::string_view key = "newClientOrderId=";
  std::string buf = c.head;
  buf.append(p, n);
  std::size_t pos = 0;
  const std::int64_t t = now_ns();
  while ((pos = buf.find(key, pos)) != std::string::npos) {
    std::size_t e = pos + key.size();
    while (e < buf.size() && (std::isalnum(static_cast<unsigned char>(buf[e])) || buf[e] == '-' || buf[e] == '_' ||
                              buf[e] == '.' || buf[e] == ':' || buf[e] == '/'))
      ++e;
    if (e == buf.size()) break;  // the id may continue in the next read
    const std::string id = buf.substr(pos + key.size(), e - pos - key.size());
    {
      std::lock_guard<std::mutex> g(mu_);
      order_ns_.emplace(id, t);
    }
    pos = e;
  }
  const std::size_t keep = std::min<std::size_t>(buf.size(), 64);
  c.head = buf.substr(buf.size() - keep);
}

void WireTap::loop() {
  std::vector<pollfd> fds;
  std::vector<char> buf(1 << 16);
  while (!stop_.load()) {
    fds.clear();
    fds.push_back({listen_fd_, POLLIN, 0});
    for (Conn* c : conns_) {
      fds.push_back({c->client, POLLIN, 0});
      fds.push_back({c->venue, POLLIN, 0});
    }
    const int r = ::poll(fds.data(), fds.size(), 20);
    if (r <= 0) continue;
    if (fds[0].revents & POLLIN) {
      const int cfd = ::accept(listen_fd_, nullptr, nullptr);
      if (cfd >= 0) {
        int one = 1;
        ::setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        const int vfd = connect_local(venue_port_);
        if (vfd < 0) {
          ::close(cfd);
        } else {
          auto* c = new Conn();
          c->client = cfd;
          c->venue = vfd;
          conns_.push_back(c);
        }
      }
    }
    for (std::size_t k = 0; k < conns_.size(); ++k) {
      Conn* c = conns_[k];
      if (1 + 2 * k + 1 >= fds.size()) break;  // accepted this round: polled next round
      bool dead = false;
      const pollfd& fc = fds[1 + 2 * k];
      const pollfd& fv = fds[1 + 2 * k + 1];
      if (fc.revents & (POLLIN | POLLHUP | POLLERR)) {
        const ssize_t got = ::recv(c->client, buf.data(), buf.size(), 0);
        if (got <= 0) dead = true;
        else {
          on_downstream_bytes(*c, buf.data(), static_cast<std::size_t>(got));
          dead = !write_all(c->venue, buf.data(), static_cast<std::size_t>(got));
        }
      }
      if (!dead && (fv.revents & (POLLIN | POLLHUP | POLLERR))) {
        const ssize_t got = ::recv(c->venue, buf.data(), buf.size(), 0);
        if (got <= 0) dead = true;
        else {
          on_upstream_bytes(*c, buf.data(), static_cast<std::size_t>(got));
          dead = !write_all(c->client, buf.data(), static_cast<std::size_t>(got));
        }
      }
      if (dead) {
        ::close(c->client);
        ::close(c->venue);
        c->client = c->venue = -1;
      }
    }
    // Drop closed connections (after the loop: fds indices above follow conns_ order).
    for (std::size_t k = 0; k < conns_.size();) {
      if (conns_[k]->client < 0) {
        delete conns_[k];
        conns_.erase(conns_.begin() + static_cast<std::ptrdiff_t>(k));
      } else {
        ++k;
      }
    }
  }
}

}  // namespace tickrt::pipeline
