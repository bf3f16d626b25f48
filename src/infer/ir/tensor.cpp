#include "infer/ir/tensor.hpp"

#include <cstdlib>
#include <new>

namespace tickrt::infer {

const char* dtype_name(DType t) noexcept {
  switch (t) {
    case DType::f32: return "float32"; case DType::u8: return "uint8"; case DType::i8: return "int8";
    case DType::u16: return "uint16"; case DType::i16: return "int16"; case DType::i32: return "int32";
    case DType::i64: return "int64"; case DType::string: return "string"; case DType::boolean: return "bool";
    case DType::f16: return "float16"; case DType::f64: return "float64"; case DType::u32: return "uint32";
    case DType::u64: return "uint64"; case DType::bf16: return "bfloat16"; default: return "undefined";
  }
}

std::string dims_str(const Dims& d) {
  std::string s = "[";
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (i) s += ",";
    s += d[i] < 0 ? std::string("?") : std::to_string(d[i]);
  }
  return s + "]";
}

void AlignedBytes::Free::operator()(std::byte* p) const noexcept { std::free(p); }

AlignedBytes AlignedBytes::allocate(std::size_t n) {
  AlignedBytes a;
  const std::size_t rounded = ((n + 63) / 64) * 64 + 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, rounded);
  a.ptr.reset(static_cast<std::byte*>(p));
  a.size = n;
  return a;
}

TensorData TensorData::make(DType t, Dims dims) {
  TensorData d;
  d.dtype = t;
  d.dims = std::move(dims);
  d.nbytes = static_cast<std::size_t>(numel(d.dims)) * dtype_size(t);
  auto owned = std::make_shared<AlignedBytes>(AlignedBytes::allocate(d.nbytes));
  d.bytes = owned->ptr.get();
  d.keepalive = owned;
  return d;
}

TensorData TensorData::from_bytes(DType t, Dims dims, const void* src, std::size_t n) {
  TensorData d = make(t, std::move(dims));
  if (n) std::memcpy(d.mutable_bytes(), src, n < d.nbytes ? n : d.nbytes);
  return d;
}

std::vector<std::int64_t> TensorData::to_i64() const {
  std::vector<std::int64_t> v(static_cast<std::size_t>(count()));
  for (std::size_t i = 0; i < v.size(); ++i) {
    switch (dtype) {
      case DType::i64: v[i] = as<std::int64_t>()[i]; break;
      case DType::i32: v[i] = as<std::int32_t>()[i]; break;
      case DType::f32: v[i] = static_cast<std::int64_t>(as<float>()[i]); break;
      case DType::boolean: case DType::u8: v[i] = as<std::uint8_t>()[i]; break;
      default: v[i] = 0;
    }
  }
  return v;
}

std::vector<float> TensorData::to_f32() const {
  std::vector<float> v(static_cast<std::size_t>(count()));
  for (std::size_t i = 0; i < v.size(); ++i) {
    switch (dtype) {
      case DType::f32: v[i] = as<float>()[i]; break;
      case DType::f64: v[i] = static_cast<float>(as<double>()[i]); break;
      case DType::i64: v[i] = static_cast<float>(as<std::int64_t>()[i]); break;
      case DType::i32: v[i] = static_cast<float>(as<std::int32_t>()[i]); break;
      default: v[i] = 0;
    }
  }
  return v;
}

}  // namespace tickrt::infer
