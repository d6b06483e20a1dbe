import type { XbarConfig } from '../config/types.ts';
import type { LayerGeometry } from './geometry.ts';

/** Event counts of DESIGN.md section 5 (normative names). */
export interface EventCounts {
  adcConversions: number;
  dacActivations: number;
  cellReads: number;
  analogAccumulations: number;
  digitalShiftAdds: number;
  arrays: number;
  /**
   * Additions of horizontal partitions' column currents in the periphery (array.partitions.rows > 1):
   * per cycle, per used column, one less than the partitions the block's rows span (DESIGN.md section 13).
   */
  partitionAdds: number;
}

export const COUNT_NAMES: readonly (keyof EventCounts)[] = [
  'adcConversions',
  'dacActivations',
  'cellReads',
  'analogAccumulations',
  'digitalShiftAdds',
  'arrays',
  'partitionAdds',
];

/** κ: conversions per row block and output column for one pass. */
export function conversionsPerOutput(g: LayerGeometry, cfg: XbarConfig): number {
  switch (cfg.dataflow) {
    case 'digital-sa':
      return cfg.weights.mapping === 'differential' && cfg.adc.subtract === 'digital' ? g.T * g.S * 2 : g.T * g.S;
    case 'buffered':
      return g.S;
    case 'analog-sa':
      return 1;
  }
}

/** Counts for a layer over input vectors whose passes total `passes` (Σ_v P_v, each P_v in {1,2}). */
export function layerCounts(g: LayerGeometry, cfg: XbarConfig, passes: number): EventCounts {
  const kappa = conversionsPerOutput(g, cfg);
  const analog = cfg.dataflow !== 'digital-sa';
  let adc = 0;
  let dac = 0;
  let reads = 0;
  let acc = 0;
  let arrays = 0;
  let adds = 0;
  // Partitions: each vertical one has its own row drivers; each horizontal one its own sense terminals.
  const partRows = Math.ceil(cfg.array.rows / cfg.array.partitions.rows);
  const partCols = Math.ceil(cfg.array.cols / cfg.array.partitions.cols);
  const columns = g.N * g.S * g.pol;
  for (const b of g.blocks) {
    adc += g.N * kappa;
    let driven = 0;
    for (let a = 0; a < b.arrays; a++) driven += Math.ceil(Math.min(cfg.array.cols, columns - a * cfg.array.cols) / partCols);
    dac += b.rows * g.T * driven;
    adds += g.T * columns * (Math.ceil(b.rows / partRows) - 1);
    reads += b.rows * g.T * g.N * g.S * g.pol;
    if (analog) acc += g.N * g.S * g.T;
    arrays += b.arrays;
  }
  return {
    adcConversions: passes * adc,
    dacActivations: passes * dac,
    cellReads: passes * reads,
    analogAccumulations: passes * acc,
    digitalShiftAdds: passes * adc,
    arrays,
    partitionAdds: passes * adds,
  };
}

/** Σ_v P_v: one pass per vector, two for vectors with a negative entry. */
export function totalPasses(negFlags: Uint32Array): number {
  let p = 0;
  for (const f of negFlags) p += 1 + f;
  return p;
}

/** Element-wise sum of counts (arrays included: a network's total is the sum of its layers). */
export function addCounts(a: EventCounts, b: EventCounts): EventCounts {
  const out = { ...a };
  for (const k of COUNT_NAMES) out[k] += b[k];
  return out;
}

export function zeroCounts(): EventCounts {
  return { adcConversions: 0, dacActivations: 0, cellReads: 0, analogAccumulations: 0, digitalShiftAdds: 0, arrays: 0, partitionAdds: 0 };
}
