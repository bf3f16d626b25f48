// tests/infer_stream/stream_fixture.hpp — a streaming model built and its StreamContext made, as the
// stream tests (test_stream, test_exactness, test_stream_ring) all need it. Each step that fails is a
// test failure naming why, and a nullptr (never a dereferenced error).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

#include "infer/engine.hpp"
#include "infer/onnx/onnx_import.hpp"
#include "infer/stream.hpp"

namespace tickrt::infer::testing {

// The StreamContext of `e` with `slots` streams stepped up to `max_batch` at a time.
inline std::unique_ptr<StreamContext> stream_context(const std::shared_ptr<const Engine>& e, int slots, int max_batch) {
  if (!e) return nullptr;
  auto spec = parse_stream_spec(e->graph());
  EXPECT_TRUE(spec.ok()) << spec.status().to_string();
  if (!spec.ok()) return nullptr;
  auto sc = StreamContext::create(e, *spec, {slots, max_batch});
  EXPECT_TRUE(sc.ok()) << sc.status().to_string();
  return sc.ok() ? std::move(*sc) : nullptr;
}

// An ONNX stream model built for batches up to max(2, max_batch); `expose`: an internal value made a
// graph output first (as calibration does).
inline std::shared_ptr<const Engine> build_stream_model(const char* path, int max_batch, const char* expose = nullptr) {
  auto g = import_onnx_file(path);
  EXPECT_TRUE(g.ok()) << g.status().to_string();
  if (!g.ok()) return nullptr;
  if (expose != nullptr) {
    const int v = g->find_value(expose);
    EXPECT_GE(v, 0) << expose;
    if (v < 0) return nullptr;
    g->outputs.push_back(v);
  }
  BuildOptions bo;
  bo.batch = {1, 1, std::max(2, max_batch)};
  auto e = Engine::build(std::move(*g), bo);
  EXPECT_TRUE(e.ok()) << e.status().to_string();
  if (!e.ok()) return nullptr;
  return *e;
}

}  // namespace tickrt::infer::testing
