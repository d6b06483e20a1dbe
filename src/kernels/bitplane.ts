import bitpackWgsl from '../../shaders/bitpack.wgsl?raw';
import type { XbarConfig } from '../config/types.ts';
import type { LayerGeometry } from '../crossbar/geometry.ts';
import type { ProgrammedLayer } from '../crossbar/program.ts';
import type { GpuSession } from '../gpu/runtime.ts';
import { hasWires } from '../circuits/params.ts';
import { defineKernel, read, readWrite } from './kernel.ts';
import { binding, dispatch, linearGrid, type Recorder } from './dispatch.ts';
import { devicePlan } from './device.ts';
import { ceilDiv } from './template.ts';
import type { ColumnSlice, PlaneLayout } from './program.ts';

/*
 * Exact-level crossbar arithmetic (issue 16 item 5). With no static noise every programmed conductance is
 * Gmin + d·ΔG for an integer digit d, so each plane the kernel multiplies by (a cell, a difference of two,
 * or their slice-weighted sum: src/kernels/program.ts planeLayout) is off + e·ΔG with an integer e, and a
 * column current is (ΔG·Σ u·e + off·Σ u)/Vm over the cycle's integer inputs u. The kernel then sums
 * integers (EXACT) and, where it pays, does so 32 rows per instruction on packed bit planes (BITPLANE).
 */

/** Why a layer's conductances are not exact levels for the kernel's integer path (null when they are). */
export function exactGap(cfg: XbarConfig, g: LayerGeometry, layout: PlaneLayout): string | null {
  const n = cfg.noise;
  if (devicePlan(cfg, g) !== null) return `noise.device.model "${cfg.noise.device.model}"`;
  if (n.programming.sigma > 0) return 'noise.programming.sigma > 0';
  if (n.stuckAt.sa0 > 0 || n.stuckAt.sa1 > 0) return 'noise.stuckAt';
  if (n.drift.t !== n.drift.t0 && (n.drift.nu > 0 || n.drift.nuStd > 0)) return 'noise.drift';
  if (hasWires(cfg)) return `circuit.model "${cfg.circuit.model}"`;
  // Proportional read noise needs Σ V²·G² per column: a float sum the bit planes do not form.
  if (n.read.sigma > 0 && n.read.model === 'proportional') return 'noise.read.model "proportional"';
  const d = planeDigits(g, layout.mode);
  // Both variants' integer sums must stay below 2^31 (i32 in the general variants, offset u32 in the bit planes).
  const bound = Math.min(cfg.array.rows, g.K) * g.Qx * 2 * d.eMax;
  if (bound >= 2 ** 31) return `array.rows × inputs × digits up to ${bound} overflow 32-bit sums`;
  return null;
}

/**
 * The one plane an ideal run multiplies by (DESIGN.md section 3's exact case): each weight's stored
 * integer E = Σ_s 2^(s·c)·(e⁺_s − e⁻_s) (offset mapping: its one polarity), driven by the whole input
 * at once. With an ideal ADC and no per-read noise every dataflow's row-block output is Σ_k u_k·E_k
 * (less Qw·Σu for offset), so this collapsed one-plane GEMM replaces T cycles × S·pol planes.
 */
export function idealLayout(g: LayerGeometry): PlaneLayout {
  return { mode: 'weighted-difference', npl: 1, collapsed: true, weights: Float64Array.of(g.Vm / g.dG), varFactors: new Float64Array(1), gminSub: 0, pairs: false };
}

/**
 * Why a layer's run is not the exact integer product that `idealLayout` computes (null when it is): the
 * ADC must be ideal, nothing per read may be drawn, the levels must be exact (`exactGap`) and the
 * integer sums of both the layer's own planes and the one ideal plane must fit 32 bits.
 */
export function idealGap(cfg: XbarConfig, g: LayerGeometry, layout: PlaneLayout): string | null {
  if (cfg.adc.bits > 0) return 'adc.bits > 0';
  if (cfg.noise.read.sigma > 0) return 'noise.read.sigma > 0';
  if (cfg.dataflow !== 'digital-sa' && (cfg.analog.gainSigma > 0 || cfg.analog.noise > 0)) return 'analog.gainSigma or analog.noise > 0';
  if (cfg.dataflow !== 'digital-sa' && cfg.analog.model === 'neural') return 'analog.model "neural"';
  if (!(g.dG > 0)) return 'no conductance step (ΔG = 0)';
  return exactGap(cfg, g, layout) ?? exactGap(cfg, g, idealLayout(g));
}

/** Whether every partial sum Σ u·e of a row block stays below 2^24, where f32 holds integers exactly. */
export function exactInF32(cfg: XbarConfig, g: LayerGeometry, layout: PlaneLayout): boolean {
  return Math.min(cfg.array.rows, g.K) * g.Qx * planeDigits(g, layout.mode).eMax < 2 ** 24;
}

/** Input bit planes the kernel drives: T·b (≥ inputs.bits), so every cycle's bits exist. */
export function inputBits(g: LayerGeometry): number {
  return g.T * g.b;
}

/** Integer digits of one plane kind: e ∈ [−eMax, eMax] (cells [0, eMax]), stored as e + eOff in wbits bits. */
export interface PlaneDigits {
  eMax: number;
  eOff: number;
  wbits: number;
  /** Per-plane current = exDG·e + exOff (cells carry Gmin, differences cancel it). */
  exDG: number;
  exOff: number;
}

/** The digit range of a plane mode's planes. */
export function planeDigits(g: LayerGeometry, mode: PlaneLayout['mode']): PlaneDigits {
  const cell = 2 ** g.c - 1;
  if (mode === 'cells') return { eMax: cell, eOff: 0, wbits: g.c, exDG: g.dG, exOff: g.Gmin };
  const eMax = mode === 'difference' ? cell : 2 ** (g.S * g.c) - 1;
  return { eMax, eOff: eMax, wbits: Math.ceil(Math.log2(2 * eMax + 1)), exDG: g.dG, exOff: 0 };
}

/**
 * Why the bit-plane variant is not chosen for a layer whose levels are exact (null when it is): it costs
 * bits-per-cycle × digit planes AND+popcounts per 32 rows against the general variant's 32 multiply-adds,
 * so it is taken only where that is no more.
 */
export function bitplaneCostGap(g: LayerGeometry, layout: PlaneLayout, cfg: XbarConfig): string | null {
  const nsa = cfg.analog.model === 'neural' && cfg.dataflow !== 'digital-sa';
  const perCycle = layout.collapsed && !nsa ? inputBits(g) : g.b;
  const ops = perCycle * planeDigits(g, layout.mode).wbits;
  return ops <= 32 ? null : `${perCycle} input bits × ${planeDigits(g, layout.mode).wbits} digit planes = ${ops} popcounts per 32 rows (> 32 multiply-adds)`;
}

/** Cell digit d of G's cell index i (round((G − Gmin)/ΔG); 0 when ΔG = 0, where every level is Gmin). */
function digitAt(layer: ProgrammedLayer, i: number): number {
  const { Gmin, dG } = layer.geom;
  return dG > 0 ? Math.round((layer.G[i] - Gmin) / dG) : 0;
}

/** Plane digit e of (row k, plane, column j), from the noise-free cells. */
function planeDigit(layer: ProgrammedLayer, layout: PlaneLayout, k: number, plane: number, j: number): number {
  const g = layer.geom;
  const cell = (s: number, q: number) => digitAt(layer, ((k * g.S + s) * g.pol + q) * g.N + j);
  if (layout.mode === 'cells') return cell(Math.floor(plane / g.pol), plane % g.pol);
  if (layout.mode === 'difference') return cell(plane, 0) - cell(plane, 1);
  let e = 0;
  // One polarity (offset mapping, the ideal plane of src/kernels/bitplane.ts idealLayout): no negative cell.
  for (let s = 0; s < g.S; s++) e += 2 ** (s * g.c) * (cell(s, 0) - (g.pol > 1 ? cell(s, 1) : 0));
  return e;
}

/** The general variants' EXACT planes of one column slice: [K, npl, n4·4] digits e as f32 (exact integers). */
export function digitPlanes(layer: ProgrammedLayer, layout: PlaneLayout, slice: ColumnSlice): Float32Array {
  const { K } = layer.geom;
  const w = slice.n4 * 4;
  const out = new Float32Array(K * layout.npl * w);
  for (let k = 0; k < K; k++) {
    for (let pl = 0; pl < layout.npl; pl++) {
      for (let j = 0; j < slice.ncols; j++) out[(k * layout.npl + pl) * w + j] = planeDigit(layer, layout, k, pl, 4 * slice.col4 + j);
    }
  }
  return out;
}

/** 32-row words per row block, and over all row blocks. */
export function wordLayout(g: LayerGeometry, blockRows: number): { blockWords: number; wordsTotal: number } {
  const blockWords = ceilDiv(Math.min(blockRows, g.K), 32);
  return { blockWords, wordsTotal: blockWords * g.blocks.length };
}

/** The bit-plane variant's planes of one column slice: [wordsTotal, npl, wbits, n4·4] u32 of e + eOff. */
export function packedPlanes(layer: ProgrammedLayer, layout: PlaneLayout, slice: ColumnSlice, blockRows: number): Uint32Array {
  const g = layer.geom;
  const { blockWords, wordsTotal } = wordLayout(g, blockRows);
  const d = planeDigits(g, layout.mode);
  const w4 = slice.n4 * 4;
  const out = new Uint32Array(wordsTotal * layout.npl * d.wbits * w4);
  for (let k = 0; k < g.K; k++) {
    const p = Math.floor(k / blockRows);
    const r = k - p * blockRows;
    const word = p * blockWords + (r >>> 5);
    const bit = 1 << (r & 31);
    for (let pl = 0; pl < layout.npl; pl++) {
      for (let j = 0; j < slice.ncols; j++) {
        const e = planeDigit(layer, layout, k, pl, 4 * slice.col4 + j) + d.eOff;
        for (let b = 0; b < d.wbits; b++) if ((e >>> b) & 1) out[((word * layout.npl + pl) * d.wbits + b) * w4 + j] |= bit;
      }
    }
  }
  return out;
}

/** Packing of quantized inputs into the bit-plane variant's input words (shaders/bitpack.wgsl). */
export const BITPACK = defineKernel({
  name: 'bitpack',
  uniforms: { count: 'u32', stride: 'u32', K: 'u32', blockRows: 'u32', blockWords: 'u32', wordsTotal: 'u32', inBits: 'u32' },
  bindings: { xq: read('i32'), bits: readWrite('u32') },
  compile: (_v: { wg: number }) => ({ body: bitpackWgsl, consts: { WG: 64 } }),
});

/** Bytes of packed input bits per input vector. */
export function packedRowBytes(g: LayerGeometry, blockRows: number): number {
  return 4 * 2 * inputBits(g) * wordLayout(g, blockRows).wordsTotal;
}

/** Records the packing of `rows` quantized vectors ([rows, K] i32 in xq) into `bits` ([rows, 2, inBits, wordsTotal] u32). */
export function encodeBitpack(s: GpuSession, rec: Recorder, j: { xq: GPUBuffer; bits: GPUBuffer; rows: number; g: LayerGeometry; blockRows: number }): void {
  const { blockWords, wordsTotal } = wordLayout(j.g, j.blockRows);
  const count = j.rows * 2 * wordsTotal;
  const grid = linearGrid(s, count, 64);
  dispatch(s, rec, BITPACK, { wg: 64 }, {
    params: { count, stride: grid.stride, K: j.g.K, blockRows: j.blockRows, blockWords, wordsTotal, inBits: inputBits(j.g) },
    bind: { xq: binding(s, j.xq, j.rows * j.g.K * 4), bits: binding(s, j.bits, j.rows * packedRowBytes(j.g, j.blockRows)) },
    grid,
  });
}
