#include "infer/format/engine_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "infer/engine.hpp"

namespace tickrt::infer {

std::uint32_t crc32c(const void* data, std::size_t n, std::uint32_t crc) {
  // Slice-by-8 tables for the Castagnoli polynomial (reflected 0x82F63B78), built once.
  static const auto tables = [] {
    std::array<std::array<std::uint32_t, 256>, 8> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
      t[0][i] = c;
    }
    for (std::uint32_t i = 0; i < 256; ++i)
      for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
    return t;
  }();
  const auto* p = static_cast<const unsigned char*>(data);
  crc = ~crc;
  while (n >= 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    v ^= crc;
    crc = tables[7][v & 0xff] ^ tables[6][(v >> 8) & 0xff] ^ tables[5][(v >> 16) & 0xff] ^ tables[4][(v >> 24) & 0xff] ^
          tables[3][(v >> 32) & 0xff] ^ tables[2][(v >> 40) & 0xff] ^ tables[1][(v >> 48) & 0xff] ^ tables[0][v >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) crc = (crc >> 8) ^ tables[0][(crc ^ *p++) & 0xff];
  return ~crc;
}

namespace {

struct Header {
  char magic[8];
  std::uint32_t format_version;
  std::uint32_t isa;
  std::uint32_t kernel_layout;
  std::uint32_t reserved0;
  std::uint64_t meta_offset, meta_size, data_offset, data_size;
  std::uint32_t body_crc;
  std::uint32_t header_crc;   // over the bytes before this field
};
static_assert(sizeof(Header) == 64, "the header is one cache line, as written on disk");

std::size_t align64(std::size_t n) { return (n + 63) / 64 * 64; }

// ---- writer ----
struct Writer {
  std::string meta;
  std::string data;
  void u8(std::uint8_t v) { meta.push_back(static_cast<char>(v)); }
  void u32(std::uint32_t v) { meta.append(reinterpret_cast<const char*>(&v), 4); }
  void i64(std::int64_t v) { meta.append(reinterpret_cast<const char*>(&v), 8); }
  void f32(float v) { meta.append(reinterpret_cast<const char*>(&v), 4); }
  void str(const std::string& s) { u32(static_cast<std::uint32_t>(s.size())); meta += s; }
  void dims(const Dims& d) { u32(static_cast<std::uint32_t>(d.size())); for (auto x : d) i64(x); }
  void tensor(const TensorData& t) {
    u8(static_cast<std::uint8_t>(t.dtype));
    dims(t.dims);
    data.resize(align64(data.size()));
    i64(static_cast<std::int64_t>(data.size()));
    i64(static_cast<std::int64_t>(t.nbytes));
    data.append(reinterpret_cast<const char*>(t.bytes), t.nbytes);
  }
  void attr(const Attr& a) {
    u8(static_cast<std::uint8_t>(a.kind));
    switch (a.kind) {
      case Attr::Kind::f: f32(a.f); break;
      case Attr::Kind::i: i64(a.i); break;
      case Attr::Kind::s: str(a.s); break;
      case Attr::Kind::fs: u32(static_cast<std::uint32_t>(a.fs.size())); for (float v : a.fs) f32(v); break;
      case Attr::Kind::is: u32(static_cast<std::uint32_t>(a.is.size())); for (auto v : a.is) i64(v); break;
      case Attr::Kind::ss: u32(static_cast<std::uint32_t>(a.ss.size())); for (auto& v : a.ss) str(v); break;
      case Attr::Kind::t: tensor(*a.t); break;
    }
  }
};

// ---- reader (bounds-checked: a corrupt file yields an error, never a crash) ----
struct Reader {
  const std::byte* p;
  std::size_t n, pos = 0;
  const std::byte* data;
  std::size_t data_size;
  std::shared_ptr<const void> keep;
  bool bad = false;
  bool take(void* out, std::size_t k) {
    if (bad || pos + k > n) { bad = true; return false; }
    std::memcpy(out, p + pos, k);
    pos += k;
    return true;
  }
  std::uint8_t u8() { std::uint8_t v = 0; take(&v, 1); return v; }
  std::uint32_t u32() { std::uint32_t v = 0; take(&v, 4); return v; }
  std::int64_t i64() { std::int64_t v = 0; take(&v, 8); return v; }
  float f32() { float v = 0; take(&v, 4); return v; }
  std::uint32_t count(std::size_t elem_min) {
    const std::uint32_t c = u32();
    if (static_cast<std::size_t>(c) * elem_min > n - std::min(n, pos)) { bad = true; return 0; }
    return c;
  }
  std::string str() {
    const std::uint32_t len = count(1);
    std::string s(len, '\0');
    take(s.data(), len);
    return s;
  }
  Dims dims() {
    Dims d(count(8));
    for (auto& x : d) x = i64();
    return d;
  }
  TensorData tensor() {
    TensorData t;
    t.dtype = static_cast<DType>(u8());
    t.dims = dims();
    const std::int64_t off = i64(), nbytes = i64();
    if (bad || off < 0 || nbytes < 0 || static_cast<std::size_t>(off) + static_cast<std::size_t>(nbytes) > data_size || off % 64 ||
        static_cast<std::size_t>(numel(t.dims)) * dtype_size(t.dtype) != static_cast<std::size_t>(nbytes)) {
      bad = true;
      return t;
    }
    t.bytes = data + off;
    t.nbytes = static_cast<std::size_t>(nbytes);
    t.keepalive = keep;
    return t;
  }
  Attr attr() {
    Attr a;
    a.kind = static_cast<Attr::Kind>(u8());
    switch (a.kind) {
      case Attr::Kind::f: a.f = f32(); break;
      case Attr::Kind::i: a.i = i64(); break;
      case Attr::Kind::s: a.s = str(); break;
      case Attr::Kind::fs: { a.fs.resize(count(4)); for (auto& v : a.fs) v = f32(); break; }
      case Attr::Kind::is: { a.is.resize(count(8)); for (auto& v : a.is) v = i64(); break; }
      case Attr::Kind::ss: { a.ss.resize(count(4)); for (auto& v : a.ss) v = str(); break; }
      case Attr::Kind::t: a.t = tensor(); break;
      default: bad = true;
    }
    return a;
  }
};

struct Mapping {
  void* addr = nullptr;
  std::size_t size = 0;
  ~Mapping() { if (addr) munmap(addr, size); }
};

}  // namespace

Status Engine::save(const std::string& path) const {
  Writer w;
  const Graph& g = graph_;
  w.str(g.name);
  w.i64(g.opset);
  w.i64(profile_.min); w.i64(profile_.opt); w.i64(profile_.max);
  w.i64(static_cast<std::int64_t>(workspace_limit_));
  w.u32(static_cast<std::uint32_t>(g.metadata.size()));
  for (auto& [k, v] : g.metadata) { w.str(k); w.str(v); }
  w.u32(static_cast<std::uint32_t>(g.values.size()));
  for (const Value& v : g.values) {
    w.str(v.name);
    w.u8(static_cast<std::uint8_t>(v.dtype));
    w.u8(v.has_shape);
    w.dims(v.shape);
    w.u8(v.constant.has_value());
    if (v.constant) w.tensor(*v.constant);
  }
  w.u32(static_cast<std::uint32_t>(g.nodes.size()));
  for (const Node& n : g.nodes) {
    w.str(n.name); w.str(n.op); w.str(n.domain);
    w.u32(static_cast<std::uint32_t>(n.inputs.size()));
    for (int v : n.inputs) w.i64(v);
    w.u32(static_cast<std::uint32_t>(n.outputs.size()));
    for (int v : n.outputs) w.i64(v);
    w.u32(static_cast<std::uint32_t>(n.attrs.size()));
    for (auto& [k, a] : n.attrs) { w.str(k); w.attr(a); }
  }
  w.u32(static_cast<std::uint32_t>(g.inputs.size()));
  for (int v : g.inputs) w.i64(v);
  w.u32(static_cast<std::uint32_t>(g.outputs.size()));
  for (int v : g.outputs) w.i64(v);

  Header h{};
  std::memcpy(h.magic, kEngineMagic, 8);
  h.format_version = kEngineFormatVersion;
  h.isa = static_cast<std::uint32_t>(isa_);
  h.kernel_layout = kKernelLayoutVersion;
  h.meta_offset = sizeof(Header);
  h.meta_size = w.meta.size();
  h.data_offset = align64(h.meta_offset + h.meta_size);
  h.data_size = w.data.size();
  std::uint32_t crc = crc32c(w.meta.data(), w.meta.size());
  h.body_crc = crc32c(w.data.data(), w.data.size(), crc);
  h.header_crc = crc32c(&h, offsetof(Header, header_crc));
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return Status(Code::io_error, "cannot write '" + tmp + "'");
    f.write(reinterpret_cast<const char*>(&h), sizeof h);
    f.write(w.meta.data(), static_cast<std::streamsize>(w.meta.size()));
    std::string pad(h.data_offset - h.meta_offset - h.meta_size, '\0');
    f.write(pad.data(), static_cast<std::streamsize>(pad.size()));
    f.write(w.data.data(), static_cast<std::streamsize>(w.data.size()));
    if (!f) return Status(Code::io_error, "writing '" + tmp + "' failed (disk full?)");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)   // atomic replace: a hot-swapping reader never sees half a file
    return Status(Code::io_error, "cannot rename '" + tmp + "' to '" + path + "': " + std::strerror(errno));
  return Status::Ok();
}

Result<std::shared_ptr<Engine>> Engine::load(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status(Code::not_found, "cannot open engine '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) { ::close(fd); return Status(Code::io_error, "cannot stat '" + path + "'"); }
  const std::size_t size = static_cast<std::size_t>(st.st_size);
  if (size < sizeof(Header)) { ::close(fd); return Status(Code::corrupt, path + ": truncated (" + std::to_string(size) + " bytes, no header)"); }
  auto map = std::make_shared<Mapping>();
  map->addr = mmap(nullptr, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  ::close(fd);
  if (map->addr == MAP_FAILED) { map->addr = nullptr; return Status(Code::io_error, "cannot mmap '" + path + "'"); }
  map->size = size;
  const auto* base = static_cast<const std::byte*>(map->addr);
  Header h;
  std::memcpy(&h, base, sizeof h);
  if (std::memcmp(h.magic, kEngineMagic, 8) != 0) return Status(Code::corrupt, path + ": not a tickrt engine file (bad magic)");
  if (crc32c(&h, offsetof(Header, header_crc)) != h.header_crc) return Status(Code::corrupt, path + ": header checksum mismatch (corrupt file)");
  if (h.format_version != kEngineFormatVersion)
    return Status(Code::unsupported, path + ": engine format version " + std::to_string(h.format_version) + ", this tickrt reads version " +
                                         std::to_string(kEngineFormatVersion) + ": rebuild it with `tickrt build`");
  if (h.kernel_layout != kKernelLayoutVersion)
    return Status(Code::unsupported, path + ": packed-weight layout version " + std::to_string(h.kernel_layout) + " differs from this tickrt's " +
                                         std::to_string(kKernelLayoutVersion) + ": rebuild it with `tickrt build`");
  const auto isa = static_cast<cpu::Isa>(h.isa);
  if (h.isa > static_cast<std::uint32_t>(cpu::Isa::avx512)) return Status(Code::corrupt, path + ": unknown ISA id " + std::to_string(h.isa));
  if (isa > cpu::detect_isa())
    return Status(Code::unsupported, path + ": built for " + cpu::isa_name(isa) + " but this CPU runs " + cpu::isa_name(cpu::detect_isa()) +
                                         ": rebuild the engine on this machine (or with --isa)");
  if (h.meta_offset != sizeof(Header) || h.meta_offset + h.meta_size > size || h.data_offset < h.meta_offset + h.meta_size ||
      h.data_offset % 64 || h.data_offset + h.data_size > size)
    return Status(Code::corrupt, path + ": truncated or inconsistent sections (file is " + std::to_string(size) + " bytes)");
  std::uint32_t crc = crc32c(base + h.meta_offset, h.meta_size);
  crc = crc32c(base + h.data_offset, h.data_size, crc);
  if (crc != h.body_crc) return Status(Code::corrupt, path + ": checksum mismatch (the file is corrupt or was modified)");

  Reader r{base + h.meta_offset, h.meta_size, 0, base + h.data_offset, h.data_size, map};
  Graph g;
  g.name = r.str();
  g.opset = r.i64();
  BatchProfile prof;
  prof.min = r.i64(); prof.opt = r.i64(); prof.max = r.i64();
  const auto ws = static_cast<std::size_t>(r.i64());
  for (std::uint32_t i = 0, n = r.count(8); i < n && !r.bad; ++i) {
    std::string k = r.str();
    g.metadata[k] = r.str();
  }
  const std::uint32_t nv = r.count(8);
  g.values.resize(nv);
  for (auto& v : g.values) {
    if (r.bad) break;
    v.name = r.str();
    v.dtype = static_cast<DType>(r.u8());
    v.has_shape = r.u8() != 0;
    v.shape = r.dims();
    if (r.u8()) v.constant = r.tensor();
  }
  auto ids = [&](std::vector<int>& out) {
    out.resize(r.count(8));
    for (auto& x : out) {
      const std::int64_t v = r.i64();
      if (v < -1 || v >= static_cast<std::int64_t>(nv)) r.bad = true;
      x = static_cast<int>(v);
    }
  };
  const std::uint32_t nn = r.count(16);
  g.nodes.resize(nn);
  for (auto& n : g.nodes) {
    if (r.bad) break;
    n.name = r.str(); n.op = r.str(); n.domain = r.str();
    ids(n.inputs);
    ids(n.outputs);
    for (std::uint32_t i = 0, na = r.count(5); i < na && !r.bad; ++i) {
      std::string k = r.str();
      n.attrs[k] = r.attr();
    }
  }
  ids(g.inputs);
  ids(g.outputs);
  if (r.bad || r.pos != r.n) return Status(Code::corrupt, path + ": graph section is malformed");
  for (int v : g.inputs) if (v < 0) return Status(Code::corrupt, path + ": bad graph input id");
  for (int v : g.outputs) if (v < 0) return Status(Code::corrupt, path + ": bad graph output id");
  for (std::size_t i = 0; i < g.nodes.size(); ++i)
    for (int o : g.nodes[i].outputs) if (o >= 0) g.values[o].producer = static_cast<int>(i);
  if (auto vs = g.validate(); !vs.ok()) return vs.with_context(path);
  if (auto cs = check_supported(g); !cs.ok()) return cs.with_context(path);
  return std::make_shared<Engine>(std::move(g), isa, prof, ws);
}

}  // namespace tickrt::infer
