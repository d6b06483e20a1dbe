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
 * LayerReadout numbers them. The tables of every supported model are in LSB and so do not depend on the
 * range; a nonuniform ADC fitted on calibration inputs (absolute levels) is not packed here.
 */
export interface PackedTables {
  data: Float32Array;
  /** Breakpoints per instance, instances per row block, all instances, first value's index. */
  M: number;
  groups: number;
  instances: number;
  valueBase: number;
}

/** The packed tables of layer `geom` under `cfg` on chip `id` (null: the nominal chip). */
export function packAdcTables(cfg: XbarConfig, geom: LayerGeometry, id: ChipId | null): PackedTables {
  if (cfg.adc.model === 'nonuniform' && cfg.adc.nonuniform.levels.length === 0) throw new Error('adc.nonuniform: fitted levels are absolute and are not packed as LSB tables');
  const r = layerReadout(cfg, geom, id);
  const nBlocks = geom.blocks.length;
  const instances = nBlocks * r.groups;
  const tables = [];
  for (let p = 0; p < nBlocks; p++) {
    for (let gi = 0; gi < r.groups; gi++) tables.push(r.adc(p, gi * cfg.adc.groupSize).table(1));
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
