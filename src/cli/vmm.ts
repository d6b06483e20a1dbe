import { performance } from 'node:perf_hooks';
import type { XbarConfig } from '../config/types.ts';
import { loadConfigFile } from '../config/load.ts';
import { resolveConfig } from '../config/schema.ts';
import { UsageError } from '../errors.ts';
import { checkFinite, readNpyFile, writeNpyFloat32, type NpyArray } from '../io/npy.ts';
import { releaseBackend, type BackendChoice } from '../gpu/backend.ts';
import { adapterLine } from '../gpu/gpu-context.ts';
import { simulateVmm, type Matrix } from '../nn/crossbar-layer.ts';
import { checkWritableTarget, writeTextAtomic } from '../io/atomic-write.ts';
import { nodeBackend, stderrLine } from '../gpu/node-backend.ts';
import { circuitLine } from './eval.ts';

/** Flags of `xbarsim vmm` (DESIGN.md section 8). */
export interface VmmFlags {
  weights: string;
  inputs: string;
  out: string;
  config?: string;
  preset?: string;
  backend: BackendChoice;
  seed?: string;
  chip?: string;
  counts?: string;
  calibrate?: string;
  vectorsPerDispatch?: string;
}

/** Parses a non-negative integer flag, or throws a one-line usage error naming it. */
export function intFlag(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new UsageError(`${name}: must be an integer ${min}–${max} (got ${value})`);
  return Number(value);
}

function matrixFrom(a: NpyArray, what: string): Matrix {
  if (a.shape.length === 1) return { data: a.data, rows: 1, cols: a.shape[0] };
  if (a.shape.length !== 2) throw new UsageError(`${what}: must be 2-D [rows, cols] (got shape [${a.shape.join(', ')}])`);
  return { data: a.data, rows: a.shape[0], cols: a.shape[1] };
}

function readMatrix(path: string, flag: string): Matrix {
  const what = `${flag} ${path}`;
  const a = readNpyFile(path, what);
  checkFinite(a.data, a.shape, what);
  return matrixFrom(a, what);
}

/** The config from --config and/or --preset (the preset is the base, the file overrides it). */
export function configFromFlags(config: string | undefined, preset: string | undefined): XbarConfig {
  if (config === undefined && preset === undefined) throw new UsageError('one of --config FILE or --preset NAME is required');
  return config !== undefined ? loadConfigFile(config, preset) : resolveConfig({}, { preset });
}

/** `xbarsim vmm`: one crossbar layer, DESIGN.md section 3 exactly; returns nothing, writes files. */
export async function runVmm(f: VmmFlags): Promise<void> {
  // Validate everything before touching the GPU or writing anything.
  let cfg = configFromFlags(f.config, f.preset);
  const seed = intFlag('--seed', f.seed, 0, 2 ** 32 - 1);
  if (seed !== undefined) cfg = { ...cfg, seed };
  const chip = intFlag('--chip', f.chip, 0, 2 ** 32 - 1) ?? 0;
  const vpd = intFlag('--vectors-per-dispatch', f.vectorsPerDispatch, 1, 2 ** 31);
  const W = readMatrix(f.weights, '--weights');
  const X = readMatrix(f.inputs, '--inputs');
  if (X.cols !== W.rows) throw new UsageError(`--inputs ${f.inputs}: has ${X.cols} columns but --weights has ${W.rows} rows (X [B, K] · W [K, N])`);
  const C = f.calibrate !== undefined ? readMatrix(f.calibrate, '--calibrate') : undefined;
  if (C && C.cols !== W.rows) throw new UsageError(`--calibrate ${f.calibrate}: has ${C.cols} columns but --weights has ${W.rows} rows`);
  checkWritableTarget(f.out, '--out');
  if (f.counts !== undefined) checkWritableTarget(f.counts, '--counts');

  const backend = await nodeBackend(f.backend);
  try {
    const t0 = performance.now();
    const r = await simulateVmm(backend, cfg, W, X, { calibration: C, vectorsPerDispatch: vpd, chip });
    const ms = performance.now() - t0;
    const counts = { layers: [{ name: 'vmm', ...r.counts }], total: { ...r.counts }, vectors: X.rows };
    writeNpyFloat32(f.out, [X.rows, W.cols], r.Y, `--out ${f.out}`);
    if (f.counts !== undefined) writeTextAtomic(f.counts, `${JSON.stringify(counts, null, 2)}\n`);
    const where = backend.kind === 'webgpu' ? adapterLine(backend.session.ctx.adapter) : `cpu (${backend.reason})`;
    stderrLine(`xbarsim vmm: Y [${X.rows}, ${W.cols}] -> ${f.out} | ${cfg.preset ?? 'custom'} ${cfg.dataflow} | ${r.counts.adcConversions} ADC conversions | ${ms.toFixed(1)} ms on ${where}`);
    if (cfg.circuit.model === 'solve') stderrLine(`xbarsim vmm: ${circuitLine()}`);
  } finally {
    releaseBackend(backend);
  }
}
