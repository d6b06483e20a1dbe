import { createHash } from 'node:crypto';
import { canonicalJson } from '../../src/sweep/grid.ts';
import type { EventCounts } from '../../src/crossbar/counts.ts';
import type { EvalRequest, EvalResult, Evaluator } from '../../src/sweep/types.ts';

/** Options of the fake evaluator. */
export interface FakeEvaluatorOptions {
  /** Milliseconds each evaluation sleeps (to let tests interrupt a sweep mid-run). */
  sleepMs?: number;
  /** Images per evaluation when the request has no limit. */
  images?: number;
}

/** A uniform number in [0, 1) from a hash of the config and chip: the fake's "chip variation". */
function hashUnit(req: EvalRequest): number {
  const h = createHash('sha256').update(canonicalJson({ config: req.config, chip: req.chip })).digest();
  return h.readUInt32LE(0) / 2 ** 32;
}

const CONVERSIONS_PER_IMAGE: Record<string, number> = { 'digital-sa': 4096, buffered: 1024, 'analog-sa': 256 };

/**
 * Deterministic stand-in for the network evaluator: accuracy falls smoothly with
 * noise.programming.sigma (0.98 at 0, about 0.6 at 0.1), plus a chip-dependent jitter that grows
 * with sigma (so sigma 0 gives identical chips, as a real noise-free chip would); counts scale
 * with the number of images and depend on the dataflow.
 */
export class FakeEvaluator implements Evaluator {
  readonly calls: EvalRequest[] = [];
  closed = false;
  private readonly sleepMs: number;
  private readonly images: number;

  constructor(opts: FakeEvaluatorOptions = {}) {
    this.sleepMs = opts.sleepMs ?? 0;
    this.images = opts.images ?? 50;
  }

  /** Evaluates one (config, chip) deterministically. */
  async evaluate(req: EvalRequest): Promise<EvalResult> {
    this.calls.push(req);
    const t0 = performance.now();
    if (this.sleepMs > 0) await new Promise((r) => setTimeout(r, this.sleepMs));
    const total = req.limit ?? this.images;
    const sigma = req.config.noise.programming.sigma;
    const base = req.config.dataflow === 'analog-sa' ? 0.97 : 0.98;
    const jitter = (hashUnit(req) - 0.5) * 2 * sigma;
    const acc = Math.min(1, Math.max(0, base * Math.exp(-((sigma / 0.14) ** 2)) + jitter));
    const correct = Math.round(acc * total);
    const perImage = CONVERSIONS_PER_IMAGE[req.config.dataflow] ?? 1;
    const layer = (name: string, share: number): { name: string } & EventCounts => ({
      name,
      adcConversions: perImage * share * total,
      dacActivations: 128 * share * total,
      cellReads: 16384 * share * total,
      analogAccumulations: req.config.dataflow === 'digital-sa' ? 0 : 64 * share * total,
      digitalShiftAdds: perImage * share * total,
      arrays: 4 * share,
      partitionAdds: 0,
    });
    const layers = [layer('conv1', 1), layer('fc1', 3)];
    const sum = (k: keyof EventCounts): number => layers.reduce((a, l) => a + l[k], 0);
    return {
      accuracy: correct / total,
      correct,
      total,
      counts: {
        layers,
        total: {
          adcConversions: sum('adcConversions'),
          dacActivations: sum('dacActivations'),
          cellReads: sum('cellReads'),
          analogAccumulations: sum('analogAccumulations'),
          digitalShiftAdds: sum('digitalShiftAdds'),
          arrays: sum('arrays'),
          partitionAdds: sum('partitionAdds'),
        },
        vectors: total * 10,
      },
      seconds: (performance.now() - t0) / 1000,
      adapter: 'fake evaluator',
      seed: req.config.seed,
    };
  }

  /** Marks the evaluator closed. */
  close(): void {
    this.closed = true;
  }
}
