// How a case is timed: one warm-up run (pipeline compilation, first-touch allocations) that is not
// counted, then `runs` timed runs summarized by their median and spread. GPU work is timed with
// timestamp-query where the adapter has it, else with the wall clock from submit to completion.
import type { GpuSession } from '../../src/gpu/runtime.ts';
import { GpuTimer } from './gpu-timer.ts';
import { figure, type Figure } from './stats.ts';

/** Seconds since an arbitrary origin (performance.now exists in Node and browsers). */
export function now(): number {
  return performance.now() / 1000;
}

/** Wall-clock seconds of `runs` calls of `f` after one warm-up call. */
export async function timeRuns(runs: number, f: () => Promise<unknown>): Promise<number[]> {
  await f();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = now();
    await f();
    out.push(now() - t0);
  }
  return out;
}

/** What recorded GPU work is handed: the encoder to record into and a register for its temporaries. */
export interface BenchRecorder {
  encoder: GPUCommandEncoder;
  temp(buf: GPUBuffer): GPUBuffer;
}

/** Timings of repeated GPU submissions of the same recorded work. */
export interface GpuRunTiming {
  /** The figure tables quote: GPU time (timestamp-query) or wall time, per `source`. */
  seconds: Figure;
  source: 'timestamp-query' | 'wall';
  /** Submit to completion, as the host sees it (recording included). */
  wall: Figure;
  /** Host time to record the commands. */
  encode: Figure;
  /** Wall time of the uncounted warm-up run (pipeline compilation included). */
  warmup: number;
  /** With timestamp-query: the sum of the passes' own durations per run (`seconds` also counts the gaps between passes), and the passes per run. */
  busy?: Figure;
  passes?: number;
}

/** Records `encode` into a fresh encoder, submits and waits, `runs` times after one warm-up. */
export async function timeGpuRuns(s: GpuSession, runs: number, useTimestamps: boolean, encode: (rec: BenchRecorder) => void): Promise<GpuRunTiming> {
  const { device } = s.ctx;
  const timer = useTimestamps ? new GpuTimer(device) : null;
  const one = async (): Promise<{ wall: number; encode: number; gpu: number; busy: number; passes: number }> => {
    const temps: GPUBuffer[] = [];
    const t0 = now();
    const enc = device.createCommandEncoder();
    encode({ encoder: timer ? timer.wrap(enc) : enc, temp: (b) => (temps.push(b), b) });
    const t1 = now();
    timer?.resolve(enc);
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    const wall = now() - t0;
    s.ctx.checkErrors();
    for (const b of temps) b.destroy();
    const t = timer ? await timer.read() : { span: wall, busy: wall, passes: 0 };
    return { wall, encode: t1 - t0, gpu: t.span, busy: t.busy, passes: t.passes };
  };
  try {
    const warm = await one();
    const rs: Awaited<ReturnType<typeof one>>[] = [];
    for (let i = 0; i < runs; i++) rs.push(await one());
    return {
      seconds: figure(rs.map((r) => r.gpu), 's'),
      source: timer ? 'timestamp-query' : 'wall',
      wall: figure(rs.map((r) => r.wall), 's'),
      encode: figure(rs.map((r) => r.encode), 's'),
      warmup: warm.wall,
      ...(timer ? { busy: figure(rs.map((r) => r.busy), 's'), passes: warm.passes } : {}),
    };
  } finally {
    timer?.destroy();
  }
}

/**
 * Host time spent compiling pipelines (PipelineCache misses) while it is installed. In Dawn for Node
 * createComputePipeline compiles synchronously, so this is the compilation; a browser compiles in its
 * GPU process and the cost shows up in the first run instead (GpuRunTiming.warmup).
 */
export interface CompileMeter {
  seconds(): number;
  count(): number;
  reset(): void;
  restore(): void;
}

/** Installs a CompileMeter on the session's pipeline cache. */
export function compileMeter(s: GpuSession): CompileMeter {
  const cache = s.pipelines;
  const original = cache.get;
  let total = 0;
  let misses = 0;
  cache.get = function (this: typeof cache, ...args: Parameters<typeof original>) {
    const before = cache.misses;
    const t0 = now();
    const p = original.apply(cache, args);
    if (cache.misses !== before) {
      total += now() - t0;
      misses++;
    }
    return p;
  };
  return {
    seconds: () => total,
    count: () => misses,
    reset: () => {
      total = 0;
      misses = 0;
    },
    restore: () => {
      cache.get = original;
    },
  };
}
