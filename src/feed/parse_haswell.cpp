// The JSON walk for CPUs with AVX2/BMI1/PCLMUL/LZCNT (simdjson's "haswell" kernel). Compiled
// with those flags only (see CMakeLists.txt); chosen at run time by LineParser's constructor.
#define TICKRT_FEED_ISA_NS haswell
#include "feed/parse_impl.inl"
