import { describe, expect, it } from 'vitest';
import { buildOnnxModel, type BuildTensor } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import type { Network } from '../../src/ir/graph.ts';
import { usageMessage } from '../helpers/errors.ts';

// ScatterND of constants folds (a position table written by slice assignment in forward()): the
// examples of the ONNX operator spec, negative indices, a reduction, and one-line refusals.
const i64 = (...v: number[]) => BigInt64Array.from(v.map(BigInt));

/** y = x + ScatterND(data, indices, updates): the folded table is the Add's constant. */
function model(data: BuildTensor, indices: BuildTensor, updates: BuildTensor, attrs: Record<string, string> = {}, opset = 16): Uint8Array {
  return buildOnnxModel({
    opset,
    inputs: [{ name: 'x', dims: ['batch', ...data.dims] }],
    outputs: [{ name: 'y', dims: ['batch', ...data.dims] }],
    initializers: [data, indices, updates],
    nodes: [
      { op: 'ScatterND', inputs: [data.name, indices.name, updates.name], outputs: ['s'], attrs },
      { op: 'Add', inputs: ['x', 's'], outputs: ['y'] },
    ],
  });
}

function folded(net: Network): number[] {
  const op = net.ops[0];
  if (op.kind !== 'binary' || !op.b) throw new Error('expected one Add of a constant');
  return Array.from(op.b.data);
}

const range = (n: number) => Float32Array.from({ length: n }, (_, i) => i + 1);

describe('ONNX NonZero of a constant', () => {
  it('folds to the coordinates of the nonzero elements, [rank, count] row-major', () => {
    const bytes = buildOnnxModel({
      opset: 13,
      inputs: [{ name: 'x', dims: ['batch', 6] }],
      outputs: [{ name: 'y', dims: ['batch', 6] }],
      initializers: [{ name: 'c', dims: [2, 3], data: Float32Array.of(0, 5, 0, 1, 0, -2) }, { name: 'six', dims: [1], data: i64(6) }],
      nodes: [
        { op: 'NonZero', inputs: ['c'], outputs: ['nz'] },
        { op: 'Cast', inputs: ['nz'], outputs: ['f'], attrs: { to: 1 } },
        { op: 'Reshape', inputs: ['f', 'six'], outputs: ['flat'] },
        { op: 'Add', inputs: ['x', 'flat'], outputs: ['y'] },
      ],
    });
    // Nonzeros at (0, 1), (1, 0), (1, 2): rows [0, 1, 1] and columns [1, 0, 2].
    expect(folded(importOnnx(bytes, 'nz.onnx'))).toEqual([0, 1, 1, 1, 0, 2]);
  });
});

describe('ONNX ScatterND of constants', () => {
  it('replaces elements (the spec\'s first example) and whole slices (its second)', () => {
    const a = importOnnx(model({ name: 'd', dims: [8], data: range(8) }, { name: 'i', dims: [4, 1], data: i64(4, 3, 1, 7) }, { name: 'u', dims: [4], data: Float32Array.of(9, 10, 11, 12) }), 's.onnx');
    expect(folded(a)).toEqual([1, 11, 3, 10, 9, 6, 7, 12]);
    // data [4, 2, 2]: slices 0 and 2 replaced by [2, 2] updates each.
    const b = importOnnx(model({ name: 'd', dims: [4, 2, 2], data: range(16) }, { name: 'i', dims: [2, 1], data: i64(0, 2) }, { name: 'u', dims: [2, 2, 2], data: Float32Array.of(5, 5, 5, 5, 6, 6, 6, 6) }), 's.onnx');
    expect(folded(b)).toEqual([5, 5, 5, 5, 5, 6, 7, 8, 6, 6, 6, 6, 13, 14, 15, 16]);
  });

  it('takes negative indices from the end and applies a reduction', () => {
    const net = importOnnx(model({ name: 'd', dims: [2, 3], data: range(6) }, { name: 'i', dims: [2, 2], data: i64(-1, -1, 0, 1) }, { name: 'u', dims: [2], data: Float32Array.of(10, 20) }, { reduction: 'mul' }), 's.onnx');
    expect(folded(net)).toEqual([1, 40, 3, 4, 5, 60]);
  });

  it('refuses bad input in one line naming the node', () => {
    const bad = (indices: BuildTensor, updates: BuildTensor, attrs: Record<string, string> = {}) => usageMessage(() => importOnnx(model({ name: 'd', dims: [4], data: range(4) }, indices, updates, attrs), 's.onnx'));
    expect(bad({ name: 'i', dims: [1, 1], data: i64(4) }, { name: 'u', dims: [1], data: Float32Array.of(1) })).toMatch(/^s\.onnx: node "ScatterND_0" \(ScatterND\): index 4 is out of range for dim 0 of size 4$/);
    expect(bad({ name: 'i', dims: [2, 1], data: i64(0, 1) }, { name: 'u', dims: [3], data: Float32Array.of(1, 2, 3) })).toMatch(/updates \[3\] do not hold 2 slices of 1 elements$/);
    expect(bad({ name: 'i', dims: [1, 1], data: i64(0) }, { name: 'u', dims: [1], data: Float32Array.of(1) }, { reduction: 'avg' })).toMatch(/attribute "reduction" is "avg"; allowed: none, add, mul, max, min$/);
  });
});
