import { describe, expect, it } from 'vitest';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';

// MatMul of two constants folds (a weight computed in the graph, as spectral_norm's σ = uᵀ·W·v):
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
