import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { buildOnnxModel, type BuildGraph, type BuildNode, type BuildTensor } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { usageMessage } from '../helpers/errors.ts';
import { maxAbsDiff, randomArray } from '../helpers/random.ts';

// Loop unrolled at import (trip count and conditions known there) and ONNX sequences, which exist at
// import only. The expected values are computed here from the ONNX definitions.
const CFG = resolveConfig({ preset: 'ideal' });
const CPU = { kind: 'cpu' as const, reason: 'test' };
const B = 3;
const K = 4;
const N = 3;

const i64 = (...v: number[]) => BigInt64Array.from(v.map(BigInt));
const scalar = (name: string, v: number): BuildTensor => ({ name, dims: [], data: i64(v) });

function model(nodes: BuildNode[], initializers: BuildTensor[] = [], opset = 13, dims: number[] = [K]): Uint8Array {
  return buildOnnxModel({ opset, inputs: [{ name: 'x', dims: ['batch', ...dims] }], outputs: [{ name: 'y', dims: ['batch'] }], initializers, nodes });
}

async function f32(bytes: Uint8Array, x: Float32Array, digital = true): Promise<Float32Array> {
  const r = openNetwork(CPU, importOnnx(bytes, 'loop.onnx'), CFG, digital);
  try {
    return (await r.forward(null, x, B, 0)).output;
  } finally {
    r.destroy();
  }
}

const W = randomArray(K * N, 11);

/**
 * An RNN-like Loop of `steps` iterations from h = x[:, :N]: h ← tanh(x·W + h) carried, (i + 1)·h scanned; the scan
 * output [steps, batch, N] is transposed batch-first. y = the scan, then the final h, per sample.
 */
function rnnLoop(steps: number): Uint8Array {
  const body: BuildGraph = {
    inputs: [{ name: 'i', dims: [] }, { name: 'c', dims: [] }, { name: 'h', dims: [] }],
    nodes: [
      { op: 'MatMul', inputs: ['x', 'W'], outputs: ['a'] },
      { op: 'Add', inputs: ['a', 'h'], outputs: ['s'] },
      { op: 'Tanh', inputs: ['s'], outputs: ['h2'] },
      { op: 'Add', inputs: ['i', 'one'], outputs: ['i1'] },
      { op: 'Cast', inputs: ['i1'], outputs: ['f'], attrs: { to: 1 } },
      { op: 'Mul', inputs: ['h2', 'f'], outputs: ['scan'] },
      { op: 'Identity', inputs: ['c'], outputs: ['c2'] },
    ],
    outputs: [{ name: 'c2', dims: [] }, { name: 'h2', dims: [] }, { name: 'scan', dims: [] }],
  };
  return model([
    { op: 'Slice', inputs: ['x', 'zero', 'n', 'one'], outputs: ['h0'] },
    { op: 'Loop', inputs: ['M', 'true', 'h0'], outputs: ['hT', 'scans'], attrs: { body: { graph: body } } },
    { op: 'Transpose', inputs: ['scans'], outputs: ['bt'], attrs: { perm: [1, 0, 2] } },
    { op: 'Flatten', inputs: ['bt'], outputs: ['flat'], attrs: { axis: 1 } },
    { op: 'Concat', inputs: ['flat', 'hT'], outputs: ['y'], attrs: { axis: 1 } },
  ], [scalar('M', steps), { name: 'true', dims: [], data: Float32Array.of(1) }, { name: 'W', dims: [K, N], data: W }, scalar('one', 1), { name: 'zero', dims: [1], data: i64(0) }, { name: 'n', dims: [1], data: i64(N) }]);
}

function rnnWant(x: Float32Array, steps: number): Float32Array {
  const per = steps * N + N;
  const y = new Float32Array(B * per);
  for (let b = 0; b < B; b++) {
    let h = Array.from(x.subarray(b * K, b * K + N));
    for (let t = 0; t < steps; t++) {
      h = h.map((hv, n) => {
        let s = hv;
        for (let k = 0; k < K; k++) s += x[b * K + k] * W[k * N + n];
        return Math.tanh(s);
      });
      h.forEach((v, n) => (y[b * per + t * N + n] = v * (t + 1)));
    }
    h.forEach((v, n) => (y[b * per + steps * N + n] = v));
  }
  return y;
}

describe('ONNX Loop unrolled at import', () => {
  it('carries a value and stacks a scan output over the iterations, the layer one tied crossbar', async () => {
    const x = randomArray(B * K, 13);
    expect(maxAbsDiff(await f32(rnnLoop(4), x), rnnWant(x, 4))).toBeLessThan(1e-5);
    const net = importOnnx(rnnLoop(4), 'loop.onnx');
    const layers = net.ops.filter((o) => o.kind === 'linear');
    expect(layers).toHaveLength(4);
    // One physical layer read at every iteration.
    expect(new Set(layers.map((o) => (o.kind === 'linear' ? o.layerIndex : -1)))).toEqual(new Set([0]));
    // On noise-free crossbars too.
    expect(maxAbsDiff(await f32(rnnLoop(4), x, false), rnnWant(x, 4))).toBeLessThan(2e-3);
  });

  it('runs no iteration for a trip count of 0: the carried values pass through', async () => {
    const body: BuildGraph = {
      inputs: [{ name: 'i', dims: [] }, { name: 'c', dims: [] }, { name: 'v', dims: [] }],
      nodes: [{ op: 'Neg', inputs: ['v'], outputs: ['w'] }, { op: 'Identity', inputs: ['c'], outputs: ['c2'] }],
      outputs: [{ name: 'c2', dims: [] }, { name: 'w', dims: [] }],
    };
    const bytes = model([{ op: 'Loop', inputs: ['M', '', 'x'], outputs: ['y'], attrs: { body: { graph: body } } }], [scalar('M', 0)]);
    const x = randomArray(B * K, 14);
    expect(await f32(bytes, x)).toEqual(x);
  });

  it('stops when the body’s condition, known at each iteration, turns false (no trip count)', async () => {
    // cond_out = i < 2: iterations 0, 1 and 2 run, each doubling v.
    const body: BuildGraph = {
      inputs: [{ name: 'i', dims: [] }, { name: 'c', dims: [] }, { name: 'v', dims: [] }],
      nodes: [
        { op: 'Add', inputs: ['v', 'v'], outputs: ['w'] },
        { op: 'Less', inputs: ['i', 'two'], outputs: ['more'] },
      ],
      outputs: [{ name: 'more', dims: [] }, { name: 'w', dims: [] }],
    };
    const bytes = model([{ op: 'Loop', inputs: ['', 'true', 'x'], outputs: ['y'], attrs: { body: { graph: body } } }], [scalar('two', 2), { name: 'true', dims: [], data: Float32Array.of(1) }]);
    const x = randomArray(B * K, 15);
    expect(await f32(bytes, x)).toEqual(x.map((v) => v * 8));
  });

  it('renames a nested If per iteration: its branch depends on the iteration number', async () => {
    // v ← i == 0 ? 2·v : v + 1, three times: 2x + 2.
    const then: BuildGraph = { nodes: [{ op: 'Add', inputs: ['v', 'v'], outputs: ['t'] }], outputs: [{ name: 't', dims: [] }] };
    const other: BuildGraph = { nodes: [{ op: 'Add', inputs: ['v', 'onef'], outputs: ['e'] }], outputs: [{ name: 'e', dims: [] }] };
    const body: BuildGraph = {
      inputs: [{ name: 'i', dims: [] }, { name: 'c', dims: [] }, { name: 'v', dims: [] }],
      nodes: [
        { op: 'Equal', inputs: ['i', 'zero'], outputs: ['first'] },
        { op: 'If', inputs: ['first'], outputs: ['w'], attrs: { then_branch: { graph: then }, else_branch: { graph: other } } },
        { op: 'Identity', inputs: ['c'], outputs: ['c2'] },
      ],
      outputs: [{ name: 'c2', dims: [] }, { name: 'w', dims: [] }],
    };
    const bytes = model([{ op: 'Loop', inputs: ['M', '', 'x'], outputs: ['y'], attrs: { body: { graph: body } } }], [scalar('M', 3), scalar('zero', 0), { name: 'onef', dims: [], data: Float32Array.of(1) }]);
    const x = randomArray(B * K, 16);
    expect(maxAbsDiff(await f32(bytes, x), x.map((v) => 2 * v + 2))).toBeLessThan(1e-6);
  });

  it('refuses in one line a loop whose trip count or condition depends on the data, never ends, or is too long', () => {
    const body: BuildGraph = {
      inputs: [{ name: 'i', dims: [] }, { name: 'c', dims: [] }, { name: 'v', dims: [] }],
      nodes: [{ op: 'Neg', inputs: ['v'], outputs: ['w'] }, { op: 'Identity', inputs: ['c'], outputs: ['c2'] }],
      outputs: [{ name: 'c2', dims: [] }, { name: 'w', dims: [] }],
    };
    const loop = (inputs: string[], extra: BuildNode[] = [], inits: BuildTensor[] = []) =>
      () => importOnnx(model([...extra, { op: 'Loop', name: 'L', inputs, outputs: ['y'], attrs: { body: { graph: body } } }], inits), 'loop.onnx');
    const fromData: BuildNode[] = [{ op: 'ReduceMax', inputs: ['x'], outputs: ['m'], attrs: { axes: [1], keepdims: 0 } }, { op: 'Cast', inputs: ['m'], outputs: ['M'], attrs: { to: 7 } }];
    expect(usageMessage(loop(['M', '', 'x'], fromData))).toMatch(/node "L" \(Loop\): trip count M "M" depends on the data; xbarsim unrolls a Loop at import/);
    // A loop over the batch (nn.EmbeddingBag's export, one bag per sample) cannot be a per-sample network.
    const overBatch: BuildNode[] = [{ op: 'Shape', inputs: ['x'], outputs: ['s'] }, { op: 'Gather', inputs: ['s', 'z'], outputs: ['M'], attrs: { axis: 0 } }];
    expect(usageMessage(loop(['M', '', 'x'], overBatch, [scalar('z', 0)]))).toMatch(/node "L" \(Loop\): trip count M "M" depends on the batch size/);
    expect(usageMessage(loop(['', '', 'x']))).toMatch(/node "L" \(Loop\): has neither a trip count M nor a condition/);
    expect(usageMessage(loop(['M', '', 'x'], [], [scalar('M', 1e9)]))).toMatch(/would import more than \d+ nodes \(1000000000 iterations of 2\)/);
    const dataCond: BuildGraph = { ...body, nodes: [{ op: 'Neg', inputs: ['v'], outputs: ['w'] }, { op: 'ReduceMax', inputs: ['w'], outputs: ['c2'], attrs: { axes: [1], keepdims: 0 } }] };
    const bytes = model([{ op: 'Loop', name: 'L', inputs: ['M', '', 'x'], outputs: ['y'], attrs: { body: { graph: dataCond } } }], [scalar('M', 3)]);
    expect(usageMessage(() => importOnnx(bytes, 'loop.onnx'))).toMatch(/the body's condition at iteration 0 ".*" depends on the data/);
    for (const m of [usageMessage(loop(['M', '', 'x'], fromData)), usageMessage(loop(['', '', 'x']))]) expect(m).not.toContain('\n');
  });
});

describe('ONNX sequences at import', () => {
  const x = randomArray(B * K, 21);

  it('construct, insert, erase and read by position, with the length as a constant', async () => {
    // s = [x, 2x, 3x] → insert −x at 1 → [x, −x, 2x, 3x] → erase −1 → [x, −x, 2x]; y = s[1] + s[-1]·len + s[0].
    const bytes = model([
      { op: 'Add', inputs: ['x', 'x'], outputs: ['x2'] },
      { op: 'Add', inputs: ['x2', 'x'], outputs: ['x3'] },
      { op: 'Neg', inputs: ['x'], outputs: ['nx'] },
      { op: 'SequenceConstruct', inputs: ['x', 'x2', 'x3'], outputs: ['s0'] },
      { op: 'SequenceInsert', inputs: ['s0', 'nx', 'one'], outputs: ['s1'] },
      { op: 'SequenceErase', inputs: ['s1', 'minus1'], outputs: ['s2'] },
      { op: 'SequenceLength', inputs: ['s2'], outputs: ['len'] },
      { op: 'Cast', inputs: ['len'], outputs: ['lenf'], attrs: { to: 1 } },
      { op: 'SequenceAt', inputs: ['s2', 'one'], outputs: ['a'] },
      { op: 'SequenceAt', inputs: ['s2', 'minus1'], outputs: ['b'] },
      { op: 'SequenceAt', inputs: ['s2', 'zero'], outputs: ['c'] },
      { op: 'Mul', inputs: ['b', 'lenf'], outputs: ['bl'] },
      { op: 'Add', inputs: ['a', 'bl'], outputs: ['ab'] },
      { op: 'Add', inputs: ['ab', 'c'], outputs: ['y'] },
    ], [scalar('one', 1), scalar('minus1', -1), scalar('zero', 0)]);
    // −x + 2x·3 + x = 6x.
    expect(maxAbsDiff(await f32(bytes, x), x.map((v) => 6 * v))).toBeLessThan(1e-6);
  });

  it('ConcatFromSequence concatenates along an axis or stacks on a new one, at opsets 11 and 13', async () => {
    for (const opset of [11, 13]) {
      const stack = (newAxis: number, axis: number) =>
        model([
          { op: 'Neg', inputs: ['x'], outputs: ['nx'] },
          { op: 'SequenceConstruct', inputs: ['x', 'nx'], outputs: ['s'] },
          { op: 'ConcatFromSequence', inputs: ['s'], outputs: ['y'], attrs: { axis, new_axis: newAxis } },
        ], [], opset);
      // [batch, K] and [batch, K] along axis 1: [x, −x] per sample.
      expect(await f32(stack(0, 1), x)).toEqual(Float32Array.from({ length: B * 2 * K }, (_, i) => {
        const [b, j] = [Math.floor(i / (2 * K)), i % (2 * K)];
        return (j < K ? 1 : -1) * x[b * K + (j % K)];
      }));
      // Stacked on a new last axis: [batch, K, 2], x and −x interleaved.
      expect(await f32(stack(1, -1), x)).toEqual(Float32Array.from({ length: B * 2 * K }, (_, i) => (i % 2 ? -1 : 1) * x[Math.floor(i / 2)]));
    }
  });

  it('SplitToSequence by a list, by one size (the last part smaller) and into squeezed parts of 1', async () => {
    const D = 5;
    const xs = randomArray(B * D, 22);
    const pick = (parts: number[][], order: number[]) => Float32Array.from({ length: B * D }, (_, i) => {
      const b = Math.floor(i / D);
      const cols = order.flatMap((p) => parts[p]);
      return xs[b * D + cols[i % D]];
    });
    const split = (attrs: Record<string, number>, inputs: string[], at: number[], inits: BuildTensor[]) =>
      model([
        { op: 'SplitToSequence', inputs: ['x', ...inputs], outputs: ['s'], attrs },
        ...at.map((p, k): BuildNode => ({ op: 'SequenceAt', inputs: ['s', `p${p}`], outputs: [`e${k}`] })),
        { op: 'Concat', inputs: at.map((_, k) => `e${k}`), outputs: ['y'], attrs: { axis: 1 } },
      ], [...inits, ...[0, 1, 2, 3, 4].map((p) => scalar(`p${p}`, p))], 13, [D]);
    // split [2, 3], read back as [part 1, part 0].
    expect(await f32(split({ axis: 1 }, ['sizes'], [1, 0], [{ name: 'sizes', dims: [2], data: i64(2, 3) }]), xs)).toEqual(pick([[0, 1], [2, 3, 4]], [1, 0]));
    // split 2: parts [0, 1], [2, 3], [4].
    expect(await f32(split({ axis: 1 }, ['two'], [2, 0, 1], [scalar('two', 2)]), xs)).toEqual(pick([[0, 1], [2, 3], [4]], [2, 0, 1]));
    // No split, keepdims 0: five [batch] parts; stacked back reversed they are the columns reversed.
    const rev = model([
      { op: 'SplitToSequence', inputs: ['x'], outputs: ['s'], attrs: { axis: 1, keepdims: 0 } },
      ...[4, 3, 2, 1, 0].map((p, k): BuildNode => ({ op: 'SequenceAt', inputs: ['s', `p${p}`], outputs: [`e${k}`] })),
      { op: 'SequenceConstruct', inputs: ['e0', 'e1', 'e2', 'e3', 'e4'], outputs: ['r'] },
      { op: 'ConcatFromSequence', inputs: ['r'], outputs: ['y'], attrs: { axis: 1, new_axis: 1 } },
    ], [0, 1, 2, 3, 4].map((p) => scalar(`p${p}`, p)), 13, [D]);
    expect(await f32(rev, xs)).toEqual(pick([[0], [1], [2], [3], [4]], [4, 3, 2, 1, 0]));
  });

  it('refuses a sequence where a tensor is read, a sequence output, and positions out of range, in one line', () => {
    const bad = (nodes: BuildNode[], inits: BuildTensor[] = []) => usageMessage(() => importOnnx(model(nodes, inits), 'seq.onnx'));
    expect(bad([{ op: 'SequenceConstruct', inputs: ['x'], outputs: ['s'] }, { op: 'Relu', name: 'R', inputs: ['s'], outputs: ['y'] }])).toMatch(/node "R" \(Relu\): \w+ "s" is a sequence; Relu takes a tensor/);
    expect(bad([{ op: 'SequenceConstruct', inputs: ['x'], outputs: ['y'] }])).toMatch(/graph output "y" is a sequence/);
    expect(bad([{ op: 'SequenceConstruct', inputs: ['x'], outputs: ['s'] }, { op: 'SequenceAt', name: 'A', inputs: ['s', 'p'], outputs: ['y'] }], [scalar('p', 1)])).toMatch(/node "A" \(SequenceAt\): position 1 is outside \[-1, 0\] for a sequence of 1/);
    expect(bad([{ op: 'SequenceEmpty', inputs: [], outputs: ['s'] }, { op: 'ConcatFromSequence', name: 'C', inputs: ['s'], outputs: ['y'], attrs: { axis: 0 } }])).toMatch(/node "C" \(ConcatFromSequence\): concatenates an empty sequence/);
    expect(bad([{ op: 'Neg', inputs: ['x'], outputs: ['s'] }, { op: 'SequenceAt', name: 'A', inputs: ['s', 'p'], outputs: ['y'] }], [scalar('p', 0)])).toMatch(/input "s" is not a sequence/);
  });
});
