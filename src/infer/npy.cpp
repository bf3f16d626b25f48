#include "infer/npy.hpp"

#include <fstream>
#include <sstream>

namespace tickrt::infer {
namespace {

bool descr_dtype(const std::string& d, DType& t) {
  static const std::pair<const char*, DType> table[] = {
      {"<f4", DType::f32}, {"<f8", DType::f64}, {"<i8", DType::i64}, {"<i4", DType::i32}, {"<i2", DType::i16}, {"|i1", DType::i8},
      {"|u1", DType::u8}, {"<u2", DType::u16}, {"<u4", DType::u32}, {"<u8", DType::u64}, {"|b1", DType::boolean}, {"<f2", DType::f16}};
  for (auto& [s, dt] : table)
    if (d == s) { t = dt; return true; }
  return false;
}
const char* dtype_descr(DType t) {
  switch (t) {
    case DType::f32: return "<f4"; case DType::f64: return "<f8"; case DType::i64: return "<i8"; case DType::i32: return "<i4";
    case DType::i16: return "<i2"; case DType::i8: return "|i1"; case DType::u8: return "|u1"; case DType::u16: return "<u2";
    case DType::u32: return "<u4"; case DType::u64: return "<u8"; case DType::boolean: return "|b1"; case DType::f16: return "<f2";
    default: return nullptr;
  }
}

}  // namespace

Result<TensorData> read_npy(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status(Code::not_found, "cannot open '" + path + "'");
  char magic[8];
  if (!f.read(magic, 8) || std::string(magic, 6) != "\x93NUMPY")
    return Status(Code::parse_error, path + ": not a .npy file (bad magic)");
  std::uint32_t hlen = 0;
  if (magic[6] == 1) {
    unsigned char b[2];
    if (!f.read(reinterpret_cast<char*>(b), 2)) return Status(Code::parse_error, path + ": truncated header");
    hlen = b[0] | (b[1] << 8);
  } else if (magic[6] == 2 || magic[6] == 3) {
    unsigned char b[4];
    if (!f.read(reinterpret_cast<char*>(b), 4)) return Status(Code::parse_error, path + ": truncated header");
    hlen = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
  } else {
    return Status(Code::unsupported, path + ": .npy version " + std::to_string(int(magic[6])) + " not supported");
  }
  if (hlen > (1u << 20)) return Status(Code::parse_error, path + ": header too long");
  std::string h(hlen, '\0');
  if (!f.read(h.data(), hlen)) return Status(Code::parse_error, path + ": truncated header");
  auto field = [&](const std::string& key) -> std::string {
    auto p = h.find("'" + key + "'");
    if (p == std::string::npos) return {};
    p = h.find(':', p);
    if (p == std::string::npos) return {};
    ++p;
    while (p < h.size() && h[p] == ' ') ++p;
    if (h[p] == '\'') {
      auto e = h.find('\'', p + 1);
      return e == std::string::npos ? std::string() : h.substr(p + 1, e - p - 1);
    }
    if (h[p] == '(') {
      auto e = h.find(')', p);
      return e == std::string::npos ? std::string() : h.substr(p + 1, e - p - 1);
    }
    auto e = h.find_first_of(",}", p);
    return h.substr(p, e - p);
  };
  DType t;
  const std::string descr = field("descr");
  if (!descr_dtype(descr, t)) return Status(Code::unsupported, path + ": dtype '" + descr + "' not supported (little-endian numeric only)");
  if (field("fortran_order").find("True") != std::string::npos)
    return Status(Code::unsupported, path + ": Fortran-ordered arrays are not supported (use np.ascontiguousarray)");
  Dims dims;
  std::stringstream ss(field("shape"));
  std::string tok;
  while (std::getline(ss, tok, ',')) {
    if (tok.find_first_not_of(' ') == std::string::npos) continue;
    try {
      const long long d = std::stoll(tok);
      if (d < 0) return Status(Code::parse_error, path + ": negative dimension");
      dims.push_back(d);
    } catch (...) {
      return Status(Code::parse_error, path + ": bad shape '" + field("shape") + "'");
    }
  }
  TensorData out = TensorData::make(t, dims);
  if (out.nbytes && !f.read(reinterpret_cast<char*>(out.mutable_bytes()), static_cast<std::streamsize>(out.nbytes)))
    return Status(Code::parse_error, path + ": data truncated (expected " + std::to_string(out.nbytes) + " bytes for " + dims_str(dims) + ")");
  return out;
}

Status write_npy(const std::string& path, DType t, const Dims& dims, const void* data) {
  const char* d = dtype_descr(t);
  if (!d) return Status(Code::unsupported, std::string("cannot write dtype ") + dtype_name(t) + " to .npy");
  std::string shape;
  for (auto x : dims) shape += std::to_string(x) + ",";
  if (dims.size() > 1) shape.pop_back();
  std::string h = std::string("{'descr': '") + d + "', 'fortran_order': False, 'shape': (" + shape + "), }";
  while ((10 + h.size() + 1) % 64) h.push_back(' ');
  h.push_back('\n');
  std::ofstream f(path, std::ios::binary);
  if (!f) return Status(Code::io_error, "cannot write '" + path + "'");
  const unsigned char hdr[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, static_cast<unsigned char>(h.size() & 0xff),
                                 static_cast<unsigned char>(h.size() >> 8)};
  f.write(reinterpret_cast<const char*>(hdr), 10);
  f.write(h.data(), static_cast<std::streamsize>(h.size()));
  f.write(static_cast<const char*>(data), static_cast<std::streamsize>(numel(dims) * dtype_size(t)));
  if (!f) return Status(Code::io_error, "writing '" + path + "' failed");
  return Status::Ok();
}

void fill_golden_input(std::uint64_t seed, float* out, std::size_t n) {
  std::uint64_t s = seed;
  for (std::size_t i = 0; i < n; ++i) {
    s += 0x9E3779B97F4A7C15ull;
    std::uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    out[i] = static_cast<float>(static_cast<double>(z >> 40) * 0x1p-24 * 2.0 - 1.0);
  }
}

}  // namespace tickrt::infer
