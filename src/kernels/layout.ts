import layoutWgsl from '../../shaders/layout.wgsl?raw';
import type { ProgramKey } from '../gpu/pipeline-cache.ts';
import { UniformWriter } from '../gpu/buffers.ts';
import type { OpEncoder } from '../gpu/encoder.ts';
import { binding, collapseDims, DEFAULT_WG, dispatch, linearGrid, MAX_TABLE_RANK, rowMajorStrides, tempUniform, writeTable } from './elementwise.ts';
import { checkParam, instantiate } from './template.ts';

/** The layout family's programs: plain strided copy, or copy plus a gathered bias. */
export interface LayoutProgram {
  bias: boolean;
  wg: number;
}

/** Pipeline cache key: exactly the parameters baked into the WGSL (the entry point included). */
export function layoutKey(p: LayoutProgram): ProgramKey {
  return { family: 'layout', params: { bias: p.bias, wg: p.wg } };
}

/** WGSL for a layout program, after checking its parameters. */
export function layoutSource(p: LayoutProgram, maxInvocations = 256): string {
  checkParam('wg', p.wg, 1, maxInvocations, true);
  return instantiate(layoutWgsl, { WG: p.wg });
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

/** Largest element index (plus one) an access reaches over `dims`. */
function extent(dims: readonly number[], a: StridedAccess): number {
  if (dims.some((d) => d === 0)) return a.offset;
  return a.offset + 1 + dims.reduce((acc, d, k) => acc + (d - 1) * a.strides[k], 0);
}

/** Records a strided copy from x to y, adding `bias` addressed by its own access when given. */
export function encodeStridedCopy(e: OpEncoder, x: GPUBuffer, y: GPUBuffer, plan: StridedCopy, bias?: { buf: GPUBuffer; access: StridedAccess }, wg = DEFAULT_WG): void {
  const n = plan.dims.reduce((p, q) => p * q, 1);
  if (n === 0) return;
  const s = e.session;
  const biasStrides = bias?.access.strides ?? plan.dims.map(() => 0);
  const c = collapseDims(plan.dims, [rowMajorStrides(plan.dims), plan.src.strides, plan.dst.strides, biasStrides]);
  if (c.dims.length > MAX_TABLE_RANK) throw new Error(`strided copy: ${c.dims.length} dims after merging exceed ${MAX_TABLE_RANK}`);
  const grid = linearGrid(s, n, wg);
  const w = new UniformWriter(8 + 4 * MAX_TABLE_RANK);
  w.u32(n).u32(grid.stride).u32(c.dims.length).u32(plan.src.offset);
  w.u32(plan.dst.offset).u32(bias?.access.offset ?? 0).u32(0).u32(0);
  for (const t of c.tables) writeTable(w, t);
  const prog: LayoutProgram = { bias: bias !== undefined, wg };
  const pipeline = s.pipelines.get(layoutKey(prog), () => layoutSource(prog, s.ctx.limits.maxComputeInvocationsPerWorkgroup), bias ? 'copy_bias_main' : 'copy_main');
  const entries: [number, GPUBufferBinding][] = [
    [0, tempUniform(e, w, 'layout.params')],
    [1, binding(s, x, extent(plan.dims, plan.src) * 4)],
    [2, binding(s, y, extent(plan.dims, plan.dst) * 4)],
  ];
  if (bias) entries.push([3, binding(s, bias.buf, extent(plan.dims, bias.access) * 4)]);
  dispatch(e, pipeline, entries, grid, bias ? 'layout.copy_bias' : 'layout.copy');
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
