// feed/capture_reader.hpp — streaming reader of capture files, one line at a time.
//
// Who calls: the replay (book/replay.hpp) and tools, on one thread, one file at a time.
// open() is the setup path (Status naming the file); next() is the hot path: it returns a view of
// the next line (without '\n' or '\r'), valid until the next call, and never allocates in steady
// state. Gzip files (magic 1f 8b, also several concatenated members) are inflated with zlib in
// large chunks (kInChunk compressed -> kOutChunk plain) and split with memchr; plain text files
// are read as they are (tests keep hand-made lines uncompressed). A line longer than the buffer
// grows it (rare: the REST snapshot is ~64 KB, the buffer starts at 4 MiB); lines are capped at
// kMaxLine, beyond which the reader fails with a Status.
// Counters: bytes read from disk, bytes inflated, and the ns spent inside zlib (so a replay can
// report parse+book throughput apart from gunzip).
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.hpp"

namespace tickrt::feed {

class CaptureReader {
 public:
  static constexpr std::size_t kInChunk = 1u << 20;    // compressed bytes per read()
  static constexpr std::size_t kOutChunk = 4u << 20;   // initial plain-text window
  static constexpr std::size_t kMaxLine = 256u << 20;

  CaptureReader();
  ~CaptureReader();
  CaptureReader(const CaptureReader&) = delete;
  CaptureReader& operator=(const CaptureReader&) = delete;

  // Opens `path` (closing any previous file); resets line numbering and counters.
  Status open(const std::string& path);
  void close() noexcept;

  // Next line into `line`; false at end of file or on error (then status() says which).
  [[nodiscard]] bool next(std::string_view& line) noexcept;

  // 1-based number of the line last returned by next().
  std::uint64_t line_number() const noexcept { return line_no_; }
  const std::string& path() const noexcept { return path_; }
  // ok at a clean end of file; the I/O or zlib error otherwise.
  const Status& status() const noexcept { return status_; }
  bool gzip() const noexcept { return gzip_; }
  std::uint64_t file_bytes() const noexcept { return file_bytes_; }
  std::uint64_t plain_bytes() const noexcept { return plain_bytes_; }
  std::int64_t inflate_ns() const noexcept { return inflate_ns_; }

 private:
  // Appends more plain text after buf_[end_]; false when nothing more can come.
  bool fill() noexcept;
  void fail(Code code, std::string msg) noexcept;

  std::FILE* f_ = nullptr;
  std::string path_;
  Status status_;
  bool gzip_ = false;
  bool eof_in_ = false;    // compressed input exhausted
  bool done_ = false;      // no more plain text
  bool z_init_ = false;
  bool member_open_ = false;  // inside a gzip member (its end not seen yet)
  z_stream z_{};
  std::unique_ptr<unsigned char[]> in_;
  std::unique_ptr<char[]> buf_;
  std::size_t buf_cap_ = 0;
  std::size_t pos_ = 0;    // start of the next line in buf_
  std::size_t end_ = 0;    // end of valid plain text in buf_
  std::uint64_t line_no_ = 0;
  std::uint64_t file_bytes_ = 0;
  std::uint64_t plain_bytes_ = 0;
  std::int64_t inflate_ns_ = 0;
};

}  // namespace tickrt::feed
