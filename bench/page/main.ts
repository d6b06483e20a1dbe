// The benchmark page npm run bench:browser opens in headless Chromium. `?mode=suite` runs the suite
// (bench/core/suite.ts, the same cases as the Node runner) on navigator.gpu and hands the record
// back through window.__benchRun; `?mode=cold&spec=…` is one cold eval in a fresh browser, timed
// from navigation start to its last result (window.__benchCold). Cold evals of the suite are asked of
// the Node side (window.__benchColdEval, exposed by Puppeteer), which opens those fresh browsers.
import { resolveConfig } from '../../src/config/schema.ts';
import type { Backend } from '../../src/gpu/backend.ts';
import { openBrowserGpu } from '../../src/gpu/browser-gpu.ts';
import { GpuRuntime } from '../../src/gpu/runtime.ts';
import { memoryTuningStore } from '../../src/gpu/tuning.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { evaluateChip } from '../../src/nn/evaluate.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { mnistEvalDataBrowser } from '../../web/app/mnist-browser.ts';
import { shippedModels } from '../../web/app/models.ts';
import { adapterLine } from '../../src/gpu/gpu-context.ts';
import { probeCrossbar, type GapProbe } from '../core/gap-probe.ts';
import type { KernelCaseSpec } from '../core/kernel-cases.ts';
import { markdownReport } from '../core/report.ts';
import { builtModel, runSuite, suiteOptionsFromJson, type BenchHost, type BenchRun, type ColdSpec, type ModelRef } from '../core/suite.ts';

declare global {
  interface Window {
    __benchGap?: Promise<{ probe: GapProbe; adapter: string }>;
    /** Exposed by npm run bench:gap: called right before and after the timed runs. */
    __gapMark?: (at: 'start' | 'end') => Promise<void>;
    __benchRun?: Promise<BenchRun>;
    __benchCold?: Promise<number>;
    /** Exposed by the Node side: runs `runs` cold evals (after a warm-up) in fresh browsers. */
    __benchColdEval?: (spec: string, runs: number) => Promise<number[]>;
    /** Exposed by the Node side: progress lines. */
    __benchLog?: (line: string) => Promise<void>;
  }
}

const params = new URLSearchParams(location.search);

function log(line: string): void {
  void window.__benchLog?.(line);
}

async function openBackend(): Promise<Extract<Backend, { kind: 'webgpu' }>> {
  const runtime = new GpuRuntime(() => openBrowserGpu((l) => log(l)));
  const session = await runtime.session();
  if (!session) throw new Error('navigator.gpu gave no adapter');
  return { kind: 'webgpu', runtime, session };
}

async function shippedBytes(file: string): Promise<Uint8Array | null> {
  const m = shippedModels().find((s) => s.file === file);
  if (!m) return null;
  const res = await fetch(m.url);
  if (!res.ok) throw new Error(`${file}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function modelBytes(ref: ModelRef): Promise<Uint8Array> {
  if ('built' in ref) return builtModel(ref.built);
  const b = await shippedBytes(ref.shipped);
  if (!b) throw new Error(`models/${ref.shipped} is not shipped`);
  return b;
}

/** One cold eval, as the CLI's `eval` does it: open, load, calibrate, program chip 0, score `images`. */
async function coldEval(spec: ColdSpec): Promise<number> {
  const backend = await openBackend();
  try {
    const net = importOnnx(await modelBytes(spec.model), 'model');
    const cfg = resolveConfig({ preset: spec.preset, ...(spec.readSigma > 0 ? { noise: { read: { sigma: spec.readSigma, model: 'additive' } } } : {}) });
    const data = await mnistEvalDataBrowser(spec.images, cfg.calibration.samples);
    const runner = openNetwork(backend, net, cfg, false);
    try {
      await runner.calibrate(data.calibration!.x, data.calibration!.n);
      await evaluateChip(runner, data, 0, false);
      // performance.now() counts from the navigation's start: page load and module evaluation included.
      return performance.now() / 1000;
    } finally {
      runner.destroy();
    }
  } finally {
    backend.runtime.release();
  }
}

async function suite(): Promise<BenchRun> {
  const backend = await openBackend();
  const host: BenchHost = {
    runner: 'browser',
    tuningStore: memoryTuningStore(),
    backend,
    versions: { xbarsim: params.get('version') ?? 'unknown', userAgent: navigator.userAgent },
    shippedModel: shippedBytes,
    mnist: mnistEvalDataBrowser,
    async coldEval(spec, runs) {
      if (!window.__benchColdEval) throw new Error('the Node side did not expose __benchColdEval');
      return { wall: await window.__benchColdEval(JSON.stringify(spec), runs) };
    },
    log,
  };
  try {
    const run = await runSuite(host, suiteOptionsFromJson(params.get('opts') ?? '{}'));
    const out = document.getElementById('out');
    if (out) out.textContent = markdownReport(run);
    return run;
  } finally {
    backend.runtime.release();
  }
}

/** npm run bench:gap's browser side: one kernel case's crossbar kernel (bench/core/gap-probe.ts). */
async function gap(): Promise<{ probe: GapProbe; adapter: string }> {
  const backend = await openBackend();
  try {
    const o = JSON.parse(params.get('gap') ?? '{}') as { spec: KernelCaseSpec; runs: number; tiles: string };
    const probe = await probeCrossbar(backend.session, o.spec, o.runs, o.tiles, async (at) => {
      await window.__gapMark?.(at);
    });
    return { probe, adapter: adapterLine(backend.session.ctx.adapter) };
  } finally {
    backend.runtime.release();
  }
}

const mode = params.get('mode');
if (mode === 'suite') window.__benchRun = suite();
else if (mode === 'cold') window.__benchCold = coldEval(JSON.parse(params.get('spec') ?? '{}') as ColdSpec);
else if (mode === 'gap') window.__benchGap = gap();
