/**
 * Hardmax, LpNormalization, MeanVarianceNormalization, ReduceLogSum, LpPool and GlobalLpPool in
 * one-node models over a [batch, C, H, W] input, run digitally and compared with their ONNX
 * definitions written out in f64 on one sample; shared by the CPU and WebGPU tests.
 */
import type { Backend } from '../../src/gpu/backend.ts';
import { buildOnnxModel, type AttrValue, type BuildTensor } from '../../src/io/onnx/build.ts';
import { digitalForward } from './digital-run.ts';
import { randomArray } from './random.ts';

/** Per-sample input dims of every case. */
export const SAMPLE: readonly number[] = [3, 5, 6];

/** One case: the node, its opset, and its definition on one sample (dims SAMPLE) giving the output's values. */
export interface LpCase {
  op: string;
  opset: number;
  attrs?: Record<string, AttrValue>;
  /** ReduceLogSum's axes as an input (opset 18). */
  axesInput?: number[];
  ref: (x: number[]) => number[];
}

const strides = (d: readonly number[]): number[] => d.map((_, i) => d.slice(i + 1).reduce((a, b) => a * b, 1));
const coords = (i: number, d: readonly number[]): number[] => strides(d).map((s, k) => Math.floor(i / s) % d[k]);

/** Groups of flat indices that share every coordinate off `axes` (of per-sample dims `d`), in output order. */
function groups(d: readonly number[], axes: readonly number[]): number[][] {
  const byKey = new Map<string, number[]>();
  for (let i = 0; i < d.reduce((a, b) => a * b, 1); i++) {
    const key = coords(i, d).map((c, k) => (axes.includes(k) ? 0 : c)).join(',');
    byKey.set(key, [...(byKey.get(key) ?? []), i]);
  }
  return [...byKey.values()];
}

/** f applied to each group along `axes`, written back in place (same shape). */
function perGroup(x: number[], axes: number[], f: (v: number[]) => number[]): number[] {
  const y = new Array<number>(x.length);
  for (const g of groups(SAMPLE, axes)) f(g.map((i) => x[i])).forEach((v, k) => (y[g[k]] = v));
  return y;
}

const hardmax = (axes: number[]) => (x: number[]) => perGroup(x, axes, (v) => { const m = v.indexOf(Math.max(...v)); return v.map((_, i) => (i === m ? 1 : 0)); });
const lpNorm = (axis: number, p: 1 | 2) => (x: number[]) => perGroup(x, [axis], (v) => { const s = p === 1 ? v.reduce((a, b) => a + Math.abs(b), 0) : Math.sqrt(v.reduce((a, b) => a + b * b, 0)); return v.map((e) => e / s); });
const mvn = (axes: number[]) => (x: number[]) => perGroup(x, axes, (v) => {
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const ms = v.reduce((a, b) => a + b * b, 0) / v.length;
  return v.map((e) => (e - mean) / (Math.sqrt(ms - mean * mean) + 1e-9));
});
const logSum = (axes: number[]) => (x: number[]) => groups(SAMPLE, axes).map((g) => Math.log(g.reduce((a, i) => a + x[i], 0)));

/** (Σ |x|^p)^(1/p) over each window of a [C, H, W] sample (zero padding, dilation, no ceil mode). */
function lpPool(p: number, k: [number, number], s: [number, number], pads: [number, number, number, number], dil: [number, number] = [1, 1]) {
  return (x: number[]): number[] => {
    const [C, H, W] = SAMPLE;
    const oh = Math.floor((H + pads[0] + pads[2] - dil[0] * (k[0] - 1) - 1) / s[0]) + 1;
    const ow = Math.floor((W + pads[1] + pads[3] - dil[1] * (k[1] - 1) - 1) / s[1]) + 1;
    const y: number[] = [];
    for (let c = 0; c < C; c++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
      let acc = 0;
      for (let a = 0; a < k[0]; a++) for (let b = 0; b < k[1]; b++) {
        const [h, w] = [i * s[0] - pads[0] + a * dil[0], j * s[1] - pads[1] + b * dil[1]];
        if (h >= 0 && h < H && w >= 0 && w < W) acc += Math.abs(x[(c * H + h) * W + w]) ** p;
      }
      y.push(acc ** (1 / p));
    }
    return y;
  };
}
const globalLp = (p: number) => (x: number[]) => groups(SAMPLE, [1, 2]).map((g) => g.reduce((a, i) => a + Math.abs(x[i]) ** p, 0) ** (1 / p));

export const LP_CASES: [string, LpCase][] = [
  ['Hardmax over the last axis (opset 13)', { op: 'Hardmax', opset: 13, ref: hardmax([2]) }],
  ['Hardmax over the channels (opset 13)', { op: 'Hardmax', opset: 13, attrs: { axis: 1 }, ref: hardmax([0]) }],
  ['Hardmax opset 11: axis 1 coerces the sample to one row', { op: 'Hardmax', opset: 11, ref: hardmax([0, 1, 2]) }],
  ['Hardmax opset 11, axis 2: one row per channel', { op: 'Hardmax', opset: 11, attrs: { axis: 2 }, ref: hardmax([1, 2]) }],
  ['LpNormalization p 2 over the last axis', { op: 'LpNormalization', opset: 13, ref: lpNorm(2, 2) }],
  ['LpNormalization p 1 over the channels', { op: 'LpNormalization', opset: 13, attrs: { axis: 1, p: 1 }, ref: lpNorm(0, 1) }],
  ['MeanVarianceNormalization per channel (axes 2, 3)', { op: 'MeanVarianceNormalization', opset: 13, attrs: { axes: [2, 3] }, ref: mvn([1, 2]) }],
  ['MeanVarianceNormalization over the sample (axes 1, 2, 3)', { op: 'MeanVarianceNormalization', opset: 13, attrs: { axes: [1, -2, 3] }, ref: mvn([0, 1, 2]) }],
  ['ReduceLogSum, axes attribute (opset 13), keepdims', { op: 'ReduceLogSum', opset: 13, attrs: { axes: [2, 3] }, ref: logSum([1, 2]) }],
  ['ReduceLogSum, axes input (opset 18), keepdims 0', { op: 'ReduceLogSum', opset: 18, attrs: { keepdims: 0 }, axesInput: [1], ref: logSum([0]) }],
  ['LpPool p 2, 3×3, stride 2, padded', { op: 'LpPool', opset: 11, attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 0] }, ref: lpPool(2, [3, 3], [2, 2], [1, 1, 1, 0]) }],
  ['LpPool p 1, 2×2', { op: 'LpPool', opset: 11, attrs: { kernel_shape: [2, 2], p: 1 }, ref: lpPool(1, [2, 2], [1, 1], [0, 0, 0, 0]) }],
  ['LpPool p 3, 2×3 dilated (opset 18)', { op: 'LpPool', opset: 18, attrs: { kernel_shape: [2, 3], p: 3, dilations: [2, 1] }, ref: lpPool(3, [2, 3], [1, 1], [0, 0, 0, 0], [2, 1]) }],
  ['GlobalLpPool p 2', { op: 'GlobalLpPool', opset: 13, ref: globalLp(2) }],
  ['GlobalLpPool p 3', { op: 'GlobalLpPool', opset: 13, attrs: { p: 3 }, ref: globalLp(3) }],
];

/** The case's model: x [batch, ...SAMPLE] → the node → y. */
export function lpModel(c: LpCase): Uint8Array {
  const initializers: BuildTensor[] = c.axesInput ? [{ name: 'axes', dims: [c.axesInput.length], data: BigInt64Array.from(c.axesInput.map(BigInt)) }] : [];
  return buildOnnxModel({
    opset: c.opset,
    inputs: [{ name: 'x', dims: ['batch', ...SAMPLE] }],
    outputs: [{ name: 'y', dims: ['batch'] }],
    initializers,
    nodes: [{ op: c.op, inputs: c.axesInput ? ['x', 'axes'] : ['x'], outputs: ['y'], ...(c.attrs ? { attrs: c.attrs } : {}) }],
  });
}

/** The largest error relative to max(1, |definition|) over B samples (positive inputs for ReduceLogSum, ties for Hardmax included). */
export async function lpError(backend: Backend, c: LpCase, B: number): Promise<number> {
  const per = SAMPLE.reduce((a, b) => a * b, 1);
  const x = randomArray(B * per, 11, c.op === 'ReduceLogSum' ? 0.1 : -2, 2);
  // A tie in sample 0: Hardmax picks the first of equal maxima.
  if (c.op === 'Hardmax') x.fill(5, 0, 2);
  const got = await digitalForward(backend, lpModel(c), `${c.op}.onnx`, x, B);
  const n = got.length / B;
  let worst = 0;
  for (let b = 0; b < B; b++) {
    const want = c.ref(Array.from(x.subarray(b * per, (b + 1) * per)));
    if (want.length !== n) throw new Error(`output has ${n} values per sample, the definition ${want.length}`);
    want.forEach((w, i) => (worst = Math.max(worst, Math.abs(got[b * n + i] - w) / Math.max(1, Math.abs(w)))));
  }
  return worst;
}
