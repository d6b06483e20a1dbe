import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { usageMessage } from '../helpers/errors.ts';

// ONNX OneHot of activation indices (F.one_hot): negative indices from the end, out-of-range ones an
// all-off row, the new axis anywhere, [off, on] values, against the definition written out.
const CPU = { kind: 'cpu' as const, reason: 'test' };
const i64 = (...v: number[]) => BigInt64Array.from(v.map(BigInt));

async function oneHot(ids: number[][], depth: number, axis: number, values: [number, number]): Promise<Float32Array> {
  const B = ids.length;
  const L = ids[0].length;
  const out = axis === 1 ? [depth, L] : [L, depth];
  const bytes = buildOnnxModel({
    opset: 13,
    inputs: [{ name: 'x', dims: ['batch', L] }],
    outputs: [{ name: 'y', dims: ['batch', ...out] }],
    initializers: [{ name: 'depth', dims: [], data: i64(depth) }, { name: 'values', dims: [2], data: Float32Array.of(...values) }],
    nodes: [{ op: 'OneHot', inputs: ['x', 'depth', 'values'], outputs: ['y'], attrs: { axis } }],
  });
  const r = openNetwork(CPU, importOnnx(bytes, 'onehot.onnx'), resolveConfig({ preset: 'ideal' }), true);
  const y = (await r.forward(null, Float32Array.from(ids.flat()), B, 0)).output;
  r.destroy();
  return y;
}

/** The definition: out[b, j, d] (axis −1) or out[b, d, j] (axis 1) = on where the wrapped index is d. */
function want(ids: number[][], depth: number, axis: number, [off, on]: [number, number]): number[] {
  const L = ids[0].length;
  return ids.flatMap((row) => {
    const hot = (j: number, d: number) => ((row[j] < 0 ? row[j] + depth : row[j]) === d ? on : off);
    return axis === 1 ? Array.from({ length: depth * L }, (_, i) => hot(i % L, Math.floor(i / L))) : Array.from({ length: L * depth }, (_, i) => hot(Math.floor(i / depth), i % depth));
  });
}

describe('ONNX OneHot', () => {
  const ids = [[0, 3, -1, 7], [2, -4, 1, -5]];
  it.each([[-1, [0, 1]], [1, [-1, 3]], [2, [0.5, 2]]] as [number, [number, number]][])('axis %d, values %j', async (axis, values) => {
    expect(Array.from(await oneHot(ids, 4, axis, values))).toEqual(want(ids, 4, axis === 2 ? -1 : axis, values));
  });

  it('refuses a depth that is not a positive integer in one line', () => {
    const bytes = buildOnnxModel({
      opset: 13, inputs: [{ name: 'x', dims: ['batch', 3] }], outputs: [{ name: 'y', dims: ['batch', 3, 0] }],
      initializers: [{ name: 'depth', dims: [], data: i64(0) }, { name: 'values', dims: [2], data: Float32Array.of(0, 1) }],
      nodes: [{ op: 'OneHot', inputs: ['x', 'depth', 'values'], outputs: ['y'] }],
    });
    expect(usageMessage(() => importOnnx(bytes, 'onehot.onnx'))).toMatch(/^onehot\.onnx: node "OneHot_0" \(OneHot\): depth is 0; it must be a positive integer$/);
  });
});
