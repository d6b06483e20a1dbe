import { describe, expect, it } from 'vitest';
import { buildOnnxModel, type BuildNode, type BuildTensor } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { digitalForward } from '../helpers/digital-run.ts';
import { usageMessage } from '../helpers/errors.ts';

// Compress (tf2onnx's boolean_mask) with a constant condition, as the Gather of its kept indices; on
// constants it folds. A condition from the data would size the output by the data: refused.
const CPU = { kind: 'cpu' as const, reason: 'test' };
// build.ts writes no bool tensors; Compress reads any integer condition as nonzero = keep.
const cond = (name: string, v: number[]): BuildTensor => ({ name, dims: [v.length], data: Uint8Array.from(v) });

function model(nodes: BuildNode[], init: BuildTensor[], input: (number | string)[] = ['N', 4]): Uint8Array {
  return buildOnnxModel({ opset: 13, inputs: [{ name: 'x', dims: input }], outputs: [{ name: 'y', dims: ['N'] }], initializers: init, nodes });
}

describe('Compress', () => {
  it('keeps the slices its constant condition marks, a short condition dropping the rest', async () => {
    const m = model([{ op: 'Compress', inputs: ['x', 'c'], outputs: ['y'], attrs: { axis: 1 } }], [cond('c', [1, 0, 1])]);
    expect(Array.from(await digitalForward(CPU, m, 'm.onnx', Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8), 2))).toEqual([1, 3, 5, 7]);
  });

  it('folds on constants, flattened when it has no axis', async () => {
    const m = model([
      { op: 'Compress', inputs: ['w', 'c'], outputs: ['k'] },
      { op: 'Add', inputs: ['x', 'k'], outputs: ['y'] },
    ], [{ name: 'w', dims: [2, 3], data: Float32Array.of(10, 20, 30, 40, 50, 60) }, cond('c', [0, 1, 0, 1, 1, 0])], ['N', 3]);
    expect(Array.from(await digitalForward(CPU, m, 'm.onnx', Float32Array.of(1, 2, 3), 1))).toEqual([21, 42, 53]);
  });

  it('refuses a condition from the data and an activation flattened across samples, in one line', () => {
    const fromData = buildOnnxModel({
      opset: 13, inputs: [{ name: 'x', dims: ['N', 4] }], outputs: [{ name: 'y', dims: ['N'] }],
      nodes: [{ op: 'Greater', inputs: ['x', 'z'], outputs: ['c'] }, { op: 'Compress', inputs: ['x', 'c'], outputs: ['y'], attrs: { axis: 1 } }],
      initializers: [{ name: 'z', dims: [], data: Float32Array.of(0) }],
    });
    expect(usageMessage(() => importOnnx(fromData, 'm.onnx'))).toMatch(/Compress with a computed condition sizes its output by the data, which is not supported/);
    const flat = model([{ op: 'Compress', inputs: ['x', 'c'], outputs: ['y'] }], [cond('c', [1, 0])]);
    expect(usageMessage(() => importOnnx(flat, 'm.onnx'))).toMatch(/has no "axis": it would flatten the input, across samples/);
  });
});
