// A small CNN built directly in the IR (no ONNX), for gradient checks of the ops --full crosses in
// convolutional networks and the ViT's patch embedding: conv (padded, strided, dilated, grouped),
// clip, max and average pooling (padding, count_include_pad off), affine, pad, a constant class token
// concatenated in front of the tokens, and linear layers on tokens.
import type { ConvOp, LinearOp, Network, NetOp } from '../../src/ir/graph.ts';
import { Prng } from '../../src/io/datasets/prng.ts';

export const CLASSES = 3;

/** The network [2, 7, 7] → logits [3] with random weights of `seed`. */
export function convNet(seed: number): Network {
  const rng = new Prng(seed);
  const rand = (n: number, s: number) => Float32Array.from({ length: n }, () => (2 * rng.uniform() - 1) * s);
  const conv = (name: string, input: string, layerIndex: number, g: Omit<ConvOp, 'kind' | 'name' | 'inputs' | 'output' | 'layerIndex' | 'weight' | 'bias'>): ConvOp => {
    const fan = (g.cin / g.group) * g.kh * g.kw;
    return { kind: 'conv', name, inputs: [input], output: name, layerIndex, ...g, weight: rand(g.cout * fan, 1.5 / Math.sqrt(fan)), bias: rand(g.cout, 0.2) };
  };
  const lin = (name: string, input: string, layerIndex: number, K: number, N: number, inShape: number[]): LinearOp => ({
    kind: 'linear', name, inputs: [input], output: name, layerIndex, K, N, inShape, weight: rand(K * N, 1 / Math.sqrt(K)), bias: rand(N, 0.1),
  });
  const ops: NetOp[] = [
    conv('c1', 'x', 0, { cin: 2, cout: 4, group: 1, kh: 3, kw: 3, strides: [1, 1], pads: [1, 2, 1, 0], dilations: [1, 2], inShape: [2, 7, 7], outShape: [4, 7, 5] }),
    { kind: 'unary', name: 'clip', inputs: ['c1'], output: 'clip', fn: 'clip', alpha: 0, min: -0.4, max: 0.6 },
    { kind: 'pool', name: 'mp', inputs: ['clip'], output: 'mp', mode: 'max', kernel: [2, 2], strides: [2, 2], pads: [0, 0, 1, 1], dilations: [1, 1], countIncludePad: false, inShape: [4, 7, 5], outShape: [4, 4, 3] },
    conv('c2', 'mp', 1, { cin: 4, cout: 6, group: 2, kh: 2, kw: 2, strides: [1, 2], pads: [0, 1, 1, 1], dilations: [1, 1], inShape: [4, 4, 3], outShape: [6, 4, 2] }),
    { kind: 'affine', name: 'bn', inputs: ['c2'], output: 'bn', scale: rand(6, 1).map((v) => 1 + 0.5 * v), shift: rand(6, 0.2), inShape: [6, 4, 2] },
    { kind: 'unary', name: 'act', inputs: ['bn'], output: 'act', fn: 'tanh', alpha: 0, min: -Infinity, max: Infinity },
    { kind: 'pool', name: 'ap', inputs: ['act'], output: 'ap', mode: 'avg', kernel: [3, 2], strides: [2, 1], pads: [1, 0, 1, 1], dilations: [1, 1], countIncludePad: false, inShape: [6, 4, 2], outShape: [6, 2, 2] },
    { kind: 'pad', name: 'pad', inputs: ['ap'], output: 'pad', mode: 'edge', pads: [0, 1, 0, 0, 0, 1], value: 0, inShape: [6, 2, 2], outShape: [6, 3, 3] },
    { kind: 'reshape', name: 'tok', inputs: ['pad'], output: 'tok', outShape: [6, 9] },
    { kind: 'constant', name: 'cls', inputs: [], output: 'cls', value: { dims: [1, 9], data: rand(9, 0.5) } },
    { kind: 'concat', name: 'cat', inputs: ['cls', 'tok'], output: 'cat', axis: 0, inShapes: [[1, 9], [6, 9]] },
    lin('l1', 'cat', 2, 9, 5, [7, 9]),
    { kind: 'reshape', name: 'flat', inputs: ['l1'], output: 'flat', outShape: [35] },
    lin('head', 'flat', 3, 35, CLASSES, [35]),
  ];
  const shapes = new Map<string, number[]>([['x', [2, 7, 7]], ['c1', [4, 7, 5]], ['clip', [4, 7, 5]], ['mp', [4, 4, 3]], ['c2', [6, 4, 2]], ['bn', [6, 4, 2]], ['act', [6, 4, 2]], ['ap', [6, 2, 2]], ['pad', [6, 3, 3]], ['tok', [6, 9]], ['cls', [1, 9]], ['cat', [7, 9]], ['l1', [7, 5]], ['flat', [35]], ['head', [CLASSES]]]);
  return {
    input: { name: 'x', shape: [2, 7, 7] },
    output: 'head',
    inputs: [{ name: 'x', value: 'x', shape: [2, 7, 7], dtype: 'float32', offset: 0 }],
    outputs: [{ name: 'head', value: 'head', shape: [CLASSES], dtype: 'float32', offset: 0 }],
    batched: true,
    shapes,
    ops,
    opset: 17,
  };
}
