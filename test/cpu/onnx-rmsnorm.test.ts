import { describe, expect, it } from 'vitest';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { digitalForward } from '../helpers/digital-run.ts';
import { usageMessage } from '../helpers/errors.ts';
import { randomArray } from '../helpers/random.ts';

// RMSNormalization (opset 23): Y = X / sqrt(mean(X² over axes axis…) + epsilon) · scale, checked
// against that formula in f64, over the last axis and over the last two, with a scale from a
// constant and from the data.
const CPU = { kind: 'cpu' as const, reason: 'test' };
const [B, T, D] = [3, 4, 6];

/** The formula, per sample of [T, D], normalizing the trailing `span` elements at a time. */
function reference(x: Float32Array, scale: Float32Array, span: number, eps: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let o = 0; o < x.length; o += span) {
    let ss = 0;
    for (let i = 0; i < span; i++) ss += x[o + i] ** 2;
    const rms = Math.sqrt(ss / span + eps);
    for (let i = 0; i < span; i++) y[o + i] = (x[o + i] / rms) * scale[(o + i) % scale.length];
  }
  return y;
}

async function run(bytes: Uint8Array, x: Float32Array): Promise<Float32Array> {
  return digitalForward(CPU, bytes, 'rms.onnx', x, B);
}

const model = (axis: number, scaleDims: number[], attrs: Record<string, number> = {}) =>
  buildOnnxModel({
    opset: 23,
    inputs: [{ name: 'x', dims: ['batch', T, D] }],
    outputs: [{ name: 'y', dims: ['batch', T, D] }],
    initializers: [{ name: 'scale', dims: scaleDims, data: randomArray(scaleDims.reduce((a, b) => a * b, 1), 81, 0.5, 1.5) }],
    nodes: [{ op: 'RMSNormalization', inputs: ['x', 'scale'], outputs: ['y'], attrs: { axis, ...attrs } }],
  });

describe('RMSNormalization', () => {
  const x = randomArray(B * T * D, 82, -2, 2);
  it.each([
    ['the last axis, scale [D]', -1, [D], D],
    ['the last two axes (axis 1 of [batch, T, D]), scale [T, D]', 1, [T, D], T * D],
    ['the last axis as axis 2, scale [1, D]', 2, [1, D], D],
  ])('normalizes over %s', async (_what, axis, dims, span) => {
    for (const eps of [1e-5, 0.5]) {
      const bytes = model(axis, dims, eps === 1e-5 ? {} : { epsilon: eps });
      const scale = randomArray(dims.reduce((a, b) => a * b, 1), 81, 0.5, 1.5);
      const want = reference(x, scale, span, eps);
      const got = await run(bytes, x);
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(2e-6 * Math.max(1, Math.abs(want[i])));
    }
  });

  it('takes a scale from the data, and refuses normalizing over the batch in one line', async () => {
    const fromData = buildOnnxModel({
      opset: 23,
      inputs: [{ name: 'x', dims: ['batch', T, D] }],
      outputs: [{ name: 'y', dims: ['batch', T, D] }],
      nodes: [{ op: 'Sigmoid', inputs: ['x'], outputs: ['s'] }, { op: 'RMSNormalization', inputs: ['x', 's'], outputs: ['y'] }],
    });
    const sig = Float32Array.from(x, (v) => 1 / (1 + Math.exp(-v)));
    const plain = reference(x, new Float32Array(1).fill(1), D, 1e-5);
    const got = await run(fromData, x);
    for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - plain[i] * sig[i])).toBeLessThan(1e-5);
    expect(usageMessage(() => importOnnx(model(0, [B, T, D]), 'rms.onnx'))).toMatch(/^rms\.onnx: node "RMSNormalization_0" \(RMSNormalization\): axis 0 is the batch dimension; RMSNormalization across samples is not supported$/);
  });
});
