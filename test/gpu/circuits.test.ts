import { afterAll, describe, expect, it } from 'vitest';
import { openTestGpu } from '../helpers/gpu.ts';
import { maxAbs, maxAbsDiff, randomArray } from '../helpers/random.ts';
import { config } from '../helpers/vmm-cases.ts';
import { simulateVmm } from '../../src/nn/crossbar-layer.ts';
import { layerGeometry } from '../../src/crossbar/geometry.ts';
import type { Backend } from '../../src/gpu/backend.ts';
import { withTuning } from '../../src/gpu/runtime.ts';
import type { XbarConfigInput } from '../../src/config/types.ts';
import { solveArrayGpu } from '../../src/kernels/circuit.ts';
import { solveArray } from '../../src/reference/circuit.ts';
import { processSolveStats } from '../../src/circuits/stats.ts';
import { layerArrays } from '../../src/kernels/circuit.ts';
import { rng } from '../helpers/random.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';
import { tempDir, writeNpy } from '../helpers/files.ts';
import { parseNpy } from '../../src/io/npy.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const CPU: Backend = { kind: 'cpu', reason: 'test' };
const GPU = (): Backend => ({ kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session });
/** The real-GPU kernel variant (shared-memory input tiles of 8 rows, not aligned with the partitions) on the same device. */
const SHARED = (): Backend => ({ kind: 'webgpu', runtime: gpu!.runtime, session: withTuning(gpu!.session, { xbar: { tm: 2, wgx: 4, wgy: 4, pcMax: 2, kt: 8 } }) });

const base: XbarConfigInput = {
  preset: 'ideal',
  array: { rows: 16, cols: 32 },
  weights: { bits: 6, cellBits: 2, onOffRatio: 20 },
  inputs: { bits: 4, dacBits: 2 },
  adc: { bits: 0 },
};
// Ragged columns and more rows than an array, one row, and a full array plus one.
const SHAPES: [number, number, number][] = [
  [40, 13, 24],
  [1, 7, 5],
  [17, 33, 9],
];
const problem = (K: number, N: number, B: number, seed: number, lo = -1) => ({
  W: { data: randomArray(K * N, seed), rows: K, cols: N },
  X: { data: randomArray(B * K, seed + 1, lo, 1), rows: B, cols: K },
});

/**
 * A circuit config on the GPU against the f64 oracle on every shape (one for the costly PCM and
 * analog-sa cases): bit-identical at 1, 7 and 64 vectors per dispatch, within `tol` of max|Y| of the
 * CPU (ideal ADC), farther than `dropTol` from the wire-free outputs (the drop is there), same counts.
 */
async function matchesOracle(name: string, over: XbarConfigInput, tol: number, dropTol: number): Promise<void> {
  const cfg = config(base, over, { seed: 21 });
  const none = config(base, over, { circuit: { model: 'none' }, seed: 21 });
  for (const [K, N, B] of name.includes('PCM') || name.includes('analog-sa') ? SHAPES.slice(0, 1) : SHAPES) {
    const { W, X } = problem(K, N, B, K + N);
    const runs = [];
    for (const vpd of [1, 7, 64]) runs.push(await simulateVmm(GPU(), cfg, W, X, { chip: 2, vectorsPerDispatch: vpd }));
    expect(runs[0].backend).toBe('webgpu');
    expect(Array.from(runs[1].Y)).toEqual(Array.from(runs[0].Y));
    expect(Array.from(runs[2].Y)).toEqual(Array.from(runs[0].Y));
    const cpu = await simulateVmm(CPU, cfg, W, X, { chip: 2 });
    expect(maxAbsDiff(runs[0].Y, cpu.Y), `${K}x${N}`).toBeLessThanOrEqual(tol * maxAbs(cpu.Y));
    if (K > 1) {
      const ideal = await simulateVmm(CPU, none, W, X, { chip: 2 });
      expect(maxAbsDiff(ideal.Y, cpu.Y), `${K}x${N} drop`).toBeGreaterThan(dropTol * maxAbs(cpu.Y));
    }
    expect(runs[0].counts).toEqual(cpu.counts);
  }
}

/** With an 8-bit calibrated ADC the GPU's range is the CPU's within `hiTol` and its codes equal the CPU's except at rounding ties (≤ 1%). */
async function calibratedCodesMatch(circuit: XbarConfigInput['circuit'], hiTol: number): Promise<void> {
  const cfg = config(base, { adc: { bits: 8, range: 'calibrated' }, circuit, array: { partitions: { rows: 2, cols: 1 } }, seed: 4 });
  const { W, X } = problem(40, 13, 30, 31);
  const g = await simulateVmm(GPU(), cfg, W, X, { chip: 1 });
  const c = await simulateVmm(CPU, cfg, W, X, { chip: 1 });
  expect(Math.abs(g.calibratedHi - c.calibratedHi)).toBeLessThanOrEqual(hiTol * c.calibratedHi);
  let differ = 0;
  for (let i = 0; i < c.Y.length; i++) if (Math.abs(g.Y[i] - c.Y[i]) > 1e-4 * maxAbs(c.Y)) differ++;
  expect(differ).toBeLessThanOrEqual(Math.ceil(0.01 * c.Y.length));
}

describe.skipIf(!gpu)('circuit.model "approx" (aihwkit IR drop) on the GPU equals the CPU oracle', () => {
  const cases: [string, XbarConfigInput][] = [
    ['digital subtract, 200 Ω per segment', { circuit: { model: 'approx', rCol: 200 } }],
    ['digital subtract, 4 horizontal x 2 vertical partitions', { circuit: { model: 'approx', rCol: 200 }, array: { partitions: { rows: 4, cols: 2 } } }],
    ['offset mapping, 3 horizontal partitions, 500 Ω', { weights: { mapping: 'offset' }, circuit: { model: 'approx', rCol: 500 }, array: { partitions: { rows: 3, cols: 1 } } }],
    ['with PCM at 1 day and its read noise', { circuit: { model: 'approx', rCol: 200 }, noise: { device: { model: 'pcm-joshi2020' }, time: 86400 } }],
    ['analog subtract (each polarity its own line), 2 horizontal partitions, proportional read noise', { adc: { subtract: 'analog' }, circuit: { model: 'approx', rCol: 200 }, array: { partitions: { rows: 2, cols: 1 } }, noise: { read: { sigma: 0.02, model: 'proportional' } } }],
    ['buffered (cycle by cycle), with PCM read noise', { dataflow: 'buffered', circuit: { model: 'approx', rCol: 200 }, noise: { device: { model: 'pcm-joshi2020' }, time: 3600 } }],
    ['analog-sa (cycle by cycle, slices in analog), 3 horizontal partitions, additive read noise', { dataflow: 'analog-sa', circuit: { model: 'approx', rCol: 200 }, array: { partitions: { rows: 3, cols: 1 } }, noise: { read: { sigma: 0.02, model: 'additive' } } }],
  ];
  // Ideal ADC: f32 sums and the f32 cubic against the f64 oracle.
  it.each(cases)('%s: every shape, any dispatch size', (name, over) => matchesOracle(name, over, 2e-4, 1e-3));

  it('the shared-memory variant (real GPUs) gives the same currents: partitions of 6 rows across tiles of 8, with PCM read noise', async () => {
    const cfg = config(base, { circuit: { model: 'approx', rCol: 200 }, array: { partitions: { rows: 3, cols: 1 } }, noise: { device: { model: 'pcm-joshi2020' }, time: 3600 }, seed: 6 });
    const { W, X } = problem(40, 13, 11, 41);
    const sh = await simulateVmm(SHARED(), cfg, W, X, { chip: 1 });
    const c = await simulateVmm(CPU, cfg, W, X, { chip: 1 });
    expect(maxAbsDiff(sh.Y, c.Y)).toBeLessThanOrEqual(2e-4 * maxAbs(c.Y));
  });

  it('8-bit calibrated ADC: GPU codes equal CPU codes except at rounding ties', () => calibratedCodesMatch({ model: 'approx', rCol: 300 }, 1e-5));

  it('circuits the GPU cannot evaluate are refused with one line naming circuit.model and --backend cpu', async () => {
    const { W, X } = problem(8, 4, 2, 3);
    await expect(simulateVmm(GPU(), config(base, { dataflow: 'analog-sa', circuit: { model: 'approx', rCol: 1 }, noise: { read: { sigma: 0.01, model: 'proportional' } } }), W, X)).rejects.toThrow(/^circuit\.model "approx": .*analog-sa with proportional.*--backend cpu/);
  });
});

describe.skipIf(!gpu)('circuit.model "solve" (the resistive network) on the GPU equals the CPU oracle', () => {
  // One array's network for many drives (the literal per-read solve) against ArraySolver, in siemens and volts.
  it('the literal solve of one array: currents and sweeps as the oracle, on 1 row, ragged and square arrays', async () => {
    const wires = { rRow: 2, rCol: 3, rTerminal: 40, tolerance: 1e-6, maxIterations: 1000 };
    for (const [rows, cols, B] of [[1, 7, 3], [5, 5, 4], [16, 9, 5], [33, 17, 2], [128, 128, 2]]) {
      const r = rng(rows * 131 + cols);
      const G = Float64Array.from({ length: rows * cols }, () => (1 + 39 * r()) * 1e-6);
      const V = Float64Array.from({ length: B * rows }, () => 0.4 * r());
      const gpuRun = await solveArrayGpu(gpu!.session, G, rows, cols, V, B, wires);
      for (let b = 0; b < B; b++) {
        const cpu = new Float64Array(cols);
        const res = solveArray(G, 0, cols, rows, cols, V, b * rows, wires, cpu, 0);
        const got = gpuRun.I.subarray(b * cols, (b + 1) * cols);
        expect(gpuRun.results[b].converged, `${rows}x${cols}`).toBe(true);
        expect(res.converged).toBe(true);
        // Both stop within the tolerance of the same solution: f32 rounding adds about 1e-6 of the largest current.
        expect(maxAbsDiff(got, cpu), `${rows}x${cols} drive ${b}`).toBeLessThanOrEqual(5e-6 * maxAbs(cpu));
        expect(Math.abs(gpuRun.results[b].iterations - res.iterations), `${rows}x${cols} sweeps`).toBeLessThanOrEqual(Math.max(2, 0.2 * res.iterations));
      }
    }
  });

  it('long columns (1024 rows) at the default tolerance and at one finer than f32 resolves: converged, within 1e-5 of the oracle', async () => {
    const rows = 1024, cols = 8;
    const r = rng(17);
    const G = Float64Array.from({ length: rows * cols }, () => (1 + 39 * r()) * 1e-6);
    const V = Float64Array.from({ length: 2 * rows }, () => 0.4 * r());
    for (const [rRow, rCol, rTerminal, tolerance] of [[1, 2, 20, 1e-6], [1, 2, 20, 1e-9], [20, 30, 0, 1e-6], [20, 30, 0, 1e-9]]) {
      const wires = { rRow, rCol, rTerminal, tolerance, maxIterations: 3000 };
      const g = await solveArrayGpu(gpu!.session, G, rows, cols, V, 2, wires);
      for (let b = 0; b < 2; b++) {
        const cpu = new Float64Array(cols);
        expect(solveArray(G, 0, cols, rows, cols, V, b * rows, wires, cpu, 0).converged).toBe(true);
        expect(g.results[b].converged, `${rRow}/${rCol}/${rTerminal} Ω, tolerance ${tolerance}, drive ${b}: ${JSON.stringify(g.results[b])}`).toBe(true);
        expect(maxAbsDiff(g.I.subarray(b * cols, (b + 1) * cols), cpu)).toBeLessThanOrEqual(1e-5 * maxAbs(cpu));
      }
    }
  });

  it('the literal solve reports a drive that misses the tolerance (tiny maxIterations), never silently', async () => {
    const rows = 32, cols = 32;
    const r = rng(5);
    const G = Float64Array.from({ length: rows * cols }, () => (1 + 39 * r()) * 1e-6);
    const V = Float64Array.from({ length: rows }, () => 0.4 * r());
    const wires = { rRow: 2000, rCol: 2000, rTerminal: 0, tolerance: 1e-6, maxIterations: 3 };
    const g = await solveArrayGpu(gpu!.session, G, rows, cols, V, 1, wires);
    const c = solveArray(G, 0, cols, rows, cols, V, 0, wires, new Float64Array(cols), 0);
    expect(c.converged).toBe(false);
    expect(g.results[0]).toMatchObject({ converged: false, iterations: 3 });
    expect(g.results[0].error).toBeGreaterThan(1e-6);
  });

  const wires = { model: 'solve', rRow: 2, rCol: 3, rTerminal: 50 } as const;
  const cases: [string, XbarConfigInput][] = [
    ['digital subtract', { circuit: wires }],
    ['digital subtract, 4 horizontal x 2 vertical partitions', { circuit: wires, array: { partitions: { rows: 4, cols: 2 } } }],
    ['offset mapping, 3 horizontal partitions, rows and terminals only', { weights: { mapping: 'offset' }, circuit: { model: 'solve', rRow: 5, rTerminal: 100 }, array: { partitions: { rows: 3, cols: 1 } } }],
    ['analog subtract, columns only', { adc: { subtract: 'analog' }, circuit: { model: 'solve', rCol: 20 } }],
    ['buffered', { dataflow: 'buffered', circuit: wires }],
    ['analog-sa with 2 vertical partitions', { dataflow: 'analog-sa', circuit: wires, array: { partitions: { rows: 1, cols: 2 } } }],
    ['with additive read noise', { circuit: wires, noise: { read: { sigma: 0.02, model: 'additive' } } }],
    ['with PCM at 1 day and its read noise', { circuit: wires, noise: { device: { model: 'pcm-joshi2020' }, time: 86400 } }],
  ];
  // Ideal ADC: the f32 solve (to circuit.tolerance 1e-6) and f32 sums against the f64 oracle.
  it.each(cases)('%s: every shape, identical at 1, 7 and 64 vectors per dispatch', (name, over) => matchesOracle(name, over, 5e-4, 5e-3));

  it('the shared-memory crossbar variant (real GPUs) reads the same effective conductances, with proportional read noise', async () => {
    const cfg = config(base, { circuit: wires, array: { partitions: { rows: 3, cols: 1 } }, noise: { read: { sigma: 0.03, model: 'proportional' } }, seed: 6 });
    const { W, X } = problem(40, 13, 11, 41);
    const sh = await simulateVmm(SHARED(), cfg, W, X, { chip: 1 });
    const c = await simulateVmm(CPU, cfg, W, X, { chip: 1 });
    expect(maxAbsDiff(sh.Y, c.Y)).toBeLessThanOrEqual(5e-4 * maxAbs(c.Y));
  });

  it('8-bit calibrated ADC: GPU codes equal CPU codes except at rounding ties', () => calibratedCodesMatch(wires, 2e-5));

  it('zero wire resistance is the ideal kernel bit for bit; a vanishing one solves to it within f32 rounding', async () => {
    const { W, X } = problem(40, 13, 9, 77);
    const ideal = await simulateVmm(GPU(), config(base, { seed: 3 }), W, X, { chip: 1 });
    const zero = await simulateVmm(GPU(), config(base, { circuit: { model: 'solve' }, seed: 3 }), W, X, { chip: 1 });
    expect(Array.from(zero.Y)).toEqual(Array.from(ideal.Y));
    const before = processSolveStats.solves;
    const tiny = await simulateVmm(GPU(), config(base, { circuit: { model: 'solve', rRow: 1e-6, rCol: 1e-6 }, seed: 3 }), W, X, { chip: 1 });
    expect(processSolveStats.solves).toBeGreaterThan(before);
    expect(maxAbsDiff(tiny.Y, ideal.Y)).toBeLessThanOrEqual(1e-5 * maxAbs(ideal.Y));
  });

  it('every programmed chip solves each row of each sub-array once, and the sweeps are reported in SolveStats', async () => {
    const cfg = config(base, { circuit: wires, array: { partitions: { rows: 2, cols: 2 } }, seed: 2 });
    const { W, X } = problem(40, 13, 4, 5);
    const rows = layerArrays(layerGeometry(40, 13, cfg), cfg).reduce((n, a) => n + a.rows, 0);
    // Each layer row, once per vertical partition of each array its block's 78 packed columns fill (32, 32, 14: 2 + 2 + 1).
    expect(rows).toBe(40 * 5);
    const s0 = { ...processSolveStats };
    await simulateVmm(GPU(), config(cfg, { noise: { programming: { sigma: 0.05 } } }), W, X, { chip: 0 });
    // The noise-free chip (calibration) and chip 0, at least two sweeps each.
    expect(processSolveStats.solves - s0.solves).toBe(2 * rows);
    expect(processSolveStats.iterations - s0.iterations).toBeGreaterThanOrEqual(2 * 2 * rows);
    expect(processSolveStats.notConverged).toBe(s0.notConverged);
    // Without static noise chip 0 has the noise-free cells: solved once, as the oracle does.
    const s1 = { ...processSolveStats };
    await simulateVmm(GPU(), cfg, W, X, { chip: 0 });
    expect(processSolveStats.solves - s1.solves).toBe(rows);
  });

  it('xbarsim vmm --backend webgpu runs a solve config (no refusal), reports the sweeps, and equals --backend cpu', () => {
    const dir = tempDir();
    const W = writeNpy(dir, 'W.npy', [40, 13], randomArray(520, 11));
    const X = writeNpy(dir, 'X.npy', [5, 40], randomArray(200, 12, 0, 1));
    const cfgPath = join(dir, 'solve.json');
    writeFileSync(cfgPath, JSON.stringify({ preset: 'ideal', array: { rows: 16, cols: 32 }, circuit: { model: 'solve', rRow: 2, rCol: 2, rTerminal: 20 } }));
    const outs = ['webgpu', 'cpu'].map((backend) => {
      const out = join(dir, `Y-${backend}.npy`);
      const r = runCli(['vmm', '--weights', W, '--inputs', X, '--config', cfgPath, '--out', out, '--backend', backend]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.ownStderrLines.join('\n')).toMatch(/circuit: \d+ array solves .* sweeps mean, \d+ max, all within circuit\.tolerance/);
      return parseNpy(readFileSync(out), 'Y').data;
    });
    expect(maxAbsDiff(outs[0], outs[1])).toBeLessThanOrEqual(5e-4 * maxAbs(outs[1]));
  });

  it('a circuit the GPU does not evaluate: --backend auto runs it on the CPU reference with a note, --backend webgpu refuses it with one line', () => {
    const dir = tempDir();
    const W = writeNpy(dir, 'W.npy', [20, 6], randomArray(120, 13));
    const X = writeNpy(dir, 'X.npy', [3, 20], randomArray(60, 14, 0, 1));
    const cfgPath = join(dir, 'gap.json');
    writeFileSync(cfgPath, JSON.stringify({ preset: 'neural-pim', circuit: { model: 'approx', rCol: 1 }, noise: { read: { sigma: 0.01, model: 'proportional' } } }));
    const run = (backend: string) => runCli(['vmm', '--weights', W, '--inputs', X, '--config', cfgPath, '--out', join(dir, `Y-${backend}.npy`), '--backend', backend]);
    const auto = run('auto');
    expect(auto.code, auto.stderr).toBe(0);
    expect(auto.ownStderrLines.join('\n')).toMatch(/xbarsim vmm: circuit\.model "approx": .*analog-sa with proportional.*: running on the CPU reference/);
    expect(run('cpu').code).toBe(0);
    expect(readFileSync(join(dir, 'Y-auto.npy'))).toEqual(readFileSync(join(dir, 'Y-cpu.npy')));
    const gpuRun = run('webgpu');
    expect(gpuRun.code).toBe(2);
    expect(gpuRun.ownStderrLines).toHaveLength(1);
    expect(gpuRun.ownStderrLines[0]).toMatch(/circuit\.model "approx".*--backend cpu/);
  });

  it('a solve that misses the tolerance in maxIterations stops the run with one line naming the layer and array', async () => {
    const cfg = config(base, { circuit: { model: 'solve', rRow: 5000, rCol: 5000, maxIterations: 2, tolerance: 1e-9 } });
    const { W, X } = problem(40, 13, 3, 4);
    const nc = processSolveStats.notConverged;
    await expect(simulateVmm(GPU(), cfg, W, X)).rejects.toThrow(/^circuit: layer 0 row block \d+, array \d+ \(rows .*\): the solve did not reach circuit\.tolerance 1e-9 in circuit\.maxIterations 2 sweeps/);
    expect(processSolveStats.notConverged).toBeGreaterThan(nc);
    const cpuErr = await simulateVmm(CPU, cfg, W, X).catch((e: Error) => e.message);
    expect(String(cpuErr)).toMatch(/^circuit: layer 0 row block 0, array 0 /);
  });
});

describe.skipIf(!gpu)('array.partitions on the GPU', () => {
  it('ideal wires: partition sums equal the whole array (GPU = CPU), partitionAdds counted per cycle, column and extra partition', async () => {
    const K = 40, N = 13, B = 12;
    const cfg = config(base, { array: { partitions: { rows: 4, cols: 2 } }, seed: 8 });
    const { W, X } = problem(K, N, B, 9, 0);
    const g = await simulateVmm(GPU(), cfg, W, X, { chip: 0 });
    const c = await simulateVmm(CPU, cfg, W, X, { chip: 0 });
    const whole = await simulateVmm(GPU(), config(base, { seed: 8 }), W, X, { chip: 0 });
    expect(Array.from(g.Y)).toEqual(Array.from(whole.Y));
    expect(maxAbsDiff(g.Y, c.Y)).toBeLessThanOrEqual(1e-4 * maxAbs(c.Y));
    const geom = layerGeometry(K, N, cfg);
    // Row blocks of 16, 16 and 8 rows in partitions of 4 rows: 3 + 3 + 1 additions per cycle and column; inputs ≥ 0, one pass each.
    expect(g.counts.partitionAdds).toBe(B * geom.T * N * geom.S * geom.pol * 7);
    expect(g.counts).toEqual(c.counts);
  });
});
