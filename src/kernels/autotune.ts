import type { XbarConfig } from '../config/types.ts';
import { resolveConfig } from '../config/schema.ts';
import { blockRanges } from '../crossbar/adc.ts';
import { programLayer } from '../crossbar/program.ts';
import type { AdapterDescription } from '../gpu/gpu-context.ts';
import { withTuning, type GpuSession } from '../gpu/runtime.ts';
import { REGISTER_TILES, SHARED_BYTES_PER_ELEMENT, SHARED_TILES, TUNING_VERSION, type TuningEntry, type TuningStore, type XbarTiles } from '../gpu/tuning.ts';
import type { Backend } from '../gpu/backend.ts';
import { readBuffer, uploadStorage } from '../gpu/buffers.ts';
import { GpuCrossbarLayer } from './xbar.ts';

/**
 * Crossbar-kernel autotuning (issue 16 item 4): every tiling candidate the adapter can run is timed once
 * on a small layer and the fastest kept, per adapter, in a cache the caller persists (Node: a file,
 * src/gpu/tuning-cache.ts). Tilings never change results (the same per-output sums in the same order;
 * a candidate whose outputs differ is rejected), so tuning changes speed only.
 */

/** The cache key of an adapter: vendor, architecture, device and driver description. */
export function adapterKey(a: AdapterDescription): string {
  return [a.vendor, a.architecture, a.device, a.description].join(' | ');
}

/** Short name of a tiling, e.g. "reg tm4 8x8 pc4" or "shared tm4 16x4 pc4 kt32". */
export function tilesName(t: XbarTiles): string {
  return `${t.kt > 0 ? 'shared' : 'reg'} tm${t.tm} ${t.wgx}x${t.wgy} pc${t.pcMax}${t.kt > 0 ? ` kt${t.kt}` : ''}`;
}

/** Whether a CPU driver runs tiling `t` at all: register-only, as barriers cost so much there that shared tiles never win (DESIGN.md section 2). */
export function cpuDriverRuns(t: XbarTiles): boolean {
  return t.kt === 0;
}

/**
 * The tilings tried on an adapter: register-only and shared-memory variants at a few tile shapes, those
 * that fit its limits. CPU drivers get the register variants (cpuDriverRuns) at TM = 4 only: their
 * compile time grows with the rows per invocation while the run time does not. On lavapipe (Mesa 25.0.7, LLVM 15; `bench --tiles`,
 * K = N = 256, B = 256) TM 8 and TM 4 ran isaac, cascade and neural-pim within 5% of each other, TM 2
 * ran cascade 25% and neural-pim 50% slower, while TM 8 took 2.5× TM 4's compile (isaac with read noise
 * 7.3 s against 2.9 s, the ideal plane 3.8 s against 1.5 s): a cost every new variant pays once per
 * machine. Each try also costs a compilation.
 */
export function tuningCandidates(limits: { maxComputeWorkgroupStorageSize: number; maxComputeInvocationsPerWorkgroup: number }, software = false): XbarTiles[] {
  const all: XbarTiles[] = [
    REGISTER_TILES,
    { ...REGISTER_TILES, tm: 2 },
    { ...REGISTER_TILES, wgx: 16, wgy: 4 },
    { ...REGISTER_TILES, tm: 8, wgy: 4 },
    SHARED_TILES,
    { ...SHARED_TILES, kt: 16 },
    { ...SHARED_TILES, tm: 2, wgy: 8 },
  ];
  return all.filter(
    (t) => (!software || (cpuDriverRuns(t) && t.tm === 4)) && t.wgx * t.wgy <= limits.maxComputeInvocationsPerWorkgroup && t.kt * t.wgy * t.tm * SHARED_BYTES_PER_ELEMENT <= limits.maxComputeWorkgroupStorageSize,
  );
}

/**
 * The layer tuning is timed on: ISAAC's offset mapping and 1-bit DAC with programming and read noise (the
 * float path that noisy runs take), one 128-row array, but 2 input cycles of 2 slices instead of 8 of 4:
 * every candidate costs a pipeline compilation, and on CPU drivers compiling the 8-cycle kernel takes
 * seconds. The per-row inner loop being tiled is the same.
 */
function tuningConfig(): XbarConfig {
  return resolveConfig({
    preset: 'isaac',
    weights: { bits: 8, cellBits: 4 },
    inputs: { bits: 2, dacBits: 1 },
    noise: { programming: { sigma: 0.02 }, read: { sigma: 0.02, model: 'additive' } },
    seed: 1,
  });
}

/** Deterministic inputs in [−1, 1) (a small LCG: tuning must not depend on a random source). */
function inputs(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Options of one tuning pass. */
export interface TuneOptions {
  /** Timed repetitions per candidate after one untimed warm-up (which compiles its pipeline). */
  reps?: number;
  /** Layer shape [K, N] and batch B (small: a first run should barely notice tuning). */
  K?: number;
  N?: number;
  B?: number;
  /** Candidates (default tuningCandidates of the adapter). */
  candidates?: XbarTiles[];
}

/** Times every candidate on `s` and returns the fastest with all timings; throws if a candidate's outputs differ from the first's. */
export async function measureTuning(s: GpuSession, o: TuneOptions = {}): Promise<TuningEntry & { outputs: Float32Array[] }> {
  const { K = 128, N = 64, B = 64, reps = 5 } = o;
  const cfg = tuningConfig();
  const W = inputs(K * N, 7);
  const layer = programLayer(W, K, N, cfg);
  const x = inputs(B * K, 11);
  const sx = 1 / layer.geom.Qx;
  const { device } = s.ctx;
  const timings: Record<string, number> = {};
  const outputs: Float32Array[] = [];
  let best: XbarTiles | null = null;
  let bestMs = Infinity;
  for (const tiles of o.candidates ?? tuningCandidates(s.ctx.limits, s.ctx.adapter.isSoftware)) {
    const ts = withTuning(s, { xbar: { ...tiles, bitplane: s.tuning.xbar.bitplane } });
    const gl = GpuCrossbarLayer.upload(ts, layer, cfg, blockRanges(layer.geom, cfg, 0));
    const chip = gl.programChip(1, 0);
    const input = uploadStorage(device, x, 'tune.x');
    const out = device.createBuffer({ size: B * N * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, label: 'tune.Y' });
    try {
      const once = async (): Promise<number> => {
        const temps: GPUBuffer[] = [];
        const t0 = performance.now();
        const encoder = device.createCommandEncoder();
        gl.encode({ encoder, temp: (b) => (temps.push(b), b) }, chip, { input, out, rows: B, rowOffset: 0, sxq: sx, outScale: sx });
        device.queue.submit([encoder.finish()]);
        await device.queue.onSubmittedWorkDone();
        const ms = performance.now() - t0;
        for (const b of temps) b.destroy();
        return ms;
      };
      await once();
      const y = new Float32Array(await readBuffer(device, out, B * N * 4));
      if (outputs.length > 0 && !y.every((v, i) => Object.is(v, outputs[0][i]))) throw new Error(`autotune: tiling ${tilesName(tiles)} changes results (a kernel bug)`);
      outputs.push(y);
      const times: number[] = [];
      for (let r = 0; r < reps; r++) times.push(await once());
      times.sort((a, b) => a - b);
      const med = times[Math.floor(times.length / 2)];
      timings[tilesName(tiles)] = med;
      if (med < bestMs) {
        bestMs = med;
        best = tiles;
      }
    } finally {
      chip.destroy();
      gl.destroy();
      input.destroy();
      out.destroy();
    }
  }
  s.ctx.checkErrors();
  if (!best) throw new Error('autotune: no crossbar tiling fits this adapter');
  return { version: TUNING_VERSION, xbar: best, timings, outputs };
}

/** What autotune did. */
export interface TuneResult {
  entry: TuningEntry;
  /** "cache": read from the store; "measured": tuned now (and stored unless the store is read-only). */
  source: 'cache' | 'measured';
  stored: boolean;
}

/**
 * The session's crossbar tiling from the store, or measured now (always with `retune`) and stored;
 * the session's tuning is set to it.
 */
export async function autotune(s: GpuSession, store: TuningStore, o: TuneOptions & { retune?: boolean } = {}): Promise<TuneResult> {
  const key = adapterKey(s.ctx.adapter);
  const cached = o.retune ? null : store.get(key);
  // A cached entry is trusted only as the name of a current candidate (the file may be stale or edited).
  const hit = cached?.version === TUNING_VERSION ? tuningCandidates(s.ctx.limits, s.ctx.adapter.isSoftware).find((t) => cached.xbar && tilesName(t) === tilesName(cached.xbar)) : undefined;
  let result: TuneResult;
  if (cached && hit) result = { entry: { ...cached, xbar: hit }, source: 'cache', stored: false };
  else {
    const { outputs: _o, ...entry } = await measureTuning(s, o);
    result = { entry, source: 'measured', stored: store.set(key, entry) };
  }
  s.tuning = { ...s.tuning, xbar: { ...result.entry.xbar, bitplane: s.tuning.xbar.bitplane } };
  return result;
}

/** Autotunes a WebGPU backend's crossbar kernel from `store` (measuring on a miss or with `retune`) for all its sessions; null on the CPU. */
export async function tuneBackend(b: Backend, store: TuningStore, o: { retune?: boolean; log?: (line: string) => void } = {}): Promise<TuneResult | null> {
  if (b.kind !== 'webgpu') return null;
  const r = await autotune(b.session, store, { retune: o.retune });
  b.runtime.setTuning(b.session.tuning);
  if (r.source === 'measured') o.log?.(`xbarsim: tuned the crossbar kernel for this adapter: ${tilesName(r.entry.xbar)} (${r.stored ? `cached in ${store.where}` : `${store.where} not writable: not kept`})`);
  return r;
}
