import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import type { AttrValue, BuildNode, BuildTensor } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import type { NetOp, Network } from '../../src/ir/graph.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { randomArray } from '../helpers/random.ts';
import { usageMessage } from '../helpers/errors.ts';

/**
 * Issue 12 item 2: every op in its newest form and in the older attribute forms from opset 9 on.
 * Each case imports the same computation written for two opsets and checks that both give the same
 * IR and the same outputs on the CPU executor.
 */

const i64 = (name: string, v: number[]): BuildTensor => ({ name, dims: [v.length], data: BigInt64Array.from(v, BigInt) });
const f32 = (name: string, v: number[], dims = [v.length]): BuildTensor => ({ name, dims, data: Float32Array.from(v) });

interface Form {
  opset: number;
  node: { op: string; inputs: string[]; attrs?: Record<string, AttrValue>; outputs?: string[] };
  init?: BuildTensor[];
}

function net(f: Form, input: (number | string)[]): Network {
  const n: BuildNode = { op: f.node.op, inputs: f.node.inputs, outputs: f.node.outputs ?? ['y'], attrs: f.node.attrs, name: 'n' };
  const outputs = (f.node.outputs ?? ['y']).map((name) => ({ name, dims: ['N'] as (number | string)[] }));
  return importOnnx(buildOnnxModel({ opset: f.opset, inputs: [{ name: 'x', dims: input }], outputs, initializers: f.init ?? [], nodes: [n] }), `opset${f.opset}.onnx`);
}

async function run(n: Network, x: Float32Array, B: number): Promise<Float32Array> {
  const r = openNetwork({ kind: 'cpu', reason: 'test' }, n, resolveConfig({ preset: 'ideal' }), true);
  try {
    return (await r.forward(null, x, B, 0)).output;
  } finally {
    r.destroy();
  }
}

/** The ops without names and value names, to compare two imports. */
const strip = (ops: readonly NetOp[]): unknown[] => ops.map(({ name: _n, inputs: _i, output: _o, ...rest }) => rest);

const CASES: [string, (number | string)[], Form, Form][] = [
  ['Squeeze: axes attribute (≤ 12), input (13)', ['N', 3, 1, 2], { opset: 11, node: { op: 'Squeeze', inputs: ['x'], attrs: { axes: [2] } } }, { opset: 13, node: { op: 'Squeeze', inputs: ['x', 'a'] }, init: [i64('a', [2])] }],
  ['Unsqueeze: axes attribute (≤ 12), input (13)', ['N', 3, 2], { opset: 9, node: { op: 'Unsqueeze', inputs: ['x'], attrs: { axes: [1, 3] } } }, { opset: 21, node: { op: 'Unsqueeze', inputs: ['x', 'a'] }, init: [i64('a', [1, 3])] }],
  ['Split: split attribute (≤ 12), input (13), num_outputs (18)', ['N', 6], { opset: 11, node: { op: 'Split', inputs: ['x'], attrs: { axis: 1, split: [2, 4] }, outputs: ['y', 'z'] } }, { opset: 13, node: { op: 'Split', inputs: ['x', 's'], attrs: { axis: 1 }, outputs: ['y', 'z'] }, init: [i64('s', [2, 4])] }],
  ['Split into equal parts: by output count (≤ 17), num_outputs (18)', ['N', 6], { opset: 9, node: { op: 'Split', inputs: ['x'], attrs: { axis: -1 }, outputs: ['y', 'z'] } }, { opset: 18, node: { op: 'Split', inputs: ['x'], attrs: { axis: 1, num_outputs: 2 }, outputs: ['y', 'z'] } }],
  ['ReduceMean: axes attribute (≤ 17), input (18)', ['N', 2, 3], { opset: 17, node: { op: 'ReduceMean', inputs: ['x'], attrs: { axes: [-1], keepdims: 0 } } }, { opset: 18, node: { op: 'ReduceMean', inputs: ['x', 'a'], attrs: { keepdims: 0 } }, init: [i64('a', [-1])] }],
  ['ReduceSum: axes attribute (≤ 12), input (13)', ['N', 2, 3], { opset: 12, node: { op: 'ReduceSum', inputs: ['x'], attrs: { axes: [1] } } }, { opset: 13, node: { op: 'ReduceSum', inputs: ['x', 'a'] }, init: [i64('a', [1])] }],
  ['ReduceMax: axes attribute (≤ 17), input (18)', ['N', 2, 3], { opset: 9, node: { op: 'ReduceMax', inputs: ['x'], attrs: { axes: [2] } } }, { opset: 18, node: { op: 'ReduceMax', inputs: ['x', 'a'] }, init: [i64('a', [2])] }],
  ['Pad-2: pads and value attributes (≤ 10), inputs (11)', ['N', 2, 3], { opset: 9, node: { op: 'Pad', inputs: ['x'], attrs: { pads: [0, 1, 0, 0, 2, 1], value: 0.5 } } }, { opset: 11, node: { op: 'Pad', inputs: ['x', 'p', 'v'] }, init: [i64('p', [0, 1, 0, 0, 2, 1]), f32('v', [0.5], [])] }],
  ['Pad reflect: attributes (≤ 10), inputs and axes (18)', ['N', 2, 4], { opset: 10, node: { op: 'Pad', inputs: ['x'], attrs: { pads: [0, 0, 2, 0, 0, 1], mode: 'reflect' } } }, { opset: 18, node: { op: 'Pad', inputs: ['x', 'p', '', 'a'], attrs: { mode: 'reflect' } }, init: [i64('p', [2, 1]), i64('a', [-1])] }],
  ['Clip-6: min/max attributes (≤ 10), inputs (11)', ['N', 5], { opset: 9, node: { op: 'Clip', inputs: ['x'], attrs: { min: -0.25, max: 0.5 } } }, { opset: 11, node: { op: 'Clip', inputs: ['x', 'lo', 'hi'] }, init: [f32('lo', [-0.25], []), f32('hi', [0.5], [])] }],
  ['Slice-1: starts/ends/axes attributes (9), inputs (10)', ['N', 4, 5], { opset: 9, node: { op: 'Slice', inputs: ['x'], attrs: { starts: [1, -4], ends: [3, 1000], axes: [1, 2] } } }, { opset: 10, node: { op: 'Slice', inputs: ['x', 's', 'e', 'a'] }, init: [i64('s', [1, -4]), i64('e', [3, 1000]), i64('a', [1, 2])] }],
  ['Softmax-11 2-D coercion vs Softmax-13 on the flattened tail', ['N', 2, 3], { opset: 11, node: { op: 'Softmax', inputs: ['x'], attrs: { axis: 1 } } }, { opset: 11, node: { op: 'Softmax', inputs: ['x'], attrs: { axis: -2 } } }],
  ['LogSoftmax-11 at the last axis vs LogSoftmax-13', ['N', 3, 4], { opset: 9, node: { op: 'LogSoftmax', inputs: ['x'], attrs: { axis: 2 } } }, { opset: 13, node: { op: 'LogSoftmax', inputs: ['x'] } }],
  ['Upsample-9 vs Resize-10 (nearest, scales)', ['N', 1, 2, 3], { opset: 9, node: { op: 'Upsample', inputs: ['x', 's'], attrs: { mode: 'nearest' } }, init: [f32('s', [1, 1, 2, 2])] }, { opset: 10, node: { op: 'Resize', inputs: ['x', 's'], attrs: { mode: 'nearest' } }, init: [f32('s', [1, 1, 2, 2])] }],
  ['Resize-10 linear vs Resize-19 asymmetric linear', ['N', 1, 2, 3], { opset: 10, node: { op: 'Resize', inputs: ['x', 's'], attrs: { mode: 'linear' } }, init: [f32('s', [1, 1, 2, 2])] }, { opset: 19, node: { op: 'Resize', inputs: ['x', '', 's'], attrs: { mode: 'linear', coordinate_transformation_mode: 'asymmetric' } }, init: [f32('s', [1, 1, 2, 2])] }],
  ['ArgMax without select_last_index (≤ 11) and with it 0 (12)', ['N', 4, 3], { opset: 11, node: { op: 'ArgMax', inputs: ['x'], attrs: { axis: 1 } } }, { opset: 13, node: { op: 'ArgMax', inputs: ['x'], attrs: { axis: 1, select_last_index: 0 } } }],
  ['Dropout ratio attribute (≤ 11), input (12) in inference', ['N', 3], { opset: 9, node: { op: 'Dropout', inputs: ['x'], attrs: { ratio: 0.3 } } }, { opset: 12, node: { op: 'Dropout', inputs: ['x', 'r'] }, init: [f32('r', [0.3], [])] }],
];

describe('older attribute forms from opset 9 import like the newest ones', () => {
  it.each(CASES)('%s', async (_name, input, older, newer) => {
    const a = net(older, input);
    const b = net(newer, input);
    expect(strip(a.ops)).toEqual(strip(b.ops));
    const per = input.slice(1).reduce<number>((p, d) => p * (d as number), 1);
    const x = randomArray(3 * per, 17);
    expect(await run(a, x, 3)).toEqual(await run(b, x, 3));
  });

  it('Split-18 num_outputs cuts ceil-sized parts, the last one smaller', () => {
    const n = net({ opset: 18, node: { op: 'Split', inputs: ['x'], attrs: { axis: 1, num_outputs: 3 }, outputs: ['a', 'b', 'c'] } }, ['N', 7]);
    expect(n.outputs.map((o) => o.shape)).toEqual([[3], [3], [1]]);
  });
});

describe('unsupported attribute values name the attribute and the allowed values (issue 12 item 8)', () => {
  const refuse = (f: Form, input: (number | string)[]): string => usageMessage(() => net(f, input));

  it.each([
    ['Resize mode', { opset: 19, node: { op: 'Resize', inputs: ['x', '', 's'], attrs: { mode: 'area' } }, init: [f32('s', [1, 1, 2, 2])] }, /node "n" \(Resize\): attribute "mode" is "area"; allowed: "nearest", "linear", "cubic"$/],
    ['Upsample cubic (opset 9)', { opset: 9, node: { op: 'Upsample', inputs: ['x', 's'], attrs: { mode: 'cubic' } }, init: [f32('s', [1, 1, 2, 2])] }, /node "n" \(Upsample\): attribute "mode" is "cubic"; allowed: "nearest", "linear"$/],
    ['Resize coordinate mode', { opset: 19, node: { op: 'Resize', inputs: ['x', '', 's'], attrs: { coordinate_transformation_mode: 'corner' } }, init: [f32('s', [1, 1, 2, 2])] }, /attribute "coordinate_transformation_mode" is "corner"; allowed: "half_pixel", .*"tf_crop_and_resize"$/],
    ['Pad wrap before opset 19', { opset: 18, node: { op: 'Pad', inputs: ['x', 'p'], attrs: { mode: 'wrap' } }, init: [i64('p', [0, 0, 1, 0, 0, 1, 0, 0])] }, /attribute "mode" is "wrap"; allowed: "constant", "reflect", "edge"$/],
    ['Gelu approximation', { opset: 20, node: { op: 'Gelu', inputs: ['x'], attrs: { approximate: 'fast' } } }, /attribute "approximate" is "fast"; allowed: "none", "tanh"$/],
    ['ConvTranspose auto_pad', { opset: 17, node: { op: 'ConvTranspose', inputs: ['x', 'w'], attrs: { auto_pad: 'SAME' } }, init: [f32('w', new Array(9).fill(1), [1, 1, 3, 3])] }, /attribute "auto_pad" is "SAME"; allowed: NOTSET, VALID, SAME_UPPER, SAME_LOWER$/],
  ] as [string, Form, RegExp][])('%s', (_n, f, re) => {
    expect(refuse(f, ['N', 1, 2, 3])).toMatch(re);
  });

  it('an unsupported op names the op, the node and the opset', () => {
    expect(refuse({ opset: 17, node: { op: 'NonMaxSuppression', inputs: ['x'] } }, ['N', 3])).toMatch(/^opset17\.onnx: unsupported op "NonMaxSuppression" at node "n" \(opset 17; supported: Abs, (\w+, )*Add, .*\)$/);
  });
});
