import type { XbarConfig } from '../config/types.ts';
import type { LayerGeometry } from './geometry.ts';
import { clamp, roundHalfEven } from './rounding.ts';

/** Whether the dataflow's ADC sees a signed value (an analog difference) rather than one polarity's current. */
export function adcIsSigned(cfg: XbarConfig): boolean {
  return cfg.dataflow !== 'digital-sa' || (cfg.adc.subtract === 'analog' && cfg.weights.mapping === 'differential');
}

/** Largest code magnitude L: 2^n - 1 (unsigned) or 2^(n-1) - 1 (signed, mid-tread). */
export function adcLevels(bits: number, signed: boolean): number {
  return signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
}

/** A(I) of DESIGN.md section 3: ideal when bits = 0; 0 when hi = 0; else clamp(round(I/step))·step. */
export function adcConvert(x: number, bits: number, hi: number, signed: boolean): number {
  if (bits === 0) return x;
  if (hi <= 0) return 0;
  const L = adcLevels(bits, signed);
  const step = hi / L;
  return clamp(roundHalfEven(x / step), signed ? -L : 0, L) * step;
}

/** The `"full"` range of a row block with Rp rows: the largest ADC input the dataflow can produce. */
export function fullRange(g: LayerGeometry, cfg: XbarConfig, Rp: number): number {
  let sumT = 0;
  for (let t = 0; t < g.T; t++) sumT += 2 ** (t * g.b);
  let sumS = 0;
  for (let s = 0; s < g.S; s++) sumS += 2 ** (s * g.c);
  switch (cfg.dataflow) {
    case 'digital-sa':
      return Rp;
    case 'buffered':
      return Rp * sumT;
    case 'analog-sa':
      return Rp * sumT * sumS;
  }
}

/** The ADC range `hi` of each row block, given the layer's calibrated range (used only when range is "calibrated"). */
export function blockRanges(g: LayerGeometry, cfg: XbarConfig, calibratedHi: number): Float64Array {
  const r = cfg.adc.range;
  return Float64Array.from(g.blocks, (b) => (r === 'full' ? fullRange(g, cfg, b.rows) : r === 'calibrated' ? calibratedHi : r));
}
