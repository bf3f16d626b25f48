// infer/ir/tensor.hpp — element types, shapes and constant tensor data of the engine's IR.
//
// DType values are ONNX TensorProto.DataType codes so import and conformance need no table.
// TensorData holds a constant (initializer, folded value, packed weights): its bytes are either owned
// (a vector, 64-byte aligned storage) or borrowed from an mmapped engine file (zero copy).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace tickrt::infer {

enum class DType : std::uint8_t {
  undefined = 0, f32 = 1, u8 = 2, i8 = 3, u16 = 4, i16 = 5, i32 = 6, i64 = 7, string = 8, boolean = 9,
  f16 = 10, f64 = 11, u32 = 12, u64 = 13, bf16 = 16,
};

constexpr std::size_t dtype_size(DType t) noexcept {
  switch (t) {
    case DType::f32: case DType::i32: case DType::u32: return 4;
    case DType::u8: case DType::i8: case DType::boolean: return 1;
    case DType::u16: case DType::i16: case DType::f16: case DType::bf16: return 2;
    case DType::i64: case DType::f64: case DType::u64: return 8;
    default: return 0;
  }
}
const char* dtype_name(DType t) noexcept;
// Types the CPU backend computes with; others (string, f16 arithmetic...) are refused with a clear error.
constexpr bool dtype_supported(DType t) noexcept {
  return t == DType::f32 || t == DType::i64 || t == DType::i32 || t == DType::boolean || t == DType::u8 ||
         t == DType::i8 || t == DType::f64 || t == DType::f16 || t == DType::i16 || t == DType::u16 ||
         t == DType::u32 || t == DType::u64;
}

using Dims = std::vector<std::int64_t>;
// A dimension < 0 in a symbolic shape is unknown (dynamic batch = -1).
inline std::int64_t numel(const Dims& d) {
  std::int64_t n = 1;
  for (auto x : d) n *= x;
  return n;
}
std::string dims_str(const Dims& d);

// 64-byte aligned owned byte buffer (for AVX-512 loads of packed weights).
struct AlignedBytes {
  struct Free { void operator()(std::byte* p) const noexcept; };
  std::unique_ptr<std::byte[], Free> ptr;
  std::size_t size = 0;
  static AlignedBytes allocate(std::size_t n);  // zero-filled
};

struct TensorData {
  DType dtype = DType::f32;
  Dims dims;
  std::shared_ptr<const void> keepalive;   // owner of the bytes (AlignedBytes or an mmapped file)
  const std::byte* bytes = nullptr;
  std::size_t nbytes = 0;

  static TensorData make(DType t, Dims dims);                // zero-filled, owned, aligned
  static TensorData from_bytes(DType t, Dims dims, const void* src, std::size_t n);
  std::byte* mutable_bytes() const { return const_cast<std::byte*>(bytes); }  // only while building
  template <class T> const T* as() const { return reinterpret_cast<const T*>(bytes); }
  template <class T> T* as_mut() const { return reinterpret_cast<T*>(mutable_bytes()); }
  std::int64_t count() const { return numel(dims); }
  // Integer view of an i32/i64 tensor (shape ops take both).
  std::vector<std::int64_t> to_i64() const;
  std::vector<float> to_f32() const;
};

}  // namespace tickrt::infer
