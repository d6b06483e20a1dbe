// One kernel case's crossbar kernel alone, at a given tiling, for npm run bench:gap: the same code in
// the Node child and the browser page. `mark` is called right before and after the timed runs, so the
// runner can read its threads' CPU time over exactly those runs.
import { withTuning, type GpuSession } from '../../src/gpu/runtime.ts';
import { tilesName, tuningCandidates } from '../../src/kernels/autotune.ts';
import { prepareKernelCase, type KernelCaseSpec } from './kernel-cases.ts';
import { GpuTimer } from './gpu-timer.ts';
import { timeGpuRuns } from './measure.ts';

/** What one probe measured. */
export interface GapProbe {
  path: string;
  tiles: string;
  /** GPU seconds (timestamp-query, else wall) of each timed run. */
  gpu: number[];
  /** With timestamp-query: the passes' own durations summed, per run (gpu − busy = gaps between passes), and passes per run. */
  busy: number[] | null;
  passes: number;
  source: 'timestamp-query' | 'wall';
  /** Kernel executions between the two marks (timed runs and timeGpuRuns' own warm-up). */
  executions: number;
}

/** Parses a kernel case id `kernel/<preset>/K<k>/B<b>`; null when it is not one. */
export function parseKernelCaseId(id: string, readSigma: number): KernelCaseSpec | null {
  const m = /^kernel\/([a-z0-9-]+)\/K(\d+)\/B(\d+)$/.exec(id);
  return m ? { preset: m[1], K: Number(m[2]), B: Number(m[3]), readSigma } : null;
}

/** Times `runs` runs of the case's crossbar kernel at tiling `tiles` after one uncounted warm-up. */
export async function probeCrossbar(s0: GpuSession, spec: KernelCaseSpec, runs: number, tiles: string, mark: (at: 'start' | 'end') => Promise<void>): Promise<GapProbe> {
  const pick = tuningCandidates(s0.ctx.limits, s0.ctx.adapter.isSoftware).find((t) => tilesName(t) === tiles);
  if (!pick) throw new Error(`--tiles ${tiles}: not a tiling this adapter runs`);
  const s = withTuning(s0, { xbar: { ...pick, bitplane: s0.tuning.xbar.bitplane } });
  const kc = await prepareKernelCase(s, spec);
  try {
    const ts = GpuTimer.available(s.ctx.device);
    await timeGpuRuns(s, 1, ts, (rec) => kc.encode(rec)); // compilation and first touch, outside the marks
    await mark('start');
    const t = await timeGpuRuns(s, runs, ts, (rec) => kc.encode(rec));
    await mark('end');
    return { path: kc.gl.kernelPath(), tiles, gpu: t.seconds.runs, busy: t.busy?.runs ?? null, passes: t.passes ?? 0, source: t.source, executions: runs + 1 };
  } finally {
    kc.destroy();
  }
}
