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
  const data = new Float32Array(valueBase + instances * (M + 1));
  tables.forEach((t, i) => {
    const bp = data.subarray(i * M, (i + 1) * M).fill(TABLE_PAD);
    bp.set(t.breakpoints);
    const vals = data.subarray(valueBase + i * (M + 1), valueBase + (i + 1) * (M + 1));
    vals.set(t.values);
    // Values past the last real segment are never read (padded breakpoints); repeat the last one anyway.
    vals.fill(t.values[t.values.length - 1], t.values.length);
  });
  return { data, M, groups: r.groups, instances, valueBase };
}
