import { performance } from 'node:perf_hooks';
import type { XbarConfig } from '../config/types.ts';
import { loadConfigFile } from '../config/load.ts';
import { resolveConfig } from '../config/schema.ts';
import { RuntimeFailure, UsageError } from '../errors.ts';
import { checkFinite, checkFloat32Range, encodeNpy, readNpyFile, type NpyArray } from '../io/npy.ts';
import { releaseBackend, type BackendChoice } from '../gpu/backend.ts';
import { adapterLine } from '../gpu/gpu-context.ts';
import { simulateVmm, type Matrix } from '../nn/crossbar-layer.ts';
import { checkOutputs, writeOutputs, type InputFile } from '../io/atomic-write.ts';
import { nodeBackend, stderrLine } from '../gpu/node-backend.ts';
import { circuitLine } from './circuit-line.ts';
import { circuitBackend } from './backend-guard.ts';

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
  if (a.shape.length !== 1 && a.shape.length !== 2) throw new UsageError(`${what}: must be 2-D [rows, cols] (got shape [${a.shape.join(', ')}])`);
  const m = a.shape.length === 1 ? { data: a.data, rows: 1, cols: a.shape[0] } : { data: a.data, rows: a.shape[0], cols: a.shape[1] };
  // An empty matrix has no input scale to calibrate and no product to compute: bad input, not a 0×N answer.
  if (m.rows === 0 || m.cols === 0) throw new UsageError(`${what}: is empty (shape [${a.shape.join(', ')}]); it needs at least one row and one column`);
  return m;
}

function readMatrix(path: string, flag: string): Matrix {
  const what = `${flag} ${path}`;
  const a = readNpyFile(path, what);
  checkFinite(a.data, a.shape, what);
  checkFloat32Range(a.data, a.shape, what);
  return matrixFrom(a, what);
}

function maxAbs(xs: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < xs.length; i++) m = Math.max(m, Math.abs(xs[i]));
  return m;
}

/**
 * Y must be finite: past float32's range it is the inputs' doing (bad input, exit 2, saying so);
 * a NaN from finite, moderate inputs would be a simulator bug (exit 1). Nothing is written either way.
 */
function checkOutput(Y: ArrayLike<number>, W: Matrix, X: Matrix, f: VmmFlags): void {
  for (let i = 0; i < Y.length; i++) {
    if (Number.isFinite(Y[i])) continue;
    const at = `[${Math.floor(i / W.cols)}, ${i % W.cols}]`;
    const bound = maxAbs(X.data) * maxAbs(W.data) * W.rows;
    if (!(bound < 1e37)) {
      throw new UsageError(`--inputs ${f.inputs}: X·W reaches ${Y[i]} at ${at}, beyond float32's range (max |X| ${maxAbs(X.data).toPrecision(3)}, max |W| ${maxAbs(W.data).toPrecision(3)}, ${W.rows} rows); scale the inputs or weights down`);
    }
    throw new RuntimeFailure(`vmm: Y is ${Y[i]} at ${at} from finite inputs (max |X|·|W|·K = ${bound.toPrecision(3)}): a simulator bug, please report it with the inputs`);
  }
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
  if (Object.keys(cfg.layers).length > 0) {
    throw new UsageError(`--config ${f.config ?? ''}: "layers" names layers of a network, but vmm simulates one unnamed layer; put its weights/inputs/adc fields at the top level (layers apply to eval and sweep)`);
  }
  const seed = intFlag('--seed', f.seed, 0, 2 ** 32 - 1);
  if (seed !== undefined) cfg = { ...cfg, seed };
  const chip = intFlag('--chip', f.chip, 0, 2 ** 32 - 1) ?? 0;
  const vpd = intFlag('--vectors-per-dispatch', f.vectorsPerDispatch, 1, 2 ** 31);
  const W = readMatrix(f.weights, '--weights');
  const X = readMatrix(f.inputs, '--inputs');
  if (X.cols !== W.rows) throw new UsageError(`--inputs ${f.inputs}: has ${X.cols} columns but --weights has ${W.rows} rows (X [B, K] · W [K, N])`);
  const C = f.calibrate !== undefined ? readMatrix(f.calibrate, '--calibrate') : undefined;
  if (C && C.cols !== W.rows) throw new UsageError(`--calibrate ${f.calibrate}: has ${C.cols} columns but --weights has ${W.rows} rows`);
  const inputs: InputFile[] = [
    { flag: '--weights', path: f.weights },
    { flag: '--inputs', path: f.inputs },
    ...(f.calibrate !== undefined ? [{ flag: '--calibrate', path: f.calibrate }] : []),
    ...(f.config !== undefined ? [{ flag: '--config', path: f.config }] : []),
  ];
  const [out, countsOut] = checkOutputs([{ flag: '--out', path: f.out }, ...(f.counts !== undefined ? [{ flag: '--counts', path: f.counts }] : [])], inputs);

  const backend = await nodeBackend(circuitBackend([cfg], f.backend, 'vmm'));
  try {
    const t0 = performance.now();
    const r = await simulateVmm(backend, cfg, W, X, { calibration: C, vectorsPerDispatch: vpd, chip });
    const ms = performance.now() - t0;
    checkOutput(r.Y, W, X, f);
    const counts = { layers: [{ name: 'vmm', ...r.counts }], total: { ...r.counts }, vectors: X.rows };
    // Both files or neither: a failed --counts must not leave a new Y.npy behind.
    writeOutputs([
      { out, data: encodeNpy([X.rows, W.cols], '<f4', r.Y) },
      ...(countsOut !== undefined ? [{ out: countsOut, data: `${JSON.stringify(counts, null, 2)}\n` }] : []),
    ]);
    const where = backend.kind === 'webgpu' ? adapterLine(backend.session.ctx.adapter) : `cpu (${backend.reason})`;
    stderrLine(`xbarsim vmm: Y [${X.rows}, ${W.cols}] -> ${f.out} | ${cfg.preset ?? 'custom'} ${cfg.dataflow} | ${r.counts.adcConversions} ADC conversions | ${ms.toFixed(1)} ms on ${where}`);
    if (cfg.circuit.model === 'solve') stderrLine(`xbarsim vmm: ${circuitLine()}`);
  } finally {
    releaseBackend(backend);
  }
}
