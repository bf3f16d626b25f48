// venue/wire.hpp — small wire helpers of the Binance-compatible servers: query strings, HMAC
// signatures, Binance error bodies, a JSON string builder.
//
// Who calls: the venue's IO thread only (server.cpp, api.cpp) and the tests. Setup-path code in
// the sense of core/status.hpp (it allocates): the venue is the simulated exchange, not the
// trading hot path. Nothing here throws on wire input: bad bytes come back as error values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tickrt::venue {

// Percent-decoding of application/x-www-form-urlencoded ('+' is a space). False on a bad escape.
[[nodiscard]] bool url_decode(std::string_view in, std::string& out);

// Request parameters in the order sent (query string first, then the form body), decoded.
// Duplicates are kept so the API can refuse them like Binance (-1101).
struct Params {
  std::vector<std::pair<std::string, std::string>> items;

  // First value of `name`; nullopt when absent.
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }
  // The first repeated name, or "" when every name is unique.
  std::string_view duplicate() const;
  void set(std::string name, std::string value) { items.emplace_back(std::move(name), std::move(value)); }
};

// Parses "a=1&b=2" (percent-decoded) and appends to `out`. False (and the offending piece in
// `bad`) on a malformed escape.
[[nodiscard]] bool parse_query(std::string_view qs, Params& out, std::string* bad = nullptr);

// HMAC-SHA256(secret, payload) as 64 lower-case hex characters (Binance's SIGNED scheme).
std::string hmac_sha256_hex(std::string_view secret, std::string_view payload);
// Case-insensitive, constant-time comparison of two hex signatures.
bool signature_equal(std::string_view a, std::string_view b);

// JSON string escaping (quotes included).
void append_json_string(std::string& out, std::string_view s);

// {"code":<code>,"msg":"<msg>"} as Binance sends it.
std::string error_body(int code, std::string_view msg);

// Milliseconds since the Unix epoch (wall clock): Binance's serverTime and event stamps.
std::int64_t wall_ms();

// Minimal JSON object builder: keys in insertion order, exactly the text Binance sends
// (decimals as strings, integers bare). Example:
//   JsonObj o; o.str("symbol","BTCUSDT").num("orderId",7).raw("fills","[]"); o.done()
class JsonObj {
 public:
  JsonObj() { s_.push_back('{'); }
  JsonObj& str(std::string_view k, std::string_view v);
  JsonObj& num(std::string_view k, std::int64_t v);
  JsonObj& unum(std::string_view k, std::uint64_t v);
  JsonObj& boolean(std::string_view k, bool v);
  JsonObj& null(std::string_view k);
  JsonObj& raw(std::string_view k, std::string_view json);  // already-valid JSON text
  std::string done() { s_.push_back('}'); return std::move(s_); }

 private:
  void key(std::string_view k);
  std::string s_;
  bool first_ = true;
};

}  // namespace tickrt::venue
