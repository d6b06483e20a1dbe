// Summary statistics of repeated timings: the median is what tables quote (one slow or one lucky run
// must not move it); min, max and the relative spread show how noisy the machine was.

/** A timed figure over repeated runs, warm-up excluded. */
export interface Figure {
  median: number;
  min: number;
  max: number;
  /** (max − min) / median: 0.05 means the runs agreed within 5% of the median. */
  spread: number;
  runs: number[];
  unit: string;
}

/** Median of a non-empty list (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The figure of `runs` measured in `unit`. */
export function figure(runs: readonly number[], unit: string): Figure {
  const med = median(runs);
  const min = Math.min(...runs);
  const max = Math.max(...runs);
  return { median: med, min, max, spread: med === 0 ? 0 : (max - min) / med, runs: [...runs], unit };
}

/** A figure derived from another run by run (e.g. seconds → items per second): `f` applied to each run. */
export function mapFigure(fig: Figure, unit: string, f: (v: number) => number): Figure {
  return figure(fig.runs.map(f), unit);
}

/** Ratio of two figures' medians. */
export function ratioOf(a: Figure, b: Figure): number {
  return a.median / b.median;
}
