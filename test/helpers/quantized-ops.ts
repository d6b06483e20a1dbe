/**
 * ONNX Runtime's integer formats (QLinearMatMul, QLinearConv, MatMulInteger, ConvInteger,
 * DynamicQuantizeLinear) in small float-in, float-out models, run digitally and compared with the
 * operators' integer definitions written out in f64; shared by the CPU and WebGPU tests. Inputs lie
 * on their quantization grid, as a quantized model's activations do, so each rounding is decided;
 * where a definition's real value falls within 1e-3 of a rounding tie, either neighbour is accepted.
 */
import type { Backend } from '../../src/gpu/backend.ts';
import { roundHalfEven } from '../../src/crossbar/rounding.ts';
import { buildOnnxModel, type BuildNode, type BuildTensor } from '../../src/io/onnx/build.ts';
import { digitalForward } from './digital-run.ts';
import { rng } from './random.ts';

/** One output value: a quantized one, clamp(round(real) + add, lo, hi) read back as (q − zero)·scale, or a plain one. */
export type Expect = { real: number; add: number; lo: number; hi: number; scale: number; zero: number } | { value: number };

export interface QCase {
  model: Uint8Array;
  /** B samples of input, packed. */
  input: (B: number) => Float32Array;
  /** The definition's outputs for one sample. */
  expect: (x: Float32Array) => Expect[];
}

export const U8: [number, number] = [0, 255];
export const I8: [number, number] = [-128, 127];
const prod = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);
const scalarF = (name: string, v: number): BuildTensor => ({ name, dims: [], data: Float32Array.of(v) });
const scalarQ = (name: string, v: number, range: [number, number]): BuildTensor => ({ name, dims: [], data: range === U8 ? Uint8Array.of(v) : Int8Array.of(v) });

/** Integers in [lo, hi] from a seeded stream. */
export function ints(n: number, seed: number, lo: number, hi: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo + 1)));
}

/** B samples of `dims` on the grid (q − zero)·scale of a [lo, hi] integer type. */
export function gridInput(dims: readonly number[], scale: number, zero: number, range: [number, number], seed: number) {
  return (B: number): Float32Array => Float32Array.from(ints(B * prod(dims), seed, range[0], range[1]), (q) => (q - zero) * scale);
}

/** The integer a grid value stands for. */
export const onGrid = (v: number, scale: number, zero: number): number => Math.round(v / scale) + zero;

/** x [batch, ...dims] → QuantizeLinear → `nodes` (reading xq, writing yq) → DequantizeLinear → y; the x and y parameters are named xs/xz and ys/yz. */
function qdqModel(dims: readonly number[], nodes: BuildNode[], initializers: BuildTensor[], opset = 13, dequantize = true): Uint8Array {
  return buildOnnxModel({
    opset,
    inputs: [{ name: 'x', dims: ['batch', ...dims] }],
    outputs: [{ name: 'y', dims: ['batch'] }],
    initializers,
    nodes: [
      { op: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] },
      ...nodes,
      ...(dequantize ? [{ op: 'DequantizeLinear', inputs: ['yq', 'ys', 'yz'], outputs: ['y'] }] : []),
    ],
  });
}

/** acc[m][n] = Σ_k (a[m][k] − az)(b[k][n] − bz[n]) for a [M, K] and b [K, N] (row-major integers). */
export function intMatMul(a: number[], az: number, b: number[], bz: number[], M: number, K: number, N: number): number[] {
  const out: number[] = [];
  for (let m = 0; m < M; m++) for (let j = 0; j < N; j++) {
    let acc = 0;
    for (let k = 0; k < K; k++) acc += (a[m * K + k] - az) * (b[k * N + j] - bz[bz.length === 1 ? 0 : j]);
    out.push(acc);
  }
  return out;
}

interface ConvGeo { C: number; H: number; W: number; M: number; k: [number, number]; stride: number; pad: number; dil: number; group: number }

/** acc[m][i][j] = Σ (x − xz)(w − wz[m]) over each output's window (zero padding after the subtraction, as ConvInteger pads with x_zero_point). */
function intConv(x: number[], xz: number, w: number[], wz: number[], g: ConvGeo): { acc: number[]; out: [number, number] } {
  const { C, H, W, M, k, stride, pad, dil, group } = g;
  const cpg = C / group;
  const oh = Math.floor((H + 2 * pad - dil * (k[0] - 1) - 1) / stride) + 1;
  const ow = Math.floor((W + 2 * pad - dil * (k[1] - 1) - 1) / stride) + 1;
  const acc: number[] = [];
  for (let m = 0; m < M; m++) for (let i = 0; i < oh; i++) for (let j = 0; j < ow; j++) {
    let s = 0;
    const c0 = Math.floor(m / (M / group)) * cpg;
    for (let c = 0; c < cpg; c++) for (let a = 0; a < k[0]; a++) for (let b = 0; b < k[1]; b++) {
      const h = i * stride - pad + a * dil;
      const v = j * stride - pad + b * dil;
      if (h < 0 || h >= H || v < 0 || v >= W) continue;
      s += (x[((c0 + c) * H + h) * W + v] - xz) * (w[((m * cpg + c) * k[0] + a) * k[1] + b] - wz[wz.length === 1 ? 0 : m]);
    }
    acc.push(s);
  }
  return { acc, out: [oh, ow] };
}

/** A quantized output: clamp(round(real) + add) in `range`, read back as (q − zero)·scale. */
export const quantized = (real: number, add: number, range: [number, number], scale: number, zero: number): Expect => ({ real, add, lo: range[0], hi: range[1], scale, zero });

/** QLinearMatMul of a per-sample [M, K] (or [K]) activation with a constant [K, N] weight. */
function qlinearMatMul(o: { rows: number | null; K: number; N: number; x: [number, number, [number, number]]; w: [number[], number[], [number, number]]; y: [number, number, [number, number]] }): QCase {
  const { rows, K, N } = o;
  const [xs, xz, xr] = o.x;
  const [ws, wz, wr] = o.w;
  const [ys, yz, yr] = o.y;
  const wq = ints(K * N, 5, wr[0], wr[1]);
  const dims = rows === null ? [K] : [rows, K];
  const wTensor = (name: string, v: number[], d: number[]): BuildTensor => ({ name, dims: d, data: wr === U8 ? Uint8Array.from(v) : Int8Array.from(v) });
  return {
    model: qdqModel(dims, [{ op: 'QLinearMatMul', inputs: ['xq', 'xs', 'xz', 'w', 'ws', 'wz', 'ys', 'yz'], outputs: ['yq'] }], [
      scalarF('xs', xs), scalarQ('xz', xz, xr), wTensor('w', wq, [K, N]),
      ws.length === 1 ? scalarF('ws', ws[0]) : { name: 'ws', dims: [N], data: Float32Array.from(ws) },
      wz.length === 1 ? scalarQ('wz', wz[0], wr) : wTensor('wz', wz, [N]),
      scalarF('ys', ys), scalarQ('yz', yz, yr),
    ], 10 + 3),
    input: gridInput(dims, xs, xz, xr, 7),
    expect: (x) => {
      const M = rows ?? 1;
      const acc = intMatMul(Array.from(x, (v) => onGrid(v, xs, xz)), xz, wq, wz, M, K, N);
      return acc.map((a, i) => quantized((a * xs * ws[ws.length === 1 ? 0 : i % N]) / ys, yz, yr, ys, yz));
    },
  };
}

/** QLinearConv of a per-sample [C, H, W] activation, per-channel or per-tensor weight, optional int32 bias. */
function qlinearConv(g: ConvGeo, o: { x: [number, number]; w: [number[], number, [number, number]]; y: [number, number]; bias: boolean }): QCase {
  const [xs, xz] = o.x;
  const [ws, wz, wr] = o.w;
  const [ys, yz] = o.y;
  const wDims = [g.M, g.C / g.group, ...g.k];
  const wq = ints(prod(wDims), 9, wr[0], wr[1]);
  const bias = ints(g.M, 13, -2000, 2000);
  return {
    model: qdqModel([g.C, g.H, g.W], [{
      op: 'QLinearConv', inputs: ['xq', 'xs', 'xz', 'w', 'ws', 'wz', 'ys', 'yz', ...(o.bias ? ['b'] : [])], outputs: ['yq'],
      attrs: { kernel_shape: g.k, strides: [g.stride, g.stride], pads: [g.pad, g.pad, g.pad, g.pad], dilations: [g.dil, g.dil], group: g.group },
    }], [
      scalarF('xs', xs), scalarQ('xz', xz, U8),
      { name: 'w', dims: wDims, data: wr === U8 ? Uint8Array.from(wq) : Int8Array.from(wq) },
      ws.length === 1 ? scalarF('ws', ws[0]) : { name: 'ws', dims: [g.M], data: Float32Array.from(ws) },
      ws.length === 1 ? scalarQ('wz', wz, wr) : { name: 'wz', dims: [g.M], data: wr === U8 ? new Uint8Array(g.M).fill(wz) : new Int8Array(g.M).fill(wz) },
      scalarF('ys', ys), scalarQ('yz', yz, U8),
      ...(o.bias ? [{ name: 'b', dims: [g.M], data: Int32Array.from(bias) }] : []),
    ]),
    input: gridInput([g.C, g.H, g.W], xs, xz, U8, 17),
    expect: (x) => {
      const { acc, out } = intConv(Array.from(x, (v) => onGrid(v, xs, xz)), xz, wq, [wz], g);
      const per = out[0] * out[1];
      return acc.map((a, i) => {
        const m = Math.floor(i / per);
        return quantized(((a + (o.bias ? bias[m] : 0)) * xs * ws[ws.length === 1 ? 0 : m]) / ys, yz, U8, ys, yz);
      });
    },
  };
}

/** x → QuantizeLinear (uint8) → MatMulInteger with an int8 weight and per-column zero points → Cast → × scale. */
function matMulInteger(): QCase {
  const [K, N, xs, xz, scale] = [7, 4, 0.05, 120, 0.003];
  const wq = ints(K * N, 21, -128, 127);
  const wz = [3, -5, 0, 11];
  return {
    model: qdqModel([K], [
      { op: 'MatMulInteger', inputs: ['xq', 'w', 'xz', 'wz'], outputs: ['acc'] },
      { op: 'Cast', inputs: ['acc'], outputs: ['accf'], attrs: { to: 1 } },
      { op: 'Mul', inputs: ['accf', 's'], outputs: ['y'] },
    ], [scalarF('xs', xs), scalarQ('xz', xz, U8), { name: 'w', dims: [K, N], data: Int8Array.from(wq) }, { name: 'wz', dims: [N], data: Int8Array.from(wz) }, scalarF('s', scale)], 13, false),
    input: gridInput([K], xs, xz, U8, 23),
    expect: (x) => intMatMul(Array.from(x, (v) => onGrid(v, xs, xz)), xz, wq, wz, 1, K, N).map((a) => ({ value: a * scale })),
  };
}

/** x → QuantizeLinear → ConvInteger (uint8 weight, per-channel zero points) → Cast. */
function convInteger(): QCase {
  const g: ConvGeo = { C: 2, H: 5, W: 4, M: 3, k: [2, 3], stride: 1, pad: 1, dil: 1, group: 1 };
  const [xs, xz] = [0.1, 30];
  const wq = ints(g.M * g.C * 6, 25, 0, 255);
  const wz = [128, 100, 7];
  return {
    model: qdqModel([g.C, g.H, g.W], [
      { op: 'ConvInteger', inputs: ['xq', 'w', 'xz', 'wz'], outputs: ['acc'], attrs: { kernel_shape: g.k, pads: [1, 1, 1, 1] } },
      { op: 'Cast', inputs: ['acc'], outputs: ['y'], attrs: { to: 1 } },
    ], [scalarF('xs', xs), scalarQ('xz', xz, U8), { name: 'w', dims: [g.M, g.C, ...g.k], data: Uint8Array.from(wq) }, { name: 'wz', dims: [g.M], data: Uint8Array.from(wz) }], 13, false),
    input: gridInput([g.C, g.H, g.W], xs, xz, U8, 27),
    expect: (x) => intConv(Array.from(x, (v) => onGrid(v, xs, xz)), xz, wq, wz, g).acc.map((a) => ({ value: a })),
  };
}

/**
 * Per-sample inputs for DynamicQuantizeLinear whose range the definition fixes: sample b holds
 * (k − r)·s for integers k, k = 0 and k = 255 among them, so its scale is s and its zero point
 * round(r); r = 0 and r = 255 give an all-positive and an all-negative sample, and the last of
 * every four samples is all zeros.
 */
export function dynamicInput(K: number) {
  const offsets = [63.2, 0, 255, 100.7];
  return (B: number): Float32Array => {
    const x = new Float32Array(B * K);
    for (let b = 0; b < B; b++) {
      if (b % 4 === 3) continue;
      const r = offsets[b % 4];
      const s = 0.013 * (1 + b);
      // All-positive samples keep k ≥ 1 and all-negative ones k ≤ 254, so 0 is outside their data.
      const ks = ints(K, 31 + b, r === 0 ? 1 : 0, r === 255 ? 254 : 255);
      if (r !== 0) ks[0] = 0;
      if (r !== 255) ks[1] = 255;
      ks.forEach((k, i) => (x[b * K + i] = (k - r) * s));
    }
    return x;
  };
}

/** The definition of DynamicQuantizeLinear on one sample in f64: scale, zero point, and each y as an Expect of its rounding. */
export function dynamicDef(x: Float32Array): { scale: number; zero: number; y: Expect[] } {
  const lo = Math.min(0, ...x);
  const hi = Math.max(0, ...x);
  const scale = (hi - lo) / 255;
  if (scale === 0) return { scale, zero: 0, y: Array.from(x, () => ({ value: 0 })) };
  const zero = roundHalfEven(Math.min(255, Math.max(0, -lo / scale)));
  return { scale, zero, y: Array.from(x, (v) => quantized(v / scale, zero, U8, 1, 0)) };
}

/** DynamicQuantizeLinear alone, the model's output being y (as float), y_scale or y_zero_point. */
function dynamicQuantize(pick: 'y' | 'scale' | 'zero', opset: number): QCase {
  const K = 9;
  const out = { y: 'yq', scale: 'ys', zero: 'yz' }[pick];
  return {
    model: buildOnnxModel({
      opset,
      inputs: [{ name: 'x', dims: ['batch', 3, 3] }],
      outputs: [{ name: 'y', dims: ['batch'] }],
      nodes: [
        { op: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['yq', 'ys', 'yz'] },
        { op: 'Cast', inputs: [out], outputs: ['y'], attrs: { to: 1 } },
      ],
    }),
    input: dynamicInput(K),
    expect: (x) => {
      const d = dynamicDef(x);
      return pick === 'y' ? d.y : [{ value: pick === 'scale' ? d.scale : d.zero }];
    },
  };
}

/** ONNX Runtime's dynamically quantized MatMul: DynamicQuantizeLinear → MatMulInteger (int8 weight) → Cast → × (x_scale · w_scale). */
function dynamicMatMul(): QCase {
  const [K, N, ws] = [8, 5, 0.02];
  const wq = ints(K * N, 41, -127, 127);
  return {
    model: buildOnnxModel({
      opset: 13,
      inputs: [{ name: 'x', dims: ['batch', K] }],
      outputs: [{ name: 'y', dims: ['batch', N] }],
      initializers: [{ name: 'w', dims: [K, N], data: Int8Array.from(wq) }, scalarF('ws', ws)],
      nodes: [
        { op: 'DynamicQuantizeLinear', inputs: ['x'], outputs: ['xq', 'xs', 'xz'] },
        { op: 'MatMulInteger', inputs: ['xq', 'w', 'xz'], outputs: ['acc'] },
        { op: 'Cast', inputs: ['acc'], outputs: ['accf'], attrs: { to: 1 } },
        { op: 'Mul', inputs: ['xs', 'ws'], outputs: ['scale'] },
        { op: 'Mul', inputs: ['accf', 'scale'], outputs: ['y'] },
      ],
    }),
    input: dynamicInput(K),
    expect: (x) => {
      const d = dynamicDef(x);
      // The y values are decided (dynamicInput's grid), so the product is exact in integers.
      const xq = d.y.map((e) => ('value' in e ? e.value : Math.min(255, Math.max(0, roundHalfEven(e.real) + e.add))));
      return intMatMul(xq, d.zero, wq, [0], 1, K, N).map((a) => ({ value: a * d.scale * ws }));
    },
  };
}

export const QUANTIZED_CASES: [string, QCase][] = [
  ['QLinearMatMul, uint8, per-tensor weight with a zero point', qlinearMatMul({ rows: null, K: 6, N: 5, x: [0.07, 120, U8], w: [[0.011], [130], U8], y: [0.09, 100, U8] })],
  ['QLinearMatMul, [4, 6] rows, int8 per-column weight, int8 output', qlinearMatMul({ rows: 4, K: 6, N: 5, x: [0.05, -7, I8], w: [[0.01, 0.02, 0.013, 0.007, 0.03], [0, 0, 0, 0, 0], I8], y: [0.11, -3, I8] })],
  ['QLinearConv, int8 per-channel weight, int32 bias, stride 2, padded', qlinearConv({ C: 2, H: 6, W: 5, M: 4, k: [3, 3], stride: 2, pad: 1, dil: 1, group: 1 }, { x: [0.04, 110], w: [[0.012, 0.02, 0.009, 0.015], 0, I8], y: [0.21, 90], bias: true })],
  ['QLinearConv, uint8 per-tensor weight, grouped and dilated, no bias', qlinearConv({ C: 4, H: 7, W: 7, M: 4, k: [3, 3], stride: 1, pad: 2, dil: 2, group: 2 }, { x: [0.03, 128], w: [[0.004], 120, U8], y: [0.02, 130], bias: false })],
  ['MatMulInteger, per-column int8 zero points, then Cast and a scale', matMulInteger()],
  ['ConvInteger, per-channel uint8 zero points, then Cast', convInteger()],
  ['DynamicQuantizeLinear y (opset 13)', dynamicQuantize('y', 13)],
  ['DynamicQuantizeLinear y_scale (opset 18: axes as an input)', dynamicQuantize('scale', 18)],
  ['DynamicQuantizeLinear y_zero_point', dynamicQuantize('zero', 13)],
  ["ONNX Runtime's dynamic quantization of a MatMul", dynamicMatMul()],
];

/** Values of the definition within a plain value's relative tolerance, or a quantized one's accepted neighbours. */
function accepts(e: Expect, got: number, tol: number): boolean {
  if ('value' in e) return Math.abs(got - e.value) <= tol * Math.max(1, Math.abs(e.value));
  const r = roundHalfEven(e.real);
  const near = Math.abs(Math.abs(e.real - Math.trunc(e.real)) - 0.5) < 1e-3;
  const qs = near ? [Math.floor(e.real), Math.ceil(e.real)] : [r];
  return qs.some((q) => Math.abs(got - (Math.min(e.hi, Math.max(e.lo, q + e.add)) - e.zero) * e.scale) <= tol * Math.max(1, Math.abs(got)));
}

/** Output values (of B samples) the definition does not accept, described; empty when all agree. */
export async function quantizedMismatches(backend: Backend, c: QCase, B: number, tol: number): Promise<string[]> {
  const x = c.input(B);
  const got = await digitalForward(backend, c.model, 'quantized.onnx', x, B);
  const per = x.length / B;
  const n = got.length / B;
  const bad: string[] = [];
  for (let b = 0; b < B; b++) {
    const want = c.expect(x.subarray(b * per, (b + 1) * per));
    if (want.length !== n) return [`output has ${n} values per sample, the definition ${want.length}`];
    want.forEach((e, i) => {
      if (!accepts(e, got[b * n + i], tol)) bad.push(`sample ${b} value ${i}: got ${got[b * n + i]}, definition ${JSON.stringify(e)}`);
    });
  }
  return bad;
}
