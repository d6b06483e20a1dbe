import type { XbarConfig } from '../config/types.ts';
import type { ChipId } from '../crossbar/chip.ts';
import type { LayerGeometry } from '../crossbar/geometry.ts';
import { layerReadout } from './layer.ts';

/** Pads a short breakpoint list: never ≤ any finite input, so the padded segments are never reached. */
export const TABLE_PAD = 3.4028234663852886e38;

/**
 * Every ADC instance's transfer table of one layer on one chip, packed for the crossbar kernel: M
 * breakpoints per instance (the longest table; shorter ones padded with TABLE_PAD), then M + 1 values
 * per instance, both in LSB of the instance's range. Instance i = p·groups + floor(f / groupSize), as
 * LayerReadout numbers them. The tables of every model but one are in LSB and so do not depend on the
 * range; a nonuniform ADC fitted on calibration inputs has absolute levels, so its table of row block p is
 * taken at that block's range (`fit`), and is packed again whenever the ranges change.
 */
export interface PackedTables {
  data: Float32Array;
  /** Breakpoints per instance, instances per row block, all instances, first value's index. */
  M: number;
  groups: number;
  instances: number;
  valueBase: number;
  /** The lookup's cell index (cellIndex below): where it starts in data, and its geometry. */
  index: CellIndex;
  /** Every instance's values are `countBase` + segment (a counting converter): the kernel computes them instead of reading them. */
  counting: boolean;
  countBase: number;
}

/**
 * A uniform grid over the input (cells of 2^shift LSB from origin·2^shift) and, per instance and cell,
 * the number of breakpoints below the cell's start: segmentOf(u) = start[cell(u)] plus the at most
 * `corrections` breakpoints inside the cell that are ≤ u. The kernel's lookup is then one read and a
 * few compares instead of a binary search. Built on the f32 breakpoints the kernel compares against, with
 * cell(u) = floor(u·2^−shift) − origin (exact in f32), so it reproduces the binary search exactly.
 */
export interface CellIndex {
  base: number;
  cells: number;
  /** 2^−shift. */
  scale: number;
  origin: number;
  corrections: number;
}

/** Cells of one instance's index at most: about four per breakpoint (reads stay few when breakpoints crowd). */
function maxCells(M: number): number {
  return 4 * M + 16;
}

/**
 * The finest grid (shift from −4 up) whose cells over every instance's real breakpoints (f32) stay within
 * maxCells, and its start counts, instance by instance: [instances, cells] from `base` in the packed data.
 */
function cellIndex(bps: Float32Array[], M: number, base: number): { index: CellIndex; starts: Float32Array } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const b of bps) {
    if (b.length === 0) continue;
    lo = Math.min(lo, b[0]);
    hi = Math.max(hi, b[b.length - 1]);
  }
  if (lo === Infinity) {
    lo = 0;
    hi = 0;
  }
  let shift = -4;
  const cellOf = (u: number, sc: number): number => Math.floor(u * sc);
  while ((cellOf(hi, 2 ** -shift) - cellOf(lo, 2 ** -shift) + 2) > maxCells(M)) shift++;
  const scale = 2 ** -shift;
  const origin = cellOf(lo, scale);
  // One cell past the last breakpoint's: every breakpoint lies below its start.
  const cells = cellOf(hi, scale) - origin + 2;
  const starts = new Float32Array(bps.length * cells);
  let corrections = 0;
  bps.forEach((b, i) => {
    const row = starts.subarray(i * cells, (i + 1) * cells);
    let k = 0;
    for (let c = 0; c < cells; c++) {
      const start = (origin + c) / scale;
      while (k < b.length && b[k] < start) k++;
      row[c] = k;
      if (c > 0) corrections = Math.max(corrections, k - row[c - 1]);
    }
    corrections = Math.max(corrections, b.length - k);
  });
  return { index: { base, cells, scale, origin, corrections }, starts };
}

/** Levels fitted on the calibration inputs (absolute units, ProgrammedLayer.adcLevels) and each row block's range. */
export interface FittedTables {
  levels: Float64Array;
  ranges: Float64Array;
}

/** Whether the layer's ADC levels are fitted by Lloyd-Max on its calibration inputs (adc.nonuniform.levels []). */
export function fitsLevels(cfg: XbarConfig): boolean {
  return cfg.adc.model === 'nonuniform' && cfg.adc.nonuniform.levels.length === 0 && cfg.adc.bits > 0;
}

/** The packed tables of layer `geom` under `cfg` on chip `id` (null: the nominal chip); `fit` for fitted levels. */
export function packAdcTables(cfg: XbarConfig, geom: LayerGeometry, id: ChipId | null, fit: FittedTables | null = null): PackedTables {
  if (fitsLevels(cfg) && fit === null) throw new Error('adc.nonuniform: fitted levels are absolute: pack them with the row blocks\' ranges');
  const r = layerReadout(cfg, geom, id, fit?.levels ?? null);
  const nBlocks = geom.blocks.length;
  const instances = nBlocks * r.groups;
  const tables = [];
  for (let p = 0; p < nBlocks; p++) {
    // A fitted table at a block whose range is 0 is never read (the kernel outputs 0 there).
    const hi = fit ? fit.ranges[p] || 1 : 1;
    for (let gi = 0; gi < r.groups; gi++) tables.push(r.adc(p, gi * cfg.adc.groupSize).table(hi));
  }
  const M = Math.max(1, ...tables.map((t) => t.breakpoints.length));
  const valueBase = instances * M;
  const f32 = tables.map((t) => Float32Array.from(t.breakpoints));
  const { index, starts } = cellIndex(f32, M, valueBase + instances * (M + 1));
  const data = new Float32Array(index.base + starts.length);
  data.set(starts, index.base);
  const countBase = tables[0]?.values[0] ?? 0;
  const counting = tables.every((t) => t.values.every((v, i) => Math.fround(v) === Math.fround(countBase + i)));
  tables.forEach((t, i) => {
    const bp = data.subarray(i * M, (i + 1) * M).fill(TABLE_PAD);
    bp.set(t.breakpoints);
    const vals = data.subarray(valueBase + i * (M + 1), valueBase + (i + 1) * (M + 1));
    vals.set(t.values);
    // Values past the last real segment are never read (padded breakpoints); repeat the last one anyway.
    vals.fill(t.values[t.values.length - 1], t.values.length);
  });
  return { data, M, groups: r.groups, instances, valueBase, index, counting, countBase };
}
