import { join } from 'node:path';
import { writeTextAtomic } from '../cli/atomic-write.ts';
import { COUNT_NAMES } from '../crossbar/counts.ts';
import type { EventCounts } from '../crossbar/counts.ts';
import type { GridPoint } from './grid.ts';
import { pointKey } from './grid.ts';
import type { ResultLine } from './results.ts';
import type { Vary } from './spec.ts';
import type { VaryValue } from './types.ts';

/** The summary file in a sweep folder. */
export const SUMMARY_FILE = 'summary.csv';

/** Accuracy statistics over the chips of one grid point. */
export interface SummaryRow {
  series: string;
  point: Record<string, VaryValue>;
  pointIndex: number;
  /** Chips evaluated at this point (n). */
  chips: number;
  /** Images per evaluation (mean over chips; they are normally all equal). */
  images: number;
  mean: number;
  /** Sample standard deviation (n − 1); null for n < 2. */
  std: number | null;
  /** Half-width of the 95% confidence interval of the mean, t(0.975, n − 1)·std/√n; null for n < 2. */
  ci95: number | null;
  /** Event counts per inference (image): Σ counts.total / Σ total; `arrays` is per chip instead. */
  perInference: EventCounts;
}

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

/** Mean, sample std (n − 1) and 95% CI half-width of `xs`; std and CI are null for fewer than 2 values. */
export function meanStdCi(xs: readonly number[]): { mean: number; std: number | null; ci95: number | null } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, std: null, ci95: null };
  const ss = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
  const std = Math.sqrt(ss / (n - 1));
  return { mean, std, ci95: (tQuantile(0.975, n - 1) * std) / Math.sqrt(n) };
}

/**
 * One row per grid point that has results, in grid order. Results of points not in the grid
 * are ignored; each point's chips are taken in chip order so sums do not depend on file order.
 */
export function summarize(points: readonly GridPoint[], results: readonly ResultLine[]): SummaryRow[] {
  const byKey = new Map<string, ResultLine[]>();
  for (const r of results) {
    const k = pointKey(r.preset, r.point);
    const list = byKey.get(k);
    if (list) list.push(r);
    else byKey.set(k, [r]);
  }
  const rows: SummaryRow[] = [];
  for (const p of points) {
    const rs = byKey.get(p.key);
    if (rs === undefined || rs.length === 0) continue;
    rs.sort((a, b) => a.chip - b.chip);
    const stats = meanStdCi(rs.map((r) => r.accuracy));
    const images = rs.reduce((a, r) => a + r.total, 0);
    const perInference = {} as EventCounts;
    for (const k of COUNT_NAMES) {
      const sum = rs.reduce((a, r) => a + r.counts.total[k], 0);
      perInference[k] = k === 'arrays' ? sum / rs.length : images > 0 ? sum / images : 0;
    }
    rows.push({ series: p.series, point: p.point, pointIndex: p.index, chips: rs.length, images: images / rs.length, ...stats, perInference });
  }
  return rows;
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function csvCell(v: string | number | boolean | null): string {
  if (v === null) return '';
  // 12 significant digits: drops float noise (0.7349999999999999) but keeps every real digit.
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(Number(v.toPrecision(12))) : '') : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * summary.csv, one row per point in grid order. Columns: `preset`; one column per varied path
 * (named by the path); `chips` (n); `images` (per evaluation); `accuracy_mean`; `accuracy_std`
 * (sample, n − 1); `accuracy_ci95_low`, `accuracy_ci95_high` (mean ∓ t(0.975, n−1)·std/√n);
 * `adc_conversions_per_inference` and the other event counts of DESIGN.md section 5 per
 * inference (`…_per_inference`), then `arrays` (per chip). Accuracies are fractions in [0, 1];
 * std and CI cells are empty when n < 2.
 */
export function summaryCsv(varies: readonly Vary[], rows: readonly SummaryRow[]): string {
  const countCols = COUNT_NAMES.map((k) => (k === 'arrays' ? 'arrays' : `${snake(k)}_per_inference`));
  const header = ['preset', ...varies.map((v) => v.path), 'chips', 'images', 'accuracy_mean', 'accuracy_std', 'accuracy_ci95_low', 'accuracy_ci95_high', ...countCols];
  const lines = [header.map(csvCell).join(',')];
  for (const r of rows) {
    const cells: (string | number | boolean | null)[] = [
      r.series,
      ...varies.map((v) => r.point[v.path] ?? null),
      r.chips,
      r.images,
      r.mean,
      r.std,
      r.ci95 === null ? null : r.mean - r.ci95,
      r.ci95 === null ? null : r.mean + r.ci95,
      ...COUNT_NAMES.map((k) => r.perInference[k]),
    ];
    lines.push(cells.map(csvCell).join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** Writes DIR/summary.csv atomically. */
export function writeSummary(dir: string, varies: readonly Vary[], rows: readonly SummaryRow[]): void {
  writeTextAtomic(join(dir, SUMMARY_FILE), summaryCsv(varies, rows));
}
