import circuitWgsl from '../../shaders/circuit.wgsl?raw';
import type { XbarConfig } from '../config/types.ts';
import type { LayerGeometry } from '../crossbar/geometry.ts';
import type { GpuSession } from '../gpu/runtime.ts';
import { readBuffer, uploadStorage } from '../gpu/buffers.ts';
import { blockSubArrays, type SubArray } from '../circuits/layout.ts';
import type { WireParams } from '../circuits/params.ts';
import { notConvergedMessage, recordSolve, type SolveResult, type SolveStats } from '../circuits/stats.ts';
import { RuntimeFailure } from '../errors.ts';
import { defineKernel, read, readWrite } from './kernel.ts';
import { dispatch, type Recorder } from './dispatch.ts';
import { checkParam } from './template.ts';

/** Threads per workgroup: each solves rows, then columns, of its array (128-line arrays: two lines each). */
const WG = 64;

/** A circuit pipeline: the entry point, and whether drives are unit rows written as effective conductances. */
export type CircuitVariant = { entry: 'factor' | 'solve'; unit: boolean; wg: number };

/** The array-circuit solver of DESIGN.md section 13 (shaders/circuit.wgsl): factor every sub-array, then solve every drive. */
export const CIRCUIT = defineKernel({
  name: 'circuit',
  uniforms: {
    /** Jobs (sub-arrays for factor, drives for solve) in all, and the first of this dispatch. */
    nJobs: 'u32',
    jobBase: 'u32',
    /** Cells of all sub-arrays (the length of each of F's four parts). */
    total: 'u32',
    /** Largest sub-array's cells, and one workgroup slot of W (3·maxCells + its columns). */
    maxCells: 'u32',
    slotWords: 'u32',
    /** The layer's cell layout [K, S, pol, ncols] (an array alone: 1, 1, cols). */
    S: 'u32',
    pol: 'u32',
    ncols: 'u32',
    /** Literal drives: V's row length, O's row length. */
    vStride: 'u32',
    oStride: 'u32',
    maxIterations: 'u32',
    rRow: 'f32',
    rCol: 'f32',
    rTerminal: 'f32',
    tolerance: 'f32',
  },
  bindings: {
    /** The layer's cells [K, S, pol, ncols]. */
    Gl: read('f32'),
    /** Per sub-array: offset of its cells, rows, cols, first layer row, first packed column. */
    desc: read('u32'),
    /** Compact cells per sub-array, row-major then column-major ([2, total]), and their Thomas factors [4, total]. */
    Gc: readWrite('f32'),
    F: readWrite('f32'),
    /** Per job: sub-array, drive (its unit row, or its row of V). */
    jobs: read('u32'),
    V: read('f32'),
    /** Workgroup slots: node voltages, forward values, previous currents. */
    W: readWrite('f32'),
    /** Currents: effective conductances in the layer's cell layout (unit), or [drives, oStride]. */
    O: readWrite('f32'),
    /** Per job: sweeps, converged (1/0), estimated error. */
    stats: readWrite('f32'),
  },
  compile(v: CircuitVariant, limits) {
    checkParam('wg', v.wg, 1, limits.maxComputeInvocationsPerWorkgroup, true);
    return {
      body: circuitWgsl,
      entry: v.entry,
      consts: { WG: v.wg, UNIT: v.unit },
      // The unit variant's WGSL still names V (a placeholder is bound).
      uses: v.entry === 'factor' ? (['Gl', 'desc', 'Gc', 'F'] as const) : (['desc', 'Gc', 'F', 'jobs', 'V', 'W', 'O', 'stats'] as const),
    };
  },
});

/** A sub-array as the solver sees it: its place in the layer (row block p, first layer row k0). */
export interface CircuitArray extends SubArray {
  p: number;
  k0: number;
}

/** What encodeCircuit solves: sub-arrays of one cell layout, each drive one job. */
export interface CircuitJob {
  /** The layer's cells [K, S, pol, ncols] (f32). */
  cells: GPUBuffer;
  S: number;
  pol: number;
  ncols: number;
  arrays: readonly CircuitArray[];
  wires: WireParams;
  /** Unit drives: every row of every sub-array, currents written as effective conductances into `out` (the cells' layout). */
  unit: boolean;
  /** Literal drives: V [drives, vStride] (the layer's rows), currents into out [drives, oStride] (packed columns); every array gets every drive. */
  V?: GPUBuffer;
  drives?: number;
  vStride?: number;
  oStride?: number;
  out: GPUBuffer;
}

/** The jobs encodeCircuit ran, as [sub-array, drive] pairs, and their stats buffer ([jobs, 3]). */
export interface EncodedCircuit {
  jobs: Uint32Array;
  stats: GPUBuffer;
}

/** Bytes of workgroup slots one dispatch may use: node voltages of that many arrays solved side by side. */
const SLOT_BUDGET = 64 << 20;

/**
 * Records the factor and solve passes of `j` into `rec`: one workgroup per sub-array, then one per
 * job in dispatches of as many as the slot budget holds (each dispatch reuses the slots).
 */
export function encodeCircuit(s: GpuSession, rec: Recorder, j: CircuitJob): EncodedCircuit {
  const { device } = s.ctx;
  const desc = new Uint32Array(j.arrays.length * 5);
  let total = 0;
  let maxCells = 1;
  let maxCols = 1;
  j.arrays.forEach((a, i) => {
    desc.set([total, a.rows, a.cols, a.k0, a.col0], i * 5);
    total += a.rows * a.cols;
    maxCells = Math.max(maxCells, a.rows * a.cols);
    maxCols = Math.max(maxCols, a.cols);
  });
  const pairs: number[] = [];
  j.arrays.forEach((a, i) => {
    const n = j.unit ? a.rows : (j.drives ?? 0);
    for (let d = 0; d < n; d++) pairs.push(i, d);
  });
  const jobs = Uint32Array.from(pairs);
  const nJobs = jobs.length / 2;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const buffer = (words: number, label: string): GPUBuffer => rec.temp(device.createBuffer({ size: Math.max(16, words * 4), usage, label }));
  const descBuf = rec.temp(uploadStorage(device, desc, 'circuit.desc'));
  const jobBuf = rec.temp(uploadStorage(device, jobs, 'circuit.jobs'));
  const Gc = buffer(2 * total, 'circuit.cells');
  const F = buffer(4 * total, 'circuit.factors');
  const stats = device.createBuffer({ size: Math.max(16, nJobs * 12), usage, label: 'circuit.stats' });
  const slotWords = 3 * maxCells + maxCols;
  const maxDim = s.ctx.limits.maxComputeWorkgroupsPerDimension;
  const budget = Math.min(SLOT_BUDGET, s.ctx.limits.maxStorageBufferBindingSize);
  const slots = Math.max(1, Math.min(nJobs, maxDim, Math.floor(budget / (4 * slotWords))));
  const W = buffer(slots * slotWords, 'circuit.slots');
  const w = j.wires;
  const common = {
    total, maxCells, slotWords, S: j.S, pol: j.pol, ncols: j.ncols, vStride: j.vStride ?? 0, oStride: j.oStride ?? 0,
    maxIterations: w.maxIterations, rRow: w.rRow, rCol: w.rCol, rTerminal: w.rTerminal, tolerance: w.tolerance,
  };
  for (let a0 = 0; a0 < j.arrays.length; a0 += maxDim) {
    const n = Math.min(maxDim, j.arrays.length - a0);
    dispatch(s, rec, CIRCUIT, { entry: 'factor', unit: j.unit, wg: WG }, {
      params: { ...common, nJobs: j.arrays.length, jobBase: a0 },
      bind: { Gl: j.cells, desc: descBuf, Gc, F },
      grid: { x: n },
      label: 'factor',
    });
  }
  const placeholder = buffer(4, 'circuit.noDrives');
  for (let b0 = 0; b0 < nJobs; b0 += slots) {
    const n = Math.min(slots, nJobs - b0);
    dispatch(s, rec, CIRCUIT, { entry: 'solve', unit: j.unit, wg: WG }, {
      params: { ...common, nJobs, jobBase: b0 },
      bind: { desc: descBuf, Gc, F, jobs: jobBuf, V: j.V ?? placeholder, W, O: j.out, stats },
      grid: { x: n },
      label: 'solve',
    });
  }
  return { jobs, stats };
}

/** Each job's SolveResult from the stats buffer's [jobs, 3] words. */
export function solveResults(words: Float32Array, nJobs: number): SolveResult[] {
  const out: SolveResult[] = [];
  for (let i = 0; i < nJobs; i++) out.push({ iterations: words[3 * i], converged: words[3 * i + 1] === 1, error: words[3 * i + 2] });
  return out;
}

/** Every sub-array of a layer (DESIGN.md section 13), row block by row block, as the CPU oracle's LayerCircuit cuts them. */
export function layerArrays(g: LayerGeometry, cfg: XbarConfig): CircuitArray[] {
  const columns = g.N * g.S * g.pol;
  return g.blocks.flatMap((b, p) => blockSubArrays(cfg, b.rows, columns).map((sa) => ({ ...sa, p, k0: b.start + sa.row0 })));
}

/**
 * Reads back a layer's unit-drive stats, adds every solve to `stats`, and returns the one line of the
 * first sub-array that missed circuit.tolerance (null when all converged). Never rejects for a
 * non-convergence, so a check nobody awaits cannot crash the process.
 */
export async function checkLayerCircuit(
  s: GpuSession,
  enc: EncodedCircuit,
  arrays: readonly CircuitArray[],
  cfg: XbarConfig,
  wires: WireParams,
  stats: SolveStats,
  where: string,
): Promise<string | null> {
  const nJobs = enc.jobs.length / 2;
  try {
    const words = new Float32Array(await readBuffer(s.ctx.device, enc.stats, nJobs * 12));
    const results = solveResults(words, nJobs);
    let failure: string | null = null;
    results.forEach((r, i) => {
      recordSolve(stats, r);
      if (!r.converged && failure === null) {
        const a = arrays[enc.jobs[2 * i]];
        failure = notConvergedMessage(where, a.p, a, r, cfg.circuit.tolerance, wires.maxIterations);
      }
    });
    return failure;
  } catch (e) {
    return `circuit: ${where}: reading the solver's statistics failed (${e instanceof Error ? e.message : String(e)})`;
  } finally {
    enc.stats.destroy();
  }
}

/**
 * One array's network on the GPU for many drives (the literal per-read solve, `xbarsim array`'s
 * primitive): G [rows, cols] and V [B, rows] in consistent units (params.ts), column currents
 * I [B, cols] and each drive's SolveResult (a drive that missed the tolerance says so there).
 */
export async function solveArrayGpu(s: GpuSession, G: ArrayLike<number>, rows: number, cols: number, V: ArrayLike<number>, B: number, wires: WireParams): Promise<{ I: Float32Array; results: SolveResult[] }> {
  const { device } = s.ctx;
  const temps: GPUBuffer[] = [];
  const rec = { encoder: device.createCommandEncoder(), temp: (b: GPUBuffer) => (temps.push(b), b) };
  try {
    const cells = rec.temp(uploadStorage(device, Float32Array.from(G), 'circuit.G'));
    const volts = rec.temp(uploadStorage(device, Float32Array.from(V), 'circuit.V'));
    const out = rec.temp(device.createBuffer({ size: Math.max(16, B * cols * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, label: 'circuit.I' }));
    const arrays: CircuitArray[] = [{ row0: 0, rows, col0: 0, cols, array: 0, p: 0, k0: 0 }];
    const enc = encodeCircuit(s, rec, { cells, S: 1, pol: 1, ncols: cols, arrays, wires, unit: false, V: volts, drives: B, vStride: rows, oStride: cols, out });
    temps.push(enc.stats);
    device.queue.submit([rec.encoder.finish()]);
    const I = new Float32Array(await readBuffer(device, out, B * cols * 4));
    const results = solveResults(new Float32Array(await readBuffer(device, enc.stats, B * 12)), B);
    s.ctx.checkErrors();
    return { I, results };
  } finally {
    for (const b of temps) b.destroy();
  }
}

/** Throws the RuntimeFailure of a layer check's line, if any. */
export function throwCircuitFailure(line: string | null): void {
  if (line !== null) throw new RuntimeFailure(line);
}
