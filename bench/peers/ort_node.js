'use strict';
// onnxruntime-node for the Node peers (bench/peers/ort_bench.js, bench/infer_stream/ort_stream_bench.js,
// tools/train/stream_ort_check.js): one place that finds the module (ORT_NODE_PATH, else
// build/peers/node_modules/onnxruntime-node) and says how to install it, and the streaming step graph's
// state (lstm_attn_stream: h, c and the attention ring passed in and out every tick).

const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const MODULE = process.env.ORT_NODE_PATH || path.join(ROOT, 'build', 'peers', 'node_modules', 'onnxruntime-node');

// The module; without it, exits 2 (the peers' "not installed" code) naming the caller.
function loadOrt(who) {
  try {
    return require(MODULE);
  } catch (e) {
    console.error(`${who}: onnxruntime-node not found; install it with\n` +
                  '  mkdir -p build/peers && cd build/peers && ' +
                  'ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@1.30.0\n' + e.message);
    process.exit(2);
  }
}

// The installed package's version ("1.30.0").
function ortVersion() {
  return require(path.join(path.dirname(require.resolve(MODULE)), '..', 'package.json')).version;
}

// lstm_attn_stream's state: each input, the output that feeds it back next tick, its shape at batch B.
const STREAM_STATE = [
  ['h', 'h_out', B => [2, B, 64]],
  ['c', 'c_out', B => [2, B, 64]],
  ['ring', 'ring_out', B => [B, 64, 64]],
  ['ring_score', 'ring_score_out', B => [B, 64]],
  ['ring_valid', 'ring_valid_out', B => [B, 64]],
];
// The state at the start of a stream: all zeros.
function zeroStreamState(ort, B = 1) {
  const st = {};
  for (const [input, , dims] of STREAM_STATE) {
    const d = dims(B);
    st[input] = new ort.Tensor('float32', new Float32Array(d.reduce((p, q) => p * q, 1)), d);
  }
  return st;
}
// The next tick's state inputs from a step's outputs.
function nextStreamState(out) {
  const st = {};
  for (const [input, output] of STREAM_STATE) st[input] = out[output];
  return st;
}

module.exports = { ROOT, loadOrt, ortVersion, zeroStreamState, nextStreamState };
