import type { NonlinearAdcConfig } from '../config/types.ts';
import type { ChipId } from '../crossbar/chip.ts';
import { NoiseDraws } from '../random/philox.ts';
import { transitions, type CodeRange } from './codes.ts';
import { READOUT_STREAM } from './streams.ts';
import { countingTable, segmentOf, type AdcConverter, type TransferTable } from './transfer.ts';

/**
 * Position of transition k among H transitions, mapped to [−1, 1] (−1 the first, +1 the last): the
 * abscissa of the INL polynomial or table.
 */
export function transitionPosition(k: number, H: number): number {
  return H <= 1 ? 0 : -1 + (2 * k) / (H - 1);
}

/** The systematic INL of each transition in LSB: a polynomial Σ a_i ξ^i, or a table over ξ in [−1, 1], linear in between. */
export function inlCurve(nl: Pick<NonlinearAdcConfig, 'inl' | 'inlKind'>, H: number): Float64Array {
  const out = new Float64Array(H);
  const a = nl.inl;
  if (a.length === 0) return out;
  for (let k = 0; k < H; k++) {
    const xi = transitionPosition(k, H);
    if (nl.inlKind === 'polynomial') {
      let v = 0;
      for (let i = a.length - 1; i >= 0; i--) v = v * xi + a[i];
      out[k] = v;
    } else if (a.length === 1) {
      out[k] = a[0];
    } else {
      const pos = ((xi + 1) / 2) * (a.length - 1);
      const i = Math.min(a.length - 2, Math.floor(pos));
      const f = pos - i;
      out[k] = a[i] * (1 - f) + a[i + 1] * f;
    }
  }
  return out;
}

/**
 * Input-referred thresholds (LSB) of one nonlinear ADC instance: transition k (code min + k to
 * min + k + 1) sits at `min + k + 0.5 + INL_k + ε_k` on the converter's own scale, and the converter
 * sees `(1 + g)·u + o`, so in input units `τ_k = (min + k + 0.5 + INL_k + ε_k − o) / (1 + g)`.
 * ε_k ~ N(0, comparatorSigma), g = gainError + gainSigma·n, o = offsetError + offsetSigma·n' are drawn
 * per chip and instance (READOUT_STREAM comparator and adcInstance); with `id` null the nominal
 * converter (systematic errors only).
 */
export function nonlinearThresholds(nl: NonlinearAdcConfig, r: CodeRange, id: ChipId | null, instance: number): Float64Array {
  const H = transitions(r);
  const inl = inlCurve(nl, H);
  let g = nl.gainError;
  let o = nl.offsetError;
  const comparators = id && nl.comparatorSigma > 0 ? new NoiseDraws(id.seed, id.chip, id.layer, READOUT_STREAM.comparator) : null;
  if (id && (nl.gainSigma > 0 || nl.offsetSigma > 0)) {
    const d = new NoiseDraws(id.seed, id.chip, id.layer, READOUT_STREAM.adcInstance);
    g += nl.gainSigma * d.normal(0, instance, 0);
    o += nl.offsetSigma * d.normal(0, instance, 1);
  }
  const tau = new Float64Array(H);
  for (let k = 0; k < H; k++) {
    const eps = comparators ? nl.comparatorSigma * comparators.normal(k, instance) : 0;
    tau[k] = (r.min + k + 0.5 + inl[k] + eps - o) / (1 + g);
  }
  return tau;
}

/**
 * A flash-like converter with the given input-referred thresholds: the code is min plus the number of
 * comparators that fire (u ≥ τ_k), so crossed thresholds make a non-monotonic but well-defined code.
 */
export class ThresholdAdc implements AdcConverter {
  private readonly sorted: Float64Array;

  constructor(
    private readonly thresholds: Float64Array,
    private readonly r: CodeRange,
  ) {
    this.sorted = Float64Array.from(thresholds).sort();
  }

  /** The code at u (LSB). */
  code(u: number): number {
    return this.r.min + segmentOf(this.sorted, u);
  }

  convert(x: number, hi: number): number {
    if (hi <= 0) return 0;
    const step = hi / this.r.max;
    return this.code(x / step) * step;
  }

  table(): TransferTable {
    return countingTable(this.thresholds, this.r.min);
  }
}
