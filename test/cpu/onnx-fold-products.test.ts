import { describe, expect, it } from 'vitest';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';

// MatMul and Einsum of constants fold (a weight computed in the graph, as spectral_norm's σ = uᵀ·W·v):
// numpy matmul semantics, a 1-D operand a vector, leading dims broadcast.
describe('MatMul of constants', () => {
  it('folds with numpy semantics: [2, 3, 4] · [4] is [2, 3]', () => {
    const a = Float32Array.from({ length: 24 }, (_, i) => i - 7);
    const b = Float32Array.of(1, -2, 0.5, 3);
    const bytes = buildOnnxModel({
      opset: 13,
      inputs: [{ name: 'x', dims: ['batch', 2, 3] }],
      outputs: [{ name: 'y', dims: ['batch', 2, 3] }],
      initializers: [{ name: 'a', dims: [2, 3, 4], data: a }, { name: 'b', dims: [4], data: b }],
      nodes: [
        { op: 'MatMul', inputs: ['a', 'b'], outputs: ['p'] },
        { op: 'Add', inputs: ['x', 'p'], outputs: ['y'] },
      ],
    });
    const op = importOnnx(bytes, 'mm.onnx').ops[0];
    if (op.kind !== 'binary' || !op.b) throw new Error('expected one Add of a constant');
    expect(op.b.dims).toEqual([2, 3]);
    expect(Array.from(op.b.data)).toEqual(Array.from({ length: 6 }, (_, r) => [0, 1, 2, 3].reduce((s, k) => s + a[r * 4 + k] * b[k], 0)));
  });
});

describe('Einsum of constants', () => {
  /** The folded constant of y = x + Einsum(equation, a, b) for an x of dims `dims`. */
  const folded = (equation: string, a: { dims: number[]; data: Float32Array }, b: { dims: number[]; data: Float32Array } | null, dims: number[]): number[] => {
    const bytes = buildOnnxModel({
      opset: 13,
      inputs: [{ name: 'x', dims: ['batch', ...dims] }],
      outputs: [{ name: 'y', dims: ['batch', ...dims] }],
      initializers: [{ name: 'a', ...a }, ...(b ? [{ name: 'b', ...b }] : [])],
      nodes: [
        { op: 'Einsum', inputs: b ? ['a', 'b'] : ['a'], outputs: ['p'], attrs: { equation } },
        { op: 'Add', inputs: ['x', 'p'], outputs: ['y'] },
      ],
    });
    const op = importOnnx(bytes, 'e.onnx').ops[0];
    if (op.kind !== 'binary' || !op.b) throw new Error('expected one Add of a constant');
    return Array.from(op.b.data);
  };
  const t = Float32Array.of(0, 1, 2);
  const f = Float32Array.of(1, 0.5);

  it("folds an outer product (rotary embeddings' 'i,j->ij'), a matrix product and a sum over a letter", () => {
    expect(folded('i,j->ij', { dims: [3], data: t }, { dims: [2], data: f }, [3, 2])).toEqual([0, 0, 1, 0.5, 2, 1]);
    const m = Float32Array.of(1, 2, 3, 4, 5, 6);
    expect(folded('ij,jk->ik', { dims: [2, 3], data: m }, { dims: [3, 1], data: Float32Array.of(1, 0, -1) }, [2, 1])).toEqual([-2, -2]);
    expect(folded('ij->j', { dims: [2, 3], data: m }, null, [3])).toEqual([5, 7, 9]);
  });
});

describe('GatherElements of constants', () => {
  it('folds out[i][j] = data[i][idx[i][j]] along axis 1, a negative index from the end', () => {
    const bytes = buildOnnxModel({
      opset: 13,
      inputs: [{ name: 'x', dims: ['batch', 2, 2] }],
      outputs: [{ name: 'y', dims: ['batch', 2, 2] }],
      initializers: [{ name: 'd', dims: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) }, { name: 'i', dims: [2, 2], data: BigInt64Array.of(2n, 0n, -1n, 1n) }],
      nodes: [
        { op: 'GatherElements', inputs: ['d', 'i'], outputs: ['g'], attrs: { axis: 1 } },
        { op: 'Add', inputs: ['x', 'g'], outputs: ['y'] },
      ],
    });
    const op = importOnnx(bytes, 'g.onnx').ops[0];
    if (op.kind !== 'binary' || !op.b) throw new Error('expected one Add of a constant');
    expect(Array.from(op.b.data)).toEqual([3, 1, 6, 5]);
  });
});
