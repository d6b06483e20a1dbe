import quantizeWgsl from '../../shaders/quantize.wgsl?raw';
import rowStatsWgsl from '../../shaders/row-stats.wgsl?raw';
import type { GpuSession } from '../gpu/runtime.ts';
import { defineKernel, read, readWrite } from './kernel.ts';
import { binding, dispatch, linearGrid, windowBinding, type Recorder } from './dispatch.ts';

/** Workgroup size of the crossbar's input passes (no variants: one per family). */
const WG = 64;

/** Input quantization for the crossbar kernel, and the per-vector X⁻ flags and their count. */
export const QUANTIZE = defineKernel({
  name: 'quantize',
  uniforms: { count: 'u32', stride: 'u32', K: 'u32', x_shift: 'u32', invSx: 'f32', Qx: 'f32' },
  bindings: { x: read('f32'), xq: readWrite('i32'), negFlags: readWrite('atomic<u32>'), negCount: readWrite('atomic<u32>'), mags: readWrite('f32') },
  compile: (v: { wg: number; decode?: boolean }) => ({ body: quantizeWgsl, consts: { WG, DECODE: v.decode ?? false } }),
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
  /** Also each pass's magnitudes as f32, [rows, 2, K] (the exact general variant's decoded inputs). */
  mags?: GPUBuffer;
}

/** Records the quantization of `rows` input vectors, read through a window of the input. */
export function encodeQuantize(s: GpuSession, rec: Recorder, j: QuantizeJob): void {
  const count = j.rows * j.K;
  const grid = linearGrid(s, count, WG);
  const x = windowBinding(s, j.input, j.rowStart * j.K, count, 4);
  dispatch(s, rec, QUANTIZE, { wg: WG, decode: j.mags !== undefined }, {
    params: { count, stride: grid.stride, K: j.K, x_shift: x.shift, invSx: 1 / j.sx, Qx: j.Qx },
    bind: { x: x.binding, xq: binding(s, j.xq, count * 4), negFlags: binding(s, j.negFlags, j.rows * 4), negCount: binding(s, j.negCount, 4), mags: j.mags ? binding(s, j.mags, count * 8) : binding(s, rec.temp(s.ctx.device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE, label: 'quantize.noMags' })), 16) },
    grid,
  });
}

/** Per-vector input statistics of the crossbar kernel: Σ V² of additive read noise, and the integer input sums of exact levels. */
export const ROW_STATS = defineKernel({
  name: 'row-stats',
  uniforms: {
    rows: 'u32', stride: 'u32', K: 'u32', blockRows: 'u32', nBlocks: 'u32', dacBits: 'u32', Tfull: 'u32', TK: 'u32', invVm: 'f32',
    SC: 'u32', bitStep: 'u32', bitCount: 'u32', sumBase: 'u32',
  },
  bindings: { xq: read('i32'), stats: readWrite('u32') },
  compile: (_v: { wg: number }) => ({ body: rowStatsWgsl, consts: { WG } }),
});

/** What the per-vector statistics need. */
export interface RowStatsJob {
  xq: GPUBuffer;
  rows: number;
  K: number;
  blockRows: number;
  nBlocks: number;
  dacBits: number;
  /** Input cycles T. */
  T: number;
  /** Σ V² cycles kept separate (T for digital-sa, 1 for collapsed dataflows), or 0 without additive read noise. */
  TK: number;
  Vm: number;
  /**
   * Integer input sums of exact levels, or null: `cycles` sums of the input bits (u >> c·bitStep) & (2^bitCount − 1),
   * c < cycles, then Σ u, per vector, pass and row block (rowStatsLayout).
   */
  sums: { cycles: number; bitStep: number; bitCount: number } | null;
  /** Output: rowStatsLayout(...).words u32 per vector. */
  stats: GPUBuffer;
}

/** Words of the statistics of `rows` vectors: Σ V² ([rows, 2, nBlocks, TK] f32 bits), then from sumBase the integer sums ([rows, 2, nBlocks, cycles + 1] u32). */
export function rowStatsLayout(rows: number, nBlocks: number, TK: number, sumCycles: number | null): { sumBase: number; words: number } {
  const sumBase = rows * 2 * nBlocks * TK;
  return { sumBase, words: sumBase + (sumCycles === null ? 0 : rows * 2 * nBlocks * (sumCycles + 1)) };
}

/** Records the per-vector statistics of every vector, pass, row block and cycle. */
export function encodeRowStats(s: GpuSession, rec: Recorder, j: RowStatsJob): void {
  const n = j.rows * 2 * j.nBlocks;
  const grid = linearGrid(s, n, WG);
  const { sumBase, words } = rowStatsLayout(j.rows, j.nBlocks, j.TK, j.sums?.cycles ?? null);
  dispatch(s, rec, ROW_STATS, { wg: WG }, {
    params: {
      rows: j.rows, stride: grid.stride, K: j.K, blockRows: j.blockRows, nBlocks: j.nBlocks, dacBits: j.dacBits, Tfull: j.T, TK: j.TK, invVm: 1 / j.Vm,
      SC: j.sums?.cycles ?? 0, bitStep: j.sums?.bitStep ?? 0, bitCount: j.sums?.bitCount ?? 0, sumBase,
    },
    bind: { xq: binding(s, j.xq, j.rows * j.K * 4), stats: binding(s, j.stats, words * 4) },
    grid,
  });
}
