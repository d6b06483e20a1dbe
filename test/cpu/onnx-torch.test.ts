import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import type { BuildNode, BuildTensor } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import type { LinearOp } from '../../src/ir/graph.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { maxAbs, maxAbsDiff, randomArray } from '../helpers/random.ts';
import { vitModel } from '../helpers/torch-exports.ts';
import { usageMessage } from '../helpers/errors.ts';

const CFG = resolveConfig({ preset: 'ideal' });

describe('PyTorch dynamic_axes exports: the batch size as a symbol (issue 12 item 3)', () => {
  const m = vitModel();
  const net = importOnnx(m.bytes, 'vit.onnx');

  it('imports a timm-style ViT block: weights on crossbars, attention products digital', () => {
    const linear = net.ops.filter((o): o is LinearOp => o.kind === 'linear');
    expect(linear.map((o) => [o.name, o.K, o.N, o.inShape.join('x')])).toEqual([
      [expect.stringMatching(/^\/MatMul_/), 8, 24, '5x8'],
      [expect.stringMatching(/^\/MatMul_/), 8, 8, '5x8'],
      [expect.stringMatching(/^\/MatMul_/), 8, 16, '5x8'],
      [expect.stringMatching(/^\/MatMul_/), 16, 8, '5x16'],
      ['/head/Gemm', 8, 10, '8'],
    ]);
    expect(net.ops.filter((o) => o.kind === 'conv')).toHaveLength(1);
    // q·kᵀ and softmax·v change with every input: digital matmuls of two activations.
    expect(net.ops.filter((o) => o.kind === 'matmul').map((o) => o.kind === 'matmul' && [o.aShape, o.bShape])).toEqual([
      [[2, 5, 4], [2, 4, 5]],
      [[2, 5, 5], [2, 5, 4]],
    ]);
    expect(net.input.shape).toEqual([3, 8, 8]);
    expect(net.shapes.get(net.output)).toEqual([10]);
  });

  it('one file runs at batch sizes 1, 7 and 64 with identical per-sample outputs, equal to a plain forward', async () => {
    const x = randomArray(64 * 192, 9);
    const runner = openNetwork({ kind: 'cpu', reason: 'test' }, net, CFG, true);
    const run = async (B: number): Promise<Float32Array> => (await runner.forward(null, x.subarray(0, B * 192), B, 0)).output;
    const [y1, y7, y64] = [await run(1), await run(7), await run(64)];
    expect(y7.subarray(0, 10)).toEqual(y1);
    expect(y64.subarray(0, 70)).toEqual(y7);
    for (let s = 0; s < 64; s += 9) {
      const want = m.forward(x.subarray(s * 192, (s + 1) * 192));
      expect(maxAbsDiff(y64.subarray(s * 10, (s + 1) * 10), want)).toBeLessThan(1e-4 * Math.max(1, maxAbs(want)));
    }
    runner.destroy();
  });
});

/** The one-line error of importing a one-input graph. */
function refusal(nodes: BuildNode[], init: BuildTensor[] = [], dims: (number | string)[] = ['batch', 2, 6]): string {
  const bytes = buildOnnxModel({ opset: 17, inputs: [{ name: 'x', dims }], outputs: [{ name: 'y', dims: ['batch'] }], initializers: init, nodes });
  return usageMessage(() => importOnnx(bytes, 'm.onnx'));
}

const i64 = (name: string, v: number[], dims = [v.length]): BuildTensor => ({ name, dims, data: BigInt64Array.from(v, BigInt) });
const shapeOf = (out: string, axis: number): BuildNode[] => [
  { op: 'Shape', inputs: ['x'], outputs: [`${out}_s`] },
  { op: 'Gather', inputs: [`${out}_s`, `i${axis}`], outputs: [out], attrs: { axis: 0 } },
];

describe('shape computations that a per-sample network cannot express are one line naming the node', () => {
  const idx = [i64('i0', [0], []), i64('i1', [1], []), i64('ax', [0])];

  it('a reshape merging the batch with another dim (x.reshape(B * 2, 6)) as the graph output', () => {
    const msg = refusal([
      ...shapeOf('b', 0),
      { op: 'Mul', inputs: ['b', 'two'], outputs: ['b2'] },
      { op: 'Unsqueeze', inputs: ['b2', 'ax'], outputs: ['b2u'] },
      { op: 'Concat', inputs: ['b2u', 'six'], outputs: ['shape'], attrs: { axis: 0 } },
      { op: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'], name: 'merge' },
    ], [...idx, i64('two', [2], []), i64('six', [6])]);
    // The view itself imports (attention does it inside); an output must have the batch on its own.
    expect(msg).toBe('m.onnx: graph output "y" has the batch merged with another dim into axis 0; outputs must have a separate batch dimension first');
  });

  it('batch arithmetic other than scaling (B + 1)', () => {
    const msg = refusal([...shapeOf('b', 0), { op: 'Add', inputs: ['b', 'one'], outputs: ['y'], name: 'plus' }], [...idx, i64('one', [1], [])]);
    expect(msg).toMatch(/^m\.onnx: node "plus" \(Add\): add of batch and 1 depends on the batch size/);
  });

  it('a shape read from the data (Reshape to Cast(ReduceMax(x)))', () => {
    const msg = refusal([
      { op: 'ReduceMax', inputs: ['x'], outputs: ['m'], attrs: { keepdims: 0, axes: [1, 2] } },
      { op: 'Cast', inputs: ['m'], outputs: ['mi'], attrs: { to: 7 } },
      { op: 'Reshape', inputs: ['x', 'mi'], outputs: ['y'], name: 'dyn' },
    ]);
    expect(msg).toMatch(/^m\.onnx: node "dyn" \(Reshape\): shape "mi" must be a constant/);
  });

  it('a Range as long as the batch, and a constant holding the batch size in two dims', () => {
    expect(refusal([...shapeOf('b', 0), { op: 'Range', inputs: ['zero', 'b', 'one'], outputs: ['y'], name: 'r' }], [...idx, i64('zero', [0], []), i64('one', [1], [])])).toMatch(/node "r" \(Range\): Range input depends on the batch size/);
    expect(refusal([
      ...shapeOf('b', 0),
      { op: 'Unsqueeze', inputs: ['b', 'ax'], outputs: ['bu'] },
      { op: 'Concat', inputs: ['two1', 'bu', 'bu'], outputs: ['s'], attrs: { axis: 0 } },
      { op: 'ConstantOfShape', inputs: ['s'], outputs: ['y'], name: 'cos' },
    ], [...idx, i64('two1', [2])])).toMatch(/node "cos" \(ConstantOfShape\): shape \[2, batch, batch\] holds the batch size in more than one dim/);
  });
});

describe('a batch moved off axis 0, as PyTorch builds and joins RNN states', () => {
  it('ConstantOfShape([1, batch, 2, 6]), x.unsqueeze(0) and their Concat on axis 0 keep each sample apart', async () => {
    const bytes = buildOnnxModel({
      opset: 13,
      inputs: [{ name: 'x', dims: ['batch', 2, 6] }],
      outputs: [{ name: 'y', dims: ['batch', 2, 2, 6] }],
      initializers: [i64('i0', [0], []), i64('ax', [0]), i64('one', [1]), i64('rest', [2, 6])],
      nodes: [
        ...shapeOf('b', 0),
        { op: 'Unsqueeze', inputs: ['b', 'ax'], outputs: ['bu'] },
        { op: 'Concat', inputs: ['one', 'bu', 'rest'], outputs: ['s'], attrs: { axis: 0 } },
        { op: 'ConstantOfShape', inputs: ['s'], outputs: ['fill'], attrs: { value: { tensor: { dims: [1], data: Float32Array.of(1.5) } } } },
        { op: 'Unsqueeze', inputs: ['x', 'ax'], outputs: ['xu'] },
        { op: 'Concat', inputs: ['xu', 'fill'], outputs: ['both'], attrs: { axis: 0 } },
        { op: 'Transpose', inputs: ['both'], outputs: ['y'], attrs: { perm: [1, 0, 2, 3] } },
      ],
    });
    const net = importOnnx(bytes, 'm.onnx');
    const x = randomArray(3 * 12, 4);
    const runner = openNetwork({ kind: 'cpu', reason: 'test' }, net, CFG, true);
    const y = (await runner.forward(null, x, 3, 0)).output;
    runner.destroy();
    const want = Array.from({ length: 3 }, (_, b) => [...x.subarray(b * 12, (b + 1) * 12), ...new Array<number>(12).fill(1.5)]).flat();
    expect(Array.from(y)).toEqual(want);
  });
});

describe('F.layer_norm without a weight', () => {
  it('imports the empty Scale input PyTorch writes as a scale of 1', async () => {
    const bytes = buildOnnxModel({
      opset: 17,
      inputs: [{ name: 'x', dims: ['batch', 4, 8] }],
      outputs: [{ name: 'y', dims: ['batch', 4, 8] }],
      nodes: [{ op: 'LayerNormalization', inputs: ['x', ''], outputs: ['y'], attrs: { axis: -2 } }],
    });
    const x = randomArray(2 * 32, 3);
    const runner = openNetwork({ kind: 'cpu', reason: 'test' }, importOnnx(bytes, 'ln.onnx'), CFG, true);
    const y = (await runner.forward(null, x, 2, 0)).output;
    for (let s = 0; s < 2; s++) {
      const v = x.subarray(s * 32, s * 32 + 32);
      const mean = v.reduce((a, b) => a + b, 0) / 32;
      const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / 32 + 1e-5);
      expect(maxAbsDiff(y.subarray(s * 32, s * 32 + 32), Float32Array.from(v, (t) => (t - mean) / sd))).toBeLessThan(1e-5);
    }
  });
});

describe('IsNaN and IsInf (torch.nan_to_num, torch.isfinite)', () => {
  const model = (attrs: Record<string, number> = {}): Uint8Array => buildOnnxModel({
    opset: 13,
    inputs: [{ name: 'x', dims: ['batch', 4] }],
    outputs: [{ name: 'y', dims: ['batch', 4] }],
    initializers: [{ name: 'zero', dims: [], data: Float32Array.of(0) }, { name: 'seven', dims: [], data: Float32Array.of(7) }],
    nodes: [
      { op: 'IsNaN', inputs: ['x'], outputs: ['nan'] },
      { op: 'Where', inputs: ['nan', 'zero', 'x'], outputs: ['clean'] },
      { op: 'IsInf', inputs: ['clean'], outputs: ['inf'], attrs, name: 'inf' },
      { op: 'Where', inputs: ['inf', 'seven', 'clean'], outputs: ['y'] },
    ],
  });

  it('replaces NaN by 0 and ±Inf by 7, finite values kept', async () => {
    const runner = openNetwork({ kind: 'cpu', reason: 'test' }, importOnnx(model(), 'n.onnx'), CFG, true);
    const x = Float32Array.from([NaN, Infinity, -Infinity, 3.4028234663852886e38, -1.5, 0, 1e-45, 2]);
    expect(Array.from((await runner.forward(null, x, 2, 0)).output)).toEqual([0, 7, 7, 3.4028234663852886e38, -1.5, 0, 1e-45, 2].map(Math.fround));
  });

  it('refuses IsInf of one sign only in one line', () => {
    expect(usageMessage(() => importOnnx(model({ detect_negative: 0 }), 'n.onnx'))).toBe('n.onnx: node "inf" (IsInf): detects infinities of one sign only (detect_negative or detect_positive is 0); only both are supported');
  });
});
