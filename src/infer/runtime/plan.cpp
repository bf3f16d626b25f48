#include "infer/runtime/plan.hpp"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

namespace tickrt::infer {
namespace {

constexpr std::size_t kAlign = 64;
std::size_t align_up(std::size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

bool foldable(const Node& n) {
  // Ops with side effects or randomness never fold; everything else with all-constant inputs does.
  return n.op != "RandomNormal" && n.op != "RandomUniform" && n.op != "RandomNormalLike" &&
         n.op != "RandomUniformLike" && n.op != "Bernoulli";
}


// Runs a prepared kernel immediately on constant inputs (constant folding), into freshly owned outputs.
void run_now(Kernel& k, const Node& n, const std::vector<TensorInfo>& in, const std::vector<TensorInfo>& out,
             std::vector<TensorData>& results) {
  std::vector<TensorRef> ins(n.inputs.size()), outs(n.outputs.size());
  k.in.assign(n.inputs.size(), nullptr);
  k.out.assign(n.outputs.size(), nullptr);
  results.clear();
  results.resize(n.outputs.size());
  for (std::size_t i = 0; i < n.inputs.size(); ++i) {
    if (n.inputs[i] < 0) continue;
    std::byte* data = in[i].constant ? const_cast<std::byte*>(in[i].constant->bytes) : nullptr;
    ins[i] = TensorRef{data, in[i].dtype, in[i].dims, numel(in[i].dims)};
    k.in[i] = &ins[i];
  }
  for (std::size_t o = 0; o < n.outputs.size(); ++o) {
    if (n.outputs[o] < 0) continue;
    results[o] = TensorData::make(out[o].dtype, out[o].dims);
    outs[o] = TensorRef{results[o].mutable_bytes(), out[o].dtype, out[o].dims, numel(out[o].dims)};
    k.out[o] = &outs[o];
  }
  AlignedBytes ws;
  if (k.workspace_bytes) {
    ws = AlignedBytes::allocate(k.workspace_bytes);
    k.workspace = ws.ptr.get();
  }
  k.run(k);
  k.workspace = nullptr;
}

}  // namespace

Result<std::vector<TensorData>> evaluate_node(const Node& n, std::int64_t opset, cpu::Isa isa,
                                              const std::vector<const TensorData*>& inputs) {
  const OpDef* def = find_op(n.domain, n.op);
  if (!def) return Status(Code::unsupported, n.label() + ": unsupported op");
  Kernel k;
  k.node = &n;
  k.isa = isa;
  PrepareCtx ctx{n, opset, isa, {}, {}, k};
  for (const TensorData* t : inputs) {
    TensorInfo ti;
    if (t) { ti.dtype = t->dtype; ti.dims = t->dims; ti.constant = t; ti.present = true; }
    ctx.in.push_back(ti);
  }
  ctx.out.resize(n.outputs.size());
  TICKRT_RETURN_IF_ERROR(def->prepare(ctx));
  if (!k.run) return Status(Code::internal, n.label() + ": no kernel");
  std::vector<TensorData> outs;
  run_now(k, n, ctx.in, ctx.out, outs);
  return outs;
}

Status check_supported(const Graph& g) {
  std::set<std::string> missing;
  std::string where;
  for (const auto& n : g.nodes) {
    if (n.dead || find_op(n.domain, n.op)) continue;
    const std::string key = (n.domain.empty() ? "" : n.domain + ".") + n.op;
    if (missing.insert(key).second) where += (where.empty() ? "" : ", ") + key + " (first at node '" + n.name + "')";
  }
  if (missing.empty()) return Status::Ok();
  return Status(Code::unsupported, "unsupported op" + std::string(missing.size() > 1 ? "s: " : ": ") + where +
                                       ". Run `tickrt conformance` for the list of supported ops.");
}

Status specialize(const Graph& g, const std::vector<Dims>& input_dims, const SpecializeOptions& opt, Plan& plan) {
  plan = Plan{};
  const std::size_t nv = g.values.size();
  if (input_dims.size() != g.inputs.size())
    return Status(Code::invalid_argument, "expected " + std::to_string(g.inputs.size()) + " input shapes, got " +
                                              std::to_string(input_dims.size()));
  TICKRT_RETURN_IF_ERROR(check_supported(g));
  std::vector<TensorInfo> info(nv);
  for (std::size_t v = 0; v < nv; ++v) {
    if (g.values[v].constant) {
      info[v].dtype = g.values[v].constant->dtype;
      info[v].dims = g.values[v].constant->dims;
      info[v].constant = &*g.values[v].constant;
      info[v].present = true;
    }
  }
  for (std::size_t i = 0; i < g.inputs.size(); ++i) {
    const Value& val = g.values[g.inputs[i]];
    const Dims& d = input_dims[i];
    if (val.has_shape) {
      bool ok = val.shape.size() == d.size();
      for (std::size_t k = 0; ok && k < d.size(); ++k) ok = val.shape[k] < 0 || val.shape[k] == d[k];
      if (!ok)
        return Status(Code::invalid_argument, "input '" + val.name + "': shape " + dims_str(d) + " does not match the model's " + dims_str(val.shape));
    }
    for (auto x : d)
      if (x < 0) return Status(Code::invalid_argument, "input '" + val.name + "': shape " + dims_str(d) + " has a negative dimension");
    info[g.inputs[i]].dtype = val.dtype == DType::undefined ? DType::f32 : val.dtype;
    info[g.inputs[i]].dims = d;
    info[g.inputs[i]].present = true;
  }

  plan.tensors.resize(nv);
  plan.offset.assign(nv, -1);
  plan.storage_of.resize(nv);
  for (std::size_t v = 0; v < nv; ++v) plan.storage_of[v] = static_cast<int>(v);
  std::vector<char> is_io(nv, 0);
  for (int v : g.inputs) is_io[v] = 1;
  for (int v : g.outputs) is_io[v] = 1;

  struct PendingStep { int node; Kernel k; };
  std::vector<PendingStep> pending;
  for (std::size_t ni = 0; ni < g.nodes.size(); ++ni) {
    const Node& n = g.nodes[ni];
    if (n.dead) continue;
    ++plan.stats.nodes_in;
    const OpDef* def = find_op(n.domain, n.op);
    Kernel k;
    k.node = &n;
    k.isa = opt.isa;
    PrepareCtx ctx{n, g.opset, opt.isa, {}, {}, k};
    bool all_const = true;
    for (int v : n.inputs) {
      if (v < 0) { ctx.in.push_back(TensorInfo{}); continue; }
      if (!info[v].present)
        return Status(Code::internal, n.label() + ": input '" + g.values[v].name + "' has no shape (not produced yet)");
      ctx.in.push_back(info[v]);
      if (!info[v].constant) all_const = false;
    }
    ctx.out.resize(n.outputs.size());
    auto st = def->prepare(ctx);
    if (!st.ok()) return st;
    for (std::size_t o = 0; o < n.outputs.size(); ++o) {
      const int v = n.outputs[o];
      if (v < 0) continue;
      if (ctx.out[o].dtype == DType::undefined)
        return Status(Code::internal, n.label() + ": prepare left output " + std::to_string(o) + " without a type");
      info[v].dtype = ctx.out[o].dtype;
      info[v].dims = ctx.out[o].dims;
      info[v].present = true;
      info[v].constant = ctx.out[o].constant;   // an op may produce a constant directly (Shape)
    }
    bool outputs_known = true;
    for (std::size_t o = 0; o < n.outputs.size(); ++o)
      if (n.outputs[o] >= 0 && !info[n.outputs[o]].constant) outputs_known = false;
    if (outputs_known) { ++plan.stats.folded; continue; }
    if ((all_const || !k.reads_input_data) && foldable(n) && k.run) {
      std::vector<TensorData> outs;
      run_now(k, n, ctx.in, ctx.out, outs);
      for (std::size_t o = 0; o < n.outputs.size(); ++o) {
        if (n.outputs[o] < 0) continue;
        plan.folded.push_back(std::move(outs[o]));
        info[n.outputs[o]].constant = &plan.folded.back();
      }
      ++plan.stats.folded;
      continue;
    }
    if (!k.run && !k.alias_out0_in0) return Status(Code::internal, n.label() + ": prepare chose no kernel");
    pending.push_back({static_cast<int>(ni), std::move(k)});
  }

  // Bind TensorRefs for constants; decide aliases; compute lifetimes of arena values.
  for (std::size_t v = 0; v < nv; ++v) {
    auto& t = plan.tensors[v];
    t.dtype = info[v].dtype;
    t.dims = info[v].dims;
    t.numel = info[v].present ? numel(info[v].dims) : 0;
    if (info[v].constant) t.data = const_cast<std::byte*>(info[v].constant->bytes);
  }
  const int nsteps = static_cast<int>(pending.size());
  std::vector<int> first(nv, -2), last(nv, -2);
  for (int v : g.inputs) first[v] = -1;
  for (int s = 0; s < nsteps; ++s) {
    const Node& n = g.nodes[pending[s].node];
    Kernel& k = pending[s].k;
    // A view op (Reshape...) shares its input's bytes unless one side is a graph input/output.
    if (k.alias_out0_in0) {
      const int in = n.inputs[0], out = n.outputs[0];
      if (!info[in].constant && !is_io[out] && !is_io[plan.storage_of[in]]) {
        plan.storage_of[out] = plan.storage_of[in];
        ++plan.stats.aliased;
      } else if (!k.run) {
        return Status(Code::internal, n.label() + ": view op without a copy kernel");
      }
    }
    for (int v : n.inputs)
      if (v >= 0 && !info[v].constant) last[plan.storage_of[v]] = std::max(last[plan.storage_of[v]], s);
    for (int v : n.outputs)
      if (v >= 0 && !info[v].constant) {
        const int root = plan.storage_of[v];
        if (first[root] == -2) first[root] = s;
        last[root] = std::max(last[root], s);
      }
  }
  for (int v : g.outputs)
    if (!info[v].constant) last[plan.storage_of[v]] = nsteps;
  for (int v : g.inputs) last[v] = std::max(last[v], 0);

  // Greedy arena layout: biggest first, placed at the lowest offset not overlapping a live neighbour.
  struct Block { int v; std::size_t size; int a, b; std::size_t off; };
  std::vector<Block> blocks;
  for (std::size_t v = 0; v < nv; ++v) {
    if (plan.storage_of[v] != static_cast<int>(v) || first[v] == -2 || info[v].constant) continue;
    std::size_t bytes = 0;
    for (std::size_t u = 0; u < nv; ++u)   // the root's block must hold every alias
      if (plan.storage_of[u] == static_cast<int>(v))
        bytes = std::max(bytes, static_cast<std::size_t>(numel(info[u].dims)) * dtype_size(info[u].dtype));
    blocks.push_back({static_cast<int>(v), align_up(std::max<std::size_t>(bytes, 1)), first[v], last[v], 0});
    plan.stats.naive_bytes += align_up(std::max<std::size_t>(bytes, 1));
  }
  std::sort(blocks.begin(), blocks.end(), [](const Block& x, const Block& y) { return x.size > y.size || (x.size == y.size && x.v < y.v); });
  std::vector<const Block*> placed;
  std::size_t arena = 0;
  for (auto& b : blocks) {
    std::vector<std::pair<std::size_t, std::size_t>> busy;
    for (const Block* p : placed)
      if (!(p->b < b.a || b.b < p->a)) busy.push_back({p->off, p->off + p->size});
    std::sort(busy.begin(), busy.end());
    std::size_t off = 0;
    for (auto& [lo, hi] : busy) {
      if (off + b.size <= lo) break;
      off = std::max(off, hi);
    }
    b.off = off;
    arena = std::max(arena, off + b.size);
    placed.push_back(&b);
    plan.offset[b.v] = static_cast<std::ptrdiff_t>(off);
  }
  for (std::size_t v = 0; v < nv; ++v)
    if (plan.storage_of[v] != static_cast<int>(v)) plan.offset[v] = plan.offset[plan.storage_of[v]];
  std::size_t ws = 0;
  for (auto& p : pending) ws = std::max(ws, p.k.workspace_bytes);
  plan.workspace_offset = align_up(arena);
  plan.arena_bytes = plan.workspace_offset + align_up(ws);
  plan.stats.arena_bytes = arena;
  plan.stats.workspace_bytes = ws;
  if (opt.workspace_limit && plan.arena_bytes > opt.workspace_limit)
    return Status(Code::resource_exhausted,
                  "activation memory needs " + std::to_string(plan.arena_bytes) + " bytes (arena " + std::to_string(arena) +
                      " + workspace " + std::to_string(ws) + ") for input shape " + (input_dims.empty() ? "" : dims_str(input_dims[0])) +
                      ", over the workspace limit of " + std::to_string(opt.workspace_limit) +
                      " bytes: raise --workspace-limit or build for a smaller maximum batch");

  for (auto& p : pending) {
    const Node& n = g.nodes[p.node];
    Kernel& k = p.k;
    k.in.assign(n.inputs.size(), nullptr);
    k.out.assign(n.outputs.size(), nullptr);
    for (std::size_t i = 0; i < n.inputs.size(); ++i)
      if (n.inputs[i] >= 0) k.in[i] = &plan.tensors[n.inputs[i]];
    for (std::size_t o = 0; o < n.outputs.size(); ++o)
      if (n.outputs[o] >= 0) k.out[o] = &plan.tensors[n.outputs[o]];
    if (k.alias_out0_in0 && plan.storage_of[n.outputs[0]] != n.outputs[0]) continue;  // pure view: no step
    plan.steps.push_back(std::move(k));
  }
  plan.inputs = g.inputs;
  plan.outputs = g.outputs;
  plan.stats.steps = static_cast<int>(plan.steps.size());
  return Status::Ok();
}

}  // namespace tickrt::infer
