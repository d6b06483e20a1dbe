import elementwiseWgsl from '../../shaders/elementwise.wgsl?raw';
import erfWgsl from '../../shaders/erf.wgsl?raw';
import { rowMajorStrides } from '../ir/tensor.ts';
import type { GpuLimits } from '../gpu/gpu-context.ts';
import type { OpEncoder } from '../gpu/encoder.ts';
import { defineKernel, read, readWrite } from './kernel.ts';
import { binding, dispatch, linearGrid } from './dispatch.ts';
import { checkParam } from './template.ts';

/** Invocations per workgroup of the 1-D digital kernels (elementwise, layout, pool, softmax, im2col). */
export const DEFAULT_WG = 64;

/** Most dims a broadcast or strided-copy table holds (batch included), after merging: two vec4 of u32. */
export const MAX_TABLE_RANK = 8;

/** Unary functions, in the order of their WGSL op codes. */
export const UNARY_FNS = [
  'relu', 'leaky-relu', 'clip', 'sigmoid', 'tanh', 'gelu', 'gelu-tanh', 'hard-sigmoid', 'hard-swish',
  'exp', 'log', 'neg', 'abs', 'reciprocal', 'sqrt', 'erf', 'elu', 'celu', 'selu', 'softplus', 'softsign', 'mish', 'sign',
  'trunc', 'bool', 'not', 'sin', 'cos', 'floor', 'ceil', 'round', 'is-nan', 'is-inf',
  'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'asinh', 'acosh', 'atanh', 'thresholded-relu', 'shrink',
] as const;
export type UnaryFn = (typeof UNARY_FNS)[number];
/** Binary functions, in the order of their WGSL op codes. */
export const BINARY_FNS = ['add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'equal', 'less', 'greater'] as const;
export type BinaryFn = (typeof BINARY_FNS)[number];

/** The elementwise family's variants: an entry point and, for unary/binary, the function baked in. */
export type ElementwiseVariant =
  | { entry: 'unary'; fn: UnaryFn; wg: number }
  | { entry: 'binary'; fn: BinaryFn; wg: number }
  | { entry: 'where'; wg: number }
  | { entry: 'affine'; wg: number }
  | { entry: 'bias'; wg: number };

function opCode(v: ElementwiseVariant): number {
  if (v.entry === 'unary') return UNARY_FNS.indexOf(v.fn);
  if (v.entry === 'binary') return BINARY_FNS.indexOf(v.fn);
  return 0;
}

const USES = { unary: ['X', 'Y'], binary: ['X', 'Y', 'B'], where: ['X', 'Y', 'B', 'S'], affine: ['X', 'Y', 'B', 'S'], bias: ['Y', 'B'] } as const;

/** Elementwise ops: unary functions, broadcast binary ops and Where, per-channel affine, in-place row bias. */
export const ELEMENTWISE = defineKernel({
  name: 'elementwise',
  uniforms: {
    n: 'u32',
    stride: 'u32',
    rank: 'u32',
    inner: 'u32',
    channels: 'u32',
    flags: 'u32',
    alpha: 'f32',
    beta: 'f32',
    lo: 'f32',
    hi: 'f32',
    iter: 'array<vec4<u32>, 2>',
    sa: 'array<vec4<u32>, 2>',
    sb: 'array<vec4<u32>, 2>',
    sc: 'array<vec4<u32>, 2>',
  },
  bindings: { X: read('f32'), Y: readWrite('f32'), B: read('f32'), S: read('f32') },
  includes: [erfWgsl],
  compile(v: ElementwiseVariant, limits) {
    checkParam('wg', v.wg, 1, limits.maxComputeInvocationsPerWorkgroup, true);
    const op = opCode(v);
    if (op < 0) throw new Error(`elementwise: unknown ${v.entry} function ${'fn' in v ? v.fn : ''}`);
    return { body: elementwiseWgsl, entry: `${v.entry}_main`, consts: { OP: op, WG: v.wg }, uses: USES[v.entry] };
  },
});

/** WGSL of an elementwise variant, after checking it against `limits`. */
export function elementwiseSource(v: ElementwiseVariant, limits?: GpuLimits): string {
  return ELEMENTWISE.source(v, limits);
}

/**
 * Merges adjacent dims that every stride table walks contiguously (stride[d] = stride[d+1]·dim[d+1],
 * which includes both-broadcast), and drops size-1 dims: fewer divisions per element in the kernel.
 */
export function collapseDims(dims: readonly number[], tables: readonly (readonly number[])[]): { dims: number[]; tables: number[][] } {
  const outDims: number[] = [];
  const outTables: number[][] = tables.map(() => []);
  for (let d = 0; d < dims.length; d++) {
    if (dims[d] === 1) continue;
    const last = outDims.length - 1;
    if (last >= 0 && tables.every((t, k) => outTables[k][last] === t[d] * dims[d])) {
      outDims[last] *= dims[d];
      tables.forEach((t, k) => (outTables[k][last] = t[d]));
    } else {
      outDims.push(dims[d]);
      tables.forEach((t, k) => outTables[k].push(t[d]));
    }
  }
  return { dims: outDims, tables: outTables };
}


/** A stride table of up to MAX_TABLE_RANK dims (zero-filled by the uniform packing). */
export function table(t: readonly number[]): readonly number[] {
  if (t.length > MAX_TABLE_RANK) throw new Error(`table of ${t.length} dims exceeds ${MAX_TABLE_RANK}`);
  return t;
}

const NO_TABLES = { rank: 0, iter: [], sa: [], sb: [], sc: [] };
const NO_FN = { inner: 1, channels: 1, flags: 0, alpha: 0, beta: 0, lo: 0, hi: 0 };

/** Parameters of the unary functions (LeakyRelu, HardSigmoid, Elu, Celu and Selu alpha, HardSigmoid beta, Selu gamma as beta, Clip bounds: ±Infinity when absent). */
export interface UnaryParams {
  alpha: number;
  beta?: number;
  min: number;
  max: number;
}

/** Records y[i] = fn(x[i]) for n elements. */
export function encodeUnary(e: OpEncoder, fn: UnaryFn, prm: UnaryParams, x: GPUBuffer, y: GPUBuffer, n: number, wg = DEFAULT_WG): void {
  if (n === 0) return;
  const s = e.session;
  const grid = linearGrid(s, n, wg);
  const flags = (prm.min > -Infinity ? 1 : 0) | (prm.max < Infinity ? 2 : 0);
  const lo = Number.isFinite(prm.min) ? prm.min : 0;
  const hi = Number.isFinite(prm.max) ? prm.max : 0;
  dispatch(s, e, ELEMENTWISE, { entry: 'unary', fn, wg }, {
    params: { ...NO_TABLES, ...NO_FN, n, stride: grid.stride, flags, alpha: prm.alpha, beta: prm.beta ?? 0, lo, hi },
    bind: { X: binding(s, x, n * 4), Y: binding(s, y, n * 4) },
    grid,
    label: fn,
  });
}

/** Operand of a broadcast binary op: its buffer, element count, and element stride per output dim. */
export interface BroadcastOperand {
  buf: GPUBuffer;
  elements: number;
  strides: readonly number[];
}

/** Records y = a fn b over output dims `dims` (row-major), each operand read through its strides (0 = broadcast). */
export function encodeBinary(e: OpEncoder, fn: BinaryFn, a: BroadcastOperand, b: BroadcastOperand, y: GPUBuffer, dims: readonly number[], wg = DEFAULT_WG): void {
  const n = dims.reduce((p, q) => p * q, 1);
  if (n === 0) return;
  const s = e.session;
  const c = collapseDims(dims, [rowMajorStrides(dims), a.strides, b.strides]);
  if (c.dims.length > MAX_TABLE_RANK) throw new Error(`binary ${fn}: ${c.dims.length} dims after merging exceed ${MAX_TABLE_RANK}`);
  const grid = linearGrid(s, n, wg);
  dispatch(s, e, ELEMENTWISE, { entry: 'binary', fn, wg }, {
    params: { ...NO_FN, n, stride: grid.stride, rank: c.dims.length, iter: table(c.tables[0]), sa: table(c.tables[1]), sb: table(c.tables[2]), sc: [] },
    bind: { X: binding(s, a.buf, a.elements * 4), Y: binding(s, y, n * 4), B: binding(s, b.buf, b.elements * 4) },
    grid,
    label: fn,
  });
}

/** Records y = cond ≠ 0 ? x : y over output dims `dims`, each operand read through its strides (0 = broadcast). */
export function encodeWhere(e: OpEncoder, cond: BroadcastOperand, x: BroadcastOperand, y: BroadcastOperand, out: GPUBuffer, dims: readonly number[], wg = DEFAULT_WG): void {
  const n = dims.reduce((p, q) => p * q, 1);
  if (n === 0) return;
  const s = e.session;
  const c = collapseDims(dims, [rowMajorStrides(dims), x.strides, y.strides, cond.strides]);
  if (c.dims.length > MAX_TABLE_RANK) throw new Error(`where: ${c.dims.length} dims after merging exceed ${MAX_TABLE_RANK}`);
  const grid = linearGrid(s, n, wg);
  dispatch(s, e, ELEMENTWISE, { entry: 'where', wg }, {
    params: { ...NO_FN, n, stride: grid.stride, rank: c.dims.length, iter: table(c.tables[0]), sa: table(c.tables[1]), sb: table(c.tables[2]), sc: table(c.tables[3]) },
    bind: { X: binding(s, x.buf, x.elements * 4), Y: binding(s, out, n * 4), B: binding(s, y.buf, y.elements * 4), S: binding(s, cond.buf, cond.elements * 4) },
    grid,
    label: 'where',
  });
}

/** Records y = x·scale[c] + shift[c] for n elements, channel c = (i / inner) % channels. */
export function encodeAffine(e: OpEncoder, x: GPUBuffer, scale: GPUBuffer, shift: GPUBuffer, y: GPUBuffer, n: number, channels: number, inner: number, wg = DEFAULT_WG): void {
  if (n === 0) return;
  const s = e.session;
  const grid = linearGrid(s, n, wg);
  dispatch(s, e, ELEMENTWISE, { entry: 'affine', wg }, {
    params: { ...NO_TABLES, ...NO_FN, n, stride: grid.stride, inner, channels },
    bind: { X: binding(s, x, n * 4), Y: binding(s, y, n * 4), B: binding(s, scale, channels * 4), S: binding(s, shift, channels * 4) },
    grid,
  });
}

/** Records y[m, j] += bias[j] in place over M rows of N. */
export function encodeRowBias(e: OpEncoder, y: GPUBuffer, bias: GPUBuffer, M: number, N: number, wg = DEFAULT_WG): void {
  const n = M * N;
  if (n === 0) return;
  const s = e.session;
  const grid = linearGrid(s, n, wg);
  dispatch(s, e, ELEMENTWISE, { entry: 'bias', wg }, {
    params: { ...NO_TABLES, ...NO_FN, n, stride: grid.stride, channels: N },
    bind: { Y: binding(s, y, n * 4), B: binding(s, bias, N * 4) },
    grid,
  });
}
