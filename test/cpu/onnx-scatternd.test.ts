import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { buildOnnxModel, type BuildNode, type BuildTensor } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import type { Network } from '../../src/ir/graph.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { usageMessage } from '../helpers/errors.ts';
import { randomArray } from '../helpers/random.ts';

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

// Slice assignment into activations (`y[:, 1] = x[:, 0]`): PyTorch builds ScatterND's indices from
// torch.arange(batch), which folds only at a known batch size (src/io/onnx/probe.ts, ops/scatter.ts).
const int64 = (name: string, v: number[], dims = [v.length]): BuildTensor => ({ name, dims, data: BigInt64Array.from(v, BigInt) });
const f32 = (name: string, v: number[], dims = [v.length]): BuildTensor => ({ name, dims, data: Float32Array.from(v) });
const INIT = [int64('i0', [0], []), int64('zero', [0], []), int64('one', [1], []), int64('ax1', [1]), int64('s0', [0]), int64('s1', [1]), int64('ax', [1]), f32('c1', [1], [1, 1])];

/** Indices [batch, 2] of (sample, `row`) as torch.arange(batch) and an expanded constant make them. */
function rowIndices(row: string): BuildNode[] {
  return [
    { op: 'Shape', inputs: ['x'], outputs: ['xs'] },
    { op: 'Gather', inputs: ['xs', 'i0'], outputs: ['b'], attrs: { axis: 0 } },
    { op: 'Range', inputs: ['zero', 'b', 'one'], outputs: ['r'], name: 'arange' },
    { op: 'Unsqueeze', inputs: ['r', 'ax1'], outputs: ['ru'] },
    { op: 'Shape', inputs: ['ru'], outputs: ['rs'] },
    { op: 'Expand', inputs: [row, 'rs'], outputs: ['rows'] },
    { op: 'Cast', inputs: ['rows'], outputs: ['rowsi'], attrs: { to: 7 } },
    { op: 'Concat', inputs: ['ru', 'rowsi'], outputs: ['ind'], attrs: { axis: 1 } },
  ];
}

/** `y[:, 1, :] = x[:, 0, :]` on x [batch, 2, 6]. */
const ASSIGN: BuildNode[] = [
  ...rowIndices('c1'),
  { op: 'Slice', inputs: ['x', 's0', 's1', 'ax'], outputs: ['x0'] },
  { op: 'Squeeze', inputs: ['x0', 'ax'], outputs: ['upd'] },
  { op: 'ScatterND', inputs: ['x', 'ind', 'upd'], outputs: ['y'], name: 'assign' },
];

function assignModel(nodes: BuildNode[], init: BuildTensor[] = INIT): Uint8Array {
  return buildOnnxModel({ opset: 17, inputs: [{ name: 'x', dims: ['batch', 2, 6] }], outputs: [{ name: 'y', dims: ['batch', 2, 6] }], initializers: init, nodes });
}

describe('ScatterND into activations (slice assignment)', () => {
  it('writes the same slice of every sample from its own updates, at any batch size', async () => {
    const net = importOnnx(assignModel(ASSIGN), 'm.onnx');
    expect(net.ops.map((o) => o.kind)).toContain('where');
    const runner = openNetwork({ kind: 'cpu', reason: 'test' }, net, resolveConfig({ preset: 'ideal' }), true);
    for (const B of [1, 5]) {
      const x = randomArray(B * 12, B);
      const want = Float32Array.from(x, (v, i) => (i % 12 >= 6 ? x[i - 6] : v));
      expect(Array.from((await runner.forward(null, x, B, 0)).output)).toEqual(Array.from(want));
    }
  });

  it('refuses a reduction, naming the node', () => {
    const nodes = ASSIGN.map((n) => (n.op === 'ScatterND' ? { ...n, attrs: { reduction: 'add' } } : n));
    expect(usageMessage(() => importOnnx(assignModel(nodes), 'm.onnx'))).toBe('m.onnx: node "assign" (ScatterND): reduction "add" on activations is not supported; only none (slice assignment) is');
  });

  it('refuses writing one sample by number (y[0] = 0)', () => {
    const nodes: BuildNode[] = [{ op: 'ScatterND', inputs: ['x', 'first', 'zeros'], outputs: ['y'], name: 'assign' }];
    const msg = usageMessage(() => importOnnx(assignModel(nodes, [int64('first', [0], [1, 1]), f32('zeros', new Array<number>(12).fill(0), [1, 2, 6])]), 'm.onnx'));
    expect(msg).toBe('m.onnx: node "assign" (ScatterND): indices "first" are a constant, so they name samples by number; only an assignment to every sample (y[:, …] = …) is supported');
  });

  it('a value as long as the batch read by an op on activations gives the refusal of the node that made it', () => {
    const nodes: BuildNode[] = [...rowIndices('c1'), { op: 'Cast', inputs: ['r'], outputs: ['rf'], attrs: { to: 1 } }, { op: 'Add', inputs: ['x', 'rf'], outputs: ['y'] }];
    expect(usageMessage(() => importOnnx(assignModel(nodes), 'm.onnx'))).toBe('m.onnx: node "arange" (Range): Range input depends on the batch size, which is unknown at import');
  });
});

// h[torch.arange(batch), idx]: PyTorch flattens h to [batch·k, …] and gathers rows idx + arange·k.
describe('Gather of one row per sample (h[torch.arange(batch), idx])', () => {
  /** x [batch, 3, 2]; idx = (x[:, 0, 0] > 0) − `shift`; y = x[arange(batch), idx]. */
  function rowPick(shift: number, tail: BuildNode[] = []): Uint8Array {
    const nodes: BuildNode[] = [
      { op: 'Shape', inputs: ['x'], outputs: ['xs'] },
      { op: 'Gather', inputs: ['xs', 'i0'], outputs: ['b'], attrs: { axis: 0 } },
      { op: 'Range', inputs: ['zero', 'b', 'one'], outputs: ['r'] },
      { op: 'Mul', inputs: ['r', 'three'], outputs: ['off'] },
      { op: 'Flatten', inputs: ['x'], outputs: ['flat'], attrs: { axis: 2 } },
      { op: 'Gather', inputs: ['x', 'i0'], outputs: ['x0'], attrs: { axis: 1 } },
      { op: 'Gather', inputs: ['x0', 'i0'], outputs: ['x00'], attrs: { axis: 1 } },
      { op: 'Greater', inputs: ['x00', 'fzero'], outputs: ['pos'] },
      { op: 'Cast', inputs: ['pos'], outputs: ['g'], attrs: { to: 7 } },
      { op: 'Sub', inputs: ['g', 'shift'], outputs: ['idx'] },
      { op: 'Add', inputs: ['idx', 'off'], outputs: ['lin'] },
      ...(tail.length > 0 ? tail : [{ op: 'Gather', inputs: ['flat', 'lin'], outputs: ['y'], attrs: { axis: 0 }, name: 'pick' }]),
    ];
    const init = [int64('i0', [0], []), int64('zero', [0], []), int64('one', [1], []), int64('three', [3], []), int64('shift', [shift], []), f32('fzero', [0], [])];
    return buildOnnxModel({ opset: 13, inputs: [{ name: 'x', dims: ['batch', 3, 2] }], outputs: [{ name: 'y', dims: ['batch', 2] }], initializers: init, nodes });
  }

  it("picks each sample's own row at any batch size; a negative index (another sample's row in the ONNX graph) gives NaN", async () => {
    for (const [shift, B] of [[0, 1], [0, 5], [1, 4]]) {
      const runner = openNetwork({ kind: 'cpu', reason: 'test' }, importOnnx(rowPick(shift), 'm.onnx'), resolveConfig({ preset: 'ideal' }), true);
      const x = randomArray(B * 6, 7 + B);
      const y = (await runner.forward(null, x, B, 0)).output;
      for (let b = 0; b < B; b++) {
        const r = (x[b * 6] > 0 ? 1 : 0) - shift;
        const want = r < 0 ? [NaN, NaN] : [x[b * 6 + r * 2], x[b * 6 + r * 2 + 1]];
        expect(Array.from(y.subarray(b * 2, b * 2 + 2))).toEqual(want);
      }
    }
  });

  it('refuses the offset indices anywhere but that Gather (a graph output too), naming the node', () => {
    const msg = usageMessage(() => importOnnx(rowPick(0, [{ op: 'Cast', inputs: ['lin'], outputs: ['y'], attrs: { to: 1 }, name: 'use' }]), 'm.onnx'));
    expect(msg).toBe('m.onnx: node "use" (Cast): input "lin" holds row indices plus torch.arange(batch)·3; only a Gather of a [batch·3, …] view takes it');
    const out = usageMessage(() => importOnnx(rowPick(0, [{ op: 'Identity', inputs: ['lin'], outputs: ['y'] }]), 'm.onnx'));
    expect(out).toBe('m.onnx: graph output "y" holds row indices plus torch.arange(batch)·3, which only a Gather of a [batch·3, …] view can read');
  });
});
