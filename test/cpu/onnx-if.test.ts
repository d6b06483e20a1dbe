import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { buildOnnxModel, type BuildGraph, type BuildNode, type BuildTensor } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { usageMessage } from '../helpers/errors.ts';
import { maxAbsDiff, randomArray } from '../helpers/random.ts';

// If whose condition is known at import (PyTorch's size test before a squeeze of a dynamic dim):
// the chosen branch is imported in place of the node, reading the outer values by name.
const CFG = resolveConfig({ preset: 'ideal' });
const CPU = { kind: 'cpu' as const, reason: 'test' };
const B = 3;

const i64 = (...v: number[]) => BigInt64Array.from(v.map(BigInt));

/** A model x [batch, ...dims] → y through `nodes`, with `initializers`. */
function model(dims: number[], nodes: BuildNode[], initializers: BuildTensor[] = [], outDims: (number | string)[] = ['batch']): Uint8Array {
  return buildOnnxModel({ opset: 13, inputs: [{ name: 'x', dims: ['batch', ...dims] }], outputs: [{ name: 'y', dims: outDims }], initializers, nodes });
}

async function f32(bytes: Uint8Array, x: Float32Array): Promise<Float32Array> {
  const r = openNetwork(CPU, importOnnx(bytes, 'if.onnx'), CFG, true);
  try {
    return (await r.forward(null, x, B, 0)).output;
  } finally {
    r.destroy();
  }
}

/** cond = (x.shape[1] == 1): then squeeze axis 1, else pass x through; then a Relu. */
function squeezeIf(dim1: number): Uint8Array {
  const then: BuildGraph = { nodes: [{ op: 'Squeeze', inputs: ['x', 'ax'], outputs: ['t'] }], outputs: [{ name: 't', dims: [] }], initializers: [{ name: 'ax', dims: [1], data: i64(1) }] };
  const other: BuildGraph = { nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['e'] }], outputs: [{ name: 'e', dims: [] }] };
  return model([dim1, 4], [
    { op: 'Shape', inputs: ['x'], outputs: ['s'] },
    { op: 'Gather', inputs: ['s', 'one'], outputs: ['d1'], attrs: { axis: 0 } },
    { op: 'Equal', inputs: ['d1', 'one'], outputs: ['c'] },
    { op: 'If', inputs: ['c'], outputs: ['z'], attrs: { then_branch: { graph: then }, else_branch: { graph: other } } },
    { op: 'Relu', inputs: ['z'], outputs: ['y'] },
  ], [{ name: 'one', dims: [], data: i64(1) }]);
}

describe('ONNX If with a condition known at import', () => {
  it('takes the then branch when the size test holds (a squeeze) and the else branch otherwise', async () => {
    const a = importOnnx(squeezeIf(1), 'if.onnx');
    expect(a.shapes.get(a.output)).toEqual([4]);
    const b = importOnnx(squeezeIf(3), 'if.onnx');
    expect(b.shapes.get(b.output)).toEqual([3, 4]);
    // Neither leaves a trace of the branch it did not take.
    expect(a.ops.map((o) => o.kind)).toEqual(['reshape', 'unary']);
    expect(b.ops.map((o) => o.kind)).toEqual(['unary']);
    const x = randomArray(B * 3 * 4, 5);
    expect(await f32(squeezeIf(3), x)).toEqual(x.map((v) => Math.max(0, v)));
  });

  it('imports a branch with its own initializers and several nodes, the outer values read by name', async () => {
    const W = randomArray(4 * 2, 7);
    const branch = (k: number): BuildGraph => ({
      nodes: [
        { op: 'Mul', inputs: ['x', `k${k}`], outputs: [`m${k}`] },
        { op: 'MatMul', inputs: [`m${k}`, 'W'], outputs: [`o${k}`] },
      ],
      outputs: [{ name: `o${k}`, dims: [] }],
      initializers: [{ name: `k${k}`, dims: [1], data: Float32Array.of(k) }],
    });
    const bytes = (cond: number) =>
      model([4], [{ op: 'If', inputs: ['c'], outputs: ['y'], attrs: { then_branch: { graph: branch(2) }, else_branch: { graph: branch(-3) } } }], [
        { name: 'c', dims: [], data: Float32Array.of(cond) },
        { name: 'W', dims: [4, 2], data: W },
      ]);
    const x = randomArray(B * 4, 8);
    const want = (k: number) => Float32Array.from({ length: B * 2 }, (_, i) => {
      const [b, n] = [Math.floor(i / 2), i % 2];
      let s = 0;
      for (let j = 0; j < 4; j++) s += k * x[b * 4 + j] * W[j * 2 + n];
      return s;
    });
    expect(maxAbsDiff(await f32(bytes(1), x), want(2))).toBeLessThan(1e-5);
    expect(maxAbsDiff(await f32(bytes(0), x), want(-3))).toBeLessThan(1e-5);
    // The branch's MatMul of a constant is a crossbar layer like any other.
    expect(importOnnx(bytes(1), 'if.onnx').ops.filter((o) => o.kind === 'linear')).toHaveLength(1);
  });

  it('counts a branch as a reader: a layer output the branch also reads is not folded into a later Add', async () => {
    const W = randomArray(4 * 4, 9);
    const bias = randomArray(4, 10);
    const then: BuildGraph = { nodes: [{ op: 'Relu', inputs: ['h'], outputs: ['r'] }], outputs: [{ name: 'r', dims: [] }] };
    const other: BuildGraph = { nodes: [{ op: 'Neg', inputs: ['h'], outputs: ['n'] }], outputs: [{ name: 'n', dims: [] }] };
    const bytes = model([4], [
      { op: 'MatMul', inputs: ['x', 'W'], outputs: ['h'] },
      // Add(h, bias) could fold into the MatMul's bias, were h read by nothing else.
      { op: 'Add', inputs: ['h', 'bias'], outputs: ['hb'] },
      { op: 'If', inputs: ['c'], outputs: ['z'], attrs: { then_branch: { graph: then }, else_branch: { graph: other } } },
      { op: 'Sub', inputs: ['z', 'hb'], outputs: ['y'] },
    ], [{ name: 'W', dims: [4, 4], data: W }, { name: 'bias', dims: [4], data: bias }, { name: 'c', dims: [], data: Float32Array.of(1) }]);
    const x = randomArray(B * 4, 11);
    const want = Float32Array.from({ length: B * 4 }, (_, i) => {
      const [b, n] = [Math.floor(i / 4), i % 4];
      let h = 0;
      for (let j = 0; j < 4; j++) h += x[b * 4 + j] * W[j * 4 + n];
      return Math.max(0, h) - (h + bias[n]);
    });
    expect(maxAbsDiff(await f32(bytes, x), want)).toBeLessThan(1e-5);
  });

  it('refuses a condition on the data in one line', () => {
    const one: BuildGraph = { nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['t'] }], outputs: [{ name: 't', dims: [] }] };
    const two: BuildGraph = { nodes: [{ op: 'Neg', inputs: ['x'], outputs: ['e'] }], outputs: [{ name: 'e', dims: [] }] };
    const bytes = model([4], [
      { op: 'ReduceSum', inputs: ['x', 'axes'], outputs: ['s'], attrs: { keepdims: 0 } },
      { op: 'Greater', inputs: ['s', 'zero'], outputs: ['c'] },
      { op: 'If', inputs: ['c'], outputs: ['y'], attrs: { then_branch: { graph: one }, else_branch: { graph: two } } },
    ], [{ name: 'zero', dims: [], data: Float32Array.of(0) }, { name: 'axes', dims: [1], data: i64(1) }]);
    expect(usageMessage(() => importOnnx(bytes, 'if.onnx'))).toMatch(/^if\.onnx: node "If_2" \(If\): condition "c" depends on the data; only an If whose condition is known at import \(a shape test\) is supported$/);
  });

  it('refuses a branch that redefines an outer name', () => {
    const bad: BuildGraph = { nodes: [{ op: 'Relu', inputs: ['x'], outputs: ['h'] }], outputs: [{ name: 'h', dims: [] }] };
    const bytes = model([4], [
      { op: 'Relu', inputs: ['x'], outputs: ['h'] },
      { op: 'If', inputs: ['c'], outputs: ['z'], attrs: { then_branch: { graph: bad }, else_branch: { graph: bad } } },
      { op: 'Add', inputs: ['z', 'h'], outputs: ['y'] },
    ], [{ name: 'c', dims: [], data: Float32Array.of(1) }]);
    expect(usageMessage(() => importOnnx(bytes, 'if.onnx'))).toMatch(/writes "h", which is already defined|defines "h", a name of the outer graph/);
  });
});
