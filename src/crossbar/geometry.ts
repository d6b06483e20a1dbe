import { deviceRange } from '../config/device.ts';
import type { XbarConfig } from '../config/types.ts';

/** One row block: a contiguous range of W's rows converted separately, then summed digitally. */
export interface RowBlock {
  start: number;
  /** Rp: this block's own row count (the last block may be shorter). */
  rows: number;
  /** A_p = ceil(N·S·pol / array.cols): physical arrays the block's columns are packed into. */
  arrays: number;
}

/** Every derived size of one crossbar layer (DESIGN.md section 3), shared by both backends. */
export interface LayerGeometry {
  K: number;
  N: number;
  /** Weight bits (sign included) and Qw = 2^(nw-1) - 1. */
  nw: number;
  Qw: number;
  /** Polarities: 2 (differential) or 1 (offset), and magnitude bits m. */
  pol: 1 | 2;
  m: number;
  /** Cell bits c and slices S = ceil(m / c). */
  c: number;
  S: number;
  /** Input bits, Qx, DAC bits b, cycles T, and Vm = 2^b - 1. */
  nin: number;
  Qx: number;
  b: number;
  T: number;
  Vm: number;
  /** Normalized conductances: Gmin and the step between cell levels. */
  Gmin: number;
  dG: number;
  blocks: RowBlock[];
}

/** Computes the geometry of a K×N layer under `cfg`. */
export function layerGeometry(K: number, N: number, cfg: XbarConfig): LayerGeometry {
  const nw = cfg.weights.bits;
  const Qw = 2 ** (nw - 1) - 1;
  const differential = cfg.weights.mapping === 'differential';
  const pol = differential ? 2 : 1;
  const m = differential ? nw - 1 : nw;
  const c = cfg.weights.cellBits;
  const S = Math.ceil(m / c);
  const nin = cfg.inputs.bits;
  const b = cfg.inputs.dacBits;
  const T = Math.ceil(nin / b);
  const Gmin = deviceRange(cfg).GminNorm;
  const dG = (1 - Gmin) / (2 ** c - 1);
  const blocks: RowBlock[] = [];
  for (let start = 0; start < K; start += cfg.array.rows) {
    const rows = Math.min(cfg.array.rows, K - start);
    blocks.push({ start, rows, arrays: Math.ceil((N * S * pol) / cfg.array.cols) });
  }
  return { K, N, nw, Qw, pol, m, c, S, nin, Qx: 2 ** nin - 1, b, T, Vm: 2 ** b - 1, Gmin, dG, blocks };
}

/** w(t,s) = 2^(t·b + s·c): the significance of cycle t and slice s. */
export function significance(g: LayerGeometry, t: number, s: number): number {
  return 2 ** (t * g.b + s * g.c);
}
