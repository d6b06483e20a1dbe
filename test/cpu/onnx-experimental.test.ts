import { describe, expect, it } from 'vitest';
import { buildOnnxModel, type BuildNode, type BuildTensor } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { digitalForward } from '../helpers/digital-run.ts';
import { usageMessage } from '../helpers/errors.ts';

// ONNX's former experimental ops (ImageScaler, Scale, Affine, ScaledTanh, ParametricSoftplus, Crop,
// ConstantFill, MVN-1), in the Model Zoo's opset 7–9 files and PyTorch's opset 7/8 exports, against their
// definitions (ONNX 1.3's onnx/defs/experiments) computed here by hand.
const CPU = { kind: 'cpu' as const, reason: 'test' };

function model(nodes: BuildNode[], input: (number | string)[], opset = 8, init: BuildTensor[] = []): Uint8Array {
  return buildOnnxModel({ opset, inputs: [{ name: 'x', dims: input }], outputs: [{ name: 'y', dims: ['N'] }], initializers: init, nodes });
}

const run = async (bytes: Uint8Array, x: number[], B = 1): Promise<number[]> => Array.from(await digitalForward(CPU, bytes, 'm.onnx', Float32Array.from(x), B));
const close = (got: number[], want: number[]): void => {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(g).toBeCloseTo(want[i], 5));
};

describe('former experimental ONNX ops', () => {
  it('ImageScaler: x·scale + bias per channel', async () => {
    const m = model([{ op: 'ImageScaler', inputs: ['x'], outputs: ['y'], attrs: { scale: 0.5, bias: [1, -2] } }], ['N', 2, 1, 2]);
    close(await run(m, [2, 4, 6, 8, 10, 12, 14, 16], 2), [2, 3, 1, 2, 6, 7, 5, 6]);
    expect(usageMessage(() => importOnnx(model([{ op: 'ImageScaler', inputs: ['x'], outputs: ['y'], attrs: { bias: [1, 2, 3] } }], ['N', 2, 1, 2]), 'm.onnx'))).toMatch(/attribute "bias" has 3 entries for 2 channels/);
  });

  it('Scale, Affine, ScaledTanh and ParametricSoftplus', async () => {
    const x = [-1, 0, 2];
    close(await run(model([{ op: 'Scale', inputs: ['x'], outputs: ['y'], attrs: { scale: 3 } }], ['N', 3]), x), [-3, 0, 6]);
    close(await run(model([{ op: 'Affine', inputs: ['x'], outputs: ['y'], attrs: { alpha: 2, beta: 0.5 } }], ['N', 3]), x), [-1.5, 0.5, 4.5]);
    close(await run(model([{ op: 'ScaledTanh', inputs: ['x'], outputs: ['y'], attrs: { alpha: 2, beta: 0.5 } }], ['N', 3]), x), x.map((v) => 2 * Math.tanh(0.5 * v)));
    close(await run(model([{ op: 'ParametricSoftplus', inputs: ['x'], outputs: ['y'], attrs: { alpha: 2, beta: 0.5 } }], ['N', 3]), x), x.map((v) => 2 * Math.log1p(Math.exp(0.5 * v))));
  });

  it('MeanVarianceNormalization before opset 9 (MVN-1): per channel or across channels, the deviation divided out only with normalize_variance', async () => {
    const x = [1, 3, 10, 20];
    const mvn = (attrs: Record<string, number>) => model([{ op: 'MeanVarianceNormalization', inputs: ['x'], outputs: ['y'], attrs }], ['N', 2, 1, 2]);
    close(await run(mvn({ normalize_variance: 0 }), x), [-1, 1, -5, 5]);
    close(await run(mvn({}), x), [-1, 1, -1, 1]);
    const all = x.map((v) => v - 8.5);
    const sd = Math.sqrt(all.reduce((a, v) => a + v * v, 0) / 4);
    close(await run(mvn({ across_channels: 1 }), x), all.map((v) => v / (sd + 1e-9)));
  });

  it('Crop: borders off each side, or a (height, width) window from the top-left border', async () => {
    const x = Array.from({ length: 16 }, (_, i) => i);
    close(await run(model([{ op: 'Crop', inputs: ['x'], outputs: ['y'], attrs: { border: [1, 0, 1, 2] } }], ['N', 1, 4, 4]), x), [1, 2, 5, 6]);
    close(await run(model([{ op: 'Crop', inputs: ['x'], outputs: ['y'], attrs: { border: [1, 1, 0, 0], scale: [2, 3] } }], ['N', 1, 4, 4]), x), [5, 6, 7, 9, 10, 11]);
    expect(usageMessage(() => importOnnx(model([{ op: 'Crop', inputs: ['x'], outputs: ['y'], attrs: { border: [1, 1, 0, 0], scale: [4, 3] } }], ['N', 1, 4, 4]), 'm.onnx'))).toMatch(/a \[4, 3\] window at \(1, 1\) does not fit in \[4, 4\]/);
  });

  it('ConstantFill: over the shape an input holds, over the input\'s own shape, or the shape attribute, then extra_shape', async () => {
    const i64 = (name: string, v: number[]): BuildTensor => ({ name, dims: [v.length], data: BigInt64Array.from(v, BigInt) });
    // input_as_shape = 1 (PyTorch's torch.zeros at opset 7 and 8), added to the data.
    const asShape = model([
      { op: 'ConstantFill', inputs: ['s'], outputs: ['f'], attrs: { input_as_shape: 1, value: 1.5, extra_shape: [] } },
      { op: 'Add', inputs: ['x', 'f'], outputs: ['y'] },
    ], ['N', 3], 7, [i64('s', [1, 3])]);
    close(await run(asShape, [1, 2, 3, 4, 5, 6], 2), [2.5, 3.5, 4.5, 5.5, 6.5, 7.5]);
    // input_as_shape = 0: the input's shape, the batch included (every sample the fill).
    const like = model([
      { op: 'ConstantFill', inputs: ['x'], outputs: ['f'], attrs: { value: 2 } },
      { op: 'Mul', inputs: ['x', 'f'], outputs: ['y'] },
    ], ['N', 2]);
    close(await run(like, [1, 2, 3, 4], 2), [2, 4, 6, 8]);
    // No input: the shape attribute and extra_shape; an int dtype truncates the value.
    const attr = model([
      { op: 'ConstantFill', inputs: [], outputs: ['f'], attrs: { shape: [1], extra_shape: [2], value: 3.7, dtype: 7 } },
      { op: 'Cast', inputs: ['f'], outputs: ['g'], attrs: { to: 1 } },
      { op: 'Add', inputs: ['x', 'g'], outputs: ['y'] },
    ], ['N', 2]);
    close(await run(attr, [1, 2]), [4, 5]);
  });
});
