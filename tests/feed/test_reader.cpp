// CaptureReader: gzip (single and concatenated members), plain text, CRLF, missing final newline,
// lines longer than the initial window, truncated/corrupt gzip, missing file.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "feed/capture_reader.hpp"

using namespace tickrt;
using namespace tickrt::feed;
namespace fs = std::filesystem;

namespace {

std::string tmp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("tickrt_test_feed_" + std::to_string(::getpid()) + "_" + name)).string();
}

std::string gz_bytes(const std::string& text) {
  const std::string p = tmp_path("gz_tmp.gz");
  gzFile g = gzopen(p.c_str(), "wb");
  gzwrite(g, text.data(), static_cast<unsigned>(text.size()));
  gzclose(g);
  std::ifstream f(p, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), {});
  fs::remove(p);
  return bytes;
}

void write_file(const std::string& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary);
  f << bytes;
}

std::vector<std::string> read_all(const std::string& p, Status* st = nullptr) {
  CaptureReader r;
  std::vector<std::string> out;
  Status o = r.open(p);
  if (!o.ok()) { if (st) *st = o; return out; }
  std::string_view l;
  while (r.next(l)) {
    out.emplace_back(l);
    EXPECT_EQ(r.line_number(), out.size());
  }
  if (st) *st = r.status();
  return out;
}

TEST(Reader, BundledCaptureLineCount) {
  // PROVENANCE.md: spot/btcusdt_20240808.gz has 41,249 lines.
  Status st;
  const auto lines = read_all("data/captures/spot_btcusdt_20240808.gz", &st);
  ASSERT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(lines.size(), 41249u);
  EXPECT_EQ(lines.front().substr(0, 20), "1723161253937085768 ");
}

TEST(Reader, PlainAndGzipAgree) {
  const std::string text = "a 1\nbb 22\r\n\nccc 333";  // CRLF, empty line, no final newline
  const std::string plain = tmp_path("plain.txt"), gz = tmp_path("x.gz");
  write_file(plain, text);
  write_file(gz, gz_bytes(text));
  const std::vector<std::string> want = {"a 1", "bb 22", "", "ccc 333"};
  EXPECT_EQ(read_all(plain), want);
  EXPECT_EQ(read_all(gz), want);
  fs::remove(plain);
  fs::remove(gz);
}

TEST(Reader, ConcatenatedGzipMembers) {
  const std::string gz = tmp_path("cat.gz");
  write_file(gz, gz_bytes("one\ntwo\n") + gz_bytes("three\n"));
  EXPECT_EQ(read_all(gz), (std::vector<std::string>{"one", "two", "three"}));
  fs::remove(gz);
}

TEST(Reader, LinesLongerThanTheWindow) {
  std::string text;
  const std::string big(CaptureReader::kOutChunk + 12345, 'x');  // longer than the initial buffer
  text += "short\n" + big + "\nend\n";
  const std::string gz = tmp_path("long.gz");
  write_file(gz, gz_bytes(text));
  const auto lines = read_all(gz);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].size(), big.size());
  EXPECT_EQ(lines[2], "end");
  fs::remove(gz);
}

TEST(Reader, ManyLinesAcrossChunkBoundaries) {
  std::string text;
  for (int i = 0; i < 400000; ++i) text += std::to_string(i) + " payload-" + std::to_string(i * 7) + "\n";
  const std::string gz = tmp_path("many.gz");
  write_file(gz, gz_bytes(text));
  const auto lines = read_all(gz);
  ASSERT_EQ(lines.size(), 400000u);
  for (int i = 0; i < 400000; i += 9973) EXPECT_EQ(lines[i], std::to_string(i) + " payload-" + std::to_string(i * 7));
  fs::remove(gz);
}

TEST(Reader, TruncatedGzipIsAnError) {
  std::string bytes = gz_bytes(std::string(100000, 'y') + "\n");
  bytes.resize(bytes.size() / 2);
  const std::string gz = tmp_path("trunc.gz");
  write_file(gz, bytes);
  Status st;
  read_all(gz, &st);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Code::corrupt);
  EXPECT_NE(st.message().find(gz), std::string::npos) << st.message();  // names the file
  fs::remove(gz);
}

TEST(Reader, CorruptGzipIsAnError) {
  std::string bytes = gz_bytes("hello\nworld\n");
  for (std::size_t i = 10; i < bytes.size() - 8; ++i) bytes[i] = static_cast<char>(bytes[i] ^ 0x5a);
  const std::string gz = tmp_path("corrupt.gz");
  write_file(gz, bytes);
  Status st;
  read_all(gz, &st);
  EXPECT_FALSE(st.ok());
  fs::remove(gz);
}

TEST(Reader, MissingFile) {
  CaptureReader r;
  Status st = r.open("/nonexistent/dir/capture.gz");
  EXPECT_EQ(st.code(), Code::not_found);
  EXPECT_NE(st.message().find("/nonexistent/dir/capture.gz"), std::string::npos);
}

}  // namespace
