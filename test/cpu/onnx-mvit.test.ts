import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { buildOnnxModel, type BuildNode, type BuildTensor } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { maxAbsDiff, randomArray } from '../helpers/random.ts';

// Two views torchvision's MViT exports: its relative positions multiply [T, batch·k, d] rows (the
// batch merged into the rows) by a constant [T, d, T'] stack, and its class token [C] is expanded to
// [batch, 1]. Expected values from the ONNX definitions.
const CFG = resolveConfig({ preset: 'ideal' });
const CPU = { kind: 'cpu' as const, reason: 'test' };
const B = 2;
const i64 = (...v: number[]) => BigInt64Array.from(v.map(BigInt));

async function run(bytes: Uint8Array, x: Float32Array): Promise<Float32Array> {
  const r = openNetwork(CPU, importOnnx(bytes, 'mvit.onnx'), CFG, true);
  try {
    return (await r.forward(null, x, B, 0)).output;
  } finally {
    r.destroy();
  }
}

/** Nodes writing `out` = [dims before, batch·k, dims after] from x's batch (a traced shape). */
function batchShape(out: string, before: number[], k: number, after: number[]): { nodes: BuildNode[]; inits: BuildTensor[] } {
  return {
    nodes: [
      { op: 'Shape', inputs: ['x'], outputs: [`${out}/s`] },
      { op: 'Gather', inputs: [`${out}/s`, `${out}/zero`], outputs: [`${out}/b`], attrs: { axis: 0 } },
      { op: 'Mul', inputs: [`${out}/b`, `${out}/k`], outputs: [`${out}/bk`] },
      { op: 'Concat', inputs: [`${out}/before`, `${out}/bk`, `${out}/after`], outputs: [out], attrs: { axis: 0 } },
    ],
    inits: [
      { name: `${out}/zero`, dims: [1], data: i64(0) },
      { name: `${out}/k`, dims: [1], data: i64(k) },
      { name: `${out}/before`, dims: [before.length], data: i64(...before) },
      { name: `${out}/after`, dims: [after.length], data: i64(...after) },
    ],
  };
}

describe('pieces of MViT', () => {
  it('multiplies rows with the batch merged in by a constant stack of matrices, per sample', async () => {
    const [T, k, d, e] = [2, 3, 4, 5];
    const C = randomArray(T * d * e, 31);
    const merge = batchShape('m', [T], k, [d]);
    const split = batchShape('u', [T], 1, [k, e]);
    const bytes = buildOnnxModel({
      opset: 13,
      inputs: [{ name: 'x', dims: ['batch', T, k, d] }],
      outputs: [{ name: 'y', dims: ['batch', T, k, e] }],
      initializers: [...merge.inits, ...split.inits, { name: 'C', dims: [T, d, e], data: C }],
      nodes: [
        ...merge.nodes,
        ...split.nodes,
        { op: 'Transpose', inputs: ['x'], outputs: ['tb'], attrs: { perm: [1, 0, 2, 3] } },
        { op: 'Reshape', inputs: ['tb', 'm'], outputs: ['rows'] },
        { op: 'MatMul', inputs: ['rows', 'C'], outputs: ['p'] },
        { op: 'Reshape', inputs: ['p', 'u'], outputs: ['q'] },
        { op: 'Transpose', inputs: ['q'], outputs: ['y'], attrs: { perm: [1, 0, 2, 3] } },
      ],
    });
    const x = randomArray(B * T * k * d, 32);
    const want = Float32Array.from({ length: B * T * k * e }, (_, o) => {
      const [b, t, i, j] = [Math.floor(o / (T * k * e)), Math.floor(o / (k * e)) % T, Math.floor(o / e) % k, o % e];
      let s = 0;
      for (let c = 0; c < d; c++) s += x[((b * T + t) * k + i) * d + c] * C[(t * d + c) * e + j];
      return s;
    });
    expect(maxAbsDiff(await run(bytes, x), want)).toBeLessThan(1e-5);
  });

  it('expands a class token [C] to [batch, 1] as [batch, C] and concatenates it before the tokens', async () => {
    const [Tn, Cc] = [3, 4];
    const token = randomArray(Cc, 33);
    const shape = batchShape('t', [], 1, [1]);
    const bytes = buildOnnxModel({
      opset: 13,
      inputs: [{ name: 'x', dims: ['batch', Tn, Cc] }],
      outputs: [{ name: 'y', dims: ['batch', Tn + 1, Cc] }],
      initializers: [...shape.inits, { name: 'token', dims: [Cc], data: token }, { name: 'one', dims: [1], data: i64(1) }],
      nodes: [
        ...shape.nodes,
        { op: 'Expand', inputs: ['token', 't'], outputs: ['e'] },
        { op: 'Unsqueeze', inputs: ['e', 'one'], outputs: ['e1'] },
        { op: 'Concat', inputs: ['e1', 'x'], outputs: ['y'], attrs: { axis: 1 } },
      ],
    });
    const x = randomArray(B * Tn * Cc, 34);
    const want = Float32Array.from({ length: B * (Tn + 1) * Cc }, (_, o) => {
      const [b, t, c] = [Math.floor(o / ((Tn + 1) * Cc)), Math.floor(o / Cc) % (Tn + 1), o % Cc];
      return t === 0 ? token[c] : x[(b * Tn + t - 1) * Cc + c];
    });
    expect(await run(bytes, x)).toEqual(want);
  });
});
