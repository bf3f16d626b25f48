// Streaming one-step graphs (infer/stream.hpp): the two patterns torch exports for a ring of past outputs.
//   Concat([Slice(ring, starts [1], ends [>= K], axes [a], steps [1]), new], axis a)   -> tickrt.RingShift(ring, new)
//     (the Slice must feed only that Concat; `new` must have 1 on axis a, checked at prepare)
//   ReduceSum(Mul(Unsqueeze(a, [2]), v), axes [1], keepdims 0), a [B,K], v [B,K,D]   -> tickrt.WeightedSum(a, v)
//     (Mul operands in either order; the Mul and Unsqueeze must feed only this chain)
#include <limits>

#include "infer/passes/passes.hpp"
#include "infer/passes/pattern.hpp"

namespace tickrt::infer::passes {
namespace {

std::vector<std::int64_t> const_i64(const Graph& g, const Node& n, std::size_t k) {
  if (k >= n.inputs.size() || n.inputs[k] < 0 || !g.is_const(n.inputs[k])) return {};
  return g.const_data(n.inputs[k]).to_i64();
}

}  // namespace

Result<int> fuse_stream_ops(Graph& g) {
  int fused = 0;
  Uses uses(g);
  const std::size_t n0 = g.nodes.size();
  for (std::size_t i = 0; i < n0; ++i) {
    Node& n = g.nodes[i];
    if (n.dead || !n.domain.empty()) continue;
    if (n.op == "Concat" && n.inputs.size() == 2 && g.opset >= 10) {
      const Node* s = producer(g, n.inputs[0]);
      if (!is_op(s, "Slice") || s->inputs.size() < 4 || uses.sole_consumer(g, n.inputs[0]) != static_cast<int>(i)) continue;
      const auto st = const_i64(g, *s, 1), en = const_i64(g, *s, 2), ax = const_i64(g, *s, 3);
      const auto sp = s->inputs.size() > 4 && s->inputs[4] >= 0 ? const_i64(g, *s, 4) : std::vector<std::int64_t>{1};
      const std::int64_t axis = n.attr_i("axis", 0);
      if (st != std::vector<std::int64_t>{1} || en.size() != 1 || ax.size() != 1 || sp != std::vector<std::int64_t>{1}) continue;
      // ends must reach the end of the axis: INT64_MAX-like (torch's `1:`) or the known length.
      const Value& rv = g.values[s->inputs[0]];
      const std::int64_t rank = rv.has_shape ? static_cast<std::int64_t>(rv.shape.size()) : -1;
      if (rank < 1) continue;
      const std::int64_t a = ax[0] < 0 ? ax[0] + rank : ax[0];
      const std::int64_t ca = axis < 0 ? axis + rank : axis;
      if (a != ca || a < 0 || a >= rank) continue;
      const std::int64_t len = rv.shape[static_cast<std::size_t>(a)];
      if (!(en[0] >= (std::int64_t{1} << 31) || (len > 0 && en[0] >= len))) continue;
      Node f;
      f.name = n.name + "/ring_shift";
      f.op = "RingShift";
      f.domain = "tickrt";
      f.inputs = {s->inputs[0], n.inputs[1]};
      f.outputs = n.outputs;
      f.attrs["axis"].i = a;
      n.dead = true;
      g.add_node(std::move(f));
      ++fused;
      continue;
    }
    if (n.op == "ReduceSum" && n.attr_i("keepdims", 1) == 0) {
      if (node_axes(g, n) != std::vector<std::int64_t>{1}) continue;
      const Node* m = producer(g, n.inputs[0]);
      if (!is_op(m, "Mul") || uses.sole_consumer(g, n.inputs[0]) != static_cast<int>(i)) continue;
      const int mi = g.values[n.inputs[0]].producer;
      for (int side = 0; side < 2; ++side) {
        const Node* u = producer(g, m->inputs[static_cast<std::size_t>(side)]);
        if (!is_op(u, "Unsqueeze") || node_axes(g, *u) != std::vector<std::int64_t>{2} ||
            uses.sole_consumer(g, m->inputs[static_cast<std::size_t>(side)]) != mi)
          continue;
        const int av = u->inputs[0], vv = m->inputs[static_cast<std::size_t>(1 - side)];
        const Value &aval = g.values[av], &vval = g.values[vv];
        if ((aval.has_shape && aval.shape.size() != 2) || (vval.has_shape && vval.shape.size() != 3)) continue;
        Node f;
        f.name = n.name + "/weighted_sum";
        f.op = "WeightedSum";
        f.domain = "tickrt";
        f.inputs = {av, vv};
        f.outputs = n.outputs;
        n.dead = true;
        g.add_node(std::move(f));
        ++fused;
        break;
      }
    }
  }
  return finish_rewrites(g, fused);
}

}  // namespace tickrt::infer::passes
