// A one-block attention network built directly in the IR (no ONNX), for gradient checks of the
// transformer ops adapter training differentiates: layernorm, linear, transpose, matmul, mul by a
// constant, softmax, residual add, gelu, gather, slice, reduce.
import type { LinearOp, Network, NetOp } from '../../src/ir/graph.ts';
import { Prng } from '../../src/io/datasets/prng.ts';

export const T = 4;
export const D = 8;
export const C = 5;

/** The network [T, D] → logits [C] with random weights of `seed`. */
export function attentionNet(seed: number): Network {
  const rng = new Prng(seed);
  const rand = (n: number, s: number) => Float32Array.from({ length: n }, () => (2 * rng.uniform() - 1) * s);
  let li = 0;
  const lin = (name: string, input: string, K: number, N: number, inShape: number[]): LinearOp => ({
    kind: 'linear', name, inputs: [input], output: name, layerIndex: li++, K, N, inShape, weight: rand(K * N, 1 / Math.sqrt(K)), bias: rand(N, 0.1),
  });
  const ops: NetOp[] = [
    { kind: 'layernorm', name: 'ln', inputs: ['x'], output: 'ln', axis: 1, epsilon: 1e-5, scale: rand(D, 1).map((v) => 1 + 0.3 * v), bias: rand(D, 0.1), inShape: [T, D] },
    lin('q', 'ln', D, D, [T, D]),
    lin('k', 'ln', D, D, [T, D]),
    lin('v', 'ln', D, D, [T, D]),
    { kind: 'transpose', name: 'kt', inputs: ['k'], output: 'kt', perm: [1, 0], inShape: [T, D] },
    { kind: 'matmul', name: 'qk', inputs: ['q', 'kt'], output: 'qk', aShape: [T, D], bShape: [D, T], outShape: [T, T] },
    { kind: 'binary', name: 'scale', inputs: ['qk'], output: 'scale', fn: 'mul', b: { dims: [1], data: Float32Array.of(1 / Math.sqrt(D)) }, constFirst: false, aShape: [T, T], bShape: [1], outShape: [T, T] },
    { kind: 'softmax', name: 'att', inputs: ['scale'], output: 'att', axis: 1, inShape: [T, T] },
    { kind: 'matmul', name: 'av', inputs: ['att', 'v'], output: 'av', aShape: [T, T], bShape: [T, D], outShape: [T, D] },
    { kind: 'binary', name: 'res', inputs: ['av', 'x'], output: 'res', fn: 'add', b: null, constFirst: false, aShape: [T, D], bShape: [T, D], outShape: [T, D] },
    lin('mlp', 'res', D, D, [T, D]),
    { kind: 'unary', name: 'gelu', inputs: ['mlp'], output: 'gelu', fn: 'gelu', alpha: 0, min: -Infinity, max: Infinity },
    // GELU as torch exports it (x/√2, Erf) beside the fused one.
    { kind: 'binary', name: 'half', inputs: ['mlp'], output: 'half', fn: 'div', b: { dims: [1], data: Float32Array.of(Math.SQRT2) }, constFirst: false, aShape: [T, D], bShape: [1], outShape: [T, D] },
    { kind: 'unary', name: 'erf', inputs: ['half'], output: 'erf', fn: 'erf', alpha: 0, min: -Infinity, max: Infinity },
    { kind: 'binary', name: 'sq', inputs: ['res', 'res'], output: 'sq', fn: 'mul', b: null, constFirst: false, aShape: [T, D], bShape: [T, D], outShape: [T, D] },
    { kind: 'binary', name: 'den', inputs: ['sq'], output: 'den', fn: 'add', b: { dims: [1], data: Float32Array.of(1) }, constFirst: true, aShape: [T, D], bShape: [1], outShape: [T, D] },
    { kind: 'binary', name: 'ratio', inputs: ['erf', 'den'], output: 'ratio', fn: 'div', b: null, constFirst: false, aShape: [T, D], bShape: [T, D], outShape: [T, D] },
    { kind: 'binary', name: 'sum2', inputs: ['gelu', 'ratio'], output: 'sum2', fn: 'add', b: null, constFirst: false, aShape: [T, D], bShape: [T, D], outShape: [T, D] },
    { kind: 'binary', name: 'sub', inputs: ['sum2', 'res'], output: 'sub', fn: 'sub', b: null, constFirst: false, aShape: [T, D], bShape: [T, D], outShape: [T, D] },
    // The class token (gather row 0) plus the mean of the other tokens (slice, reduce), as ViT heads read them.
    { kind: 'gather', name: 'cls', inputs: ['sub'], output: 'cls', axis: 0, indices: Int32Array.of(0), indicesShape: [], inShape: [T, D], outShape: [D] },
    { kind: 'slice', name: 'rest', inputs: ['sub'], output: 'rest', starts: [1, 0], steps: [1, 1], inShape: [T, D], outShape: [T - 1, D] },
    { kind: 'reduce', name: 'pool', inputs: ['rest'], output: 'pool', fn: 'mean', axes: [0], keepDims: false, inShape: [T - 1, D], outShape: [D] },
    { kind: 'binary', name: 'both', inputs: ['cls', 'pool'], output: 'both', fn: 'add', b: null, constFirst: false, aShape: [D], bShape: [D], outShape: [D] },
    lin('head', 'both', D, C, [D]),
  ];
  const shapes = new Map<string, number[]>([['x', [T, D]], ['ln', [T, D]], ['q', [T, D]], ['k', [T, D]], ['v', [T, D]], ['kt', [D, T]], ['qk', [T, T]], ['scale', [T, T]], ['att', [T, T]], ['av', [T, D]], ['res', [T, D]], ['mlp', [T, D]], ['gelu', [T, D]], ['half', [T, D]], ['erf', [T, D]], ['sq', [T, D]], ['den', [T, D]], ['ratio', [T, D]], ['sum2', [T, D]], ['sub', [T, D]], ['cls', [D]], ['rest', [T - 1, D]], ['pool', [D]], ['both', [D]], ['head', [C]]]);
  return {
    input: { name: 'x', shape: [T, D] },
    output: 'head',
    inputs: [{ name: 'x', value: 'x', shape: [T, D], dtype: 'float32', offset: 0 }],
    outputs: [{ name: 'head', value: 'head', shape: [C], dtype: 'float32', offset: 0 }],
    batched: true,
    shapes,
    ops,
    opset: 17,
  };
}

/** A token MLP [T, D] → linear per token → relu → flatten → linear [C]: a linear layer with T vectors per sample, on ops every backend runs. */
export function tokenNet(seed: number): Network {
  const net = attentionNet(seed);
  const tok = { ...(net.ops.find((o) => o.name === 'q') as LinearOp), name: 'tok', inputs: ['x'], output: 'tok', layerIndex: 0 };
  const head: LinearOp = { ...tok, name: 'head', inputs: ['flat'], output: 'head', layerIndex: 1, K: T * D, N: C, inShape: [T * D], weight: Float32Array.from({ length: T * D * C }, (_, i) => Math.sin(i + seed) / D), bias: null };
  const ops: NetOp[] = [
    tok,
    { kind: 'unary', name: 'relu', inputs: ['tok'], output: 'relu', fn: 'relu', alpha: 0, min: -Infinity, max: Infinity },
    { kind: 'reshape', name: 'flat', inputs: ['relu'], output: 'flat', outShape: [T * D] },
    head,
  ];
  const shapes = new Map<string, number[]>([['x', [T, D]], ['tok', [T, D]], ['relu', [T, D]], ['flat', [T * D]], ['head', [C]]]);
  return { ...net, ops, shapes };
}
