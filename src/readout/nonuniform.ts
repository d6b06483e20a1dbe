import type { CodeRange } from './codes.ts';
import { segmentOf, type AdcConverter, type TransferTable } from './transfer.ts';

/** A histogram of ADC inputs on equal bins over [lo, hi] (the calibration trace of a nonuniform fit). */
export interface InputHistogram {
  lo: number;
  hi: number;
  counts: Float64Array;
}

/** Bins of the calibration histogram a Lloyd-Max fit runs on: fine against any 16-bit code grid's density. */
export const FIT_BINS = 8192;

/** An empty histogram over [lo, hi]. */
export function emptyHistogram(lo: number, hi: number, bins = FIT_BINS): InputHistogram {
  return { lo, hi, counts: new Float64Array(bins) };
}

/** Adds x to its bin (values outside [lo, hi] go to the end bins: the ADC clips them there). */
export function addSample(h: InputHistogram, x: number): void {
  const n = h.counts.length;
  const i = h.hi > h.lo ? Math.floor(((x - h.lo) / (h.hi - h.lo)) * n) : 0;
  h.counts[Math.min(n - 1, Math.max(0, i))] += 1;
}

/** Lloyd-Max iterations: the fit stops earlier once no level moves by more than 1e-12 of the range. */
export const LLOYD_MAX_ITERATIONS = 200;

/**
 * Lloyd-Max quantizer levels for the histogram's distribution (S. Lloyd, "Least squares quantization in
 * PCM", IEEE Trans. Inf. Theory 28(2), 1982; J. Max, IRE Trans. Inf. Theory 6(1), 1960): alternately
 * put thresholds halfway between levels and each level at the centroid of its cell, starting from the
 * `initial` levels (the uniform ADC's). A level whose cell holds no mass stays where it is. Levels are
 * kept inside [lo, hi] and increasing; the result is deterministic.
 */
export function lloydMax(h: InputHistogram, initial: Float64Array, iterations = LLOYD_MAX_ITERATIONS): Float64Array {
  const levels = Float64Array.from(initial);
  const n = h.counts.length;
  const width = (h.hi - h.lo) / n;
  const centre = (i: number): number => h.lo + (i + 0.5) * width;
  const m = levels.length;
  const mass = new Float64Array(m);
  const moment = new Float64Array(m);
  for (let it = 0; it < iterations; it++) {
    mass.fill(0);
    moment.fill(0);
    let cell = 0;
    for (let i = 0; i < n; i++) {
      const c = h.counts[i];
      if (c === 0) continue;
      const x = centre(i);
      while (cell < m - 1 && x >= (levels[cell] + levels[cell + 1]) / 2) cell++;
      while (cell > 0 && x < (levels[cell - 1] + levels[cell]) / 2) cell--;
      mass[cell] += c;
      moment[cell] += c * x;
    }
    let moved = 0;
    for (let c = 0; c < m; c++) {
      if (mass[c] === 0) continue;
      const next = Math.min(h.hi, Math.max(h.lo, moment[c] / mass[c]));
      moved = Math.max(moved, Math.abs(next - levels[c]));
      levels[c] = next;
    }
    // Centroids of adjacent cells are ordered, but an empty cell's fixed level may be overtaken.
    for (let c = 1; c < m; c++) if (levels[c] <= levels[c - 1]) levels[c] = levels[c - 1] + Number.EPSILON * Math.max(1, Math.abs(levels[c - 1]));
    if (moved <= 1e-12 * (h.hi - h.lo)) break;
  }
  return levels;
}

/** The uniform ADC's output levels c·step for every code, in units of the range (the fit's starting point). */
export function uniformLevels(r: CodeRange): Float64Array {
  return Float64Array.from({ length: r.max - r.min + 1 }, (_, i) => (r.min + i) / r.max);
}

/**
 * A nonuniform ADC: increasing output levels, each input goes to the nearest (thresholds halfway
 * between levels, a tie to the upper level). Levels are in units of the range (`relative`, user-given)
 * or absolute input units (fitted on the calibration inputs of a layer, which fixes them whatever the
 * range).
 */
export class LevelAdc implements AdcConverter {
  private readonly mids: Float64Array;

  constructor(
    private readonly levels: Float64Array,
    private readonly relative: boolean,
    private readonly r: CodeRange,
  ) {
    this.mids = Float64Array.from({ length: levels.length - 1 }, (_, i) => (levels[i] + levels[i + 1]) / 2);
  }

  convert(x: number, hi: number): number {
    if (hi <= 0) return 0;
    const s = this.relative ? hi : 1;
    return this.levels[segmentOf(this.mids, x / s)] * s;
  }

  table(hi: number): TransferTable {
    const step = hi / this.r.max;
    const s = this.relative ? hi : 1;
    return { breakpoints: this.mids.map((m) => (m * s) / step), values: this.levels.map((l) => (l * s) / step) };
  }
}
