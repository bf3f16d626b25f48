#!/usr/bin/env node
'use strict';
// lstm_attn_stream's one-step ONNX graph in ONNX Runtime (onnxruntime-node, the peer of
// bench/peers/ort_bench.js), run step by step with the state passed in and out, against PyTorch's
// full-sequence logits: a third implementation next to PyTorch and tools/train/stream_onnx_np.py.
//
// usage: node tools/train/stream_ort_check.js [model.onnx x.npy logits.npy]
//   defaults: models/trained/lstm_attn_stream/model.onnx tests/data/stream_lstm_attn_{x,logits}.npy
//   (x [L, F] one stream, logits [L, 3]; or x [L, B, F] / logits [L, B, 3] as in models/lstm_attn_stream/golden_*)
// Prints one JSON line; exit 1 when max |diff| > 1e-4, 2 without onnxruntime-node (ORT_NODE_PATH or
// build/peers/node_modules/onnxruntime-node, installed as bench/peers/ort_bench.js says).

const path = require('path');
const { readNpy } = require('../../bench/peers/golden');
const { ROOT, loadOrt, ortVersion, zeroStreamState, nextStreamState } = require('../../bench/peers/ort_node');

const ort = loadOrt('stream_ort_check');

async function main() {
  const a = process.argv.slice(2);
  const modelPath = a[0] || path.join(ROOT, 'models', 'trained', 'lstm_attn_stream', 'model.onnx');
  const x = readNpy(a[1] || path.join(ROOT, 'tests', 'data', 'stream_lstm_attn_x.npy'));
  const ref = readNpy(a[2] || path.join(ROOT, 'tests', 'data', 'stream_lstm_attn_logits.npy'));
  const L = x.shape[0];
  const B = x.shape.length === 3 ? x.shape[1] : 1;
  const F = x.shape[x.shape.length - 1];
  const sess = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  let state = zeroStreamState(ort, B);
  const perStep = new Float64Array(L);
  let agree = 0;
  for (let t = 0; t < L; ++t) {
    const feeds = Object.assign({ x: new ort.Tensor('float32', x.data.slice(t * B * F, (t + 1) * B * F), [B, F]) }, state);
    const out = await sess.run(feeds);
    const lg = out.logits.data;
    let d = 0;
    for (let b = 0; b < B; ++b) {
      let am = 0, ar = 0;
      for (let k = 0; k < 3; ++k) {
        const r = ref.data[(t * B + b) * 3 + k];
        d = Math.max(d, Math.abs(lg[b * 3 + k] - r));
        if (lg[b * 3 + k] > lg[b * 3 + am]) am = k;
        if (r > ref.data[(t * B + b) * 3 + ar]) ar = k;
      }
      if (am === ar) ++agree;
    }
    perStep[t] = d;
    state = nextStreamState(out);
  }
  const q = Math.max(1, Math.floor(L / 10));
  const mx = (lo, hi) => perStep.slice(lo, hi).reduce((p, v) => Math.max(p, v), 0);
  const res = { impl: 'onnxruntime-node ' + ortVersion(),
                model: path.relative(ROOT, modelPath), steps: L, batch: B, max_abs_diff: mx(0, L),
                max_abs_diff_first_10pct: mx(0, q), max_abs_diff_last_10pct: mx(L - q, L), argmax_agree: agree };
  res.ok = res.max_abs_diff <= 1e-4;
  console.log(JSON.stringify(res));
  process.exit(res.ok ? 0 : 1);
}

main().catch(e => { console.error('stream_ort_check: ' + (e && e.stack || e)); process.exit(1); });
