import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { usageMessage } from '../helpers/errors.ts';
import { maxAbsDiff, randomArray } from '../helpers/random.ts';

// ONNX CumSum (torch.cumsum): running sums along one axis, inclusive or exclusive, from either end,
// against a direct sum over the elements before each one.
const CFG = resolveConfig({ preset: 'ideal' });
const CPU = { kind: 'cpu' as const, reason: 'test' };
const B = 3;
const i64 = (...v: number[]) => BigInt64Array.from(v.map(BigInt));

/** Direct sums of x [B, ...dims] along ONNX axis `axis` (batch = axis 0). */
function naive(x: Float32Array, dims: number[], axis: number, exclusive: boolean, reverse: boolean): Float32Array {
  const full = [B, ...dims];
  const L = full[axis];
  const inner = full.slice(axis + 1).reduce((p, q) => p * q, 1);
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const k = Math.floor(i / inner) % L;
    const base = i - k * inner;
    let s = 0;
    for (let m = 0; m < L; m++) {
      const before = reverse ? m > k : m < k;
      if (before || (!exclusive && m === k)) s += x[base + m * inner];
    }
    y[i] = s;
  }
  return y;
}

function cumsumModel(dims: number[], axis: number, attrs: Record<string, number>): Uint8Array {
  return buildOnnxModel({
    opset: 14,
    inputs: [{ name: 'x', dims: ['batch', ...dims] }],
    outputs: [{ name: 'y', dims: ['batch', ...dims] }],
    initializers: [{ name: 'axis', dims: [], data: i64(axis) }],
    nodes: [{ op: 'CumSum', inputs: ['x', 'axis'], outputs: ['y'], attrs }],
  });
}

async function f32(bytes: Uint8Array, x: Float32Array): Promise<Float32Array> {
  const r = openNetwork(CPU, importOnnx(bytes, 'cumsum.onnx'), CFG, true);
  try {
    return (await r.forward(null, x, B, 0)).output;
  } finally {
    r.destroy();
  }
}

describe('ONNX CumSum', () => {
  it.each([
    [[7], 1], [[7], -1], [[3, 5], 1], [[3, 5], 2], [[2, 3, 4], 2], [[1], 1],
  ] as [number[], number][])('on [batch, %j] along axis %d, all four flag combinations, equals the direct sums', async (dims, axis) => {
    const x = randomArray(B * dims.reduce((p, q) => p * q, 1), 3);
    const a = axis < 0 ? axis + dims.length + 1 : axis;
    for (const exclusive of [0, 1]) {
      for (const reverse of [0, 1]) {
        const y = await f32(cumsumModel(dims, axis, { exclusive, reverse }), x);
        expect(maxAbsDiff(y, naive(x, dims, a, exclusive === 1, reverse === 1)), `exclusive ${exclusive}, reverse ${reverse}`).toBeLessThan(1e-5);
      }
    }
  });

  it('folds on a constant (a fixed mask’s position ids) and refuses the batch axis in one line', () => {
    const folded = buildOnnxModel({
      opset: 14,
      inputs: [{ name: 'x', dims: ['batch', 4] }],
      outputs: [{ name: 'y', dims: ['batch', 4] }],
      initializers: [{ name: 'axis', dims: [], data: i64(0) }, { name: 'm', dims: [4], data: Float32Array.of(1, 1, 0, 1) }],
      nodes: [
        { op: 'CumSum', inputs: ['m', 'axis'], outputs: ['p'] },
        { op: 'Add', inputs: ['x', 'p'], outputs: ['y'] },
      ],
    });
    const net = importOnnx(folded, 'cumsum.onnx');
    expect(net.ops.map((o) => o.kind)).toEqual(['binary']);
    expect(net.ops[0].kind === 'binary' && Array.from(net.ops[0].b!.data)).toEqual([1, 2, 2, 3]);
    expect(usageMessage(() => importOnnx(cumsumModel([4], 0, {}), 'cumsum.onnx'))).toMatch(/^cumsum\.onnx: node "CumSum_0" \(CumSum\): axis 0 is the batch dimension; CumSum across samples is not supported$/);
  });
});
