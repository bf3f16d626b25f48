#include "infer/onnx/onnx_import.hpp"

#include <onnx/onnx_pb.h>

#include <cstring>
#include <filesystem>
#include <unordered_map>
#include <fstream>
#include <limits>
#include <sstream>

namespace tickrt::infer {
namespace {

Result<std::string> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Status(Code::not_found, "cannot open '" + path + "'");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Little-endian host assumed (x86-64), as ONNX raw_data is little-endian.
Result<TensorData> convert_tensor(const onnx::TensorProto& t, const std::string& base_dir, const std::string& where) {
  const std::string what = where + ": tensor '" + t.name() + "'";
  const auto dt = static_cast<DType>(t.data_type());
  if (dt == DType::string) return Status(Code::unsupported, what + ": string tensors are not supported");
  if (dtype_size(dt) == 0)
    return Status(Code::unsupported, what + ": data type " + std::to_string(t.data_type()) + " is not supported");
  Dims dims;
  std::int64_t n = 1;
  for (auto d : t.dims()) {
    if (d < 0) return Status(Code::parse_error, what + ": negative dimension " + std::to_string(d));
    if (d > 0 && n > std::numeric_limits<std::int64_t>::max() / 4 / d)
      return Status(Code::out_of_range, what + ": too many elements");
    dims.push_back(d);
    n *= d;
  }
  const std::size_t esz = dtype_size(dt);
  const std::size_t nbytes = static_cast<std::size_t>(n) * esz;
  if (t.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string loc;
    std::int64_t offset = 0, length = -1;
    for (const auto& kv : t.external_data()) {
      if (kv.key() == "location") loc = kv.value();
      else if (kv.key() == "offset") offset = std::atoll(kv.value().c_str());
      else if (kv.key() == "length") length = std::atoll(kv.value().c_str());
    }
    if (loc.empty()) return Status(Code::parse_error, what + ": external data without a location");
    if (loc.find("..") != std::string::npos || (!loc.empty() && loc[0] == '/'))
      return Status(Code::invalid_argument, what + ": external data location '" + loc + "' must be a relative path inside the model folder");
    const std::string path = (std::filesystem::path(base_dir) / loc).string();
    std::ifstream f(path, std::ios::binary);
    if (!f) return Status(Code::not_found, what + ": external data file '" + path + "' not found (keep it beside the model)");
    f.seekg(0, std::ios::end);
    const std::int64_t fsize = f.tellg();
    if (length < 0) length = static_cast<std::int64_t>(nbytes);
    if (offset < 0 || length != static_cast<std::int64_t>(nbytes) || offset + length > fsize)
      return Status(Code::corrupt, what + ": external data range [" + std::to_string(offset) + ", +" + std::to_string(length) +
                                       ") does not fit '" + path + "' (" + std::to_string(fsize) + " bytes) or the tensor (" +
                                       std::to_string(nbytes) + " bytes)");
    TensorData out = TensorData::make(dt, dims);
    f.seekg(offset);
    f.read(reinterpret_cast<char*>(out.mutable_bytes()), length);
    if (!f) return Status(Code::io_error, what + ": reading external data from '" + path + "' failed");
    return out;
  }
  TensorData out = TensorData::make(dt, dims);
  if (t.has_raw_data()) {
    if (t.raw_data().size() != nbytes)
      return Status(Code::corrupt, what + ": raw_data has " + std::to_string(t.raw_data().size()) + " bytes, expected " +
                                       std::to_string(nbytes) + " for " + dims_str(dims) + " " + dtype_name(dt));
    std::memcpy(out.mutable_bytes(), t.raw_data().data(), nbytes);
    return out;
  }
  auto check = [&](int have) -> Status {
    if (have != n) return Status(Code::corrupt, what + ": has " + std::to_string(have) + " values, expected " + std::to_string(n));
    return Status::Ok();
  };
  switch (dt) {
    case DType::f32:
      TICKRT_RETURN_IF_ERROR(check(t.float_data_size()));
      for (int i = 0; i < n; ++i) out.as_mut<float>()[i] = t.float_data(i);
      break;
    case DType::f64:
      TICKRT_RETURN_IF_ERROR(check(t.double_data_size()));
      for (int i = 0; i < n; ++i) out.as_mut<double>()[i] = t.double_data(i);
      break;
    case DType::i64:
      TICKRT_RETURN_IF_ERROR(check(t.int64_data_size()));
      for (int i = 0; i < n; ++i) out.as_mut<std::int64_t>()[i] = t.int64_data(i);
      break;
    case DType::u32: case DType::u64:
      TICKRT_RETURN_IF_ERROR(check(t.uint64_data_size()));
      for (int i = 0; i < n; ++i) {
        if (dt == DType::u32) out.as_mut<std::uint32_t>()[i] = static_cast<std::uint32_t>(t.uint64_data(i));
        else out.as_mut<std::uint64_t>()[i] = t.uint64_data(i);
      }
      break;
    default:  // i32, i16, u16, i8, u8, bool, f16, bf16: stored in int32_data
      TICKRT_RETURN_IF_ERROR(check(t.int32_data_size()));
      for (int i = 0; i < n; ++i) {
        const std::int32_t v = t.int32_data(i);
        switch (esz) {
          case 1: reinterpret_cast<std::uint8_t*>(out.mutable_bytes())[i] = static_cast<std::uint8_t>(v); break;
          case 2: reinterpret_cast<std::uint16_t*>(out.mutable_bytes())[i] = static_cast<std::uint16_t>(v); break;
          default: reinterpret_cast<std::int32_t*>(out.mutable_bytes())[i] = v; break;
        }
      }
  }
  return out;
}

Result<Attr> convert_attr(const onnx::AttributeProto& a, const std::string& base_dir, const std::string& where) {
  Attr r;
  switch (a.type()) {
    case onnx::AttributeProto::FLOAT: r.kind = Attr::Kind::f; r.f = a.f(); break;
    case onnx::AttributeProto::INT: r.kind = Attr::Kind::i; r.i = a.i(); break;
    case onnx::AttributeProto::STRING: r.kind = Attr::Kind::s; r.s = a.s(); break;
    case onnx::AttributeProto::FLOATS: r.kind = Attr::Kind::fs; r.fs.assign(a.floats().begin(), a.floats().end()); break;
    case onnx::AttributeProto::INTS: r.kind = Attr::Kind::is; r.is.assign(a.ints().begin(), a.ints().end()); break;
    case onnx::AttributeProto::STRINGS: r.kind = Attr::Kind::ss; r.ss.assign(a.strings().begin(), a.strings().end()); break;
    case onnx::AttributeProto::TENSOR: {
      r.kind = Attr::Kind::t;
      auto t = convert_tensor(a.t(), base_dir, where + " attribute '" + a.name() + "'");
      if (!t) return t.status();
      r.t = std::move(t.value());
      break;
    }
    default:
      return Status(Code::unsupported, where + ": attribute '" + a.name() + "' has an unsupported type (graphs, sparse tensors and type protos are not supported)");
  }
  return r;
}

// Constant nodes become constant values right away: passes and the planner see one kind of constant.
Result<TensorData> constant_node_value(const Node& n) {
  if (auto it = n.attrs.find("value"); it != n.attrs.end() && it->second.t) return *it->second.t;
  if (auto it = n.attrs.find("value_float"); it != n.attrs.end()) {
    auto t = TensorData::make(DType::f32, {});
    *t.as_mut<float>() = it->second.f;
    return t;
  }
  if (auto it = n.attrs.find("value_floats"); it != n.attrs.end()) {
    auto t = TensorData::make(DType::f32, {static_cast<std::int64_t>(it->second.fs.size())});
    std::copy(it->second.fs.begin(), it->second.fs.end(), t.as_mut<float>());
    return t;
  }
  if (auto it = n.attrs.find("value_int"); it != n.attrs.end()) {
    auto t = TensorData::make(DType::i64, {});
    *t.as_mut<std::int64_t>() = it->second.i;
    return t;
  }
  if (auto it = n.attrs.find("value_ints"); it != n.attrs.end()) {
    auto t = TensorData::make(DType::i64, {static_cast<std::int64_t>(it->second.is.size())});
    std::copy(it->second.is.begin(), it->second.is.end(), t.as_mut<std::int64_t>());
    return t;
  }
  return Status(Code::unsupported, n.label() + ": Constant without a supported value attribute (sparse_value and strings are not supported)");
}

Status check_tensor_type(const onnx::ValueInfoProto& vi, const std::string& where) {
  if (vi.has_type() && !vi.type().has_tensor_type())
    return Status(Code::unsupported, where + ": '" + vi.name() + "' is not a tensor (sequence, map, optional and sparse types are not supported)");
  return Status::Ok();
}

void set_type_shape(Value& v, const onnx::ValueInfoProto& vi) {
  if (!vi.has_type() || !vi.type().has_tensor_type()) return;
  const auto& tt = vi.type().tensor_type();
  v.dtype = static_cast<DType>(tt.elem_type());
  if (tt.has_shape()) {
    v.has_shape = true;
    v.shape.clear();
    for (const auto& d : tt.shape().dim()) v.shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
  }
}

}  // namespace

Result<Graph> import_onnx_bytes(const void* data, std::size_t size, const std::string& origin, const std::string& base_dir) {
  if (size > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    return Status(Code::out_of_range, origin + ": file larger than 2 GB: keep weights as external data");
  onnx::ModelProto model;
  if (!model.ParseFromArray(data, static_cast<int>(size)))
    return Status(Code::parse_error, origin + ": not a valid ONNX model (protobuf parse failed: the file is truncated, corrupt or not ONNX)");
  if (!model.has_graph()) return Status(Code::parse_error, origin + ": ONNX model has no graph");
  Graph g;
  g.name = model.graph().name();
  g.opset = 0;
  for (const auto& os : model.opset_import())
    if (os.domain().empty() || os.domain() == "ai.onnx") g.opset = os.version();
  if (g.opset == 0) g.opset = 1;
  for (const auto& kv : model.metadata_props()) g.metadata[kv.key()] = kv.value();
  const auto& gp = model.graph();

  std::unordered_map<std::string, int> by_name;
  auto value_of = [&](const std::string& name) -> int {
    auto it = by_name.find(name);
    return it == by_name.end() ? -1 : it->second;
  };
  for (const auto& init : gp.initializer()) {
    auto t = convert_tensor(init, base_dir, origin);
    if (!t) return t.status();
    if (value_of(init.name()) >= 0) return Status(Code::parse_error, origin + ": initializer '" + init.name() + "' defined twice");
    by_name[init.name()] = g.add_constant(init.name(), std::move(t.value()));
  }
  if (gp.sparse_initializer_size() > 0) return Status(Code::unsupported, origin + ": sparse initializers are not supported");
  for (const auto& in : gp.input()) {
    if (value_of(in.name()) >= 0) continue;  // an initializer listed as input (IR < 4): a constant
    TICKRT_RETURN_IF_ERROR(check_tensor_type(in, origin + ": graph input"));
    int id = g.add_value(in.name());
    set_type_shape(g.values[id], in);
    by_name[in.name()] = id;
    g.inputs.push_back(id);
  }
  for (const auto& np : gp.node()) {
    Node n;
    n.name = np.name().empty() ? (np.op_type() + "_" + std::to_string(g.nodes.size())) : np.name();
    n.op = np.op_type();
    n.domain = np.domain() == "ai.onnx" ? "" : np.domain();
    const std::string where = origin + ": " + n.label();
    for (const auto& a : np.attribute()) {
      auto at = convert_attr(a, base_dir, where);
      if (!at) return at.status();
      n.attrs[a.name()] = std::move(at.value());
    }
    for (const auto& in : np.input()) {
      if (in.empty()) { n.inputs.push_back(-1); continue; }
      int v = value_of(in);
      if (v < 0)
        return Status(Code::parse_error, where + ": input '" + in + "' is not produced by an earlier node, an initializer or a graph input (nodes must be in topological order)");
      n.inputs.push_back(v);
    }
    if (n.op == "Constant" && n.domain.empty()) {
      auto t = constant_node_value(n);
      if (!t) return Status(t.status().code(), origin + ": " + t.status().message());
      if (np.output_size() != 1) return Status(Code::parse_error, where + ": Constant must have one output");
      if (value_of(np.output(0)) >= 0) return Status(Code::parse_error, where + ": output '" + np.output(0) + "' defined twice");
      by_name[np.output(0)] = g.add_constant(np.output(0), std::move(t.value()));
      continue;
    }
    for (const auto& out : np.output()) {
      if (out.empty()) { n.outputs.push_back(-1); continue; }
      if (value_of(out) >= 0) return Status(Code::parse_error, where + ": output '" + out + "' defined twice (graph is not SSA)");
      int v = g.add_value(out);
      by_name[out] = v;
      n.outputs.push_back(v);
    }
    g.add_node(std::move(n));
  }
  for (const auto& vi : gp.value_info()) {
    int v = value_of(vi.name());
    if (v >= 0 && !g.values[v].constant) set_type_shape(g.values[v], vi);
  }
  for (const auto& out : gp.output()) {
    TICKRT_RETURN_IF_ERROR(check_tensor_type(out, origin + ": graph output"));
    int v = value_of(out.name());
    if (v < 0) return Status(Code::parse_error, origin + ": graph output '" + out.name() + "' is never produced");
    if (!g.values[v].constant) set_type_shape(g.values[v], out);
    g.outputs.push_back(v);
  }
  auto st = g.validate();
  if (!st.ok()) return st.with_context(origin);
  return g;
}

Result<Graph> import_onnx_file(const std::string& path) {
  auto bytes = read_file(path);
  if (!bytes) return bytes.status();
  return import_onnx_bytes(bytes->data(), bytes->size(), path, std::filesystem::path(path).parent_path().string());
}

Result<TensorData> import_tensor_proto_file(const std::string& path) {
  auto bytes = read_file(path);
  if (!bytes) return bytes.status();
  onnx::TensorProto t;
  if (!t.ParseFromArray(bytes->data(), static_cast<int>(bytes->size())))
    return Status(Code::parse_error, path + ": not a valid TensorProto");
  return convert_tensor(t, std::filesystem::path(path).parent_path().string(), path);
}

}  // namespace tickrt::infer
