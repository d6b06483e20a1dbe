import { join } from 'node:path';
import { writeTextAtomic } from '../io/atomic-write.ts';
import { COUNT_NAMES } from '../crossbar/counts.ts';
import type { EventCounts } from '../crossbar/counts.ts';
import type { GridPoint } from './grid.ts';
import { pointKey } from './grid.ts';
import type { ResultLine } from './results.ts';
import type { Vary } from './spec.ts';
import { accuracyStats, intervalNote, type AccuracyInterval } from './stats.ts';
import { csvCell, snake } from './csv.ts';

export { accuracyStats, meanStdCi, tCdf, tQuantile } from './stats.ts';
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
  /** Half-width of the (unclipped) 95% t interval of the mean, t(0.975, n − 1)·std/√n; null for n < 2. */
  ci95: number | null;
  /** The reported 95% interval (stats.ts INTERVAL_METHOD: inside [0, 1], flagged); null for n < 2. */
  interval: AccuracyInterval | null;
  /** Event counts per inference (image): Σ counts.total / Σ total; `arrays` is per chip instead. */
  perInference: EventCounts;
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
    const stats = accuracyStats(rs.map((r) => r.accuracy));
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


/**
 * summary.csv, one row per point in grid order. Columns: `preset`; one column per varied path
 * (named by the path); `chips` (n); `images` (per evaluation); `accuracy_mean`; `accuracy_std`
 * (sample, n − 1); `accuracy_ci95_low`, `accuracy_ci95_high` (mean ∓ t(0.975, n−1)·std/√n,
 * clipped to [0, 1]: stats.ts INTERVAL_METHOD); `adc_conversions_per_inference` and the other
 * event counts of DESIGN.md section 5 per inference (`…_per_inference`), `arrays` (per chip), then
 * `accuracy_ci95_note` (`few chips` for n = 2, `clipped` where the t interval passed 0 or 1).
 * Accuracies are fractions in [0, 1]; std and CI cells are empty when n < 2.
 */
export function summaryCsv(varies: readonly Vary[], rows: readonly SummaryRow[]): string {
  const countCols = COUNT_NAMES.map((k) => (k === 'arrays' ? 'arrays' : `${snake(k)}_per_inference`));
  const header = ['preset', ...varies.map((v) => v.path), 'chips', 'images', 'accuracy_mean', 'accuracy_std', 'accuracy_ci95_low', 'accuracy_ci95_high', ...countCols, 'accuracy_ci95_note'];
  const lines = [header.map(csvCell).join(',')];
  for (const r of rows) {
    const cells: (string | number | boolean | null)[] = [
      r.series,
      ...varies.map((v) => r.point[v.path] ?? null),
      r.chips,
      r.images,
      r.mean,
      r.std,
      r.interval?.low ?? null,
      r.interval?.high ?? null,
      ...COUNT_NAMES.map((k) => r.perInference[k]),
      intervalNote(r.interval),
    ];
    lines.push(cells.map(csvCell).join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** Writes DIR/summary.csv atomically. */
export function writeSummary(dir: string, varies: readonly Vary[], rows: readonly SummaryRow[]): void {
  writeTextAtomic(join(dir, SUMMARY_FILE), summaryCsv(varies, rows));
}
