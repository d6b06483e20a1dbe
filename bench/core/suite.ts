// The benchmark suite: which cases run, in which order, and the record of one run. Both runners (Node
// through Dawn, headless Chromium through Puppeteer) call runSuite with their own BenchHost, so the
// cases and their code are the same in both.
import type { Backend } from '../../src/gpu/backend.ts';
import type { TuningStore } from '../../src/gpu/tuning.ts';
import { cpuDriverRuns, tilesName, tuneBackend, tuningCandidates } from '../../src/kernels/autotune.ts';
import { adapterLine } from '../../src/gpu/gpu-context.ts';
import type { EvalData } from '../../src/io/datasets/eval-data.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import type { Network } from '../../src/ir/graph.ts';
import { randomEvalData } from './data.ts';
import { GpuTimer } from './gpu-timer.ts';
import { runKernelCase, type KernelResult } from './kernel-cases.ts';
import { cnn1mOnnx, resnet18Onnx } from './models.ts';
import { runNetworkCase, type NetworkResult } from './network-cases.ts';
import { figure, mapFigure, type Figure } from './stats.ts';

/** A network the suite can run: shipped under models/ or built in code. */
export type ModelRef = { shipped: string } | { built: 'resnet18' | 'cnn-1m' };

/** ONNX bytes of a built-in network. */
export function builtModel(name: 'resnet18' | 'cnn-1m'): Uint8Array {
  return name === 'resnet18' ? resnet18Onnx() : cnn1mOnnx();
}

/** A cold `eval`: a fresh process (Node) or a fresh page (browser) until `images` images are scored. */
export interface ColdSpec {
  id: string;
  model: ModelRef;
  /** A preset name, with additive read noise `readSigma` on top (none when 0). */
  preset: string;
  readSigma: number;
  images: number;
}

/** What a runner provides to the cases. */
export interface BenchHost {
  runner: 'node' | 'browser';
  backend: Extract<Backend, { kind: 'webgpu' }>;
  versions: Record<string, string>;
  /** ONNX bytes of `models/<file>`, or null when that model is not shipped (yet). */
  shippedModel(file: string): Promise<Uint8Array | null>;
  /** The CLI's MNIST split: the first n test digits, calibrated on the first calSamples training digits. */
  mnist(n: number, calSamples: number): Promise<EvalData>;
  /** Seconds of `runs` cold evals after one uncounted warm-up (it fills disk and shader caches). */
  coldEval(spec: ColdSpec, runs: number): Promise<ColdTimes>;
  log(line: string): void;
  /** Where the crossbar kernel's tuning is cached (Node: the user's cache folder; browser: the page). */
  tuningStore: TuningStore;
}

export interface SuiteOptions {
  quick: boolean;
  /** Timed runs per figure (at least 5). */
  runs: number;
  /** Only cases whose id matches. */
  only: RegExp | null;
  /** Additive read-noise sigma of every crossbar case. */
  readSigma: number;
  /** Images per network batch (default 256). */
  images: number;
  /** Measure the crossbar tiling again instead of reading the tuning cache. */
  retune?: boolean;
  /**
   * Run the crossbar kernel at this tiling (a tilesName, e.g. "reg tm4 8x8 pc4") instead of the tuned
   * one: two runners compared side by side then run the same kernel code, where each one's own tuning,
   * timed under whatever load the machine had, can pick tilings 1.5x apart on SwiftShader.
   */
  tiles?: string | null;
}

/** What a runner measured of its cold evals. */
export interface ColdTimes {
  /** Wall seconds per run. */
  wall: number[];
  /** Process CPU seconds per run, every thread (Node: from the child's XBARSIM_TRACE line; a shared machine inflates wall, not CPU). */
  cpu?: number[];
  /** The last run's XBARSIM_TRACE line: wall/CPU seconds per phase. */
  trace?: string;
}

export interface ColdResult {
  kind: 'cold';
  id: string;
  model: string;
  preset: string;
  readSigma: number;
  images: number;
  seconds: Figure;
  imagesPerSecond: Figure;
  timing: 'wall';
  /** Process CPU seconds (Node runner only). */
  cpuSeconds?: Figure;
  /** Per-phase breakdown of the last run (Node runner only). */
  trace?: string;
}

export type CaseResult = KernelResult | NetworkResult | ColdResult;

/** The record of one suite run: written as JSON to bench/results/. */
export interface BenchRun {
  schema: 'xbarsim-bench/1';
  runner: 'node' | 'browser';
  startedAt: string;
  finishedAt: string;
  versions: Record<string, string>;
  adapter: { line: string; vendor: string; architecture: string; device: string; description: string; source: string; isSoftware: boolean; features: string[] };
  /** How GPU kernel times were measured. */
  gpuTiming: 'timestamp-query' | 'wall';
  options: { quick: boolean; runs: number; only: string | null; readSigma: number; images: number; retune: boolean; tiles?: string | null };
  /** The crossbar tiling the kernels ran with: from the cache or measured in this run, with each candidate's median ms. */
  tuning: { tiles: string; source: 'cache' | 'measured' | 'option'; timings: Record<string, number> } | null;
  cases: (CaseResult & { id: string })[];
  skipped: { id: string; reason: string }[];
}

interface NetworkEntry {
  name: string;
  model: ModelRef;
  /** Trained on MNIST: fed the CLI's MNIST split (accuracy meaningful); else seeded random inputs. */
  mnist: boolean;
  /** One of the smallest networks: also timed on the CPU reference. */
  cpu: boolean;
}

const NETWORKS: readonly NetworkEntry[] = [
  { name: 'mlp', model: { shipped: 'mlp.onnx' }, mnist: true, cpu: true },
  { name: 'lenet5', model: { shipped: 'lenet5.onnx' }, mnist: true, cpu: true },
  // Fashion-MNIST models: speed only here (seeded random inputs).
  { name: 'fmnist-mobilenet', model: { shipped: 'fmnist-mobilenet.onnx' }, mnist: false, cpu: false },
  { name: 'fmnist-vit', model: { shipped: 'fmnist-vit.onnx' }, mnist: false, cpu: false },
  { name: 'resnet18', model: { built: 'resnet18' }, mnist: false, cpu: false },
];

const NETWORK_PRESETS = ['isaac', 'neural-pim'];

/** --quick's default batch (network cases, their calibration, the 1 M-MAC CNN's cold eval). */
export const QUICK_IMAGES = 32;
const KERNEL_PRESETS = ['isaac', 'cascade', 'neural-pim'];

/**
 * ResNet-18 at 32×32 is ~0.56 G MACs, ~18 G simulated cell-MACs per image under isaac: minutes per
 * batch of 256 on a CPU driver. There it runs 2 images (and calibrates on 2), and says so.
 */
const SOFTWARE_RESNET_IMAGES = 2;

async function loadNet(host: BenchHost, ref: ModelRef): Promise<Network | null> {
  const bytes = 'shipped' in ref ? await host.shippedModel(ref.shipped) : builtModel(ref.built);
  if (!bytes) return null;
  return importOnnx(bytes, 'shipped' in ref ? `models/${ref.shipped}` : ref.built);
}

/** Every tiling name `--tiles` may give (the candidates of an adapter with generous limits). */
export function tilingNames(): string[] {
  return tuningCandidates({ maxComputeWorkgroupStorageSize: 1 << 20, maxComputeInvocationsPerWorkgroup: 1 << 10 }).map(tilesName);
}

/**
 * Sets the backend's crossbar tiling to the tiling named `name` (no tuning): any that fits the adapter,
 * on CPU drivers any register tiling, also the TM 2 and 8 ones their tuning skips, so that the choice
 * can be measured. Throws naming the tilings it takes when none has that name.
 */
function fixTiling(b: BenchHost['backend'], name: string): NonNullable<BenchRun['tuning']> {
  const s = b.session;
  const names = tuningCandidates(s.ctx.limits).filter((t) => !s.ctx.adapter.isSoftware || cpuDriverRuns(t));
  const pick = names.find((t) => tilesName(t) === name);
  if (!pick) throw new Error(`--tiles ${name}: not a tiling this adapter runs (${names.map(tilesName).join(', ')})`);
  s.tuning = { ...s.tuning, xbar: { ...pick, bitplane: s.tuning.xbar.bitplane } };
  b.runtime.setTuning(s.tuning);
  return { tiles: name, source: 'option', timings: {} };
}

/** Runs every selected case; returns the run's record. */
export async function runSuite(host: BenchHost, o: SuiteOptions): Promise<BenchRun> {
  const startedAt = new Date().toISOString();
  let tuning: BenchRun['tuning'];
  if (o.tiles) tuning = fixTiling(host.backend, o.tiles);
  else {
    const tuned = await tuneBackend(host.backend, host.tuningStore, { retune: o.retune, log: host.log });
    tuning = tuned && { tiles: tilesName(tuned.entry.xbar), source: tuned.source, timings: tuned.entry.timings };
  }
  const s = host.backend.session;
  const a = s.ctx.adapter;
  const useTimestamps = GpuTimer.available(s.ctx.device);
  const cases: BenchRun['cases'] = [];
  const skipped: BenchRun['skipped'] = [];
  const selected = (id: string): boolean => o.only === null || o.only.test(id);
  const record = (id: string, r: CaseResult): void => {
    cases.push({ id, ...r });
    host.log(`done ${id}`);
  };

  // Kernels: every dataflow at K = N ∈ {256, 1024} (256 only when quick), B ∈ {1, 256}; the CPU
  // reference on the smallest shape.
  for (const K of o.quick ? [256] : [256, 1024]) {
    for (const B of [1, 256]) {
      for (const preset of KERNEL_PRESETS) {
        const id = `kernel/${preset}/K${K}/B${B}`;
        if (!selected(id)) continue;
        host.log(`run  ${id}`);
        record(id, await runKernelCase(s, { preset, K, B, readSigma: o.readSigma }, { runs: o.runs, useTimestamps, cpuVectors: K === 256 && B === 1 ? 1 : 0 }));
      }
    }
  }

  // Networks at batch o.images with isaac and neural-pim.
  for (const entry of NETWORKS) {
    const ids = NETWORK_PRESETS.map((p) => `network/${entry.name}/${p}`).filter(selected);
    if (ids.length === 0) continue;
    if (o.quick && !entry.mnist) {
      for (const id of ids) skipped.push({ id, reason: '--quick runs the MNIST networks only' });
      continue;
    }
    const net = await loadNet(host, entry.model);
    if (!net) {
      for (const id of ids) skipped.push({ id, reason: `models/${'shipped' in entry.model ? entry.model.shipped : ''} is not shipped yet` });
      continue;
    }
    const small = entry.name === 'resnet18' && a.isSoftware;
    const images = small ? SOFTWARE_RESNET_IMAGES : o.images;
    const calSamples = small ? SOFTWARE_RESNET_IMAGES : o.quick ? Math.min(o.images, 256) : 256;
    const data = entry.mnist ? await host.mnist(images, calSamples) : randomEvalData(net, images, calSamples);
    for (const preset of NETWORK_PRESETS) {
      const id = `network/${entry.name}/${preset}`;
      if (!selected(id)) continue;
      host.log(`run  ${id}`);
      const note = small ? `${images} images and ${calSamples} calibration inputs on a software adapter (18 G cell-MACs per image under isaac)` : o.quick ? `--quick: ${calSamples} calibration inputs, the CPU reference on 1 image` : undefined;
      record(id, await runNetworkCase(host.backend, net, data, { model: entry.name, preset, images, calSamples, readSigma: o.readSigma, cpuImages: entry.cpu ? (o.quick ? 1 : 2) : 0, note }, o.runs, entry.mnist));
    }
  }

  // Cold starts: a fresh `eval` to its first image, and the two whole commands the issue names.
  const colds: ColdSpec[] = [
    // Issue 16 item 6: `xbarsim eval --model models/lenet5.onnx --dataset mnist --limit 100` (default preset ideal, no noise).
    { id: 'cold/lenet5/ideal/100', model: { shipped: 'lenet5.onnx' }, preset: 'ideal', readSigma: 0, images: 100 },
    ...(o.quick ? ['isaac'] : NETWORK_PRESETS).map((p): ColdSpec => ({ id: `cold/lenet5/${p}/1`, model: { shipped: 'lenet5.onnx' }, preset: p, readSigma: o.readSigma, images: 1 })),
    // The target: the whole command on a ~1 M-MAC CNN, ISAAC 8-bit settings, 2% additive read noise, 256 images (--images).
    { id: `eval/cnn-1m/isaac/${o.images}`, model: { built: 'cnn-1m' }, preset: 'isaac', readSigma: 0.02, images: o.images },
  ];
  for (const c of colds) {
    if (!selected(c.id)) continue;
    host.log(`run  ${c.id}`);
    const times = await host.coldEval(c, o.runs);
    const seconds = figure(times.wall, 's');
    record(c.id, {
      kind: 'cold',
      id: c.id,
      model: 'shipped' in c.model ? c.model.shipped.replace(/\.onnx$/, '') : c.model.built,
      preset: c.preset,
      readSigma: c.readSigma,
      images: c.images,
      seconds,
      imagesPerSecond: mapFigure(seconds, 'images/s', (t) => c.images / t),
      timing: 'wall',
      ...(times.cpu ? { cpuSeconds: figure(times.cpu, 's') } : {}),
      ...(times.trace ? { trace: times.trace } : {}),
    });
  }

  return {
    schema: 'xbarsim-bench/1',
    runner: host.runner,
    startedAt,
    finishedAt: new Date().toISOString(),
    versions: host.versions,
    adapter: { line: adapterLine(a), vendor: a.vendor, architecture: a.architecture, device: a.device, description: a.description, source: a.source, isSoftware: a.isSoftware, features: s.ctx.caps.features },
    gpuTiming: useTimestamps ? 'timestamp-query' : 'wall',
    options: { quick: o.quick, runs: o.runs, only: o.only?.source ?? null, readSigma: o.readSigma, images: o.images, retune: o.retune ?? false, tiles: o.tiles ?? null },
    tuning,
    cases,
    skipped,
  };
}

/** SuiteOptions as JSON (the browser page receives them in its URL). */
export function suiteOptionsToJson(o: SuiteOptions): string {
  return JSON.stringify({ ...o, only: o.only?.source ?? null });
}

/** The inverse of suiteOptionsToJson, with the defaults for absent fields. */
export function suiteOptionsFromJson(text: string): SuiteOptions {
  const j = JSON.parse(text) as Partial<Omit<SuiteOptions, 'only'>> & { only?: string | null };
  return { quick: j.quick ?? false, runs: j.runs ?? 5, only: j.only ? new RegExp(j.only) : null, readSigma: j.readSigma ?? 0.02, images: j.images ?? 256, retune: j.retune ?? false, tiles: j.tiles ?? null };
}
