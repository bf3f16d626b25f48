// core/status.hpp — error types for tickrt.
//
// Two kinds of error reporting, by path:
//  * Hot path (per tick): functions return a small enum `Code` marked [[nodiscard]];
//    no allocation, no exceptions. Callers count and carry on.
//  * Setup path (loading a model, config, file): `Status` carries a Code plus a
//    human-readable message naming what and where ("file.gz:123: ..."). `Result<T>`
//    is a value or a Status. Exceptions are allowed on the setup path but Status is
//    preferred at module boundaries.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace tickrt {

enum class Code : std::uint8_t {
  ok = 0,
  invalid_argument,   // caller passed something malformed
  parse_error,        // external input (wire message, file) did not parse
  out_of_range,       // value does not fit the representation
  not_found,          // file, symbol, node, key missing
  unsupported,        // valid input we do not handle (an ONNX op, a message kind)
  corrupt,            // checksum / structure mismatch in a file we own
  io_error,           // OS-level read/write failure
  resource_exhausted, // capacity, workspace or memory limit reached
  out_of_sync,        // sequence gap, stale state
  internal,           // a bug: an invariant broke
};

constexpr std::string_view code_name(Code c) noexcept {
  switch (c) {
    case Code::ok: return "ok";
    case Code::invalid_argument: return "invalid_argument";
    case Code::parse_error: return "parse_error";
    case Code::out_of_range: return "out_of_range";
    case Code::not_found: return "not_found";
    case Code::unsupported: return "unsupported";
    case Code::corrupt: return "corrupt";
    case Code::io_error: return "io_error";
    case Code::resource_exhausted: return "resource_exhausted";
    case Code::out_of_sync: return "out_of_sync";
    case Code::internal: return "internal";
  }
  return "unknown";
}

// Setup-path status: a code and a message that says what failed and where.
class [[nodiscard]] Status {
 public:
  Status() noexcept = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() noexcept { return {}; }
  bool ok() const noexcept { return code_ == Code::ok; }
  explicit operator bool() const noexcept { return ok(); }
  Code code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  std::string to_string() const {
    if (ok()) return "ok";
    return std::string(code_name(code_)) + ": " + message_;
  }
  // Prefix context ("loading model.onnx: ") to an error; no-op on ok.
  Status with_context(std::string_view ctx) const {
    Status s = *this;
    if (!s.ok()) s.message_.insert(0, std::string(ctx) + ": ");
    return s;
  }

 private:
  Code code_ = Code::ok;
  std::string message_;
};

// A value or the Status explaining why there is none.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}                       // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}                // NOLINT
  Result(Code code, std::string msg) : v_(Status(code, std::move(msg))) {}

  bool ok() const noexcept { return std::holds_alternative<T>(v_); }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &std::get<T>(v_); }
  const T* operator->() const { return &std::get<T>(v_); }
  T& operator*() & { return value(); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }

 private:
  std::variant<T, Status> v_;
};

#define TICKRT_RETURN_IF_ERROR(expr)              \
  do {                                            \
    ::tickrt::Status _st = (expr);                \
    if (!_st.ok()) return _st;                    \
  } while (0)

}  // namespace tickrt
