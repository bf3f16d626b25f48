// venue/wire.cpp — see wire.hpp.
#include "venue/wire.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <cstdio>

namespace tickrt::venue {

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

bool url_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return true;
}

std::optional<std::string_view> Params::get(std::string_view name) const {
  for (const auto& [k, v] : items)
    if (k == name) return std::string_view(v);
  return std::nullopt;
}

std::string_view Params::duplicate() const {
  for (std::size_t i = 0; i < items.size(); ++i)
    for (std::size_t j = i + 1; j < items.size(); ++j)
      if (items[i].first == items[j].first) return items[i].first;
  return {};
}

bool parse_query(std::string_view qs, Params& out, std::string* bad) {
  while (!qs.empty()) {
    const std::size_t amp = qs.find('&');
    const std::string_view piece = qs.substr(0, amp);
    qs = amp == std::string_view::npos ? std::string_view{} : qs.substr(amp + 1);
    if (piece.empty()) continue;
    const std::size_t eq = piece.find('=');
    std::string k, v;
    if (!url_decode(piece.substr(0, eq), k) ||
        !url_decode(eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1), v)) {
      if (bad) *bad = std::string(piece);
      return false;
    }
    out.items.emplace_back(std::move(k), std::move(v));
  }
  return true;
}

std::string hmac_sha256_hex(std::string_view secret, std::string_view payload) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), md, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(len * 2, '0');
  for (unsigned i = 0; i < len; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 15];
  }
  return out;
}

bool signature_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'F') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'F') y = static_cast<char>(y - 'A' + 'a');
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

std::string error_body(int code, std::string_view msg) {
  return JsonObj().num("code", code).str("msg", msg).done();
}

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void JsonObj::key(std::string_view k) {
  if (!first_) s_.push_back(',');
  first_ = false;
  append_json_string(s_, k);
  s_.push_back(':');
}
JsonObj& JsonObj::str(std::string_view k, std::string_view v) { key(k); append_json_string(s_, v); return *this; }
JsonObj& JsonObj::num(std::string_view k, std::int64_t v) { key(k); s_ += std::to_string(v); return *this; }
JsonObj& JsonObj::unum(std::string_view k, std::uint64_t v) { key(k); s_ += std::to_string(v); return *this; }
JsonObj& JsonObj::boolean(std::string_view k, bool v) { key(k); s_ += v ? "true" : "false"; return *this; }
JsonObj& JsonObj::null(std::string_view k) { key(k); s_ += "null"; return *this; }
JsonObj& JsonObj::raw(std::string_view k, std::string_view json) { key(k); s_ += json; return *this; }

}  // namespace tickrt::venue
