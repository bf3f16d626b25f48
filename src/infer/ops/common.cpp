#include "infer/ops/common.hpp"

#include <algorithm>

namespace tickrt::infer {

Status broadcast_shapes(const Dims& a, const Dims& b, Dims& out) {
  const std::size_t r = std::max(a.size(), b.size());
  out.assign(r, 1);
  for (std::size_t i = 0; i < r; ++i) {
    const std::int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const std::int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1)
      return Status(Code::invalid_argument, "shapes " + dims_str(a) + " and " + dims_str(b) + " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return Status::Ok();
}

Dims strides_of(const Dims& d) {
  Dims s(d.size(), 1);
  for (int i = static_cast<int>(d.size()) - 2; i >= 0; --i) s[i] = s[i + 1] * d[i + 1];
  return s;
}

namespace ops {

BroadcastMap make_broadcast_map(const Dims& in, const Dims& out) {
  BroadcastMap m;
  m.rank = static_cast<int>(out.size());
  const Dims s = strides_of(in);
  const std::size_t shift = out.size() - in.size();
  for (std::size_t i = 0; i < out.size(); ++i) {
    m.out_dims[i] = out[i];
    if (i < shift) { m.stride[i] = 0; continue; }
    m.stride[i] = in[i - shift] == 1 ? 0 : s[i - shift];
  }
  return m;
}

std::vector<std::int64_t> const_ints(const TensorInfo& t) {
  return t.constant ? t.constant->to_i64() : std::vector<std::int64_t>{};
}

Status axes_from(const PrepareCtx& c, const char* attr, std::size_t input_index, std::vector<std::int64_t>& axes, bool& given) {
  given = false;
  if (c.node.has_attr(attr)) {
    axes = c.node.attr_is(attr);
    given = true;
    return Status::Ok();
  }
  if (c.has(input_index)) {
    if (!c.in[input_index].constant) return c.unsupported(std::string(attr) + " must be a constant input");
    axes = const_ints(c.in[input_index]);
    given = true;
  }
  return Status::Ok();
}

}  // namespace ops

namespace {
const std::vector<OpDef>& registry() {
  static const std::vector<OpDef> r = [] {
    std::vector<OpDef> v;
    ops::register_elementwise(v);
    ops::register_shape_ops(v);
    ops::register_reduce(v);
    ops::register_linalg(v);
    ops::register_nn(v);
    ops::register_rnn(v);
    ops::register_fused(v);
    ops::register_quant(v);
    ops::register_stream(v);
    ops::register_conv_nhwc(v);
    return v;
  }();
  return r;
}
}  // namespace

const OpDef* find_op(std::string_view domain, std::string_view op) {
  for (const auto& d : registry())
    if (d.domain == domain && d.op == op) return &d;
  return nullptr;
}

std::vector<std::string> supported_ops() {
  std::vector<std::string> out;
  for (auto& d : registry()) out.push_back((d.domain.empty() ? "" : std::string(d.domain) + ".") + std::string(d.op));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace tickrt::infer
