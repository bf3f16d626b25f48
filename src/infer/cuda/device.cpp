// infer/cuda/device.cpp — device discovery and choice (index or UUID), with errors that say why.
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

#include "infer/cuda/cuda_backend.hpp"

namespace tickrt::infer::cuda {
namespace {

std::string visible_env() {
  const char* v = std::getenv("CUDA_VISIBLE_DEVICES");
  return v ? std::string("CUDA_VISIBLE_DEVICES='") + v + "'" : std::string("CUDA_VISIBLE_DEVICES unset");
}

std::string uuid_str(const cudaUUID_t& u) {
  const auto* b = reinterpret_cast<const unsigned char*>(u.bytes);
  char s[64];
  std::snprintf(s, sizeof s, "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4],
                b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return s;
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// "GPU-abcd..." / "MIG-abcd..." / "abcd...": the hex digits with the prefix and dashes dropped.
std::string uuid_key(const std::string& s) {
  std::string t = lower(s), out;
  if (t.rfind("gpu-", 0) == 0 || t.rfind("mig-", 0) == 0) t = t.substr(4);
  for (char c : t)
    if (c != '-') out += c;
  return out;
}

}  // namespace

Result<int> device_count() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e == cudaErrorNoDevice || (e == cudaSuccess && n == 0))
    return Status(Code::not_found, "no CUDA device is visible (" + visible_env() + "): use --device cpu or --fallback cpu");
  if (e == cudaErrorInsufficientDriver)
    return Status(Code::unsupported, std::string("no usable NVIDIA driver (libcuda missing or older than the CUDA ") +
                                         std::to_string(CUDART_VERSION / 1000) + "." + std::to_string(CUDART_VERSION % 1000 / 10) +
                                         " runtime this build uses): " + cudaGetErrorString(e) + "; use --device cpu or --fallback cpu");
  if (e != cudaSuccess)
    return Status(Code::unsupported, std::string("CUDA initialisation failed: ") + cudaGetErrorName(e) + ": " + cudaGetErrorString(e) +
                                         " (" + visible_env() + ")");
  return n;
}

std::vector<DeviceInfo> list_devices() {
  std::vector<DeviceInfo> out;
  auto n = device_count();
  if (!n.ok()) return out;
  for (int i = 0; i < *n; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
    DeviceInfo d;
    d.ordinal = i;
    d.name = p.name;
    d.uuid = uuid_str(p.uuid);
    d.cc_major = p.major;
    d.cc_minor = p.minor;
    d.total_mem = p.totalGlobalMem;
    d.sms = p.multiProcessorCount;
    out.push_back(d);
  }
  return out;
}

Result<DeviceInfo> resolve_device(const std::string& spec) {
  std::string rest;
  if (spec == "cuda" || spec == "gpu") rest = "0";
  else if (spec.rfind("cuda:", 0) == 0) rest = spec.substr(5);
  else if (spec.rfind("gpu:", 0) == 0) rest = spec.substr(4);
  else return Status(Code::invalid_argument, "device '" + spec + "': expected cuda, cuda:<index> or cuda:<UUID> (GPU-... / MIG-...)");
  if (rest.empty()) return Status(Code::invalid_argument, "device '" + spec + "': empty index/UUID after 'cuda:'");
  auto n = device_count();
  if (!n.ok()) return n.status();
  auto devs = list_devices();
  auto present = [&] {
    std::string s;
    for (auto& d : devs) s += "\n  cuda:" + std::to_string(d.ordinal) + "  " + d.uuid + "  " + d.name;
    return s;
  };
  bool digits = true;
  for (char c : rest) digits = digits && c >= '0' && c <= '9';
  if (digits && rest.size() < 4) {
    const int idx = std::atoi(rest.c_str());
    for (auto& d : devs)
      if (d.ordinal == idx) return d;
    return Status(Code::not_found, "device '" + spec + "': no CUDA device " + rest + " among " + std::to_string(devs.size()) +
                                       " visible (" + visible_env() + "):" + present());
  }
  const std::string key = uuid_key(rest);
  const DeviceInfo* hit = nullptr;
  int hits = 0;
  for (auto& d : devs)
    if (uuid_key(d.uuid).rfind(key, 0) == 0) {
      hit = &d;
      ++hits;
    }
  if (hits == 1) return *hit;
  if (hits > 1) return Status(Code::invalid_argument, "device '" + spec + "': UUID prefix matches several devices:" + present());
  return Status(Code::not_found, "device '" + spec + "': no visible device has this UUID (" + visible_env() +
                                     "; a MIG instance is chosen with CUDA_VISIBLE_DEVICES=MIG-...):" + present());
}

std::string fingerprint(const DeviceInfo& d) {
  return "tickrt-engine/cuda/sm_" + std::to_string(d.cc_major) + std::to_string(d.cc_minor) + "/" + d.name;
}

void stamp_target(Graph& g, const DeviceInfo& d) {
  g.metadata["tickrt.cuda.sm"] = std::to_string(d.cc_major * 10 + d.cc_minor);
  g.metadata["tickrt.cuda.device"] = d.name;
}

}  // namespace tickrt::infer::cuda
