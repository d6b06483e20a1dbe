/**
 * A converter's transfer function as a table, in LSB units of its range (u = x / step, step = hi / L):
 * increasing breakpoints and the output value of each segment. Every ADC model reduces to one (the GPU
 * epilogue evaluates these), whether monotonic or not: segment i is `breakpoints[i−1] ≤ u < breakpoints[i]`.
 */
export interface TransferTable {
  /** b_0 < b_1 < … < b_{m−1}, in LSB. */
  breakpoints: Float64Array;
  /** m + 1 output values in LSB: values[0] below b_0, values[i] on [b_{i−1}, b_i), values[m] from b_{m−1} up. */
  values: Float64Array;
}

/** Number of breakpoints ≤ u (binary search): the segment u falls in. */
export function segmentOf(breakpoints: Float64Array, u: number): number {
  let lo = 0;
  let hi = breakpoints.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (breakpoints[mid] <= u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The table's output value at u (LSB). */
export function evalTable(t: TransferTable, u: number): number {
  return t.values[segmentOf(t.breakpoints, u)];
}

/**
 * The table of a converter whose code is `min` plus the number of thresholds at or below u (a flash
 * converter with a ones-counting encoder): thresholds in any order, values min, min + 1, ….
 */
export function countingTable(thresholds: Float64Array, min: number): TransferTable {
  const breakpoints = Float64Array.from(thresholds).sort();
  const values = Float64Array.from({ length: breakpoints.length + 1 }, (_, i) => min + i);
  return { breakpoints, values };
}

/** A converter instance as the CPU reference uses it. */
export interface AdcConverter {
  /** The converted value of `x` for a converter of range `hi` (same units as x; 0 when hi ≤ 0). */
  convert(x: number, hi: number): number;
  /** Its transfer function at range `hi`, in LSB of that range (what the GPU evaluates). */
  table(hi: number): TransferTable;
}
