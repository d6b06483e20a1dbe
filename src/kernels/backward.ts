/**
 * The backward kernels of adapter and --full training (issue 17; shaders/backward.wgsl): strided
 * products for every transposed product of a linear layer's backward, the derivative of the unary
 * activations, column sums (bias gradients) and in-place accumulation. Shapes are uniforms, so one
 * pipeline per entry point (and unary function) serves every layer.
 */
import backwardWgsl from '../../shaders/backward.wgsl?raw';
import erfWgsl from '../../shaders/erf.wgsl?raw';
import type { Recorder } from './dispatch.ts';
import type { GpuSession } from '../gpu/runtime.ts';
import { binding, dispatch, linearGrid } from './dispatch.ts';
import { DEFAULT_WG } from './elementwise.ts';
import { defineKernel, read, readWrite } from './kernel.ts';
import { checkParam } from './template.ts';

/** Unary functions with a derivative kernel, by the code FN takes in the shader. */
export const BACKWARD_UNARY = { relu: 1, 'leaky-relu': 2, clip: 8, tanh: 3, sigmoid: 4, gelu: 5, erf: 6, neg: 7 } as const;
export type BackwardUnary = keyof typeof BACKWARD_UNARY;

/** One side of a binary op whose derivative bterm_main takes, by its FN code. */
export const BINARY_TERMS = { add: 1, 'sub-left': 2, 'sub-right': 3, 'mul-left': 4, 'mul-right': 5, 'div-left': 6, 'div-right': 7 } as const;
export type BinaryTerm = keyof typeof BINARY_TERMS;

type Entry = 'gemm' | 'unary' | 'colsum' | 'axpy' | 'imap' | 'wmap' | 'bterm' | 'softmax' | 'layernorm';

/** The backward family's variants: entry point, function (unary_main, bterm_main) and workgroup size. */
export type BackwardVariant = { entry: Entry; fn: BackwardUnary | BinaryTerm | 'none'; wg: number };

const USES = {
  gemm: ['X', 'Y', 'Z'],
  unary: ['X', 'Y', 'Z'],
  colsum: ['X', 'Z'],
  axpy: ['X', 'Z'],
  imap: ['X', 'Z', 'I0', 'I1'],
  wmap: ['X', 'G', 'Z', 'I0', 'I1'],
  bterm: ['X', 'Y', 'G', 'Z', 'I0', 'I1'],
  softmax: ['X', 'Y', 'Z'],
  layernorm: ['X', 'Y', 'G', 'Z'],
} as const;

export const BACKWARD = defineKernel({
  name: 'backward',
  uniforms: { n: 'u32', stride: 'u32', M: 'u32', N: 'u32', K: 'u32', sam: 'u32', sak: 'u32', sbk: 'u32', sbn: 'u32', xb: 'u32', yb: 'u32', acc: 'u32', alpha: 'f32', slope: 'f32', xo: 'u32', zo: 'u32', ldz: 'u32' },
  bindings: { X: read('f32'), Y: read('f32'), G: read('f32'), Z: readWrite('f32'), I0: read('u32'), I1: read('u32') },
  includes: [erfWgsl],
  compile(v: BackwardVariant, limits) {
    checkParam('wg', v.wg, 1, limits.maxComputeInvocationsPerWorkgroup, true);
    const unary = v.fn in BACKWARD_UNARY;
    const term = v.fn in BINARY_TERMS;
    if ((v.entry === 'unary') !== unary || (v.entry === 'bterm') !== term) throw new Error(`backward: fn ${v.fn} with entry ${v.entry}`);
    const fn = unary ? BACKWARD_UNARY[v.fn as BackwardUnary] : term ? BINARY_TERMS[v.fn as BinaryTerm] : 0;
    return { body: backwardWgsl, entry: `${v.entry}_main`, consts: { WG: v.wg, FN: fn }, uses: USES[v.entry] };
  },
});

/** A strided operand of a product: buffer, element count, and the element strides of its two indices. */
export interface StridedOperand {
  buf: GPUBuffer;
  elements: number;
  /** Stride of the row index (m of X, k of Y) and of the column index (k of X, n of Y). */
  s0: number;
  s1: number;
  /** Elements from one matrix to the next in a batched product. */
  batch?: number;
}

const zeros = { sam: 0, sak: 0, sbk: 0, sbn: 0, xb: 0, yb: 0, M: 0, K: 0, alpha: 1, slope: 0, acc: 0, xo: 0, zo: 0, ldz: 0 };

/** Where a product's operands start and its result lands: X from element xo, Z's rows ldz apart from element zo (defaults 0, 0, N). */
export interface GemmPlacement {
  xo?: number;
  zo?: number;
  ldz?: number;
}
const bytes = (n: number) => Math.max(1, n) * 4;

/**
 * Records Z[M, N] = alpha·X·Y (+ Z when `accumulate`), X [M, K] and Y [K, N] read at their strides;
 * with `batches` > 1, matrix t of X and Y starts at t·x.batch and t·y.batch, of Z at t·M·N. `at`
 * moves X's start and Z's rows (a block of a larger product).
 */
export function encodeStridedGemm(s: GpuSession, r: Recorder, x: StridedOperand, y: StridedOperand, z: GPUBuffer, M: number, K: number, N: number, alpha: number, accumulate: boolean, batches = 1, at: GemmPlacement = {}): void {
  const n = batches * M * N;
  if (n === 0) return;
  const ldz = at.ldz ?? N;
  const zo = at.zo ?? 0;
  const grid = linearGrid(s, n, DEFAULT_WG);
  dispatch(s, r, BACKWARD, { entry: 'gemm', fn: 'none', wg: DEFAULT_WG }, {
    params: { ...zeros, n, stride: grid.stride, M, N, K, sam: x.s0, sak: x.s1, sbk: y.s0, sbn: y.s1, xb: x.batch ?? 0, yb: y.batch ?? 0, acc: accumulate ? 1 : 0, alpha, xo: at.xo ?? 0, zo, ldz },
    bind: { X: binding(s, x.buf, bytes(x.elements)), Y: binding(s, y.buf, bytes(y.elements)), Z: binding(s, z, (zo + (batches * M - 1) * ldz + N) * 4) },
    grid,
  });
}

/** f32's largest finite value: clip's infinite bounds as the shader compares them (no infinities in uniforms). */
const F32_MAX = 3.4028234663852886e38;

/** Records dx = g·f'(x) over n elements; `slope` is leaky-relu's, `bounds` clip's [min, max]. */
export function encodeUnaryBackward(s: GpuSession, r: Recorder, fn: BackwardUnary, slope: number, x: GPUBuffer, g: GPUBuffer, dx: GPUBuffer, n: number, bounds: readonly [number, number] = [-Infinity, Infinity]): void {
  if (n === 0) return;
  const grid = linearGrid(s, n, DEFAULT_WG);
  const clamp = (v: number) => Math.min(Math.max(v, -F32_MAX), F32_MAX);
  dispatch(s, r, BACKWARD, { entry: 'unary', fn, wg: DEFAULT_WG }, {
    params: { ...zeros, n, stride: grid.stride, N: 0, slope: fn === 'clip' ? clamp(bounds[1]) : slope, alpha: clamp(bounds[0]) },
    bind: { X: binding(s, x, n * 4), Y: binding(s, g, n * 4), Z: binding(s, dx, n * 4) },
    grid,
  });
}

/** Records z[N] = Σ_m x[m, N] (+ z when `accumulate`). */
export function encodeColumnSum(s: GpuSession, r: Recorder, x: GPUBuffer, z: GPUBuffer, M: number, N: number, accumulate: boolean): void {
  if (N === 0) return;
  const grid = linearGrid(s, N, DEFAULT_WG);
  dispatch(s, r, BACKWARD, { entry: 'colsum', fn: 'none', wg: DEFAULT_WG }, {
    params: { ...zeros, n: N, stride: grid.stride, M, N, acc: accumulate ? 1 : 0 },
    bind: { X: binding(s, x, bytes(M * N)), Z: binding(s, z, N * 4) },
    grid,
  });
}

/** Records z += x over n elements. */
export function encodeAccumulate(s: GpuSession, r: Recorder, x: GPUBuffer, z: GPUBuffer, n: number): void {
  if (n === 0) return;
  const grid = linearGrid(s, n, DEFAULT_WG);
  dispatch(s, r, BACKWARD, { entry: 'axpy', fn: 'none', wg: DEFAULT_WG }, {
    params: { ...zeros, n, stride: grid.stride, N: 0 },
    bind: { X: binding(s, x, n * 4), Z: binding(s, z, n * 4) },
    grid,
  });
}

/** A host-built CSR list per input element of the output elements that read it: off [nIn + 1], idx. */
export interface IndexLists {
  off: GPUBuffer;
  idx: GPUBuffer;
  nIn: number;
  /** Entries of idx. */
  nIdx: number;
}

/** Records z[j] = alpha·Σ_{t ∈ lists of j} g[idx[t]] (+ z when `accumulate`) over the lists' nIn elements. */
export function encodeIndexMapBackward(s: GpuSession, r: Recorder, g: GPUBuffer, gElements: number, lists: IndexLists, z: GPUBuffer, alpha: number, accumulate: boolean): void {
  const n = lists.nIn;
  if (n === 0) return;
  const grid = linearGrid(s, n, DEFAULT_WG);
  dispatch(s, r, BACKWARD, { entry: 'imap', fn: 'none', wg: DEFAULT_WG }, {
    params: { ...zeros, n, stride: grid.stride, N: 0, alpha, acc: accumulate ? 1 : 0 },
    bind: { X: binding(s, g, bytes(gElements)), Z: binding(s, z, n * 4), I0: binding(s, lists.off, (n + 1) * 4), I1: binding(s, lists.idx, bytes(lists.nIdx)) },
    grid,
  });
}

/** Records z[j] = alpha·Σ_{t ∈ lists of j} w[t]·g[idx[t]] (+ z when `accumulate`): encodeIndexMapBackward with a weight per list entry. */
export function encodeWeightedMapBackward(s: GpuSession, r: Recorder, g: GPUBuffer, gElements: number, lists: IndexLists, w: GPUBuffer, z: GPUBuffer, alpha: number, accumulate: boolean): void {
  const n = lists.nIn;
  if (n === 0) return;
  const grid = linearGrid(s, n, DEFAULT_WG);
  dispatch(s, r, BACKWARD, { entry: 'wmap', fn: 'none', wg: DEFAULT_WG }, {
    params: { ...zeros, n, stride: grid.stride, N: 0, alpha, acc: accumulate ? 1 : 0 },
    bind: { X: binding(s, g, bytes(gElements)), G: binding(s, w, bytes(lists.nIdx)), Z: binding(s, z, n * 4), I0: binding(s, lists.off, (n + 1) * 4), I1: binding(s, lists.idx, bytes(lists.nIdx)) },
    grid,
  });
}

/** Records z[i] = g[i]·∂(l[li[i]] op r[ri[i]]) of one side over n output elements. */
export function encodeBinaryTerm(s: GpuSession, r: Recorder, term: BinaryTerm, l: { buf: GPUBuffer; elements: number }, rt: { buf: GPUBuffer; elements: number }, li: GPUBuffer, ri: GPUBuffer, g: GPUBuffer, z: GPUBuffer, n: number): void {
  if (n === 0) return;
  const grid = linearGrid(s, n, DEFAULT_WG);
  dispatch(s, r, BACKWARD, { entry: 'bterm', fn: term, wg: DEFAULT_WG }, {
    params: { ...zeros, n, stride: grid.stride, N: 0 },
    bind: { X: binding(s, l.buf, bytes(l.elements)), Y: binding(s, rt.buf, bytes(rt.elements)), G: binding(s, g, n * 4), Z: binding(s, z, n * 4), I0: binding(s, li, n * 4), I1: binding(s, ri, n * 4) },
    grid,
  });
}

/** Records dx = y·(g − Σ g·y) along an axis of `len` with `inner` elements after it, over `outer`·len·inner elements. */
export function encodeSoftmaxBackward(s: GpuSession, r: Recorder, y: GPUBuffer, g: GPUBuffer, dx: GPUBuffer, outer: number, len: number, inner: number): void {
  const rows = outer * inner;
  if (rows === 0) return;
  const n = rows * len;
  const grid = linearGrid(s, rows, DEFAULT_WG);
  dispatch(s, r, BACKWARD, { entry: 'softmax', fn: 'none', wg: DEFAULT_WG }, {
    params: { ...zeros, n: rows, stride: grid.stride, M: len, N: inner },
    bind: { X: binding(s, y, n * 4), Y: binding(s, g, n * 4), Z: binding(s, dx, n * 4) },
    grid,
  });
}

/** Records LayerNorm's dx over `rows` rows of `len` (scale: a [len] buffer, or null), ε `eps`. */
export function encodeLayerNormBackward(s: GpuSession, r: Recorder, x: GPUBuffer, g: GPUBuffer, scale: GPUBuffer | null, dx: GPUBuffer, rows: number, len: number, eps: number): void {
  if (rows === 0) return;
  const n = rows * len;
  const grid = linearGrid(s, rows, DEFAULT_WG);
  dispatch(s, r, BACKWARD, { entry: 'layernorm', fn: 'none', wg: DEFAULT_WG }, {
    params: { ...zeros, n: rows, stride: grid.stride, N: 0, K: len, sam: scale ? 1 : 0, alpha: eps },
    // Without a scale G is bound to x, which the shader then never reads.
    bind: { X: binding(s, x, n * 4), Y: binding(s, g, n * 4), G: scale ?? binding(s, x, n * 4), Z: binding(s, dx, n * 4) },
    grid,
  });
}
