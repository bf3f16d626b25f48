// LSTM -> tickrt.FusedLSTM.
//
// Conditions (else the node is left to the reference LSTM): W, R (and B) constant, one direction "forward",
// default activations, no clip, input_forget 0, no sequence_lens, no peepholes. initial_h/initial_c absent or
// provably zero (a ConstantOfShape of 0 reached through Slice/Reshape/Squeeze/Unsqueeze/Expand: torch's
// batch-sized zero states, which need Shape(x) and so cannot be folded before the batch is known) are dropped;
// other initial states (streaming models) become inputs 2 and 3 of the fused op.
// Rewrite: X produced by Transpose perm [1,0,2] is read directly in batch-first layout; the fused op writes Y
// in the same layout as X ([T,B,H] or [B,T,H]), and the original Y [T,1,B,H] is rebuilt by Unsqueeze (and a
// Transpose when batch-first); simplify() then cancels those against torch's Squeeze/Transpose glue, so stacked
// layers hand [B,T,H] to each other with no copy. Weights are packed once (cpu::lstm_pack) for the target ISA.
#include "infer/passes/passes.hpp"
#include "infer/passes/pattern.hpp"

namespace tickrt::infer::passes {
namespace {

bool is_zero_fill(const Graph& g, int v) {
  for (int depth = 0; depth < 16 && v >= 0; ++depth) {
    if (g.is_const(v)) {
      const auto& t = g.const_data(v);
      for (std::size_t i = 0; i < t.nbytes; ++i) if (t.bytes[i] != std::byte{0}) return false;
      return true;
    }
    const Node* p = producer(g, v);
    if (!p || !p->domain.empty()) return false;
    if (p->op == "ConstantOfShape") {
      auto it = p->attrs.find("value");
      if (it == p->attrs.end() || !it->second.t) return true;   // default value is 0
      const auto& t = *it->second.t;
      for (std::size_t i = 0; i < t.nbytes; ++i) if (t.bytes[i] != std::byte{0}) return false;
      return true;
    }
    if (p->op == "Slice" || p->op == "Reshape" || p->op == "Squeeze" || p->op == "Unsqueeze" || p->op == "Expand" ||
        p->op == "Identity" || p->op == "Flatten") {
      v = p->inputs[0];
      continue;
    }
    return false;
  }
  return false;
}

}  // namespace

Result<int> fuse_lstm(Graph& g, cpu::Isa isa) {
  int fused = 0;
  const std::size_t n0 = g.nodes.size();
  for (std::size_t i = 0; i < n0; ++i) {
    Node& n = g.nodes[i];
    if (n.dead || !n.domain.empty() || n.op != "LSTM") continue;
    auto in = [&](std::size_t k) { return k < n.inputs.size() ? n.inputs[k] : -1; };
    const TensorData* W = const_f32(g, in(1));
    const TensorData* R = const_f32(g, in(2));
    const TensorData* B = in(3) >= 0 ? const_f32(g, in(3)) : nullptr;
    if (!W || !R || (in(3) >= 0 && !B)) continue;
    if (n.attr_s("direction", "forward") != "forward" || n.has_attr("clip") || n.attr_i("input_forget", 0) != 0) continue;
    if (n.has_attr("activations")) {
      const auto& acts = n.attrs.at("activations").ss;
      if (acts.size() != 3 || acts[0] != "Sigmoid" || acts[1] != "Tanh" || acts[2] != "Tanh") continue;
    }
    if (in(4) >= 0 || in(7) >= 0) continue;                      // sequence_lens, peepholes
    // Non-zero initial_h / initial_c (a streaming model's state, infer/stream.hpp) become FusedLSTM inputs 2 / 3;
    // a Slice [l:l+1] on axis 0 of a [L,B,H] tensor (torch's per-layer state) is read in place (attr h0_layer /
    // c0_layer = l) instead of copied.
    auto state_in = [&](int v, std::int64_t& layer) {
      layer = 0;
      if (v < 0 || is_zero_fill(g, v)) return -1;
      const Node* s = producer(g, v);
      if (is_op(s, "Slice") && s->inputs.size() >= 3 && s->inputs.size() <= 5) {
        auto c = [&](std::size_t k) -> std::vector<std::int64_t> {
          return k < s->inputs.size() && s->inputs[k] >= 0 && g.is_const(s->inputs[k]) ? g.const_data(s->inputs[k]).to_i64()
                                                                                      : std::vector<std::int64_t>{};
        };
        const auto st = c(1), en = c(2);
        const auto ax = s->inputs.size() > 3 && s->inputs[3] >= 0 ? c(3) : std::vector<std::int64_t>{0};
        const auto sp = s->inputs.size() > 4 && s->inputs[4] >= 0 ? c(4) : std::vector<std::int64_t>{1};
        if (st.size() == 1 && en.size() == 1 && ax == std::vector<std::int64_t>{0} && sp == std::vector<std::int64_t>{1} &&
            st[0] >= 0 && en[0] == st[0] + 1 && !g.is_const(s->inputs[0])) {
          layer = st[0];
          return s->inputs[0];
        }
      }
      return v;
    };
    std::int64_t h0_layer = 0, c0_layer = 0;
    const int h0 = state_in(in(5), h0_layer), c0 = state_in(in(6), c0_layer);
    if (W->dims.size() != 3 || R->dims.size() != 3 || W->dims[0] != 1) continue;
    const std::int64_t H = n.attr_i("hidden_size", R->dims[2]);
    const std::int64_t I = W->dims[2];
    if (W->dims[1] != 4 * H || R->dims[1] != 4 * H || R->dims[2] != H || (B && numel(B->dims) != 8 * H)) continue;

    int layout = static_cast<int>(n.attr_i("layout", 0));
    int x = in(0);
    if (layout == 0) {
      const Node* t = producer(g, x);
      if (is_op(t, "Transpose") && t->attr_is("perm") == std::vector<std::int64_t>{1, 0, 2}) { x = t->inputs[0]; layout = 1; }
    }
    // Pack W, R, Wb, Rb for the ISA.
    std::vector<float> packed(cpu::lstm_packed_floats(isa, static_cast<int>(I), static_cast<int>(H)));
    cpu::lstm_pack(isa, static_cast<int>(I), static_cast<int>(H), W->as<float>(), R->as<float>(), B ? B->as<float>() : nullptr,
                   B ? B->as<float>() + 4 * H : nullptr, packed.data());
    const int wv = g.add_constant(g.unique_name(n.name + "/packed"), make_f32(packed, {static_cast<std::int64_t>(packed.size())}));

    Node f;
    f.name = n.name;
    f.op = "FusedLSTM";
    f.domain = "tickrt";
    f.inputs = {x, wv};
    if (h0 >= 0 || c0 >= 0) {
      f.inputs.push_back(h0);
      f.inputs.push_back(c0);
      f.attrs["h0_layer"].i = h0_layer;
      f.attrs["c0_layer"].i = c0_layer;
    }
    f.attrs["I"].i = I;
    f.attrs["H"].i = H;
    f.attrs["layout"].i = layout;
    f.attrs["isa"].i = static_cast<std::int64_t>(isa);
    const int y_orig = n.outputs.size() > 0 ? n.outputs[0] : -1;
    const int yh = n.outputs.size() > 1 ? n.outputs[1] : -1;
    const int yc = n.outputs.size() > 2 ? n.outputs[2] : -1;
    // Y of the fused op: 3-D in `layout`; rebuild the ONNX Y [T,1,B,H] (or [B,T,1,H] for layout=1 LSTMs).
    int y3 = -1;
    std::vector<Node> glue;
    if (y_orig >= 0) {
      y3 = g.add_value(g.unique_name(n.name + "/Y3"), DType::f32);
      const bool onnx_layout1 = n.attr_i("layout", 0) == 1;
      int cur = y3;
      if (layout == 1 && !onnx_layout1) {      // [B,T,H] -> [T,B,H]
        Node t;
        t.name = g.unique_name(n.name + "/y_to_tbh");
        t.op = "Transpose";
        t.attrs["perm"].kind = Attr::Kind::is;
        t.attrs["perm"].is = {1, 0, 2};
        const int tv = g.add_value(g.unique_name(n.name + "/Ytbh"), DType::f32);
        t.inputs = {cur};
        t.outputs = {tv};
        glue.push_back(std::move(t));
        cur = tv;
      }
      Node u;                                   // insert num_directions axis
      u.name = g.unique_name(n.name + "/y_unsqueeze");
      u.op = "Unsqueeze";
      const std::int64_t axis = onnx_layout1 ? 2 : 1;
      if (g.opset < 13) {
        u.attrs["axes"].kind = Attr::Kind::is;
        u.attrs["axes"].is = {axis};
        u.inputs = {cur};
      } else {
        u.inputs = {cur, g.add_constant(g.unique_name(n.name + "/axes"), TensorData::from_bytes(DType::i64, {1}, &axis, 8))};
      }
      u.outputs = {y_orig};
      glue.push_back(std::move(u));
    }
    f.outputs = {y3, yh, yc};
    n.dead = true;
    g.add_node(std::move(f));
    for (auto& gl : glue) g.add_node(std::move(gl));
    ++fused;
  }
  return finish_rewrites(g, fused);
}

Result<int> relayout_fused_lstm(Graph& g) {
  // A FusedLSTM in [T,B,*] layout whose X is Transpose(perm [1,0,2]) of a batch-first tensor reads that tensor
  // directly (layout 1) and hands back Y through a Transpose, which simplify() cancels against the consumer's
  // own Transpose (torch's batch_first glue), so stacked layers pass [B,T,H] along with no copy.
  int changed = 0;
  const std::size_t n0 = g.nodes.size();
  for (std::size_t i = 0; i < n0; ++i) {
    Node& f = g.nodes[i];
    if (f.dead || f.domain != "tickrt" || f.op != "FusedLSTM" || f.attr_i("layout", 0) != 0) continue;
    const Node* t = producer(g, f.inputs[0]);
    if (!is_op(t, "Transpose") || t->attr_is("perm") != std::vector<std::int64_t>{1, 0, 2}) continue;
    f.inputs[0] = t->inputs[0];
    f.attrs["layout"].i = 1;
    const int y = f.outputs[0];
    if (y >= 0) {
      const int yb = g.add_value(g.unique_name(f.name + "/Ybth"), DType::f32);
      f.outputs[0] = yb;
      Node tr;
      tr.name = g.unique_name(f.name + "/y_to_tbh");
      tr.op = "Transpose";
      tr.attrs["perm"].kind = Attr::Kind::is;
      tr.attrs["perm"].is = {1, 0, 2};
      tr.inputs = {yb};
      tr.outputs = {y};
      g.values[yb].producer = static_cast<int>(i);
      g.add_node(std::move(tr));
    }
    ++changed;
  }
  if (changed) TICKRT_RETURN_IF_ERROR(g.topo_sort());
  return changed;
}

}  // namespace tickrt::infer::passes
