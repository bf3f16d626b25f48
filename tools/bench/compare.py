#!/usr/bin/python3
"""tickrt's inference engine vs its peers (ONNX Runtime, libtorch), in one run.

Runs, for each model x threads, ONNX Runtime (bench/peers/ort_bench.js), libtorch
(bench_libtorch) and tickrt (a command template, when given or found), each pinned with taskset,
all batches; collects one JSON line per (impl, model, batch, threads); writes the raw lines to
build/peers/results/compare-<UTC time>.jsonl and a markdown table into the "## engine vs peers" section
of docs/BENCHMARKS.md (with the command line and the machine).

usage:
  /usr/bin/python3 tools/bench/compare.py                       # peers (+ tickrt if found)
  /usr/bin/python3 tools/bench/compare.py --repeat 2 --seconds 2
  /usr/bin/python3 tools/bench/compare.py --models lstm_attn_s --batches 1 --threads 1 --no-docs
  /usr/bin/python3 tools/bench/compare.py --tickrt \
      'build/bin/tickrt bench {onnx} --name {model} --batch {batch} --threads {threads} --seconds {seconds} --json'

The tickrt command template: placeholders {model} (name, e.g. lstm_attn_s), {onnx} (path of
models/<name>/model.onnx), {models_dir}, {batch}, {threads}, {seconds}. It is run once per
(model, batch, threads), already pinned by the runner (taskset), and must print on stdout at
least one JSON line (other lines are ignored) with:
  {"impl": "tickrt", "model": "<name>", "batch": B, "threads": N, "median_us": float,
   "p99_us": float, "throughput_per_s": float (samples/s = batch * 1e6 / median_us),
   "iters": int}
Several lines (e.g. "impl": "tickrt_bf16") are allowed: each becomes a row. It should check its
output against the goldens itself and exit non-zero on a mismatch (the peers do).
Without --tickrt, the runner uses DEFAULT_TICKRT when build/bin/tickrt has a `bench --json` verb.

Pinning: threads=1 runs on --cpus' last CPU; threads=N runs on the last N CPUs of --cpus
(default: all CPUs of the machine). OPENBLAS_NUM_THREADS and OMP_NUM_THREADS are set to N.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import statistics
import resource
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = ["lstm_attn_s", "lstm_attn_l", "convlstm", "transformer_s"]
# The engine's own verb (apps/tickrt/cmd_engine.cpp: `tickrt bench ... --json`).
DEFAULT_TICKRT = ("build/bin/tickrt bench {onnx} --name {model} --batch {batch} "
                  "--threads {threads} --seconds {seconds} --json")
SECTION = "## engine vs peers"
KEYS = ("impl", "model", "batch", "threads", "median_us", "p99_us", "throughput_per_s", "iters")


def log(msg: str) -> None:
    print(f"compare: {msg}", file=sys.stderr, flush=True)


def cpu_busy_s(cpus: list[int]) -> float:
    """Busy seconds (user+nice+system+irq+softirq+steal) of these CPUs since boot."""
    ticks = os.sysconf("SC_CLK_TCK")
    busy = 0
    with open("/proc/stat") as f:
        for line in f:
            name, *v = line.split()
            if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) in cpus:
                busy += sum(int(x) for x in (v[0], v[1], v[2], v[5], v[6], v[7]))
    return busy / ticks


WAIT_IDLE = (0.0, 10.0)   # (max seconds to wait, busy % threshold); set from --wait-idle


def wait_idle(cpus: list[int]) -> None:
    """Waits (up to WAIT_IDLE[0] s) until the CPUs were less than WAIT_IDLE[1] % busy over the
    last 0.5 s, so that a measurement does not start in the middle of someone's compile."""
    limit, threshold = WAIT_IDLE
    deadline = time.monotonic() + limit
    while True:
        b0 = cpu_busy_s(cpus)
        time.sleep(0.5)
        busy = (cpu_busy_s(cpus) - b0) / (0.5 * len(cpus)) * 100
        if busy < threshold or time.monotonic() >= deadline:
            if busy >= threshold:
                log(f"CPUs {cpus} still {busy:.0f}% busy after {limit:g} s: measuring anyway")
            return


def sh(cmd: list[str], env=None, cpus: list[int] | None = None) -> list[dict]:
    """Runs cmd, returns its JSON lines; raises with its stderr when it fails.
    With `cpus` (the CPUs cmd is pinned to), each row gets "others_cpu_pct": the share of those
    CPUs' time used by other processes meanwhile (their busy time minus cmd's own CPU time), the
    noise indicator of that measurement."""
    if cpus and WAIT_IDLE[0] > 0:
        wait_idle(cpus)
    log(" ".join(shlex.quote(c) for c in cmd))
    ru0, busy0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), cpu_busy_s(cpus or []), \
        time.monotonic()
    p = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    ru1, busy1, t1 = resource.getrusage(resource.RUSAGE_CHILDREN), cpu_busy_s(cpus or []), \
        time.monotonic()
    own = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    others = (max(0.0, (busy1 - busy0) - own) / ((t1 - t0) * len(cpus)) * 100) if cpus else None
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[0]} ... failed (exit {p.returncode}):\n{p.stderr[-3000:]}")
    rows = []
    for line in p.stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        missing = [k for k in KEYS if k not in r]
        if missing:
            raise RuntimeError(f"{cmd[0]}: JSON line lacks {missing}: {line}")
        if others is not None:
            r["others_cpu_pct"] = round(others, 1)
        rows.append(r)
    if not rows:
        raise RuntimeError(f"{cmd[0]} printed no JSON line; stderr:\n{p.stderr[-3000:]}")
    return rows


def machine() -> str:
    name = "unknown CPU"
    try:
        out = subprocess.run(["lscpu"], stdout=subprocess.PIPE, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                name = line.split(":", 1)[1].strip()
    except OSError:
        pass
    isa = []
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((l.split(":", 1)[1].split() for l in f if l.startswith("flags")), [])
        isa = [x for x in ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile")
               if x in flags]
    except OSError:
        pass
    return (f"{name}, {os.cpu_count()} CPUs ({' '.join(isa) or 'no AVX2'}), "
            f"Linux {platform.release()}")


def deb_version(pkg: str) -> str:
    p = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    return p.stdout.strip() or "?"


def pinned(cpus: list[int], threads: int) -> list[int]:
    return cpus[-threads:] if threads <= len(cpus) else cpus


def pin(cpus: list[int], threads: int) -> list[str]:
    return ["taskset", "-c", ",".join(map(str, pinned(cpus, threads)))]


def ensure_inputs(a) -> None:
    pt_missing = [m for m in a.models
                  if not os.path.exists(os.path.join(a.pt_dir, m, "model.pt"))]
    if pt_missing and not a.skip_libtorch:
        log(f"TorchScript missing for {pt_missing}: exporting")
        subprocess.run(["/usr/bin/python3", "tools/models/export.py", "--pt-only", "--pt-dir",
                        a.pt_dir, "--models", *pt_missing], cwd=ROOT, check=True,
                       stderr=subprocess.DEVNULL)
    ov = os.path.join(ROOT, "build", "peers", "overhead")
    if any(not os.path.exists(os.path.join(ov, f"{m}.onnx")) for m in a.models):
        subprocess.run(["/usr/bin/python3", "tools/bench/make_overhead_models.py", ov], cwd=ROOT,
                       check=True, stdout=subprocess.DEVNULL)


def has_bench_verb(binary: str) -> bool:
    if not os.path.exists(binary):
        return False
    p = subprocess.run([binary, "bench", "--help"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    return p.returncode == 0 and "--json" in p.stdout


def find_libtorch(a) -> str | None:
    if a.skip_libtorch:
        return None
    for c in ([a.libtorch_bin] if a.libtorch_bin else
              ["build/bin/bench_libtorch", "build-models/bin/bench_libtorch"]):
        if os.path.exists(os.path.join(ROOT, c)):
            return c
    raise SystemExit(
        "compare: bench_libtorch not found. Build it with\n"
        "  scripts/install-deps.sh peers && cmake -S . -B build-models -DCMAKE_BUILD_TYPE=Release "
        "-DTICKRT_BENCH_LIBTORCH=ON && cmake --build build-models --target bench_libtorch\n"
        "or pass --libtorch-bin PATH, or --skip-libtorch.")


def sweep(a, libtorch: str | None, tickrt: str | None) -> list[dict]:
    rows = []
    b_arg = ",".join(map(str, a.batches))
    for threads in a.threads:
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
        p = pin(a.cpus, threads)
        on = pinned(a.cpus, threads)
        for m in a.models:
            if not a.skip_ort:
                rows += sh(p + ["node", "bench/peers/ort_bench.js", "--models", m, "--batches", b_arg,
                                "--threads", str(threads), "--seconds", str(a.seconds)], env, on)
            if libtorch:
                # PASSIVE: libtorch's OpenMP workers otherwise spin after each parallel region
                # and fight OpenBLAS's own threads for the same CPUs (measured: lstm_attn_l b64
                # at 2 threads 359 ms with spinning, 153 ms passive).
                rows += sh(p + [libtorch, "--models", m, "--batches", b_arg, "--threads",
                                str(threads), "--seconds", str(a.seconds), "--pt-dir", a.pt_dir,
                                "--models-dir", "models", "--variant", a.libtorch_variant],
                           dict(env, OMP_WAIT_POLICY="PASSIVE"), on)
            if tickrt:
                for b in a.batches:
                    cmd = tickrt.format(model=m, onnx=f"models/{m}/model.onnx",
                                        models_dir="models", batch=b, threads=threads,
                                        seconds=a.seconds)
                    got = sh(p + shlex.split(cmd), env, on)
                    for r in got:
                        if (r["model"], int(r["batch"]), int(r["threads"])) != (m, b, threads):
                            raise RuntimeError(f"tickrt line does not match the request "
                                               f"({m}, {b}, {threads}): {r}")
                    rows += got
    return rows


def aggregate(runs: list[list[dict]], pick: str) -> list[dict]:
    """One row per (impl, model, batch, threads) from the repeats.
    pick "quietest": the sweep in which the pinned CPUs were least used by other processes
    (the figures of that sweep, unchanged); pick "median": the median over sweeps of median and
    p99. spread = (max - min) / median of the per-sweep medians, either way."""
    by = {}
    for run in runs:
        for r in run:
            by.setdefault((r["impl"], r["model"], int(r["batch"]), int(r["threads"])), []).append(r)
    out = []
    for (impl, model, batch, threads), rs in by.items():
        meds = [r["median_us"] for r in rs]
        if pick == "quietest":
            q = min(rs, key=lambda r: r.get("others_cpu_pct", 0.0))
            med, p99, others = q["median_us"], q["p99_us"], q.get("others_cpu_pct", 0.0)
            src = [q]
        else:
            med = statistics.median(meds)
            p99 = statistics.median(r["p99_us"] for r in rs)
            others = max(r.get("others_cpu_pct", 0.0) for r in rs)
            src = rs
        row = dict(impl=impl, model=model, batch=batch, threads=threads, median_us=med,
                   p99_us=p99, throughput_per_s=batch * 1e6 / med if med > 0 else 0.0,
                   iters=sum(r["iters"] for r in src), runs=len(rs),
                   spread=(max(meds) - min(meds)) / statistics.median(meds) if med > 0 else 0.0,
                   others=others)
        if impl == "ort":
            row["raw_median_us"] = statistics.median(r["raw_median_us"] for r in src)
            row["overhead_median_us"] = statistics.median(r["overhead_median_us"] for r in src)
        out.append(row)
    return out


def fmt_us(v: float) -> str:
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"


def table(rows: list[dict], models: list[str]) -> str:
    order = {"ort": 0, "libtorch": 1}
    rows = sorted(rows, key=lambda r: (models.index(r["model"]) if r["model"] in models else 99,
                                       r["threads"], r["batch"], order.get(r["impl"], 2), r["impl"]))
    ort = {(r["model"], r["batch"], r["threads"]): r for r in rows if r["impl"] == "ort"}
    lines = ["| model | batch | threads | impl | median µs | p99 µs | samples/s | vs ORT (median) | run spread | others' CPU | note |",
             "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        o = ort.get((r["model"], r["batch"], r["threads"]))
        ratio = ""
        if o and r["impl"] != "ort" and r["median_us"] > 0:
            x = o["median_us"] / r["median_us"]
            ratio = f"{x:.2f}x faster" if x >= 1 else f"{1 / x:.2f}x slower"
        note = ""
        if r["impl"] == "ort":
            note = (f"raw {fmt_us(r['raw_median_us'])} µs incl. Node binding "
                    f"({fmt_us(r['overhead_median_us'])} µs, subtracted)")
        lines.append(f"| {r['model']} | {r['batch']} | {r['threads']} | {r['impl']} | "
                     f"{fmt_us(r['median_us'])} | {fmt_us(r['p99_us'])} | "
                     f"{r['throughput_per_s']:,.0f} | {ratio} | {100 * r['spread']:.0f}% | "
                     f"{r['others']:.0f}% | {note} |")
    return "\n".join(lines)


def write_docs(path: str, body: str) -> None:
    """Replaces the SECTION (up to the next "## " heading) of `path`, leaving the rest as is."""
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    body = SECTION + "\n\n" + body.strip("\n") + "\n"
    start = text.find(SECTION + "\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + body
    else:
        nxt = text.find("\n## ", start + len(SECTION))
        text = text[:start] + body + ("\n" + text[nxt + 1:] if nxt >= 0 else "")
    with open(path, "w") as f:
        f.write(text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--batches", default="1,8,64")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--seconds", type=float, default=2.0, help="timed seconds per configuration")
    ap.add_argument("--repeat", type=int, default=1, help="whole sweeps; the table shows medians")
    ap.add_argument("--cpus", default=None, help="CPUs to pin to, e.g. 0,1 (default: all)")
    ap.add_argument("--tickrt", default=None, help="tickrt command template (see above)")
    ap.add_argument("--no-tickrt", action="store_true")
    ap.add_argument("--libtorch-bin", default=None)
    ap.add_argument("--libtorch-variant", default="freeze", choices=["plain", "freeze", "optimize"])
    ap.add_argument("--pt-dir", default="build/models")
    ap.add_argument("--skip-libtorch", action="store_true")
    ap.add_argument("--skip-ort", action="store_true")
    ap.add_argument("--no-docs", action="store_true", help="do not touch docs/BENCHMARKS.md")
    ap.add_argument("--docs", default="docs/BENCHMARKS.md")
    ap.add_argument("--note", default="", help="a paragraph to put under the table")
    ap.add_argument("--pick", default="quietest", choices=["quietest", "median"],
                    help="which sweep a row shows: the one with the least foreign CPU use "
                         "(default) or the median over sweeps")
    ap.add_argument("--wait-idle", type=float, default=0.0, metavar="S",
                    help="before each measurement wait up to S s for the pinned CPUs to be idle")
    ap.add_argument("--idle-threshold", type=float, default=10.0, metavar="PCT",
                    help="busy %% below which --wait-idle considers the CPUs idle (default 10)")
    a = ap.parse_args()
    global WAIT_IDLE
    WAIT_IDLE = (a.wait_idle, a.idle_threshold)
    a.models = a.models.split(",")
    a.batches = [int(b) for b in a.batches.split(",")]
    a.threads = [int(t) for t in a.threads.split(",")]
    a.cpus = ([int(c) for c in a.cpus.split(",")] if a.cpus
              else sorted(os.sched_getaffinity(0)))
    if not a.pt_dir.startswith("/"):
        a.pt_dir = os.path.join(ROOT, a.pt_dir)

    ensure_inputs(a)
    libtorch = find_libtorch(a)
    tickrt = None
    if not a.no_tickrt:
        if a.tickrt:
            tickrt = a.tickrt
        elif has_bench_verb(os.path.join(ROOT, "build/bin/tickrt")):
            tickrt = DEFAULT_TICKRT
            log(f"found build/bin/tickrt with a 'bench --json' verb: using '{tickrt}'")
        else:
            log("no tickrt command (build/bin/tickrt lacks 'bench --json', no --tickrt): "
                "peers only")

    load_before = os.getloadavg()
    started = dt.datetime.now(dt.timezone.utc)
    runs = []
    for i in range(a.repeat):
        log(f"sweep {i + 1}/{a.repeat}")
        runs.append(sweep(a, libtorch, tickrt))
    load_after = os.getloadavg()

    os.makedirs(os.path.join(ROOT, "build", "peers", "results"), exist_ok=True)
    raw = os.path.join(ROOT, "build", "peers", "results",
                       f"compare-{started:%Y%m%dT%H%M%SZ}.jsonl")
    with open(raw, "w") as f:
        for i, run in enumerate(runs):
            for r in run:
                f.write(json.dumps(dict(r, sweep=i)) + "\n")
    rows = aggregate(runs, a.pick)
    for r in rows:
        print(json.dumps(dict({k: r[k] for k in KEYS},
                              throughput_per_s=round(r["throughput_per_s"]))))
    log(f"raw lines: {os.path.relpath(raw, ROOT)}")

    if a.no_docs:
        return 0
    cmd = "/usr/bin/python3 tools/bench/compare.py " + " ".join(shlex.quote(x) for x in sys.argv[1:])
    impls = sorted({r["impl"] for r in rows})
    body = f"""
Measured {started:%Y-%m-%d %H:%M} UTC on **{machine()}** (`lscpu | grep 'Model name'`),
by one run of the runner (all implementations in the same run, interleaved per model):

```
{cmd.strip()}
```

Implementations in this table: {", ".join(impls)}.{"" if tickrt else " **Peers only: tickrt's rows come when its bench binary exists (the runner adds them).**"}
{"Each row shows the sweep (of " + str(a.repeat) + ") in which its pinned CPUs were least used by other processes" if a.pick == "quietest" else "Each figure is the median over " + str(a.repeat) + " sweep(s)"}: median and p99 of single
synchronous inferences (about {a.seconds:g} s or at least 50 runs each, after 20 warm-up runs);
"run spread" is (max - min) / median of the per-sweep medians; "others' CPU" is the share
of the pinned CPUs' time that other processes used while this row was
measured (from /proc/stat minus the benchmark's own CPU time): the noise indicator; rows above
about 10% are not trustworthy. Load average before/after:
{load_before[0]:.2f} / {load_after[0]:.2f} (the machine is shared; figures are noisy when it is
high). Every implementation's batch-1 and batch-64 outputs were checked against
models/<name>/golden_b*.npy before timing. samples/s = batch x 10^6 / median µs. "vs ORT" is
ORT's median divided by this row's median, from the same run of the runner
(with the default `--pick quietest` the two may come from different sweeps of it).

- **ort**: ONNX Runtime {next((r.get("version") for run in runs for r in run if r["impl"] == "ort"), "?")}
  CPU EP through onnxruntime-node (`bench/peers/ort_bench.js`): intraOpNumThreads = threads,
  interOpNumThreads 1, graphOptimizationLevel 'all', sequential. The Node binding's cost per call,
  timed on a Slice+Squeeze model with the same input/output sizes, is subtracted (median from
  median and from p99); the raw figure is in the note.
- **libtorch**: libtorch {deb_version("libtorch1.13")} (Debian) TorchScript trace, `torch::jit::freeze` (variant
  `{a.libtorch_variant}`), `c10::InferenceMode`, `at::set_num_threads(threads)`, inter-op 1,
  OpenBLAS {deb_version("libopenblas0-pthread")} (pthread) as libblas.so.3 with OPENBLAS_NUM_THREADS = threads,
  OMP_WAIT_POLICY=PASSIVE (`bench/peers/bench_libtorch.cpp`).
- Pinning: `taskset` to the last `threads` CPUs of {a.cpus}.

{table(rows, a.models)}
"""
    if a.note:
        body += "\n" + a.note.strip() + "\n"
    write_docs(os.path.join(ROOT, a.docs), body)
    log(f"wrote the '{SECTION}' section of {a.docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
