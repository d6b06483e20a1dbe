// npm run bench [-- --quick] [--runs N] [--only REGEX] [--read-sigma S] [--images N] [--out DIR] [--retune | --tiles NAME]
// The benchmark suite (bench/core/suite.ts) in Node on Dawn's adapter: markdown tables on stdout,
// progress on stderr, one JSON record per run in bench/results/. Cold evals are fresh `xbarsim eval`
// processes. For a like-for-like comparison with the browser runner (SwiftShader), point Dawn at the
// same driver: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json npm run bench.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openNodeGpu } from '../src/gpu/node-gpu.ts';
import { GpuRuntime } from '../src/gpu/runtime.ts';
import { fileTuningStore } from '../src/gpu/tuning-cache.ts';
import { mnistEvalData } from '../src/io/datasets/eval-data.ts';
import { parseBenchArgs } from './core/args.ts';
import { markdownReport } from './core/report.ts';
import { builtModel, runSuite, type BenchHost, type ColdSpec } from './core/suite.ts';
import { now } from './core/measure.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin', 'xbarsim.js');

function packageVersion(dir: string): string {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** One cold `xbarsim eval`: wall seconds, and the process CPU seconds and phases of its XBARSIM_TRACE line. */
interface ColdRun {
  wall: number;
  cpu: number | null;
  trace: string | null;
}

/** Runs `xbarsim eval` once with XBARSIM_TRACE=1; rejects with its stderr on failure. */
function timeEval(args: string[]): Promise<ColdRun> {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const child = spawn(process.execPath, [CLI, 'eval', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, XBARSIM_TRACE: '1' } });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const wall = now() - t0;
      const trace = err.split('\n').find((l) => l.startsWith('xbarsim trace')) ?? null;
      const cpu = trace?.match(/\| total [\d.]+\/([\d.]+)/);
      if (code === 0) resolve({ wall, cpu: cpu ? Number(cpu[1]) : null, trace });
      else reject(new Error(`xbarsim eval ${args.join(' ')} exited ${code}: ${err.trim().split('\n').filter((l) => !l.startsWith('xbarsim trace')).pop()}`));
    });
  });
}

const opts = parseBenchArgs(process.argv.slice(2), 'npm run bench --');
const runtime = new GpuRuntime(() => openNodeGpu((l) => process.stderr.write(`${l}\n`)));
const session = await runtime.session();
if (!session) {
  process.stderr.write('bench: no WebGPU adapter (install mesa-vulkan-drivers from bookworm-backports, or chromium for SwiftShader)\n');
  process.exit(1);
}
const work = mkdtempSync(join(tmpdir(), 'xbarsim-bench-'));

const host: BenchHost = {
  runner: 'node',
  backend: { kind: 'webgpu', runtime, session },
  versions: {
    xbarsim: packageVersion(ROOT),
    node: process.version,
    webgpu: packageVersion(join(ROOT, 'node_modules', 'webgpu')),
    platform: `${process.platform}-${process.arch}`,
  },
  tuningStore: fileTuningStore(),
  async shippedModel(file) {
    const p = join(ROOT, 'models', file);
    return existsSync(p) ? new Uint8Array(readFileSync(p)) : null;
  },
  async mnist(n, calSamples) {
    return mnistEvalData([784], n, calSamples);
  },
  async coldEval(spec: ColdSpec, runs: number) {
    let model: string;
    if ('shipped' in spec.model) model = join(ROOT, 'models', spec.model.shipped);
    else {
      model = join(work, `${spec.model.built}.onnx`);
      if (!existsSync(model)) writeFileSync(model, builtModel(spec.model.built));
    }
    const args = ['--model', model, '--dataset', 'mnist', '--limit', String(spec.images)];
    if (spec.readSigma > 0) {
      const cfg = join(work, `${spec.id.replace(/\W+/g, '_')}.json`);
      writeFileSync(cfg, JSON.stringify({ preset: spec.preset, noise: { read: { sigma: spec.readSigma, model: 'additive' } } }));
      args.push('--config', cfg);
    } else args.push('--preset', spec.preset);
    await timeEval(args); // warm-up: disk caches, and the first compile of anything cached on disk
    const out: ColdRun[] = [];
    for (let i = 0; i < runs; i++) out.push(await timeEval(args));
    const cpu = out.map((r) => r.cpu);
    return {
      wall: out.map((r) => r.wall),
      ...(cpu.every((c) => c !== null) ? { cpu: cpu as number[] } : {}),
      ...(out[out.length - 1].trace ? { trace: out[out.length - 1].trace! } : {}),
    };
  },
  log: (line) => process.stderr.write(`bench: ${line}\n`),
};

try {
  const t0 = now();
  const run = await runSuite(host, opts);
  const dir = opts.out ?? join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${run.startedAt.replace(/[:.]/g, '-')}-node${opts.quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(run, null, 2)}\n`);
  process.stdout.write(`${markdownReport(run)}\n\nwhole suite ${(now() - t0).toFixed(0)} s; record: ${file}\n`);
} catch (e) {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
  runtime.release();
}
