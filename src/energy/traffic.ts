/**
 * Buffer and interconnect traffic: the counts the cost model adds to section 5's (DESIGN.md section
 * 10). They follow ISAAC's dataflow: each layer reads its input vectors from the tile eDRAM over the
 * eDRAM–IMA bus into the IMAs' input registers, and writes its outputs back to eDRAM, from where
 * they cross one router to the tile of the next layer.
 */
import type { XbarConfig } from '../config/types.ts';
import { layerGeometry } from '../crossbar/geometry.ts';
import { layerMacs, type CostLayer } from './layers.ts';
import { PARTIAL_SUM_BITS } from './isaac-table1.ts';

/** Traffic per inference (bits and operations). */
export interface TrafficCounts {
  /** Input bits read from eDRAM: every input vector once (its X⁻ pass reuses the input register). */
  bufferReadBits: number;
  /** Output bits written to eDRAM, at the activation precision (inputs.bits). */
  bufferWriteBits: number;
  /**
   * Bits read from the IMAs' input registers: inputs.dacBits bits for each row of a row block, each
   * input cycle and pass, once per IMA the block's arrays occupy (arrays of one IMA fan the same register bit out to their
   * DACs; section 5's dacActivations count every array's row separately).
   */
  inputRegisterBits: number;
  /** Bits over the eDRAM–IMA bus: the reads and writes above (Accelergy's "bus BW = eDRAM BW") plus a 16-bit partial sum for every row-block output beyond one per output. */
  busBits: number;
  /** Bits through a router: every output once, to the tiles of the layer that reads it. */
  routerBits: number;
  /** Row-block outputs the tile's digital units merge (partial-sum addition, activation, pooling): Σ_v P_v·blocks per output column. */
  blockOutputs: number;
  /** MACs of layers kept digital (no crossbar). */
  digitalMacs: number;
}

export const TRAFFIC_NAMES: readonly (keyof TrafficCounts)[] = ['bufferReadBits', 'bufferWriteBits', 'inputRegisterBits', 'busBits', 'routerBits', 'blockOutputs', 'digitalMacs'];

/**
 * Traffic of one layer per inference; `chip` gives the activation width of a layer kept digital,
 * `arraysPerIma` how many arrays share an input register.
 */
export function layerTraffic(l: CostLayer, chip: XbarConfig, arraysPerIma: number): TrafficCounts {
  const bits = (l.cfg ?? chip).inputs.bits;
  const vectors = l.groups * l.vectorsPerSample;
  const bufferReadBits = vectors * l.K * bits;
  const bufferWriteBits = vectors * l.N * bits;
  if (!l.cfg) return { bufferReadBits, bufferWriteBits, inputRegisterBits: 0, busBits: bufferReadBits + bufferWriteBits, routerBits: bufferWriteBits, blockOutputs: 0, digitalMacs: layerMacs(l) };
  const g = layerGeometry(l.K, l.N, l.cfg);
  const blocks = g.blocks.length;
  const registerRows = g.blocks.reduce((a, b) => a + b.rows * Math.ceil(b.arrays / arraysPerIma), 0);
  const blockOutputs = l.groups * l.N * blocks * l.passes;
  return {
    bufferReadBits,
    bufferWriteBits,
    inputRegisterBits: l.groups * l.passes * g.T * l.cfg.inputs.dacBits * registerRows,
    busBits: bufferReadBits + bufferWriteBits + (blockOutputs - vectors * l.N) * PARTIAL_SUM_BITS,
    routerBits: bufferWriteBits,
    blockOutputs,
    digitalMacs: 0,
  };
}

export function zeroTraffic(): TrafficCounts {
  return { bufferReadBits: 0, bufferWriteBits: 0, inputRegisterBits: 0, busBits: 0, routerBits: 0, blockOutputs: 0, digitalMacs: 0 };
}

export function addTraffic(a: TrafficCounts, b: TrafficCounts): TrafficCounts {
  const out = { ...a };
  for (const k of TRAFFIC_NAMES) out[k] += b[k];
  return out;
}
