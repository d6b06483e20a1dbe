import { addCounts, zeroCounts, type EventCounts } from '../crossbar/counts.ts';
import type { EvalData } from '../io/datasets/eval-data.ts';
import type { NetworkRunner } from './runner.ts';
import { tracePhase } from '../trace.ts';

/** Event counts of a whole evaluation in the normative report form (DESIGN.md section 5). */
export interface CountsReport {
  layers: ({ name: string } & EventCounts)[];
  total: EventCounts;
  vectors: number;
}

/** One chip's evaluation. */
export interface ChipEvaluation {
  chip: number;
  accuracy: number;
  correct: number;
  total: number;
  counts: CountsReport;
  /** Wall time of the forward passes (programming and calibration excluded). */
  seconds: number;
}

/** Index of the largest of `n` values starting at `o` (first on ties). */
function argmax(v: Float32Array, o: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (v[o + i] > v[o + best]) best = i;
  return best;
}

/**
 * Evaluates one chip (or the f32 network when `digital`) on `data`: accuracy and section 5's counts.
 * Batches never change results: per-read noise is keyed by each sample's position in `data`.
 */
export async function evaluateChip(
  runner: NetworkRunner,
  data: EvalData,
  chip: number,
  digital: boolean,
  onBatch?: (done: number) => void,
  batchSize = runner.maxBatch,
): Promise<ChipEvaluation> {
  const handle = digital ? null : await runner.program(chip);
  tracePhase('program');
  try {
    const layerCount = runner.scales.length;
    const neg = Array.from({ length: layerCount }, () => [] as number[]);
    let correct = 0;
    let seconds = 0;
    for (let s0 = 0; s0 < data.n; s0 += batchSize) {
      const B = Math.min(batchSize, data.n - s0);
      const t0 = performance.now();
      const r = await runner.forward(handle, data.x.subarray(s0 * data.sampleSize, (s0 + B) * data.sampleSize), B, s0);
      seconds += (performance.now() - t0) / 1000;
      tracePhase('run');
      const classes = r.output.length / B;
      for (let b = 0; b < B; b++) if (argmax(r.output, b * classes, classes) === data.labels[s0 + b]) correct++;
      r.negVectors.forEach((groups, i) => groups.forEach((v, g) => (neg[i][g] = (neg[i][g] ?? 0) + v)));
      onBatch?.(s0 + B);
    }
    const layers = runner.layerNames.map((name, i) => ({ name, ...(digital ? zeroCounts() : runner.layerCounts(i, data.n, neg[i])) }));
    const total = layers.reduce<EventCounts>((a, l) => addCounts(a, l), zeroCounts());
    return { chip, accuracy: data.n === 0 ? 0 : correct / data.n, correct, total: data.n, counts: { layers, total, vectors: data.n }, seconds };
  } finally {
    handle?.release();
  }
}
