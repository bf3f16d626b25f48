// infer/npy.hpp — NumPy .npy (version 1.0/2.0, little-endian, C order) read/write for the CLI and tests.
// Setup path. Errors name the file and what is wrong (dtype, fortran order, truncated data).
#pragma once

#include <string>

#include "core/status.hpp"
#include "infer/ir/tensor.hpp"

namespace tickrt::infer {

Result<TensorData> read_npy(const std::string& path);
Status write_npy(const std::string& path, DType t, const Dims& dims, const void* data);

// The golden-input generator of tools/models/README.md: splitmix64 -> float in [-1, 1), row-major.
void fill_golden_input(std::uint64_t seed, float* out, std::size_t n);

}  // namespace tickrt::infer
