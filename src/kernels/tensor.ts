import tensorWgsl from '../../shaders/tensor.wgsl?raw';
import type { GpuLimits } from '../gpu/gpu-context.ts';
import type { OpEncoder } from '../gpu/encoder.ts';
import { rowMajorStrides } from '../ir/tensor.ts';
import { uploadStorage } from '../gpu/buffers.ts';
import { defineKernel, read, readWrite } from './kernel.ts';
import { binding, dispatch, linearGrid } from './dispatch.ts';
import { DEFAULT_WG, MAX_TABLE_RANK, table } from './elementwise.ts';
import { checkParam } from './template.ts';

/** Pad modes, in the order of their WGSL codes. */
export const PAD_MODES = ['constant', 'reflect', 'edge', 'wrap'] as const;
export type PadMode = (typeof PAD_MODES)[number];

/** The tensor family's variants: an entry point and, for pad, its mode. */
export type TensorVariant =
  | { entry: 'gather'; wg: number }
  | { entry: 'lookup'; wg: number }
  | { entry: 'take'; wg: number }
  | { entry: 'pad'; mode: PadMode; wg: number }
  | { entry: 'resize'; wg: number }
  | { entry: 'col2im'; wg: number };

const USES = { gather: ['X', 'Y', 'I'], lookup: ['X', 'Y', 'T'], take: ['X', 'Y', 'T'], pad: ['X', 'Y'], resize: ['X', 'Y', 'T'], col2im: ['X', 'Y', 'T'] } as const;

/** Element maps: Gather with constant indices, GatherElements, embedding lookup, Pad, Resize (host-computed taps), col2im. */
export const TENSOR = defineKernel({
  name: 'tensor',
  uniforms: {
    n: 'u32',
    stride: 'u32',
    rank: 'u32',
    J: 'u32',
    inner: 'u32',
    Lin: 'u32',
    value: 'f32',
    iter: 'array<vec4<u32>, 2>',
    dims: 'array<vec4<u32>, 2>',
    src: 'array<vec4<u32>, 2>',
    pads: 'array<vec4<i32>, 2>',
    taps: 'array<vec4<u32>, 2>',
    toff: 'array<vec4<u32>, 2>',
    geo: 'array<vec4<u32>, 4>',
  },
  bindings: { X: read('f32'), Y: readWrite('f32'), T: read('f32'), I: read('u32') },
  compile(v: TensorVariant, limits) {
    checkParam('wg', v.wg, 1, limits.maxComputeInvocationsPerWorkgroup, true);
    const mode = v.entry === 'pad' ? PAD_MODES.indexOf(v.mode) : 0;
    if (mode < 0) throw new Error(`tensor: unknown pad mode ${v.entry === 'pad' ? v.mode : ''}`);
    return { body: tensorWgsl, entry: `${v.entry}_main`, consts: { MODE: mode, WG: v.wg }, uses: USES[v.entry] };
  },
});

/** WGSL of a tensor variant, after checking it against `limits`. */
export function tensorSource(v: TensorVariant, limits?: GpuLimits): string {
  return TENSOR.source(v, limits);
}

const ZERO = { rank: 0, J: 1, inner: 1, Lin: 1, value: 0, iter: [], dims: [], src: [], pads: [], taps: [], toff: [], geo: [] };

function checkRank(what: string, rank: number): void {
  if (rank > MAX_TABLE_RANK) throw new Error(`${what}: ${rank} dims exceed ${MAX_TABLE_RANK}`);
}

/** Records y[o, j, k] = x[o, idx[j], k] for x viewed as [outer, Lin, inner] and J indices in `idx` (u32). */
export function encodeGather(e: OpEncoder, x: GPUBuffer, idx: GPUBuffer, y: GPUBuffer, outer: number, Lin: number, J: number, inner: number, wg = DEFAULT_WG): void {
  const n = outer * J * inner;
  if (n === 0) return;
  const s = e.session;
  const grid = linearGrid(s, n, wg);
  dispatch(s, e, TENSOR, { entry: 'gather', wg }, {
    params: { ...ZERO, n, stride: grid.stride, J, inner, Lin },
    bind: { X: binding(s, x, Math.max(1, outer * Lin * inner) * 4), Y: binding(s, y, n * 4), I: binding(s, idx, J * 4) },
    grid,
  });
}

/** Records y[j, c] = table[row(idx[j]), c] for J index values (f32) and a table of `rows` × `width` (NaN for an index that picks no row). */
export function encodeLookup(e: OpEncoder, idx: GPUBuffer, table: GPUBuffer, y: GPUBuffer, J: number, rows: number, width: number, wg = DEFAULT_WG): void {
  const n = J * width;
  if (n === 0) return;
  const s = e.session;
  const grid = linearGrid(s, n, wg);
  dispatch(s, e, TENSOR, { entry: 'lookup', wg }, {
    params: { ...ZERO, n, stride: grid.stride, J, inner: width, Lin: rows },
    bind: { X: binding(s, idx, J * 4), Y: binding(s, y, n * 4), T: binding(s, table, Math.max(1, rows * width) * 4) },
    grid,
  });
}

/**
 * Records GatherElements: y[c] = x[c with c[axis] = idx[c]] for idx (f32 values) of full dims
 * `idxDims` and x of `xDims` (batch first in both), NaN where an index picks no element.
 */
export function encodeGatherElements(e: OpEncoder, x: GPUBuffer, idx: GPUBuffer, y: GPUBuffer, xDims: readonly number[], idxDims: readonly number[], axis: number, wg = DEFAULT_WG): void {
  const n = idxDims.reduce((p, q) => p * q, 1);
  if (n === 0) return;
  checkRank('gather-elements', idxDims.length);
  const s = e.session;
  const grid = linearGrid(s, n, wg);
  dispatch(s, e, TENSOR, { entry: 'take', wg }, {
    params: { ...ZERO, n, stride: grid.stride, rank: idxDims.length, J: axis, Lin: xDims[axis], iter: table(rowMajorStrides(idxDims)), src: table(rowMajorStrides(xDims)) },
    bind: { X: binding(s, x, Math.max(1, xDims.reduce((p, q) => p * q, 1)) * 4), Y: binding(s, y, n * 4), T: binding(s, idx, n * 4) },
    grid,
  });
}

/** Records Pad of x (full dims `inDims`) to `outDims` with begin pads `begin` (negative: crop) per dim. */
export function encodePad(e: OpEncoder, mode: PadMode, x: GPUBuffer, y: GPUBuffer, inDims: readonly number[], outDims: readonly number[], begin: readonly number[], value: number, wg = DEFAULT_WG): void {
  const n = outDims.reduce((p, q) => p * q, 1);
  if (n === 0) return;
  checkRank('pad', outDims.length);
  const inN = inDims.reduce((p, q) => p * q, 1);
  const s = e.session;
  const grid = linearGrid(s, n, wg);
  dispatch(s, e, TENSOR, { entry: 'pad', mode, wg }, {
    params: { ...ZERO, n, stride: grid.stride, rank: outDims.length, value, iter: table(rowMajorStrides(outDims)), dims: table(inDims), src: table(rowMajorStrides(inDims)), pads: table(begin) },
    bind: { X: binding(s, x, Math.max(1, inN) * 4), Y: binding(s, y, n * 4) },
    grid,
    label: mode,
  });
}

/** Per-axis taps of a resize: for each output coordinate, `count` (input index, weight) pairs; index −1 = outside the crop. */
export interface ResizeAxisTaps {
  count: number;
  /** [outLen · count] input indices and weights. */
  idx: readonly number[];
  w: readonly number[];
}

/** Records a separable resize of x (full dims `inDims`) to `outDims`, axis d reading `taps[d]`. */
export function encodeResize(e: OpEncoder, x: GPUBuffer, y: GPUBuffer, inDims: readonly number[], outDims: readonly number[], taps: readonly ResizeAxisTaps[], extrapolation: number, wg = DEFAULT_WG): void {
  const n = outDims.reduce((p, q) => p * q, 1);
  if (n === 0) return;
  checkRank('resize', outDims.length);
  const total = taps.reduce((p, t) => p + t.idx.length, 0);
  const tab = new Float32Array(2 * total);
  const toff: number[] = [];
  let o = 0;
  for (const t of taps) {
    toff.push(o);
    for (let k = 0; k < t.idx.length; k++) {
      tab[2 * (o + k)] = t.idx[k];
      tab[2 * (o + k) + 1] = t.w[k];
    }
    o += t.idx.length;
  }
  const s = e.session;
  const T = e.temp(uploadStorage(s.ctx.device, tab.length > 0 ? tab : new Float32Array(2), 'resize.taps'));
  const grid = linearGrid(s, n, wg);
  dispatch(s, e, TENSOR, { entry: 'resize', wg }, {
    params: { ...ZERO, n, stride: grid.stride, rank: outDims.length, value: extrapolation, iter: table(rowMajorStrides(outDims)), src: table(rowMajorStrides(inDims)), taps: table(taps.map((t) => t.count)), toff: table(toff) },
    bind: { X: binding(s, x, inDims.reduce((p, q) => p * q, 1) * 4), Y: binding(s, y, n * 4), T: binding(s, T, tab.length * 4) },
    grid,
  });
}

/** ConvTranspose's overlap-add geometry (src/ir/ops-tensor.ts Col2ImOp). */
export interface Col2ImGeometry {
  C: number;
  OH: number;
  OW: number;
  H: number;
  W: number;
  kh: number;
  kw: number;
  strides: readonly [number, number];
  pads: readonly [number, number];
  dilations: readonly [number, number];
}

/** Records col2im of B samples of columns [H·W, C·kh·kw] into [B, C, OH, OW], plus bias[c]. */
export function encodeCol2Im(e: OpEncoder, x: GPUBuffer, bias: GPUBuffer, y: GPUBuffer, B: number, g: Col2ImGeometry, wg = DEFAULT_WG): void {
  const n = B * g.C * g.OH * g.OW;
  if (n === 0) return;
  const s = e.session;
  const grid = linearGrid(s, n, wg);
  const geo = [g.C, g.OH, g.OW, g.H, g.W, g.kh, g.kw, g.strides[0], g.strides[1], g.pads[0], g.pads[1], g.dilations[0], g.dilations[1]];
  dispatch(s, e, TENSOR, { entry: 'col2im', wg }, {
    params: { ...ZERO, n, stride: grid.stride, geo },
    bind: { X: binding(s, x, Math.max(1, B * g.H * g.W * g.C * g.kh * g.kw) * 4), Y: binding(s, y, n * 4), T: binding(s, bias, g.C * 4) },
    grid,
  });
}
