import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { usageMessage } from '../helpers/errors.ts';

// ONNX TopK (torch.topk): values and indices along an axis, largest or smallest first, ties to the
// lower index, NaN above every number (PyTorch's order), against a sort written out here.
const CPU = { kind: 'cpu' as const, reason: 'test' };
const B = 2;
const i64 = (...v: number[]) => BigInt64Array.from(v.map(BigInt));

/** TopK of x [batch, 3, 5] along `axis` with both outputs, returned packed (values then indices, per sample). */
async function run(x: Float32Array, axis: number, k: number, largest: number, opset = 13): Promise<{ values: number[][]; indices: number[][] }> {
  const dims = [3, 5];
  const out = dims.map((d, i) => (i === (axis < 0 ? axis + 3 : axis) - 1 ? k : d));
  const bytes = buildOnnxModel({
    opset,
    inputs: [{ name: 'x', dims: ['batch', ...dims] }],
    outputs: [{ name: 'v', dims: ['batch', ...out] }, { name: 'i', dims: ['batch', ...out] }],
    initializers: opset >= 10 ? [{ name: 'k', dims: [1], data: i64(k) }] : [],
    nodes: [{ op: 'TopK', inputs: opset >= 10 ? ['x', 'k'] : ['x'], outputs: ['v', 'i'], attrs: { axis, ...(opset >= 11 ? { largest } : {}), ...(opset < 10 ? { k } : {}) } }],
  });
  const r = openNetwork(CPU, importOnnx(bytes, 'topk.onnx'), resolveConfig({ preset: 'ideal' }), true);
  const y = (await r.forward(null, x, B, 0)).output;
  r.destroy();
  const n = out[0] * out[1];
  return {
    values: Array.from({ length: B }, (_, b) => Array.from(y.subarray(b * 2 * n, b * 2 * n + n))),
    indices: Array.from({ length: B }, (_, b) => Array.from(y.subarray(b * 2 * n + n, (b + 1) * 2 * n))),
  };
}

/** The expected outputs by sorting each line of x [B, 3, 5] along per-sample axis a (0 or 1). */
function sorted(x: Float32Array, a: number, k: number, largest: boolean): { values: number[][]; indices: number[][] } {
  const rank = (v: number) => (Number.isNaN(v) ? Infinity : v);
  const values: number[][] = [];
  const indices: number[][] = [];
  for (let b = 0; b < B; b++) {
    const [L, other] = a === 0 ? [3, 5] : [5, 3];
    const vs = new Array<number>(15);
    const is = new Array<number>(15);
    for (let o = 0; o < other; o++) {
      const at = (m: number) => b * 15 + (a === 0 ? m * 5 + o : o * 5 + m);
      const order = Array.from({ length: L }, (_, m) => m).sort((p, q) => {
        const [vp, vq] = [rank(x[at(p)]), rank(x[at(q)])];
        const bothNan = Number.isNaN(x[at(p)]) && Number.isNaN(x[at(q)]);
        if (vp === vq || bothNan) return p - q;
        return largest ? (vq > vp ? 1 : -1) : vp === Infinity ? 1 : vq === Infinity ? -1 : vp - vq;
      });
      for (let r = 0; r < k; r++) {
        const w = a === 0 ? r * 5 + o : o * k + r;
        vs[w] = x[at(order[r])];
        is[w] = order[r];
      }
    }
    values.push(vs.slice(0, a === 0 ? k * 5 : 3 * k));
    indices.push(is.slice(0, a === 0 ? k * 5 : 3 * k));
  }
  return { values, indices };
}

// Integers in [0, 4): many ties; two NaNs.
const x = Float32Array.from({ length: B * 15 }, (_, i) => (i === 7 || i === 21 ? NaN : (i * 7) % 4));

describe('ONNX TopK', () => {
  it.each([[2, 3, 1], [2, 5, 0], [-1, 2, 1], [1, 2, 0], [1, 3, 1], [-1, 0, 1]])('axis %d, k %d, largest %d: values and indices equal the sort', async (axis, k, largest) => {
    const want = sorted(x, (axis < 0 ? axis + 3 : axis) - 1, k, largest === 1);
    const got = await run(x, axis, k, largest);
    expect(got.indices).toEqual(want.indices);
    expect(got.values.map((r) => r.map((v) => (Number.isNaN(v) ? 'NaN' : v)))).toEqual(want.values.map((r) => r.map((v) => (Number.isNaN(v) ? 'NaN' : v))));
  });

  it('takes k from the attribute before opset 10 (largest only)', async () => {
    const got = await run(x, -1, 2, 1, 9);
    expect(got.indices).toEqual(sorted(x, 1, 2, true).indices);
  });

  it('refuses a K longer than the axis and TopK across the batch in one line', () => {
    const bad = (axis: number, k: number) => usageMessage(() => importOnnx(buildOnnxModel({
      opset: 13, inputs: [{ name: 'x', dims: ['batch', 5] }], outputs: [{ name: 'v', dims: ['batch', k] }],
      initializers: [{ name: 'k', dims: [1], data: i64(k) }], nodes: [{ op: 'TopK', inputs: ['x', 'k'], outputs: ['v'], attrs: { axis } }],
    }), 'topk.onnx'));
    expect(bad(1, 6)).toMatch(/^topk\.onnx: node "TopK_0" \(TopK\): K is 6; it must be an integer in \[0, 5\] \(the axis's length\)$/);
    expect(bad(0, 1)).toMatch(/axis 0 is the batch dimension; TopK across samples is not supported$/);
  });
});
