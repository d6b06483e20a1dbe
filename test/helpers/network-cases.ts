import { expect } from 'vitest';
import type { Backend } from '../../src/gpu/backend.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import type { LinearOp } from '../../src/ir/graph.ts';
import { resolveConfig } from '../../src/config/schema.ts';
import { allTestModels, mlpModel, testInput } from './onnx-models.ts';
import { maxAbs, maxAbsDiff } from './random.ts';

/** --digital mode equals the plain f32 forward of every test model (relative error below 1e-4). */
export async function checkDigitalMatchesF32(backend: Backend): Promise<void> {
  for (const m of allTestModels()) {
    const net = importOnnx(m.bytes, m.name);
    const runner = openNetwork(backend, net, resolveConfig({ preset: 'ideal' }), true);
    try {
      const B = 9;
      const x = testInput(m, B, 4);
      const want = m.forward(x, B);
      const got = (await runner.forward(null, x, B, 0)).output;
      expect(got.length, m.name).toBe(want.length);
      expect(maxAbsDiff(got, want), m.name).toBeLessThanOrEqual(1e-4 * Math.max(maxAbs(want), 1e-6));
    } finally {
      runner.destroy();
    }
  }
}

const roundHalfEven = (v: number): number => {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/** The test's own quantized forward of a linear layer (DESIGN.md section 3, ideal ADC): sw·sx·(xq·q) + bias. */
function quantizedLinear(op: LinearOp, x: Float32Array, B: number, sx: number, bits: number): Float32Array {
  const Qw = 2 ** (bits - 1) - 1;
  const Qx = 2 ** bits - 1;
  const { K, N, weight, bias } = op;
  const sw = new Float64Array(N);
  for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) sw[j] = Math.max(sw[j], Math.abs(weight[k * N + j]));
  for (let j = 0; j < N; j++) sw[j] /= Qw; // an all-zero column: sw = 0, q = 0 (DESIGN.md section 3)
  const y = new Float32Array(B * N);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < N; j++) {
      let acc = 0;
      for (let k = 0; k < K; k++) {
        const v = x[b * K + k];
        const xq = Math.sign(v) * Math.min(roundHalfEven(Math.abs(v) / sx), Qx);
        const q = sw[j] === 0 ? 0 : Math.max(-Qw, Math.min(Qw, roundHalfEven(weight[k * N + j] / sw[j])));
        acc += xq * q;
      }
      y[b * N + j] = sw[j] * sx * acc + (bias ? bias[j] : 0);
    }
  }
  return y;
}

const relu = (a: Float32Array): Float32Array => a.map((v) => Math.max(v, 0));
function softmaxRows(a: Float32Array, N: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let r = 0; r < a.length / N; r++) {
    const row = a.subarray(r * N, r * N + N);
    const m = Math.max(...row);
    const e = Array.from(row, (v) => Math.exp(v - m));
    const s = e.reduce((p, q) => p + q, 0);
    e.forEach((v, i) => (out[r * N + i] = v / s));
  }
  return out;
}
const argmax = (a: Float32Array, o: number, n: number): number => {
  let best = 0;
  for (let i = 1; i < n; i++) if (a[o + i] > a[o + best]) best = i;
  return best;
};

/**
 * The `ideal` preset with 8-bit weights and inputs matches the test's quantized f32 forward of the MLP
 * (calibration per section 6: sx from the f32 activations of the calibration inputs): the same
 * prediction on at least 99.5% of inputs and outputs within 1% of the output range.
 */
export async function checkIdealMatchesQuantized(backend: Backend): Promise<void> {
  const m = mlpModel({ seed: 77 });
  const net = importOnnx(m.bytes, m.name);
  const [fc1, fc2] = net.ops.filter((o): o is LinearOp => o.kind === 'linear');
  const cal = testInput(m, 64, 8);
  const B = 200;
  const x = testInput(m, B, 9);
  const maxOf = (a: Float32Array): number => a.reduce((p, v) => Math.max(p, Math.abs(v)), 0);
  const sx1 = maxOf(cal) / 255;
  const sx2 = maxOf(relu(quantizedF32(fc1, cal, 64))) / 255;
  const want = softmaxRows(quantizedLinear(fc2, relu(quantizedLinear(fc1, x, B, sx1, 8)), B, sx2, 8), 10);

  const runner = openNetwork(backend, net, resolveConfig({ preset: 'ideal', weights: { bits: 8 }, inputs: { bits: 8 } }), false);
  try {
    await runner.calibrate(cal, 64);
    expect(runner.scales[0].sx).toBeCloseTo(sx1, 9);
    expect(runner.scales[1].sx / sx2).toBeCloseTo(1, 5);
    const chip = await runner.program(0);
    const got = (await runner.forward(chip, x, B, 0)).output;
    chip.release();
    let same = 0;
    for (let b = 0; b < B; b++) if (argmax(got, b * 10, 10) === argmax(want, b * 10, 10)) same++;
    expect(same / B).toBeGreaterThanOrEqual(0.995);
    const range = Math.max(...want) - Math.min(...want);
    expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(0.01 * range);
  } finally {
    runner.destroy();
  }
}

/** Plain f32 linear layer (calibration activations). */
function quantizedF32(op: LinearOp, x: Float32Array, B: number): Float32Array {
  const y = new Float32Array(B * op.N);
  for (let b = 0; b < B; b++) for (let j = 0; j < op.N; j++) {
    let acc = op.bias ? op.bias[j] : 0;
    for (let k = 0; k < op.K; k++) acc += x[b * op.K + k] * op.weight[k * op.N + j];
    y[b * op.N + j] = acc;
  }
  return y;
}
