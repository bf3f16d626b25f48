#include "feed/capture_reader.hpp"

#include <cerrno>
#include <cstring>
#include <new>

#include "core/clock.hpp"

namespace tickrt::feed {

CaptureReader::CaptureReader()
    : in_(new unsigned char[kInChunk]), buf_(new char[kOutChunk]), buf_cap_(kOutChunk) {}

CaptureReader::~CaptureReader() { close(); }

void CaptureReader::close() noexcept {
  if (z_init_) { inflateEnd(&z_); z_init_ = false; }
  if (f_) { std::fclose(f_); f_ = nullptr; }
}

void CaptureReader::fail(Code code, std::string msg) noexcept {
  try {
    status_ = Status(code, path_ + ": " + msg);
  } catch (...) {
    status_ = Status(code, std::string());
  }
  done_ = true;
}

Status CaptureReader::open(const std::string& path) {
  close();
  path_ = path;
  status_ = Status::Ok();
  eof_in_ = done_ = member_open_ = false;
  pos_ = end_ = 0;
  line_no_ = file_bytes_ = plain_bytes_ = 0;
  inflate_ns_ = 0;
  f_ = std::fopen(path.c_str(), "rb");
  if (!f_) return Status(Code::not_found, path + ": cannot open: " + std::strerror(errno));
  unsigned char magic[2] = {0, 0};
  const std::size_t n = std::fread(magic, 1, 2, f_);
  gzip_ = (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b);
  std::rewind(f_);
  if (gzip_) {
    z_ = z_stream{};
    // 16 + MAX_WBITS: gzip wrapper only (we checked the magic).
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) {
      close();
      return Status(Code::internal, path + ": inflateInit2 failed");
    }
    z_init_ = true;
  }
  return Status::Ok();
}

bool CaptureReader::fill() noexcept {
  if (done_ || !f_) return false;
  // Keep the partial line: move it to the front, then grow only if it fills the whole buffer.
  if (pos_ > 0) {
    std::memmove(buf_.get(), buf_.get() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  if (end_ == buf_cap_) {
    if (buf_cap_ >= kMaxLine) { fail(Code::resource_exhausted, "line longer than 256 MiB"); return false; }
    std::unique_ptr<char[]> nb(new (std::nothrow) char[buf_cap_ * 2]);
    if (!nb) { fail(Code::resource_exhausted, "out of memory for a long line"); return false; }
    std::memcpy(nb.get(), buf_.get(), end_);
    buf_ = std::move(nb);
    buf_cap_ *= 2;
  }
  if (!gzip_) {
    const std::size_t n = std::fread(buf_.get() + end_, 1, buf_cap_ - end_, f_);
    if (n == 0) {
      if (std::ferror(f_)) fail(Code::io_error, "read error");
      done_ = true;
      return false;
    }
    end_ += n;
    file_bytes_ += n;
    plain_bytes_ += n;
    return true;
  }
  const std::int64_t t0 = now_ns();
  const std::size_t before = end_;
  while (end_ < buf_cap_) {
    if (z_.avail_in == 0 && !eof_in_) {
      const std::size_t n = std::fread(in_.get(), 1, kInChunk, f_);
      if (n == 0) {
        if (std::ferror(f_)) { fail(Code::io_error, "read error"); break; }
        eof_in_ = true;
      }
      file_bytes_ += n;
      z_.next_in = in_.get();
      z_.avail_in = static_cast<uInt>(n);
    }
    if (z_.avail_in == 0 && eof_in_) {
      // Input over: clean only right after a member's Z_STREAM_END.
      if (member_open_) fail(Code::corrupt, "truncated gzip stream");
      done_ = true;
      break;
    }
    member_open_ = true;
    z_.next_out = reinterpret_cast<Bytef*>(buf_.get() + end_);
    z_.avail_out = static_cast<uInt>(buf_cap_ - end_);
    const int rc = inflate(&z_, Z_NO_FLUSH);
    end_ = buf_cap_ - z_.avail_out;
    if (rc == Z_STREAM_END) {
      // Concatenated gzip members are one file (gzip -c a >> f): continue with the next one.
      if (inflateReset(&z_) != Z_OK) { fail(Code::corrupt, "inflateReset failed"); break; }
      member_open_ = false;
      if (z_.avail_in == 0 && eof_in_) { done_ = true; break; }
      continue;
    }
    if (rc == Z_BUF_ERROR && z_.avail_in == 0 && eof_in_) {
      fail(Code::corrupt, "truncated gzip stream");
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      fail(Code::corrupt, std::string("gzip data error: ") + (z_.msg ? z_.msg : "inflate failed"));
      break;
    }
    if (end_ > before && end_ == buf_cap_) break;  // window full: hand lines out first
  }
  inflate_ns_ += now_ns() - t0;
  plain_bytes_ += end_ - before;
  return end_ > before;
}

bool CaptureReader::next(std::string_view& line) noexcept {
  for (;;) {
    if (pos_ < end_) {
      const char* start = buf_.get() + pos_;
      const void* nl = std::memchr(start, '\n', end_ - pos_);
      if (nl) {
        std::size_t len = static_cast<const char*>(nl) - start;
        pos_ += len + 1;
        if (len && start[len - 1] == '\r') --len;
        line = {start, len};
        ++line_no_;
        return true;
      }
    }
    if (!fill()) {
      // Last line without a trailing '\n'.
      if (pos_ < end_ && status_.ok()) {
        const char* start = buf_.get() + pos_;
        std::size_t len = end_ - pos_;
        pos_ = end_;
        if (len && start[len - 1] == '\r') --len;
        line = {start, len};
        ++line_no_;
        return true;
      }
      return false;
    }
  }
}

}  // namespace tickrt::feed
