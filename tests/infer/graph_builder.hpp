// Test helper: builds tiny IR graphs in C++ (the passes' unit tests) with deterministic weights.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "infer/engine.hpp"

namespace tickrt::infer::testing {

struct GB {
  Graph g;
  std::mt19937 rng{42};
  GB() { g.opset = 17; }
  int input(const std::string& name, Dims shape) {
    int v = g.add_value(name, DType::f32);
    g.values[v].shape = std::move(shape);
    g.values[v].has_shape = true;
    g.inputs.push_back(v);
    return v;
  }
  int weights(const std::string& name, Dims dims, float scale = 0.5f) {
    std::uniform_real_distribution<float> d(-scale, scale);
    TensorData t = TensorData::make(DType::f32, dims);
    for (std::int64_t i = 0; i < t.count(); ++i) t.as_mut<float>()[i] = d(rng);
    return g.add_constant(name, std::move(t));
  }
  int ints(const std::string& name, std::vector<std::int64_t> v) {
    return g.add_constant(name, TensorData::from_bytes(DType::i64, {static_cast<std::int64_t>(v.size())}, v.data(), v.size() * 8));
  }
  int scalar(const std::string& name, float x) { return g.add_constant(name, TensorData::from_bytes(DType::f32, {}, &x, 4)); }
  // Adds a node; returns its first output (extra outputs: name#k).
  int node(const std::string& op, std::vector<int> in, std::map<std::string, Attr> attrs = {}, int nout = 1) {
    Node n;
    n.name = op + "_" + std::to_string(g.nodes.size());
    n.op = op;
    n.inputs = std::move(in);
    n.attrs = std::move(attrs);
    for (int k = 0; k < nout; ++k) n.outputs.push_back(g.add_value(n.name + "_out" + std::to_string(k)));
    const int first = n.outputs[0];
    g.add_node(std::move(n));
    return first;
  }
  void output(int v) { g.outputs.push_back(v); }
};

inline Attr ai(std::int64_t v) { Attr a; a.kind = Attr::Kind::i; a.i = v; return a; }
inline Attr af(float v) { Attr a; a.kind = Attr::Kind::f; a.f = v; return a; }
inline Attr ais(std::vector<std::int64_t> v) { Attr a; a.kind = Attr::Kind::is; a.is = std::move(v); return a; }
inline Attr as(std::string v) { Attr a; a.kind = Attr::Kind::s; a.s = std::move(v); return a; }

// Runs a graph (optimized or not, for `isa`) on a deterministic input; returns output 0.
inline std::vector<float> run_graph(const Graph& g, bool optimize, const std::vector<Dims>& shapes, BuildReport* rep = nullptr,
                                    cpu::Isa isa = cpu::detect_isa()) {
  BuildOptions bo;
  bo.optimize = optimize;
  bo.check_profile = false;
  bo.isa = isa;
  auto e = Engine::build(g, bo, rep);
  if (!e.ok()) throw std::runtime_error(e.status().to_string());
  ExecutionContext ctx(*e);
  auto st = ctx.prepare(shapes);
  if (!st.ok()) throw std::runtime_error(st.to_string());
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> d(-1, 1);
  for (std::size_t i = 0; i < shapes.size(); ++i)
    for (std::int64_t k = 0; k < numel(shapes[i]); ++k) ctx.input(i)[k] = d(rng);
  if (ctx.run() != Code::ok) throw std::runtime_error("run failed");
  return std::vector<float>(ctx.output(0), ctx.output(0) + numel(ctx.output_dims(0)));
}

inline double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return 1e30;
  double m = 0;
  for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, static_cast<double>(std::fabs(a[i] - b[i])));
  return m;
}

}  // namespace tickrt::infer::testing
