#!/usr/bin/env node
'use strict';
// ONNX Runtime peer benchmark (onnxruntime-node 1.30, CPU execution provider).
//
// Why Node: the npm package ships libonnxruntime.so but no C headers, and Debian has no ORT.
// The Node binding adds a per-call cost (tensor wrapping, N-API, promise); it is measured on a
// trivial model with the same input/output sizes (build/peers/overhead/<model>.onnx: Slice +
// Squeeze, made by tools/bench/make_overhead_models.py) in the same process and subtracted.
//
// Checks correctness first: batch 1 and 64 outputs must match models/<name>/golden_b*.npy.
//
// usage: node bench/peers/ort_bench.js [--models-dir models] [--overhead-dir build/peers/overhead]
//          [--models a,b] [--batches 1,8,64] [--threads 1,2] [--seconds 2] [--min-iters 50]
//          [--max-iters 20000] [--verify-only]
// Prints one JSON line per (model, batch, threads) on stdout:
//  {"impl":"ort","model","batch","threads","median_us","p99_us","throughput_per_s","iters",
//   "raw_median_us","raw_p99_us","overhead_median_us","overhead_p99_us"}
// median_us/p99_us have the overhead model's median subtracted; raw_* are as timed.
// throughput_per_s = batch * 1e6 / median_us (samples per second, overhead-subtracted).

const path = require('path');
const { readNpy, loadMeta, inputFor } = require('./golden');
const { ROOT, loadOrt } = require('./ort_node');

const ort = loadOrt('ort_bench');

function parseArgs(argv) {
  const a = {
    modelsDir: path.join(ROOT, 'models'),
    overheadDir: path.join(ROOT, 'build', 'peers', 'overhead'),
    models: ['lstm_attn_s', 'lstm_attn_l', 'convlstm', 'transformer_s'],
    batches: [1, 8, 64], threads: [1, 2], seconds: 2, minIters: 50, maxIters: 20000,
    verifyOnly: false, tol: 1e-4,
  };
  for (let i = 2; i < argv.length; ++i) {
    const k = argv[i], v = () => {
      if (i + 1 >= argv.length) { throw new Error(`${k} needs a value`); }
      return argv[++i];
    };
    if (k === '--models-dir') a.modelsDir = path.resolve(v());
    else if (k === '--overhead-dir') a.overheadDir = path.resolve(v());
    else if (k === '--models') a.models = v().split(',');
    else if (k === '--batches') a.batches = v().split(',').map(Number);
    else if (k === '--threads') a.threads = v().split(',').map(Number);
    else if (k === '--seconds') a.seconds = Number(v());
    else if (k === '--min-iters') a.minIters = Number(v());
    else if (k === '--max-iters') a.maxIters = Number(v());
    else if (k === '--tol') a.tol = Number(v());
    else if (k === '--verify-only') a.verifyOnly = true;
    else throw new Error(`unknown argument ${k} (see the header of ${__filename})`);
  }
  return a;
}

function stats(samplesNs) {
  const s = Float64Array.from(samplesNs, v => Number(v) / 1000).sort();
  const n = s.length;
  const median = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  const p99 = s[Math.min(n - 1, Math.ceil(0.99 * n) - 1)];
  return { median, p99, n };
}

async function session(file, threads) {
  return ort.InferenceSession.create(file, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    enableCpuMemArena: true,
    enableMemPattern: true,
  });
}

// Warm-up, then time single runs until `seconds` have passed (within [minIters, maxIters]).
async function timeRuns(sess, feeds, a) {
  for (let i = 0; i < 20; ++i) await sess.run(feeds);
  const samples = [];
  const deadline = process.hrtime.bigint() + BigInt(Math.round(a.seconds * 1e9));
  while (samples.length < a.maxIters &&
         (samples.length < a.minIters || process.hrtime.bigint() < deadline)) {
    const t0 = process.hrtime.bigint();
    await sess.run(feeds);
    samples.push(process.hrtime.bigint() - t0);
  }
  return stats(samples);
}

function verify(meta, batch, out, modelsDir, tol) {
  const g = meta.goldens.find(e => e.batch === batch);
  if (!g) return null;
  const ref = readNpy(path.join(modelsDir, meta.model, g.output_file));
  let maxErr = 0;
  for (let i = 0; i < ref.data.length; ++i) {
    maxErr = Math.max(maxErr, Math.abs(ref.data[i] - out.data[i]) / (1 + Math.abs(ref.data[i])));
  }
  if (!(maxErr <= tol) || out.data.length !== ref.data.length) {
    throw new Error(`${meta.model} b${batch}: ORT differs from golden, max rel err ${maxErr}`);
  }
  return maxErr;
}

async function main() {
  const a = parseArgs(process.argv);
  for (const name of a.models) {
    const meta = loadMeta(a.modelsDir, name);
    const modelFile = path.join(a.modelsDir, name, meta.onnx);
    for (const threads of a.threads) {
      const sess = await session(modelFile, threads);
      const over = a.verifyOnly ? null :
        await session(path.join(a.overheadDir, `${name}.onnx`), threads);
      for (const batch of a.batches) {
        const inp = inputFor(meta, batch);
        const feeds = { x: new ort.Tensor('float32', inp.x, inp.dims) };
        const out = (await sess.run(feeds)).logits;
        const err = verify(meta, batch, out, a.modelsDir, a.tol);
        if (err !== null && threads === a.threads[0]) {
          console.error(`ort_bench: ${name} b${batch} matches golden (max rel err ${err.toExponential(2)})`);
        }
        if (a.verifyOnly) continue;
        const m = await timeRuns(sess, feeds, a);
        const o = await timeRuns(over, feeds, a);
        const median = Math.max(0, m.median - o.median);
        const p99 = Math.max(0, m.p99 - o.median);
        const r = (v) => Math.round(v * 100) / 100;
        console.log(JSON.stringify({
          impl: 'ort', model: name, batch, threads, median_us: r(median), p99_us: r(p99),
          throughput_per_s: Math.round(batch * 1e6 / Math.max(median, 1e-3)), iters: m.n,
          raw_median_us: r(m.median), raw_p99_us: r(m.p99),
          overhead_median_us: r(o.median), overhead_p99_us: r(o.p99),
          version: ort.env.versions.node,
        }));
      }
      await sess.release();
      if (over) await over.release();
    }
  }
}

main().catch(e => { console.error(`ort_bench: ${e.message}`); process.exit(1); });
