/**
 * The backward kernels of adapter and --full training (issue 17; shaders/backward.wgsl): strided
 * products for every transposed product of a linear layer's backward, the derivative of the unary
 * activations, column sums (bias gradients) and in-place accumulation. Shapes are uniforms, so one
 * pipeline per entry point (and unary function) serves every layer.
 */
import backwardWgsl from '../../shaders/backward.wgsl?raw';
import type { Recorder } from './dispatch.ts';
import type { GpuSession } from '../gpu/runtime.ts';
import { binding, dispatch, linearGrid } from './dispatch.ts';
import { DEFAULT_WG } from './elementwise.ts';
import { defineKernel, read, readWrite } from './kernel.ts';
import { checkParam } from './template.ts';

/** Unary functions with a derivative kernel, by the code FN takes in the shader. */
export const BACKWARD_UNARY = { relu: 1, 'leaky-relu': 2, tanh: 3, sigmoid: 4, gelu: 5, erf: 6, neg: 7 } as const;
export type BackwardUnary = keyof typeof BACKWARD_UNARY;

/** The backward family's variants: entry point, unary function (unary_main only) and workgroup size. */
export type BackwardVariant = { entry: 'gemm' | 'unary' | 'colsum' | 'axpy'; fn: BackwardUnary | 'none'; wg: number };

export const BACKWARD = defineKernel({
  name: 'backward',
  uniforms: { n: 'u32', stride: 'u32', M: 'u32', N: 'u32', K: 'u32', sam: 'u32', sak: 'u32', sbk: 'u32', sbn: 'u32', acc: 'u32', alpha: 'f32', slope: 'f32' },
  bindings: { X: read('f32'), Y: read('f32'), Z: readWrite('f32') },
  compile(v: BackwardVariant, limits) {
    checkParam('wg', v.wg, 1, limits.maxComputeInvocationsPerWorkgroup, true);
    if ((v.entry === 'unary') !== (v.fn !== 'none')) throw new Error(`backward: fn ${v.fn} with entry ${v.entry}`);
    const uses = v.entry === 'colsum' || v.entry === 'axpy' ? (['X', 'Z'] as const) : (['X', 'Y', 'Z'] as const);
    return { body: backwardWgsl, entry: `${v.entry}_main`, consts: { WG: v.wg, FN: v.fn === 'none' ? 0 : BACKWARD_UNARY[v.fn] }, uses };
  },
});

/** A strided operand of a product: buffer, element count, and the element strides of its two indices. */
export interface StridedOperand {
  buf: GPUBuffer;
  elements: number;
  /** Stride of the row index (m of X, k of Y) and of the column index (k of X, n of Y). */
  s0: number;
  s1: number;
}

const zeros = { sam: 0, sak: 0, sbk: 0, sbn: 0, M: 0, K: 0, alpha: 1, slope: 0, acc: 0 };
const bytes = (n: number) => Math.max(1, n) * 4;

/** Records Z[M, N] = alpha·X·Y (+ Z when `accumulate`), X [M, K] and Y [K, N] read at their strides. */
export function encodeStridedGemm(s: GpuSession, r: Recorder, x: StridedOperand, y: StridedOperand, z: GPUBuffer, M: number, K: number, N: number, alpha: number, accumulate: boolean): void {
  const n = M * N;
  if (n === 0) return;
  const grid = linearGrid(s, n, DEFAULT_WG);
  dispatch(s, r, BACKWARD, { entry: 'gemm', fn: 'none', wg: DEFAULT_WG }, {
    params: { ...zeros, n, stride: grid.stride, M, N, K, sam: x.s0, sak: x.s1, sbk: y.s0, sbn: y.s1, acc: accumulate ? 1 : 0, alpha },
    bind: { X: binding(s, x.buf, bytes(x.elements)), Y: binding(s, y.buf, bytes(y.elements)), Z: binding(s, z, n * 4) },
    grid,
  });
}

/** Records dx = g·f'(x) over n elements. */
export function encodeUnaryBackward(s: GpuSession, r: Recorder, fn: BackwardUnary, slope: number, x: GPUBuffer, g: GPUBuffer, dx: GPUBuffer, n: number): void {
  if (n === 0) return;
  const grid = linearGrid(s, n, DEFAULT_WG);
  dispatch(s, r, BACKWARD, { entry: 'unary', fn, wg: DEFAULT_WG }, {
    params: { ...zeros, n, stride: grid.stride, N: 0, slope },
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
