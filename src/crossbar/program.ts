import type { XbarConfig } from '../config/types.ts';
import { layerGeometry, type LayerGeometry } from './geometry.ts';
import { quantizeWeights } from './quantize.ts';

/**
 * A programmed chip layer: the conductance of every cell, G[k][s][pol][j] (flat, in that order:
 * row-major over k so one row block is one contiguous range), plus what the digital side needs.
 */
export interface ProgrammedLayer {
  geom: LayerGeometry;
  /** Weight scales per output column. */
  sw: Float64Array;
  /** Quantized weights (kept for oracles and reports). */
  q: Int32Array;
  /** Cell conductances, length K·S·pol·N; index `((k·S + s)·pol + p)·N + j`. */
  G: Float64Array;
  /**
   * Output levels of a nonuniform ADC fitted (Lloyd-Max) on this layer's calibration inputs, in ADC input
   * units; set by calibration when `adc.nonuniform.levels` is [] (src/readout), shared by its chips.
   */
  adcLevels?: Float64Array;
}

/** Index of cell (k, slice s, polarity p, column j) in ProgrammedLayer.G. */
export function cellIndex(g: LayerGeometry, k: number, s: number, p: number, j: number): number {
  return ((k * g.S + s) * g.pol + p) * g.N + j;
}

/**
 * Programs W [K, N] onto a chip: quantize, map signs (differential or offset), slice into cellBits
 * digits and turn digits into conductances `G = Gmin + d·ΔG` (DESIGN.md section 3).
 * Static noise (section 4) is applied afterwards, per chip.
 */
export function programLayer(W: ArrayLike<number>, K: number, N: number, cfg: XbarConfig): ProgrammedLayer {
  const geom = layerGeometry(K, N, cfg);
  const { q, sw } = quantizeWeights(W, K, N, geom.Qw, cfg.weights.perChannel);
  const { S, pol, c, Gmin, dG, Qw } = geom;
  const mask = 2 ** c - 1;
  const G = new Float64Array(K * S * pol * N);
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < N; j++) {
      const qv = q[k * N + j];
      const mags = pol === 2 ? [Math.max(qv, 0), Math.max(-qv, 0)] : [qv + Qw];
      for (let p = 0; p < pol; p++) {
        for (let s = 0; s < S; s++) {
          // Digits via division: magnitudes stay below 2^16, so this is exact and matches (mag >> s·c) & mask.
          const d = Math.floor(mags[p] / 2 ** (s * c)) & mask;
          G[cellIndex(geom, k, s, p, j)] = Gmin + d * dG;
        }
      }
    }
  }
  return { geom, sw, q, G };
}
