// feed/isa_entry.hpp — private: entry points of the per-ISA JSON walkers (parse_<isa>.cpp).
#pragma once

#include "feed/line_parser.hpp"

#define TICKRT_FEED_DECLARE_ISA(ns)                                                              \
  namespace tickrt::feed::detail::ns {                                                           \
  void* create_parser() noexcept;                                                                \
  void destroy_parser(void* p) noexcept;                                                         \
  LineError walk_line(void* p, Scratch& s, Event& ev, RawMessage& raw) noexcept;                 \
  }

TICKRT_FEED_DECLARE_ISA(fallback)
TICKRT_FEED_DECLARE_ISA(haswell)
