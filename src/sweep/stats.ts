// Accuracy statistics over chips. Pure (no Node modules): the CLI's summary and the browser app share them.

// ---------------------------------------------------------------------------------------------
// Student's t quantile, exact to ~1e-10: the t CDF through the regularized incomplete beta
// function (continued fraction, Numerical Recipes 6.4) inverted by bisection. A table plus the
// normal quantile would be 4% off near 30 chips; this costs a few microseconds.
// ---------------------------------------------------------------------------------------------

const LANCZOS = [
  676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7). */
function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let a = 0.99999999999980993;
  const t = z + 7.5;
  for (let i = 0; i < LANCZOS.length; i++) a += LANCZOS[i] / (z + i + 1);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularized incomplete beta function I_x(a, b). */
function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(1 - x, b, a)) / b;
}

/** CDF of Student's t distribution with `df` degrees of freedom. */
export function tCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t with `df` > 0 degrees of freedom (e.g. tQuantile(0.975, 4) = 2.776). */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) return NaN;
  if (p === 0.5) return 0;
  if (p < 0.5) return -tQuantile(1 - p, df);
  let hi = 1;
  while (tCdf(hi, df) < p) hi *= 2;
  let lo = 0;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (tCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Mean, sample std (n − 1) and 95% CI half-width t(0.975, n − 1)·std/√n of `xs`; std and CI are
 * null for fewer than 2 values. Sums run on differences from the first value, so equal values
 * give exactly that value and std 0 (not 1e-16 of rounding).
 */
export function meanStdCi(xs: readonly number[]): { mean: number; std: number | null; ci95: number | null } {
  const n = xs.length;
  const x0 = n > 0 ? xs[0] : NaN;
  const meanDiff = xs.reduce((a, x) => a + (x - x0), 0) / n;
  const mean = x0 + meanDiff;
  if (n < 2) return { mean, std: null, ci95: null };
  const ss = xs.reduce((a, x) => a + (x - x0 - meanDiff) ** 2, 0);
  const std = Math.sqrt(ss / (n - 1));
  return { mean, std, ci95: (tQuantile(0.975, n - 1) * std) / Math.sqrt(n) };
}

// ---------------------------------------------------------------------------------------------
// The accuracy interval of every report (summary.csv, report.html, eval, the browser app).
// ---------------------------------------------------------------------------------------------

/**
 * How accuracy intervals are computed, in the words every report uses. Accuracy over chips is a
 * mean of proportions, so its mean lies in [0, 1]: intersecting Student's t interval with [0, 1]
 * loses no coverage, and keeps the t interval's meaning (chip-to-chip variation on a fixed test
 * set). With 2 chips t(0.975, 1) = 12.71, so the interval is nearly always all of [0, 1]: it is
 * flagged rather than hidden.
 */
export const INTERVAL_METHOD = "95% interval of the mean over chips: Student's t, clipped to [0, 1]; flagged with fewer than 3 chips";

/** A 95% interval of mean accuracy, inside [0, 1]. */
export interface AccuracyInterval {
  low: number;
  high: number;
  /** The t interval reached past 0 or 1 and was cut there. */
  clipped: boolean;
  /** Fewer than 3 chips: t has 1 degree of freedom and the interval says little. */
  fewChips: boolean;
}

/** Mean, sample std and the clipped interval (null with one chip) of per-chip accuracies. */
export interface AccuracyStats {
  mean: number;
  std: number | null;
  /** Half-width of the unclipped t interval (t(0.975, n − 1)·std/√n); null with one chip. */
  ci95: number | null;
  interval: AccuracyInterval | null;
}

/** accuracyStats: meanStdCi plus the interval of INTERVAL_METHOD. */
export function accuracyStats(accuracies: readonly number[]): AccuracyStats {
  const s = meanStdCi(accuracies);
  if (s.ci95 === null) return { ...s, interval: null };
  const lo = s.mean - s.ci95;
  const hi = s.mean + s.ci95;
  const interval = { low: Math.max(0, lo), high: Math.min(1, hi), clipped: lo < 0 || hi > 1, fewChips: accuracies.length < 3 };
  return { ...s, interval };
}

/** The interval's flags as a short note: '', 'clipped', 'few chips' or 'few chips; clipped' (no comma: a plain CSV cell). */
export function intervalNote(i: AccuracyInterval | null): string {
  if (i === null) return '';
  return [i.fewChips ? 'few chips' : '', i.clipped ? 'clipped' : ''].filter((x) => x !== '').join('; ');
}

/** The interval as text, e.g. `95.10% – 96.40%` or `0.00% – 100.00% (few chips; clipped)`; '–' when there is none. */
export function formatInterval(i: AccuracyInterval | null, pct: (v: number) => string): string {
  if (i === null) return '–';
  const note = intervalNote(i);
  return `${pct(i.low)} – ${pct(i.high)}${note === '' ? '' : ` (${note})`}`;
}
