/**
 * GroupNormalization test models and its definition in f64 (per sample and group: mean and
 * population variance over the group's channels and positions), shared by the CPU and WebGPU tests.
 */
import type { Backend } from '../../src/gpu/backend.ts';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { digitalForward } from './digital-run.ts';
import { randomArray } from './random.ts';

/** Channels, groups and per-channel positions of a case; `opset` 18 takes scale and bias per group, 21 per channel. */
export interface GroupNormCase {
  C: number;
  G: number;
  spatial: number[];
  opset: 18 | 21;
  epsilon?: number;
}

const paramsOf = (c: GroupNormCase) => {
  const k = c.opset >= 21 ? c.C : c.G;
  return { scale: randomArray(k, 31, 0.5, 1.5), bias: randomArray(k, 32, -1, 1) };
};

/** A conv-free model: X [batch, C, spatial…] → GroupNormalization → Y. */
export function groupNormModel(c: GroupNormCase): Uint8Array {
  const p = paramsOf(c);
  const k = p.scale.length;
  const dims = ['batch', c.C, ...c.spatial];
  return buildOnnxModel({
    opset: c.opset,
    inputs: [{ name: 'x', dims }],
    outputs: [{ name: 'y', dims }],
    initializers: [{ name: 'scale', dims: [k], data: p.scale }, { name: 'bias', dims: [k], data: p.bias }],
    nodes: [{ op: 'GroupNormalization', inputs: ['x', 'scale', 'bias'], outputs: ['y'], attrs: { num_groups: c.G, ...(c.epsilon !== undefined ? { epsilon: c.epsilon } : {}) } }],
  });
}

/** The definition for a batch laid out [B, C, positions]. */
export function groupNormReference(c: GroupNormCase, x: Float32Array, B: number): Float64Array {
  const p = paramsOf(c);
  const S = c.spatial.reduce((a, b) => a * b, 1);
  const per = c.C / c.G;
  const eps = c.epsilon ?? 1e-5;
  const y = new Float64Array(x.length);
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < c.G; g++) {
      const o = (b * c.C + g * per) * S;
      const n = per * S;
      let mean = 0;
      for (let i = 0; i < n; i++) mean += x[o + i] / n;
      let v = 0;
      for (let i = 0; i < n; i++) v += (x[o + i] - mean) ** 2 / n;
      for (let i = 0; i < n; i++) {
        const ch = g * per + Math.floor(i / S);
        const k = c.opset >= 21 ? ch : g;
        y[o + i] = ((x[o + i] - mean) / Math.sqrt(v + eps)) * p.scale[k] + p.bias[k];
      }
    }
  }
  return y;
}

/** The imported model's digital output on `backend`. */
export async function runGroupNorm(backend: Backend, c: GroupNormCase, x: Float32Array, B: number): Promise<Float32Array> {
  return digitalForward(backend, groupNormModel(c), 'gn.onnx', x, B);
}

/** Cases: groups of one channel (instance norm) to one group (layer norm), 1-D and 2-D positions, both opsets. */
export const GROUP_NORM_CASES: [string, GroupNormCase][] = [
  ['6 channels in 3 groups over 4×5 positions, scale per channel (opset 21)', { C: 6, G: 3, spatial: [4, 5], opset: 21 }],
  ['6 channels in 2 groups over 7 positions, scale per group (opset 18)', { C: 6, G: 2, spatial: [7], opset: 18, epsilon: 0.25 }],
  ['one group (layer norm over C·H·W)', { C: 4, G: 1, spatial: [3, 3], opset: 21 }],
  ['one channel per group (instance norm)', { C: 5, G: 5, spatial: [2, 3], opset: 18 }],
];
