# Sourced by the device scripts under docs/streaming/device-*/ (run from the repository root on the device
# machine): $OUT, the /work/main path the binaries' build expects, the carried libraries, and the binaries of
# .leadgpu/bin (git-excluded, carried) unpacked; $B is where they are.
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
[ -e /work/main ] || { mkdir -p /work && ln -s "$PWD" /work/main; }
export LD_LIBRARY_PATH=$PWD/.leadgpu/lib:/usr/local/cuda/lib64:/usr/local/cuda/lib
B=.leadgpu/bin
for f in "$B"/*.xz; do [ -e "$f" ] && xz -dc "$f" > "${f%.xz}" && chmod +x "${f%.xz}"; done
