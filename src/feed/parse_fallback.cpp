// The JSON walk for any x86-64 (simdjson's portable "fallback" kernel). Compiled with the
// project's default flags; used when the CPU lacks what parse_haswell.cpp needs.
#define TICKRT_FEED_ISA_NS fallback
#include "feed/parse_impl.inl"
