import layoutWgsl from '../../shaders/layout.wgsl?raw';
import type { GpuLimits } from '../gpu/gpu-context.ts';
import type { OpEncoder } from '../gpu/encoder.ts';
import { defineKernel, read, readWrite } from './kernel.ts';
import { dispatch, linearGrid, windowBinding } from './dispatch.ts';
import type { GpuSession } from '../gpu/runtime.ts';
import { collapseDims, DEFAULT_WG, MAX_TABLE_RANK, table } from './elementwise.ts';
import { rowMajorStrides } from '../ir/tensor.ts';
import { checkParam } from './template.ts';

/** The layout family's variants: plain strided copy, or copy plus a gathered bias. */
export type LayoutVariant = { bias: boolean; wg: number };

/** Elements of the innermost dim one invocation copies. */
const RUN = 8;

/** Strided copies: transpose, concat, unpadding, im2col-ordered columns back to NCHW. */
export const LAYOUT = defineKernel({
  name: 'layout',
  uniforms: {
    n: 'u32',
    stride: 'u32',
    rank: 'u32',
    src_off: 'u32',
    dst_off: 'u32',
    bias_off: 'u32',
    iter: 'array<vec4<u32>, 2>',
    src: 'array<vec4<u32>, 2>',
    dst: 'array<vec4<u32>, 2>',
    bias: 'array<vec4<u32>, 2>',
    /** Elements of the innermost iteration dim, runs of RUN per row of it, and its (source, destination, bias) strides. */
    inner: 'u32',
    runs: 'u32',
    last: 'array<vec4<u32>, 1>',
  },
  bindings: { X: read('f32'), Y: readWrite('f32'), Bias: read('f32') },
  compile(v: LayoutVariant, limits) {
    checkParam('wg', v.wg, 1, limits.maxComputeInvocationsPerWorkgroup, true);
    return v.bias
      ? { body: layoutWgsl, entry: 'copy_bias_main', consts: { WG: v.wg, RUN } }
      : { body: layoutWgsl, entry: 'copy_main', consts: { WG: v.wg, RUN }, uses: ['X', 'Y'] as const };
  },
});

/** WGSL of a layout variant, after checking it against `limits`. */
export function layoutSource(v: LayoutVariant, limits?: GpuLimits): string {
  return LAYOUT.source(v, limits);
}

/** How one buffer is addressed by a strided copy: element stride per iteration dim, plus an offset. */
export interface StridedAccess {
  strides: readonly number[];
  offset: number;
}

/** A strided copy: for every coordinate c of `dims`, dst[dst·c] = src[src·c] (+ bias[bias·c]). */
export interface StridedCopy {
  dims: readonly number[];
  src: StridedAccess;
  dst: StridedAccess;
}

/** The element range [lo, hi) an access reaches over `dims` (strides may be negative: a reversed slice). */
function span(dims: readonly number[], a: StridedAccess): { lo: number; hi: number } {
  if (dims.some((d) => d === 0)) return { lo: a.offset, hi: a.offset };
  let lo = a.offset;
  let hi = a.offset + 1;
  dims.forEach((d, k) => {
    const step = (d - 1) * a.strides[k];
    if (step < 0) lo += step;
    else hi += step;
  });
  return { lo, hi };
}

/** Binds the elements an access reaches; returns the binding and the index there of element `offset`. */
function accessWindow(s: GpuSession, buf: GPUBuffer, dims: readonly number[], a: StridedAccess): { binding: GPUBufferBinding; shift: number } {
  const { lo, hi } = span(dims, a);
  const w = windowBinding(s, buf, lo, hi - lo, 4);
  return { binding: w.binding, shift: w.shift + (a.offset - lo) };
}

/** Records a strided copy from x to y, adding `bias` addressed by its own access when given. */
export function encodeStridedCopy(e: OpEncoder, x: GPUBuffer, y: GPUBuffer, plan: StridedCopy, bias?: { buf: GPUBuffer; access: StridedAccess }, wg = DEFAULT_WG): void {
  const n = plan.dims.reduce((p, q) => p * q, 1);
  if (n === 0) return;
  const s = e.session;
  const biasStrides = bias?.access.strides ?? plan.dims.map(() => 0);
  const c = collapseDims(plan.dims, [rowMajorStrides(plan.dims), plan.src.strides, plan.dst.strides, biasStrides]);
  if (c.dims.length > MAX_TABLE_RANK) throw new Error(`strided copy: ${c.dims.length} dims after merging exceed ${MAX_TABLE_RANK}`);
  const r = c.dims.length - 1;
  const inner = r >= 0 ? c.dims[r] : 1;
  const runs = Math.ceil(inner / RUN);
  const count = (n / inner) * runs;
  const grid = linearGrid(s, count, wg);
  // Each buffer is bound from the first element it reaches: a copy out of (or into) part of a large
  // buffer binds only that part. Negative strides wrap in u32 arithmetic, which the kernel's sums undo.
  const X = accessWindow(s, x, plan.dims, plan.src);
  const Y = accessWindow(s, y, plan.dims, plan.dst);
  const Bias = bias && accessWindow(s, bias.buf, plan.dims, bias.access);
  dispatch(s, e, LAYOUT, { bias: bias !== undefined, wg }, {
    params: {
      n: count,
      stride: grid.stride,
      rank: c.dims.length,
      src_off: X.shift,
      dst_off: Y.shift,
      bias_off: Bias?.shift ?? 0,
      iter: table(c.tables[0]),
      src: table(c.tables[1]),
      dst: table(c.tables[2]),
      bias: table(c.tables[3]),
      inner,
      runs,
      last: r >= 0 ? [c.tables[1][r], c.tables[2][r], c.tables[3][r], 0] : [0, 0, 0, 0],
    },
    bind: Bias ? { X: X.binding, Y: Y.binding, Bias: Bias.binding } : { X: X.binding, Y: Y.binding },
    grid,
    label: bias ? 'copy_bias' : 'copy',
  });
}

/** Copy plan of a transpose of a row-major tensor of full shape `inDims` by full permutation `perm`. */
export function transposePlan(inDims: readonly number[], perm: readonly number[]): StridedCopy {
  const inStrides = rowMajorStrides(inDims);
  const dims = perm.map((p) => inDims[p]);
  return { dims, src: { strides: perm.map((p) => inStrides[p]), offset: 0 }, dst: { strides: rowMajorStrides(dims), offset: 0 } };
}

/**
 * Copy plan placing one concat input, viewed as [outer, inner], at column `offset` of the output
 * viewed as [outer, outRow].
 */
export function concatPlan(outer: number, inner: number, outRow: number, offset: number): StridedCopy {
  return { dims: [outer, inner], src: { strides: [inner, 1], offset: 0 }, dst: { strides: [outRow, 1], offset } };
}

/**
 * Copy plan scattering im2col-ordered results [B·P, srcRow] (rows (b, p), first `cg` columns used)
 * into channels [chanOffset, chanOffset + cg) of NCHW [B, cout, P]; iterates in destination order.
 * The bias access reads bias[biasOffset + c].
 */
export function colsToNchwPlan(B: number, P: number, cg: number, srcRow: number, cout: number, chanOffset: number): { plan: StridedCopy; biasStrides: number[] } {
  return {
    plan: {
      dims: [B, cg, P],
      src: { strides: [P * srcRow, 1, srcRow], offset: 0 },
      dst: { strides: [cout * P, P, 1], offset: chanOffset * P },
    },
    biasStrides: [0, 1, 0],
  };
}

/** Copy plan dropping the padding columns of a [M, srcRow] matrix into a tight [M, N]. */
export function unpadRowsPlan(M: number, N: number, srcRow: number): { plan: StridedCopy; biasStrides: number[] } {
  return { plan: { dims: [M, N], src: { strides: [srcRow, 1], offset: 0 }, dst: { strides: [N, 1], offset: 0 } }, biasStrides: [0, 1] };
}
