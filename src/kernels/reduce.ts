import reduceWgsl from '../../shaders/reduce.wgsl?raw';
import type { GpuLimits } from '../gpu/gpu-context.ts';
import type { OpEncoder } from '../gpu/encoder.ts';
import { rowMajorStrides } from '../ir/tensor.ts';
import { defineKernel, read, readWrite } from './kernel.ts';
import { binding, dispatch, linearGrid } from './dispatch.ts';
import { collapseDims, DEFAULT_WG, MAX_TABLE_RANK, table } from './elementwise.ts';
import { checkParam } from './template.ts';

/** Reduction functions, in the order of their WGSL op codes. */
export const REDUCE_FNS = ['sum', 'mean', 'max', 'min', 'prod'] as const;
export type ReduceFn = (typeof REDUCE_FNS)[number];

/** The reduce family's variants: an entry point and what it bakes in. */
export type ReduceVariant =
  | { entry: 'reduce'; fn: ReduceFn; wg: number }
  | { entry: 'argmax'; last: boolean; wg: number }
  | { entry: 'cumsum'; exclusive: boolean; reverse: boolean; wg: number }
  | { entry: 'topk'; largest: boolean; indices: boolean; wg: number }
  | { entry: 'norm'; wg: number }
  | { entry: 'lrn'; wg: number };

const USES = { reduce: ['X', 'Y'], argmax: ['X', 'Y'], cumsum: ['X', 'Y'], topk: ['X', 'Y'], norm: ['X', 'Y', 'Sc', 'Bi'], lrn: ['X', 'Y'] } as const;

/** Ops across a sample's elements: reductions over any axes, ArgMax, CumSum, TopK, layer/instance norm, LRN. */
export const REDUCE = defineKernel({
  name: 'reduce',
  uniforms: {
    lines: 'u32',
    n: 'u32',
    stride: 'u32',
    L: 'u32',
    inner: 'u32',
    chan: 'u32',
    lo: 'u32',
    hi: 'u32',
    krank: 'u32',
    rrank: 'u32',
    eps: 'f32',
    alpha: 'f32',
    beta: 'f32',
    bias: 'f32',
    kiter: 'array<vec4<u32>, 2>',
    ksrc: 'array<vec4<u32>, 2>',
    riter: 'array<vec4<u32>, 2>',
    rsrc: 'array<vec4<u32>, 2>',
  },
  bindings: { X: read('f32'), Y: readWrite('f32'), Sc: read('f32'), Bi: read('f32') },
  compile(v: ReduceVariant, limits) {
    checkParam('wg', v.wg, 1, limits.maxComputeInvocationsPerWorkgroup, true);
    const op = v.entry === 'reduce' ? REDUCE_FNS.indexOf(v.fn) : 0;
    if (op < 0) throw new Error(`reduce: unknown function ${v.entry === 'reduce' ? v.fn : ''}`);
    return { body: reduceWgsl, entry: `${v.entry}_main`, consts: { OP: op, LAST: v.entry === 'argmax' && v.last, EXCLUSIVE: v.entry === 'cumsum' && v.exclusive, REVERSE: v.entry === 'cumsum' && v.reverse, LARGEST: v.entry === 'topk' && v.largest, INDICES: v.entry === 'topk' && v.indices, WG: v.wg }, uses: USES[v.entry] };
  },
});

/** WGSL of a reduce variant, after checking it against `limits`. */
export function reduceSource(v: ReduceVariant, limits?: GpuLimits): string {
  return REDUCE.source(v, limits);
}

const ZERO = { lines: 0, n: 0, L: 0, inner: 1, chan: 0, lo: 0, hi: 0, krank: 0, rrank: 0, eps: 0, alpha: 0, beta: 0, bias: 0, kiter: [], ksrc: [], riter: [], rsrc: [] };

/**
 * Records y = fn over the axes `axes` of x (full dims `dims`, row-major) into y, laid out as x with
 * those axes dropped. Every reduced axis is at least 1 long.
 */
export function encodeReduce(e: OpEncoder, fn: ReduceFn, x: GPUBuffer, y: GPUBuffer, dims: readonly number[], axes: readonly number[], wg = DEFAULT_WG): void {
  const xs = rowMajorStrides(dims);
  const keptDims = dims.filter((_, d) => !axes.includes(d));
  const redDims = dims.filter((_, d) => axes.includes(d));
  const kept = collapseDims(keptDims, [rowMajorStrides(keptDims), xs.filter((_, d) => !axes.includes(d))]);
  const red = collapseDims(redDims, [rowMajorStrides(redDims), xs.filter((_, d) => axes.includes(d))]);
  if (kept.dims.length > MAX_TABLE_RANK || red.dims.length > MAX_TABLE_RANK) throw new Error(`reduce: more than ${MAX_TABLE_RANK} dims after merging`);
  const lines = keptDims.reduce((p, q) => p * q, 1);
  const L = redDims.reduce((p, q) => p * q, 1);
  if (lines === 0) return;
  if (L === 0) throw new Error('reduce: an empty reduction has no kernel; fill its output instead');
  const s = e.session;
  const grid = linearGrid(s, lines, wg);
  dispatch(s, e, REDUCE, { entry: 'reduce', fn, wg }, {
    params: {
      ...ZERO, lines, stride: grid.stride, L,
      krank: kept.dims.length, kiter: table(kept.tables[0]), ksrc: table(kept.tables[1]),
      rrank: red.dims.length, riter: table(red.tables[0]), rsrc: table(red.tables[1]),
    },
    bind: { X: binding(s, x, lines * L * 4), Y: binding(s, y, lines * 4) },
    grid,
    label: fn,
  });
}

/** Records the index of the largest element along L of x viewed as [outer, L, inner] (first, or last of ties). */
export function encodeArgmax(e: OpEncoder, x: GPUBuffer, y: GPUBuffer, outer: number, L: number, inner: number, last: boolean, wg = DEFAULT_WG): void {
  const lines = outer * inner;
  if (lines === 0 || L === 0) return;
  const s = e.session;
  const grid = linearGrid(s, lines, wg);
  dispatch(s, e, REDUCE, { entry: 'argmax', last, wg }, {
    params: { ...ZERO, lines, stride: grid.stride, L, inner },
    bind: { X: binding(s, x, lines * L * 4), Y: binding(s, y, lines * 4) },
    grid,
  });
}

/** Records running sums along L of x viewed as [outer, L, inner] into y (same layout). */
export function encodeCumsum(e: OpEncoder, x: GPUBuffer, y: GPUBuffer, outer: number, L: number, inner: number, exclusive: boolean, reverse: boolean, wg = DEFAULT_WG): void {
  const lines = outer * inner;
  if (lines === 0 || L === 0) return;
  const s = e.session;
  const grid = linearGrid(s, lines, wg);
  dispatch(s, e, REDUCE, { entry: 'cumsum', exclusive, reverse, wg }, {
    params: { ...ZERO, lines, stride: grid.stride, L, inner },
    bind: { X: binding(s, x, lines * L * 4), Y: binding(s, y, lines * L * 4) },
    grid,
  });
}

/**
 * Records TopK along L of x viewed as [outer, L, inner] into y [outer, k, inner]: each element finds
 * its rank among its line (O(L) each, lines are short: classes, tokens) and, ranked below k, writes
 * its value (or index) there.
 */
export function encodeTopk(e: OpEncoder, x: GPUBuffer, y: GPUBuffer, outer: number, L: number, inner: number, k: number, largest: boolean, indices: boolean, wg = DEFAULT_WG): void {
  const n = outer * L * inner;
  if (n === 0 || k === 0) return;
  const s = e.session;
  const grid = linearGrid(s, n, wg);
  dispatch(s, e, REDUCE, { entry: 'topk', largest, indices, wg }, {
    params: { ...ZERO, lines: n, stride: grid.stride, L, inner, lo: k },
    bind: { X: binding(s, x, n * 4), Y: binding(s, y, outer * k * inner * 4) },
    grid,
  });
}

/**
 * Records the normalization of `groups` consecutive groups of L elements, times scale plus bias,
 * indexed by the element's place in its group (channels = 0, L values each) or by group % channels.
 */
export function encodeNorm(e: OpEncoder, x: GPUBuffer, y: GPUBuffer, groups: number, L: number, eps: number, scale: GPUBuffer, bias: GPUBuffer, channels: number, wg = DEFAULT_WG): void {
  if (groups === 0 || L === 0) return;
  const s = e.session;
  const grid = linearGrid(s, groups, wg);
  const values = channels === 0 ? L : channels;
  dispatch(s, e, REDUCE, { entry: 'norm', wg }, {
    params: { ...ZERO, lines: groups, stride: grid.stride, L, chan: channels, eps },
    bind: { X: binding(s, x, groups * L * 4), Y: binding(s, y, groups * L * 4), Sc: binding(s, scale, values * 4), Bi: binding(s, bias, values * 4) },
    grid,
  });
}

/** ONNX LRN's parameters. */
export interface LrnParams {
  size: number;
  alpha: number;
  beta: number;
  bias: number;
}

/** Records LRN across the C channels of x viewed as [outer, C, inner]. */
export function encodeLrn(e: OpEncoder, x: GPUBuffer, y: GPUBuffer, outer: number, C: number, inner: number, p: LrnParams, wg = DEFAULT_WG): void {
  const n = outer * C * inner;
  if (n === 0) return;
  const s = e.session;
  const grid = linearGrid(s, n, wg);
  dispatch(s, e, REDUCE, { entry: 'lrn', wg }, {
    params: { ...ZERO, n, stride: grid.stride, L: C, inner, lo: Math.floor((p.size - 1) / 2), hi: Math.ceil((p.size - 1) / 2), alpha: p.alpha / p.size, beta: p.beta, bias: p.bias },
    bind: { X: binding(s, x, n * 4), Y: binding(s, y, n * 4) },
    grid,
  });
}
