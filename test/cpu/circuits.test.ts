import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import type { XbarConfigInput } from '../../src/config/types.ts';
import { approxColumnCurrent } from '../../src/circuits/approx.ts';
import { layerCounts } from '../../src/crossbar/counts.ts';
import { programLayer } from '../../src/crossbar/program.ts';
import { RuntimeFailure } from '../../src/errors.ts';
import { encodeNpy, readNpyFile } from '../../src/io/npy.ts';
import { simulateVmm } from '../../src/nn/crossbar-layer.ts';
import { ArraySolver, LayerCircuit, newSolveStats, solveArray } from '../../src/reference/circuit.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/files.ts';
import { denseNodalCurrents } from '../helpers/nodal.ts';
import { randomArray, rng } from '../helpers/random.ts';

const CPU = { kind: 'cpu', reason: 'test' } as const;
const tight = { tolerance: 1e-12, maxIterations: 100000 };

/** Random conductances in [1, 40] µS (as siemens) and row voltages in [0, 0.4] V. */
function randomArrayCase(rows: number, cols: number, seed: number): { G: Float64Array; V: Float64Array } {
  const r = rng(seed);
  return { G: Float64Array.from({ length: rows * cols }, () => (1 + 39 * r()) * 1e-6), V: Float64Array.from({ length: rows }, () => 0.4 * r()) };
}

function solve(G: Float64Array, rows: number, cols: number, V: Float64Array, rRow: number, rCol: number, rTerminal: number): Float64Array {
  const out = new Float64Array(cols);
  const r = solveArray(G, 0, cols, rows, cols, V, 0, { rRow, rCol, rTerminal, ...tight }, out, 0);
  expect(r.converged).toBe(true);
  return out;
}

describe('the array solver against an exact dense nodal solve (DESIGN.md section 13 topology)', () => {
  const cases = [
    [2, 2],
    [5, 5],
    [5, 3],
    [3, 7],
  ] as const;
  const wires = [
    [1, 1, 1],
    [100, 300, 50],
    [5000, 2000, 0],
    [2e4, 10, 1e3],
    [10, 2e4, 1e3],
  ] as const;
  for (const [rows, cols] of cases) {
    it.each(wires)(`${rows}x${cols}, rRow %s Ω, rCol %s Ω, rTerminal %s Ω: currents within 1e-6 relative`, (rRow, rCol, rT) => {
      const { G, V } = randomArrayCase(rows, cols, rows * 31 + cols);
      const want = denseNodalCurrents(G, rows, cols, V, rRow, rCol, rT);
      const got = solve(G, rows, cols, V, rRow, rCol, rT);
      for (let c = 0; c < cols; c++) expect(Math.abs(got[c] - want[c]) / Math.abs(want[c])).toBeLessThan(1e-6);
    });
  }

  it('zero-resistance wires collapse to one node: rRow = 0 or rCol = 0 with a terminal equals the nodal limit', () => {
    const { G, V } = randomArrayCase(5, 5, 9);
    const tiny = 1e-4; // small enough to be the limit, large enough for the dense elimination to stay accurate
    for (const [rRow, rCol] of [
      [0, 200],
      [200, 0],
    ]) {
      const want = denseNodalCurrents(G, 5, 5, V, rRow || tiny, rCol || tiny, 300);
      const got = solve(G, 5, 5, V, rRow, rCol, 300);
      for (let c = 0; c < 5; c++) expect(Math.abs(got[c] - want[c]) / want[c]).toBeLessThan(1e-6);
    }
  });

  it('zero wire and terminal resistance gives exactly ΣV·G, in one sweep', () => {
    const { G, V } = randomArrayCase(6, 4, 2);
    const out = new Float64Array(4);
    const r = solveArray(G, 0, 4, 6, 4, V, 0, { rRow: 0, rCol: 0, rTerminal: 0, ...tight }, out, 0);
    expect(r.iterations).toBe(1);
    for (let c = 0; c < 4; c++) {
      let I = 0;
      for (let k = 0; k < 6; k++) I += G[k * 4 + c] * V[k];
      expect(out[c]).toBe(I);
    }
  });

  it('currents fall monotonically with wire resistance', () => {
    const { G, V } = randomArrayCase(16, 16, 4);
    let prev = solve(G, 16, 16, V, 0, 0, 0);
    for (const r of [0.5, 2, 8, 32, 128]) {
      const I = solve(G, 16, 16, V, r, r, r);
      for (let c = 0; c < 16; c++) expect(I[c]).toBeLessThan(prev[c]);
      prev = I;
    }
  });

  it('currents fall with distance from the drivers (columns) and from the sense end (rows)', () => {
    const rows = 24;
    const cols = 24;
    const G = new Float64Array(rows * cols).fill(20e-6);
    const V = new Float64Array(rows).fill(0.3);
    const I = solve(G, rows, cols, V, 5, 0, 0);
    for (let c = 1; c < cols; c++) expect(I[c]).toBeLessThan(I[c - 1]);
    // One cell at a time: the farther it sits from the row driver or from the column's ground, the less it delivers.
    const single = (r0: number, c0: number, rRow: number, rCol: number): number => {
      const g = new Float64Array(rows * cols);
      g[r0 * cols + c0] = 20e-6;
      const v = new Float64Array(rows).fill(0.3);
      return solve(g, rows, cols, v, rRow, rCol, 10)[c0];
    };
    for (let c = 1; c < cols; c++) expect(single(5, c, 1000, 0)).toBeLessThan(single(5, c - 1, 1000, 0));
    for (let r = 1; r < rows; r++) expect(single(r, 3, 0, 1000)).toBeGreaterThan(single(r - 1, 3, 0, 1000));
  });

  it('non-convergence is reported, never silent', () => {
    const { G, V } = randomArrayCase(32, 32, 5);
    const out = new Float64Array(32);
    const r = new ArraySolver(G, 0, 32, 32, 32, { rRow: 2000, rCol: 2000, rTerminal: 0, tolerance: 1e-12, maxIterations: 3 }).solve(V, 0, out, 0);
    expect(r.converged).toBe(false);
    expect(r.iterations).toBe(3);
    expect(r.error).toBeGreaterThan(1e-12);
  });
});

describe('crossbar layers with circuit.model', () => {
  const K = 150;
  const N = 12;
  const W = { data: randomArray(K * N, 11), rows: K, cols: N };
  const X = { data: randomArray(6 * K, 12, -1, 1), rows: 6, cols: K };
  const base: XbarConfigInput = { preset: 'cascade', device: { gMax: 25 } };

  it('zero resistance gives exactly the ideal output (solve and approx)', async () => {
    const ideal = await simulateVmm(CPU, resolveConfig(base), W, X, { chip: 1 });
    for (const model of ['solve', 'approx'] as const) {
      const r = await simulateVmm(CPU, resolveConfig({ ...base, circuit: { model } }), W, X, { chip: 1 });
      expect(Array.from(r.Y)).toEqual(Array.from(ideal.Y));
    }
  });

  it('superposed unit-drive solves equal solving every read (literal), to the tolerance', () => {
    const cfg = resolveConfig({ ...base, circuit: { model: 'solve', rRow: 2, rCol: 3, rTerminal: 50, tolerance: 1e-10 }, array: { rows: 64, cols: 32 } });
    const layer = programLayer(W.data, K, N, cfg);
    const a = new LayerCircuit(layer, cfg, newSolveStats(), 'test', 'superposed');
    const b = new LayerCircuit(layer, cfg, newSolveStats(), 'test', 'literal');
    const V = Float64Array.from(randomArray(K, 3, 0, 1));
    const cols = N * layer.geom.S * layer.geom.pol;
    const ca = new Float64Array(cols);
    const cb = new Float64Array(cols);
    layer.geom.blocks.forEach((blk, p) => {
      a.currents(p, blk.start, V, ca);
      b.currents(p, blk.start, V, cb);
      for (let i = 0; i < cols; i++) expect(Math.abs(ca[i] - cb[i])).toBeLessThan(1e-8 * Math.max(1, Math.abs(cb[i])));
    });
  });

  it('each array is its own circuit: a layer current equals `solveArray` on that array', () => {
    const cfg = resolveConfig({ ...base, circuit: { model: 'solve', rRow: 4, rCol: 4, tolerance: 1e-11 }, array: { rows: 64, cols: 32 } });
    const layer = programLayer(W.data, K, N, cfg);
    const g = layer.geom;
    const lc = new LayerCircuit(layer, cfg, newSolveStats(), 'test');
    const V = Float64Array.from(randomArray(K, 8, 0, 1));
    const cur = new Float64Array(N * g.S * g.pol);
    lc.currents(1, 64, V, cur);
    // Array 1 of row block 1: packed columns 32..63, rows 64..127.
    const cells = new Float64Array(64 * 32);
    for (let r = 0; r < 64; r++) {
      for (let c = 0; c < 32; c++) {
        const packed = 32 + c;
        const j = Math.floor(packed / (g.S * g.pol));
        const s = Math.floor(packed / g.pol) % g.S;
        const p = packed % g.pol;
        cells[r * 32 + c] = layer.G[(((64 + r) * g.S + s) * g.pol + p) * N + j];
      }
    }
    const gMaxS = 25e-6;
    const out = new Float64Array(32);
    solveArray(cells, 0, 32, 64, 32, V, 64, { rRow: 4 * gMaxS, rCol: 4 * gMaxS, rTerminal: 0, tolerance: 1e-12, maxIterations: 1e5 }, out, 0);
    for (let c = 0; c < 32; c++) {
      const packed = 32 + c;
      const j = Math.floor(packed / (g.S * g.pol));
      const s = Math.floor(packed / g.pol) % g.S;
      const p = packed % g.pol;
      expect(cur[(s * g.pol + p) * N + j]).toBeCloseTo(out[c], 9);
    }
  });

  it('outputs shrink with wire resistance; partitions bring them back towards the ideal', async () => {
    const Xp = { data: randomArray(6 * K, 12, 0, 1), rows: 6, cols: K };
    const cfgOf = (r: number, partitions = { rows: 1, cols: 1 }) =>
      resolveConfig({ ...base, adc: { bits: 0 }, circuit: { model: 'solve', rRow: r, rCol: r, tolerance: 1e-9 }, array: { rows: 128, cols: 128, partitions } });
    const ideal = await simulateVmm(CPU, cfgOf(0), W, Xp);
    const err = (y: Float32Array): number => y.reduce((a, v, i) => a + Math.abs(v - ideal.Y[i]), 0);
    const e1 = err((await simulateVmm(CPU, cfgOf(20), W, Xp)).Y);
    const e2 = err((await simulateVmm(CPU, cfgOf(80), W, Xp)).Y);
    const e3 = err((await simulateVmm(CPU, cfgOf(80, { rows: 4, cols: 2 }), W, Xp)).Y);
    const e4 = err((await simulateVmm(CPU, cfgOf(80, { rows: 16, cols: 8 }), W, Xp)).Y);
    expect(e1).toBeGreaterThan(0);
    expect(e2).toBeGreaterThan(e1);
    expect(e3).toBeLessThan(e2);
    expect(e4).toBeLessThan(e3 / 4);
  });

  it('a solve that does not converge stops the run with one line naming the array', async () => {
    const cfg = resolveConfig({ ...base, circuit: { model: 'solve', rRow: 5000, rCol: 5000, maxIterations: 2, tolerance: 1e-9 } });
    await expect(simulateVmm(CPU, cfg, W, X)).rejects.toThrow(RuntimeFailure);
    await expect(simulateVmm(CPU, cfg, W, X)).rejects.toThrow(/circuit: layer 0 row block 0, array 0 .* did not reach circuit\.tolerance 1e-9 in circuit\.maxIterations 2 sweeps/);
  });
});

describe("approx: aihwkit's closed-form IR drop (rpu_forward_backward_pass.cpp:387-433)", () => {
  it('equals the C++ formula with its input index j = n − 1 − k (distance from the grounded end)', () => {
    const n = 40;
    const G = Float64Array.from(randomArray(n, 1, 0, 1));
    const V = Float64Array.from(randomArray(n, 2, 0, 1));
    const rColNorm = 0.35 * 5e-6 * 30; // 30× aihwkit's default wire/gmax ratio
    // The C++ code, transcribed on aihwkit's own index j (x_j = V[n − 1 − j]).
    const x = Array.from({ length: n }, (_, j) => V[n - 1 - j]);
    const w = Array.from({ length: n }, (_, j) => G[n - 1 - j]);
    const a = (n * rColNorm) * w.reduce((s, wj, j) => s + Math.abs(wj) * Math.abs(x[j]), 0);
    const c = a * (a * (0.05 * a - 0.2) + 0.5);
    const ideal = w.reduce((s, wj, j) => s + wj * x[j], 0);
    const want = ideal - c * w.reduce((s, wj, j) => s + wj * x[j] * (1 - (1 - j / n) ** 2), 0);
    expect(approxColumnCurrent(G, 0, 1, V, 0, n, rColNorm)).toBeCloseTo(want, 14);
  });

  it('drops most for rows far from the column ground, as the solved network does', () => {
    const n = 64;
    const drop = (k: number): [number, number] => {
      const G = new Float64Array(n).fill(0.5);
      const V = new Float64Array(n).fill(0.2);
      V[k] = 1;
      const approx = n * 0.2 * 0.5 + 0.4 - approxColumnCurrent(G, 0, 1, V, 0, n, 2e-4);
      const out = new Float64Array(1);
      solveArray(G, 0, 1, n, 1, V, 0, { rRow: 0, rCol: 2e-4, rTerminal: 0, ...tight }, out, 0);
      return [approx, n * 0.2 * 0.5 + 0.4 - out[0]];
    };
    const near = drop(n - 1);
    const far = drop(0);
    expect(far[0]).toBeGreaterThan(near[0]);
    expect(far[1]).toBeGreaterThan(near[1]);
  });
});

describe('array.partitions: counts', () => {
  it('vertical partitions add row drivers, horizontal ones add periphery sums; values unchanged without wires', async () => {
    const K = 200;
    const N = 30;
    const W = { data: randomArray(K * N, 5), rows: K, cols: N };
    const X = { data: randomArray(4 * K, 6, 0, 1), rows: 4, cols: K };
    const plain = resolveConfig({ preset: 'neural-pim' });
    const parts = resolveConfig({ preset: 'neural-pim', array: { partitions: { rows: 4, cols: 8 } } });
    const a = await simulateVmm(CPU, plain, W, X);
    const b = await simulateVmm(CPU, parts, W, X);
    expect(Array.from(b.Y)).toEqual(Array.from(a.Y));
    const g = programLayer(W.data, K, N, parts).geom; // S = 7, pol = 2: 420 columns -> arrays of 128, 128, 128, 36
    const c = layerCounts(g, parts, 4);
    // Row blocks of 128 and 72 rows; column partitions of 16: 8 + 8 + 8 + 3 driven per row.
    expect(c.dacActivations).toBe(4 * (128 + 72) * g.T * 27);
    expect(c.dacActivations).toBe(a.counts.dacActivations * 27 / 4);
    // Row partitions of 32 rows: the 128-row block spans 4 (3 adds), the 72-row block 3 (2 adds), per column and cycle.
    expect(c.partitionAdds).toBe(4 * g.T * 420 * (3 + 2));
    expect(a.counts.partitionAdds).toBe(0);
    expect(b.counts.adcConversions).toBe(a.counts.adcConversions);
  });
});

describe('xbarsim array', () => {
  const dir = tempDir();
  const G = randomArrayCase(5, 5, 77).G;
  const V = Float64Array.from(randomArray(3 * 5, 78, 0, 0.3));
  writeFileSync(join(dir, 'G.npy'), encodeNpy([5, 5], '<f8', G));
  writeFileSync(join(dir, 'V.npy'), encodeNpy([3, 5], '<f8', V));

  it('writes I [B, cols] in A (float64), equal to the dense nodal solve, and reports the sweeps', () => {
    const out = join(dir, 'I.npy');
    const r = runCli(['array', '--conductances', join(dir, 'G.npy'), '--voltages', join(dir, 'V.npy'), '--r-row', '150', '--r-col', '80', '--r-terminal', '20', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const I = readNpyFile(out, 'I');
    expect(I.shape).toEqual([3, 5]);
    expect(I.dtype).toBe('<f8');
    for (let b = 0; b < 3; b++) {
      const want = denseNodalCurrents(G, 5, 5, V.subarray(b * 5, b * 5 + 5), 150, 80, 20);
      for (let c = 0; c < 5; c++) expect(Math.abs(I.data[b * 5 + c] - want[c]) / want[c]).toBeLessThan(1e-8);
    }
    const s = JSON.parse(r.stdout) as { solves: number; iterations: number };
    expect(s.solves).toBe(3);
    expect(s.iterations).toBeGreaterThanOrEqual(3);
    expect(r.ownStderrLines.join('\n')).toMatch(/3 solves, [\d.]+ sweeps mean/);
  });

  it('bad input: one line, exit 2, nothing written; non-convergence: exit 1, nothing written', () => {
    const out = join(dir, 'bad.npy');
    const bad = runCli(['array', '--conductances', join(dir, 'G.npy'), '--voltages', join(dir, 'V.npy'), '--r-row', '-1', '--out', out]);
    expect(bad.code).toBe(2);
    expect(bad.ownStderrLines).toEqual(['xbarsim: --r-row: must be a number >= 0 (got -1)']);
    writeFileSync(join(dir, 'V4.npy'), encodeNpy([4], '<f8', [1, 2, 3, 4]));
    const shape = runCli(['array', '--conductances', join(dir, 'G.npy'), '--voltages', join(dir, 'V4.npy'), '--out', out]);
    expect(shape.code).toBe(2);
    expect(shape.ownStderrLines[0]).toMatch(/--voltages .*V4\.npy: has 4 rows per vector but --conductances has 5 rows/);
    const stuck = runCli(['array', '--conductances', join(dir, 'G.npy'), '--voltages', join(dir, 'V.npy'), '--r-row', '1e5', '--r-col', '1e5', '--max-iterations', '2', '--out', out]);
    expect(stuck.code).toBe(1);
    expect(stuck.ownStderrLines).toHaveLength(1);
    expect(stuck.ownStderrLines[0]).toMatch(/did not reach --tolerance 1e-10 in --max-iterations 2 sweeps/);
    expect(existsSync(out)).toBe(false);
  });
});
