import quantizeWgsl from '../../shaders/quantize.wgsl?raw';
import readVarianceWgsl from '../../shaders/read-variance.wgsl?raw';
import type { GpuSession } from '../gpu/runtime.ts';
import { defineKernel, read, readWrite } from './kernel.ts';
import { binding, dispatch, linearGrid, windowBinding, type Recorder } from './dispatch.ts';

/** Workgroup size of the crossbar's input passes (no variants: one per family). */
const WG = 64;

/** Input quantization for the crossbar kernel, and the per-vector X⁻ flags and their count. */
export const QUANTIZE = defineKernel({
  name: 'quantize',
  uniforms: { count: 'u32', stride: 'u32', K: 'u32', x_shift: 'u32', invSx: 'f32', Qx: 'f32' },
  bindings: { x: read('f32'), xq: readWrite('i32'), negFlags: readWrite('atomic<u32>'), negCount: readWrite('atomic<u32>') },
  compile: (_v: { wg: number }) => ({ body: quantizeWgsl, consts: { WG } }),
});

/** What one quantization reads and writes. */
export interface QuantizeJob {
  input: GPUBuffer;
  /** Rows [rowStart, rowStart + rows) of `input` ([.., K] f32). */
  rowStart: number;
  rows: number;
  K: number;
  /** Quantization scale sx (inputs are round(|x|/sx)) and Qx. */
  sx: number;
  Qx: number;
  /** Outputs: [rows, K] i32, [rows] u32 flags (must start zeroed), and the counter of flagged rows. */
  xq: GPUBuffer;
  negFlags: GPUBuffer;
  negCount: GPUBuffer;
}

/** Records the quantization of `rows` input vectors, read through a window of the input. */
export function encodeQuantize(s: GpuSession, rec: Recorder, j: QuantizeJob): void {
  const count = j.rows * j.K;
  const grid = linearGrid(s, count, WG);
  const x = windowBinding(s, j.input, j.rowStart * j.K, count, 4);
  dispatch(s, rec, QUANTIZE, { wg: WG }, {
    params: { count, stride: grid.stride, K: j.K, x_shift: x.shift, invSx: 1 / j.sx, Qx: j.Qx },
    bind: { x: x.binding, xq: binding(s, j.xq, count * 4), negFlags: binding(s, j.negFlags, j.rows * 4), negCount: binding(s, j.negCount, 4) },
    grid,
  });
}

/** Per-vector input sums of additive read noise: Σ V² per row block, cycle and pass. */
export const READ_VARIANCE = defineKernel({
  name: 'read-variance',
  uniforms: { rows: 'u32', stride: 'u32', K: 'u32', blockRows: 'u32', nBlocks: 'u32', dacBits: 'u32', Tfull: 'u32', TK: 'u32', invVm: 'f32' },
  bindings: { xq: read('i32'), stats: readWrite('f32') },
  compile: (_v: { wg: number }) => ({ body: readVarianceWgsl, consts: { WG } }),
});

/** What the per-vector read-noise input sums need. */
export interface ReadVarianceJob {
  xq: GPUBuffer;
  rows: number;
  K: number;
  blockRows: number;
  nBlocks: number;
  dacBits: number;
  /** Input cycles T, and the cycles kept separate (T for digital-sa, 1 for collapsed dataflows). */
  T: number;
  TK: number;
  Vm: number;
  /** Output [rows, 2, nBlocks, TK] f32. */
  stats: GPUBuffer;
}

/** Records the Σ V² sums of additive read noise for every vector, pass, row block and cycle. */
export function encodeReadVariance(s: GpuSession, rec: Recorder, j: ReadVarianceJob): void {
  const n = j.rows * 2 * j.nBlocks;
  const grid = linearGrid(s, n, WG);
  dispatch(s, rec, READ_VARIANCE, { wg: WG }, {
    params: { rows: j.rows, stride: grid.stride, K: j.K, blockRows: j.blockRows, nBlocks: j.nBlocks, dacBits: j.dacBits, Tfull: j.T, TK: j.TK, invVm: 1 / j.Vm },
    bind: { xq: binding(s, j.xq, j.rows * j.K * 4), stats: binding(s, j.stats, n * j.TK * 4) },
    grid,
  });
}
