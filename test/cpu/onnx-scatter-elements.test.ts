import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { usageMessage } from '../helpers/errors.ts';
import { maxAbsDiff, randomArray } from '../helpers/random.ts';

// ScatterElements lowered to a one-hot over the axis (src/io/onnx/ops/scatter.ts). torch.scatter and
// scatter_add are checked against PyTorch by the scatter-elements-16 fixture; here every reduction
// against the ONNX definition, on indices from the data (negative ones included) and constant ones.
const CFG = resolveConfig({ preset: 'ideal' });
const CPU = { kind: 'cpu' as const, reason: 'test' };
const [B, R, L, M] = [2, 3, 5, 4];

/** y = ScatterElements(x, idx, upd) along axis 1 of [batch, R, L]; idx and upd [batch, R, M] are inputs packed after x. */
function model(reduction: string, opset = 18): Uint8Array {
  return buildOnnxModel({
    opset,
    inputs: [{ name: 'x', dims: ['batch', R, L] }, { name: 'i', dims: ['batch', R, M] }, { name: 'u', dims: ['batch', R, M] }],
    outputs: [{ name: 'y', dims: ['batch', R, L] }],
    nodes: [
      { op: 'Cast', inputs: ['i'], outputs: ['ii'], attrs: { to: 7 } },
      { op: 'ScatterElements', inputs: ['x', 'ii', 'u'], outputs: ['y'], attrs: { axis: -1, reduction } },
    ],
  });
}

const x = randomArray(B * R * L, 61);
const u = randomArray(B * R * M, 62);
// Repeated positions and negative ones (−1 is position L − 1).
const idx = Float32Array.from({ length: B * R * M }, (_, k) => [0, 3, -1, 3, 2, 0, 4, -5][k % 8]);

function want(reduction: string): Float32Array {
  const y = Float32Array.from(x);
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < R; r++) {
      for (let m = 0; m < M; m++) {
        const k = (b * R + r) * M + m;
        const at = (b * R + r) * L + ((idx[k] + L) % L);
        const v = u[k];
        if (reduction === 'add') y[at] += v;
        else if (reduction === 'mul') y[at] *= v;
        else if (reduction === 'max') y[at] = Math.max(y[at], v);
        else if (reduction === 'min') y[at] = Math.min(y[at], v);
      }
    }
  }
  return y;
}

async function run(bytes: Uint8Array): Promise<Float32Array> {
  const r = openNetwork(CPU, importOnnx(bytes, 'scatter.onnx'), CFG, true);
  const per = [R * L, R * M, R * M];
  const packed = new Float32Array(B * (per[0] + 2 * per[1]));
  for (let b = 0; b < B; b++) {
    let o = b * (per[0] + 2 * per[1]);
    for (const [a, n] of [[x, per[0]], [idx, per[1]], [u, per[2]]] as const) {
      packed.set(a.subarray(b * n, (b + 1) * n), o);
      o += n;
    }
  }
  try {
    return (await r.forward(null, packed, B, 0)).output;
  } finally {
    r.destroy();
  }
}

describe('ScatterElements', () => {
  it('adds, multiplies and takes the max or min of the updates landing on a position', async () => {
    for (const reduction of ['add', 'mul', 'max', 'min']) expect(maxAbsDiff(await run(model(reduction)), want(reduction)), reduction).toBeLessThan(1e-6);
  });

  it('with reduction none writes each update over the data (distinct indices)', async () => {
    const bytes = buildOnnxModel({
      opset: 13,
      inputs: [{ name: 'x', dims: ['batch', R, L] }],
      outputs: [{ name: 'y', dims: ['batch', R, L] }],
      initializers: [{ name: 'i', dims: [1, R, 2], data: BigInt64Array.of(4n, 0n, -2n, 1n, 0n, 2n) }, { name: 'u', dims: [1, R, 2], data: Float32Array.of(10, 20, 30, 40, 50, 60) }],
      nodes: [{ op: 'ScatterElements', inputs: ['x', 'i', 'u'], outputs: ['y'], attrs: { axis: 2 } }],
    });
    const r = openNetwork(CPU, importOnnx(bytes, 'scatter.onnx'), CFG, true);
    const y = (await r.forward(null, x, B, 0)).output;
    r.destroy();
    const expected = Float32Array.from(x);
    const writes = [[0, 4, 10], [0, 0, 20], [1, 3, 30], [1, 1, 40], [2, 0, 50], [2, 2, 60]];
    for (let b = 0; b < B; b++) for (const [row, col, v] of writes) expected[(b * R + row) * L + col] = v;
    expect(y).toEqual(expected);
  });

  it('refuses a reduction of a later opset and indices narrower than the data off the axis, in one line', () => {
    expect(usageMessage(() => importOnnx(model('max', 16), 'scatter.onnx'))).toMatch(/\(ScatterElements\): attribute "reduction" is "max"; allowed at opset 16: "none", "add", "mul"$/);
    const narrow = buildOnnxModel({
      opset: 13,
      inputs: [{ name: 'x', dims: ['batch', R, L] }, { name: 'u', dims: ['batch', 1, 2] }],
      outputs: [{ name: 'y', dims: ['batch', R, L] }],
      initializers: [{ name: 'i', dims: [1, 1, 2], data: BigInt64Array.of(0n, 1n) }],
      nodes: [{ op: 'ScatterElements', inputs: ['x', 'i', 'u'], outputs: ['y'], attrs: { axis: 2 } }],
    });
    expect(usageMessage(() => importOnnx(narrow, 'scatter.onnx'))).toMatch(/cover part of data \[3, 5\] off axis 1; only indices as wide as the data there are supported$/);
  });
});
