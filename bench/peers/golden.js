'use strict';
// Golden inputs and .npy outputs for the peer benchmarks (Node side).
// A second, independent implementation of tools/models/golden_input.py: the first 8 values of
// every input are checked against models/<name>/golden.json, so a drift in either shows up.

const fs = require('fs');
const path = require('path');

const MASK = (1n << 64n) - 1n;
const GAMMA = 0x9E3779B97F4A7C15n;
const M1 = 0xBF58476D1CE4E5B9n;
const M2 = 0x94D049BB133111EBn;

// splitmix64 -> ((z >> 40) * 2^-24) * 2 - 1, row-major, n values.
function goldenInput(seed, n) {
  const out = new Float32Array(n);
  let state = BigInt(seed) & MASK;
  for (let i = 0; i < n; ++i) {
    state = (state + GAMMA) & MASK;
    let z = state;
    z = ((z ^ (z >> 30n)) * M1) & MASK;
    z = ((z ^ (z >> 27n)) * M2) & MASK;
    z = z ^ (z >> 31n);
    out[i] = Number(z >> 40n) * 2 ** -24 * 2 - 1;
  }
  return out;
}

const MODEL_INDEX = { lstm_attn_s: 1, lstm_attn_l: 2, convlstm: 3, transformer_s: 4 };
function seedFor(model, batch) { return 1000 * MODEL_INDEX[model] + batch; }

// Minimal .npy reader: version 1.0/2.0, little-endian float32, C order.
function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.readUInt32BE(0) !== 0x934e554d || buf[4] !== 0x50 || buf[5] !== 0x59) {
    throw new Error(`${file}: not a .npy file`);
  }
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  if (!header.includes("'descr': '<f4'") || header.includes("'fortran_order': True")) {
    throw new Error(`${file}: expected little-endian float32 in C order, header ${header}`);
  }
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').filter(s => s.trim()).map(Number);
  const data = buf.subarray(hstart + hlen);
  const arr = new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length));
  return { shape, data: arr };
}

function loadMeta(modelsDir, name) {
  return JSON.parse(fs.readFileSync(path.join(modelsDir, name, 'golden.json'), 'utf8'));
}

// Input for (model, batch): the golden one when there is one; batches without a golden get
// the same generator with seed_for(model, batch).
function inputFor(meta, batch) {
  const [, t, f] = meta.input.shape;
  const g = meta.goldens.find(e => e.batch === batch);
  const seed = g ? g.seed : seedFor(meta.model, batch);
  const x = goldenInput(seed, batch * t * f);
  if (g) {
    for (let i = 0; i < 8; ++i) {
      if (x[i] !== g.first_inputs[i]) {
        throw new Error(`${meta.model} b${batch}: generator value ${i} is ${x[i]}, ` +
                        `golden.json says ${g.first_inputs[i]}`);
      }
    }
  }
  return { x, dims: [batch, t, f], golden: g };
}

module.exports = { goldenInput, seedFor, readNpy, loadMeta, inputFor };
