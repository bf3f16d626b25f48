#include "infer/runtime/parallel.hpp"

#include <algorithm>

namespace tickrt::infer {
namespace {

constexpr std::size_t kAlign = 64;
std::size_t align_up(std::size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

bool is_fused_lstm(const Kernel& k) { return k.node && k.node->domain == "tickrt" && k.node->op == "FusedLSTM"; }

struct Span { std::ptrdiff_t lo = -1, hi = -1; };   // arena bytes [lo, hi), lo < 0: not in the arena

class Layout {
 public:
  explicit Layout(Plan& p) : p_(p) {}
  int value_of(const TensorRef* t) const { return t ? static_cast<int>(t - p_.tensors.data()) : -1; }
  Span span(const TensorRef* t) const {
    const int v = value_of(t);
    if (v < 0 || p_.offset[v] < 0) return {};
    return {p_.offset[v], p_.offset[v] + static_cast<std::ptrdiff_t>(p_.tensors[v].numel * dtype_size(p_.tensors[v].dtype))};
  }
  static bool overlap(Span a, Span b) { return a.lo >= 0 && b.lo >= 0 && a.lo < b.hi && b.lo < a.hi; }
  // Moves value v's storage (and every alias of it) to fresh bytes past the end of the arena.
  void relocate(const TensorRef* t) {
    const int root = p_.storage_of[value_of(t)];
    std::size_t bytes = 0;
    for (std::size_t u = 0; u < p_.tensors.size(); ++u)
      if (p_.storage_of[u] == root) bytes = std::max(bytes, static_cast<std::size_t>(p_.tensors[u].numel) * dtype_size(p_.tensors[u].dtype));
    const std::size_t off = align_up(p_.arena_bytes);
    p_.arena_bytes = off + align_up(std::max<std::size_t>(bytes, 1));
    for (std::size_t u = 0; u < p_.tensors.size(); ++u)
      if (p_.storage_of[u] == root) p_.offset[u] = static_cast<std::ptrdiff_t>(off);
  }

 private:
  Plan& p_;
};

// The pipelined step runs `second` while `first` still reads its inputs and writes its outputs, but the planner gave
// second's outputs bytes by liveness from step i + 1 on: they may share bytes with first's tensors. Such an output is
// moved to its own bytes at the end of the arena (batch 1: a few KiB). False if the pair cannot be made safe.
bool make_pair_memory_safe(Layout& L, const Kernel& first, const Kernel& second) {
  // b must read exactly a's Y: same value or an alias of it (a view op between them), and all of it.
  const Span y = L.span(first.out[0]), x2 = L.span(second.in[0]);
  if (y.lo < 0 || y.lo != x2.lo || y.hi != x2.hi) return false;
  // second's own initial state must not be produced by first (it would be read before it is written).
  for (std::size_t i = 2; i < second.in.size(); ++i)
    for (const TensorRef* t : first.out)
      if (second.in[i] && t && Layout::overlap(L.span(second.in[i]), L.span(t))) return false;
  for (const TensorRef* o : second.out) {
    if (!o) continue;
    bool clash = false;
    for (const TensorRef* t : first.in) clash = clash || Layout::overlap(L.span(o), L.span(t));
    for (const TensorRef* t : first.out) clash = clash || Layout::overlap(L.span(o), L.span(t));
    for (const TensorRef* t : second.in) clash = clash || Layout::overlap(L.span(o), L.span(t));
    if (clash) L.relocate(o);
  }
  return true;
}

}  // namespace

Status parallelize(Plan& plan, ThreadPool& pool, ParallelReport* report) {
  ParallelReport r;
  r.scratch_bytes = plan.stats.workspace_bytes;   // a run_mt kernel's worker needs at most the kernel's own workspace
  if (pool.size() < 2) {
    if (report) *report = r;
    return Status::Ok();
  }
  Layout layout(plan);
  std::vector<Kernel> steps;
  steps.reserve(plan.steps.size());
  for (std::size_t i = 0; i < plan.steps.size(); ++i) {
    Kernel& k = plan.steps[i];
    if (i + 1 < plan.steps.size() && is_fused_lstm(k) && is_fused_lstm(plan.steps[i + 1]) && !k.out.empty() && k.out[0] &&
        !plan.steps[i + 1].in.empty() && plan.steps[i + 1].in[0]) {
      const std::size_t ws_bytes = plan.arena_bytes - plan.workspace_offset;
      std::size_t need = 0;
      Kernel merged = k;
      // Shape checks first (pipeline_lstm_pair), then the memory fix-up, which only then may move bytes.
      if (pipeline_lstm_pair(merged, plan.steps[i + 1], ws_bytes, &need) && make_pair_memory_safe(layout, k, plan.steps[i + 1])) {
        merged.pool = &pool;
        r.scratch_bytes = std::max(r.scratch_bytes, need);
        ++r.pipelined_pairs;
        steps.push_back(std::move(merged));
        ++i;   // the second layer is inside the merged step
        continue;
      }
    }
    if (k.run_mt) {
      k.run = k.run_mt;
      k.pool = &pool;
      ++r.parallel_steps;
    }
    steps.push_back(std::move(k));
  }
  plan.steps = std::move(steps);
  plan.stats.steps = static_cast<int>(plan.steps.size());
  plan.stats.parallel_steps = r.parallel_steps;
  plan.stats.pipelined_pairs = r.pipelined_pairs;
  TICKRT_RETURN_IF_ERROR(pool.reserve_scratch(r.scratch_bytes));
  if (report) *report = r;
  return Status::Ok();
}

}  // namespace tickrt::infer
