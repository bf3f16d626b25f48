// infer/format/engine_file.hpp — the serialized engine (".engine") format.
//
//   [header 64 B] [meta: graph structure, little-endian] [pad to 64] [data: constants, each 64-B aligned]
//   header: magic "TICKRTEN", format version, ISA, kernel-layout version, meta/data offsets and sizes,
//           CRC32C of meta+data, CRC32C of the header itself.
// Constants (initializers, folded values, pre-packed weights) are stored verbatim and used in place after
// mmap (MAP_PRIVATE, read-only): no parsing or copying of weights at load. The fingerprint (ISA + kernel
// layout version) must match what this binary and CPU run, else the file is refused with a message saying
// to rebuild; a wrong magic, a truncated file or a CRC mismatch is refused as corrupt.
#pragma once

#include <cstdint>

namespace tickrt::infer {

inline constexpr char kEngineMagic[8] = {'T', 'I', 'C', 'K', 'R', 'T', 'E', 'N'};
inline constexpr std::uint32_t kEngineFormatVersion = 1;
// Bumped whenever a packed weight layout in infer/cpu changes.
inline constexpr std::uint32_t kKernelLayoutVersion = 1;

std::uint32_t crc32c(const void* data, std::size_t n, std::uint32_t crc = 0);

}  // namespace tickrt::infer
