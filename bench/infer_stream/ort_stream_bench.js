#!/usr/bin/env node
'use strict';
// ONNX Runtime peer of bench_stream (issue 10 item 5): per-tick latency of
//   stream_step: the lstm_attn_stream one-step graph with its state passed IN and OUT every tick (the
//                outputs h_out, c_out, ring_out, ring_score_out, ring_valid_out fed back as the next
//                tick's inputs: what an engine without state slots does), over the 10,000 real ticks of
//                tests/infer_stream/data (state reset when the data wraps);
//   window:      lstm_attn_s on a [1, 64, F] window of the same rows (the whole window recomputed per tick).
// Correctness first: the streamed logits must match tests/infer_stream/data/real10k_ref.npy (PyTorch over
// the full sequence) within 1e-4, else exit 1.
// Timing: each tick is one awaited session.run() (onnxruntime-node, CPU EP, 1 intra-op thread), timed
// with process.hrtime around it (raw_*: includes the N-API call and tensor wrapping). stream_step's
// median_us / p99_us subtract the median of the same loop on a trivial graph with the same interface
// (Identity outputs; tools/stream/make_overhead_step.py -> build/peers/overhead/lstm_attn_stream_step.onnx);
// the window row subtracts <overhead>_window.onnx's median the same way when it exists.
// usage: taskset -c 1 node bench/infer_stream/ort_stream_bench.js [--seconds 3]
// Prints one JSON line per row, like bench_stream.
const path = require('path');
const { readNpy } = require('../peers/golden');
const { ROOT, loadOrt, zeroStreamState, nextStreamState } = require('../peers/ort_node');

const ort = loadOrt('ort_stream_bench');

function stats(ns) {
  const s = Float64Array.from(ns, v => Number(v) / 1000).sort();
  return { median: s[Math.floor(s.length / 2)], p99: s[Math.min(s.length - 1, Math.floor(s.length * 0.99))], max: s[s.length - 1], n: s.length };
}

async function main() {
  let overhead = path.join(ROOT, 'build', 'peers', 'overhead', 'lstm_attn_stream_step.onnx');
  let seconds = 3, streamModel = 'models/lstm_attn_stream/model.onnx', refFile = 'tests/infer_stream/data/real10k_ref.npy';
  for (let i = 2; i < process.argv.length; ++i) {
    if (process.argv[i] === '--seconds') seconds = Number(process.argv[++i]);
    else if (process.argv[i] === '--stream') streamModel = process.argv[++i];
    else if (process.argv[i] === '--overhead') overhead = path.resolve(process.argv[++i]);
    else throw new Error(`unknown argument ${process.argv[i]}`);
  }
  // The PyTorch reference exists for the committed random-weights model; another model is checked against
  // tickrt's own streamed logits only if given none (the correctness check is then skipped, said on stderr).
  const checkRef = path.resolve(ROOT, streamModel) === path.resolve(ROOT, 'models/lstm_attn_stream/model.onnx');
  const opts = { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all',
                 executionMode: 'sequential' };
  const xs = readNpy(path.join(ROOT, 'tests/infer_stream/data/real10k_x.npy'));
  const ref = readNpy(path.join(ROOT, refFile));
  const [T, F] = xs.shape;
  const sess = await ort.InferenceSession.create(path.resolve(ROOT, streamModel), opts);
  const zero = () => zeroStreamState(ort, 1);
  // One tick of session `sx`: tick t's row and the state in, [logits, the next state] out.
  const step = async (sx, st, t) => {
    const o = await sx.run({ x: new ort.Tensor('float32', xs.data.subarray(t * F, (t + 1) * F), [1, F]), ...st });
    return [o.logits, nextStreamState(o)];
  };
  // Correctness over all T ticks.
  let st = zero(), worst = 0;
  for (let t = 0; t < T; ++t) {
    const [lg, nst] = await step(sess, st, t);
    st = nst;
    for (let k = 0; k < 3; ++k) worst = Math.max(worst, Math.abs(lg.data[k] - ref.data[t * 3 + k]));
  }
  if (checkRef) {
    console.error(`ort_stream_bench: ${T} ticks streamed, max |ORT - PyTorch full sequence| ${worst.toExponential(2)}`);
    if (!(worst <= 1e-4)) { console.error('ort_stream_bench: mismatch'); process.exit(1); }
  } else {
    console.error(`ort_stream_bench: ${streamModel}: no PyTorch reference here, correctness not checked (the committed random model is)`);
  }
  const r = v => Math.round(v * 1000) / 1000;
  const line = (row, model, s) => console.log(JSON.stringify({ impl: 'ort', row, model, batch: 1, threads: 1, median_us: r(s.median),
    p99_us: r(s.p99), max_us: r(s.max), iters: s.n, version: ort.env.versions.node }));
  // Timed streaming: the model, then the overhead graph (same interface, Identity outputs) in the same way.
  const timeStream = async (sx) => {
    const stepWith = async (st, t) => (await step(sx, st, t))[1];
    let s2 = zero(), t = 0;
    const ns = [];
    for (let i = 0; i < 2000; ++i) s2 = await stepWith(s2, i % T);
    s2 = zero();
    const end = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
    while (process.hrtime.bigint() < end) {
      if (t === T) { t = 0; s2 = zero(); }
      const t0 = process.hrtime.bigint();
      s2 = await stepWith(s2, t);
      ns.push(process.hrtime.bigint() - t0);
      ++t;
    }
    return stats(ns);
  };
  const sm = await timeStream(sess);
  const fs = require('fs');
  let so = null;
  if (fs.existsSync(overhead)) {
    const osess = await ort.InferenceSession.create(overhead, opts);
    so = await timeStream(osess);
    await osess.release();
  } else {
    console.error(`ort_stream_bench: ${overhead} absent (tools/stream/make_overhead_step.py): overhead not measured`);
  }
  console.log(JSON.stringify({ impl: 'ort', row: 'stream_step', model: 'lstm_attn_stream', batch: 1, threads: 1,
    median_us: r(so ? Math.max(0, sm.median - so.median) : sm.median), p99_us: r(so ? Math.max(0, sm.p99 - so.median) : sm.p99),
    raw_median_us: r(sm.median), raw_p99_us: r(sm.p99), max_us: r(sm.max), iters: sm.n,
    overhead_median_us: so ? r(so.median) : null, overhead_p99_us: so ? r(so.p99) : null, version: ort.env.versions.node }));

  await sess.release();
  // Window model.
  const ws = await ort.InferenceSession.create(path.join(ROOT, 'models/trained/lstm_attn_s/model.onnx'), opts);
  const W = 64;
  const wns = [];
  let t = 0;
  for (let i = 0; i < 200; ++i) await ws.run({ x: new ort.Tensor('float32', xs.data.subarray(0, W * F), [1, W, F]) });
  const wend = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() < wend) {
    if (t + W > T) t = 0;
    const feeds = { x: new ort.Tensor('float32', xs.data.subarray(t * F, (t + W) * F), [1, W, F]) };
    const t0 = process.hrtime.bigint();
    await ws.run(feeds);
    wns.push(process.hrtime.bigint() - t0);
    ++t;
  }
  // The windowed peer's overhead graph (make_overhead_step.py --window-out: <overhead>_window.onnx), when present.
  const wover = overhead.replace(/\.onnx$/, '_window.onnx');
  const wst = stats(wns);
  let wo = null;
  if (require('fs').existsSync(wover)) {
    const os = await ort.InferenceSession.create(wover, opts);
    const ons = [];
    const oend = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
    while (process.hrtime.bigint() < oend) {
      const feeds = { x: new ort.Tensor('float32', xs.data.subarray(0, W * F), [1, W, F]) };
      const t0 = process.hrtime.bigint();
      await os.run(feeds);
      ons.push(process.hrtime.bigint() - t0);
    }
    wo = stats(ons);
    await os.release();
  }
  console.log(JSON.stringify({ impl: 'ort', row: 'window', model: 'lstm_attn_s', batch: 1, threads: 1,
    median_us: r(wo ? Math.max(0, wst.median - wo.median) : wst.median), p99_us: r(wo ? Math.max(0, wst.p99 - wo.median) : wst.p99),
    raw_median_us: r(wst.median), raw_p99_us: r(wst.p99), max_us: r(wst.max), iters: wst.n,
    overhead_median_us: wo ? r(wo.median) : null, version: ort.env.versions.node }));
  await ws.release();
}

main().catch(e => { console.error(`ort_stream_bench: ${e.stack || e.message}`); process.exit(1); });
