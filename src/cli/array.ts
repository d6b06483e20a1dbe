import { performance } from 'node:perf_hooks';
import { RuntimeFailure, UsageError } from '../errors.ts';
import { checkFinite, readNpyFile, writeNpyFloat } from '../io/npy.ts';
import { checkOutputs } from '../io/atomic-write.ts';
import { stderrLine } from '../gpu/node-backend.ts';
import { ArraySolver, newSolveStats } from '../reference/circuit.ts';
import { intFlag } from './vmm.ts';
import { nonNegativeFlag } from './program.ts';

/** Flags of `xbarsim array` (DESIGN.md section 13). */
export interface ArrayFlags {
  conductances: string;
  voltages: string;
  out: string;
  rRow?: string;
  rCol?: string;
  rTerminal?: string;
  tolerance?: string;
  maxIterations?: string;
  json?: boolean;
}

/**
 * `xbarsim array`: one array in physical units, G [rows, cols] in S and V [B, rows] in volts, to the
 * column currents I [B, cols] in A (float64), by the solver of the crossbar layers (src/reference/circuit.ts).
 */
export async function runArray(f: ArrayFlags): Promise<void> {
  const rRow = nonNegativeFlag('--r-row', f.rRow) ?? 0;
  const rCol = nonNegativeFlag('--r-col', f.rCol) ?? 0;
  const rTerminal = nonNegativeFlag('--r-terminal', f.rTerminal) ?? 0;
  const tolerance = nonNegativeFlag('--tolerance', f.tolerance) ?? 1e-10;
  if (!(tolerance > 0 && tolerance < 1)) throw new UsageError(`--tolerance: must be a number in (0, 1) (got ${f.tolerance})`);
  const maxIterations = intFlag('--max-iterations', f.maxIterations, 1, 10_000_000) ?? 100_000;
  const gWhat = `--conductances ${f.conductances}`;
  const G = readNpyFile(f.conductances, gWhat);
  checkFinite(G.data, G.shape, gWhat);
  if (G.shape.length !== 2) throw new UsageError(`${gWhat}: must be 2-D [rows, cols] in siemens (got shape [${G.shape.join(', ')}])`);
  const [rows, cols] = G.shape;
  for (let i = 0; i < G.data.length; i++) {
    if (G.data[i] < 0) throw new UsageError(`${gWhat}: conductances must be >= 0 S (got ${G.data[i]} at [${Math.floor(i / cols)}, ${i % cols}])`);
  }
  const vWhat = `--voltages ${f.voltages}`;
  const V = readNpyFile(f.voltages, vWhat);
  checkFinite(V.data, V.shape, vWhat);
  if (V.shape.length !== 1 && V.shape.length !== 2) throw new UsageError(`${vWhat}: must be [B, rows] or [rows] in volts (got shape [${V.shape.join(', ')}])`);
  const B = V.shape.length === 2 ? V.shape[0] : 1;
  const vRows = V.shape[V.shape.length - 1];
  if (vRows !== rows) throw new UsageError(`${vWhat}: has ${vRows} rows per vector but --conductances has ${rows} rows`);
  checkOutputs([{ flag: '--out', path: f.out }], [{ flag: '--conductances', path: f.conductances }, { flag: '--voltages', path: f.voltages }]);

  const t0 = performance.now();
  const solver = new ArraySolver(G.data, 0, cols, rows, cols, { rRow, rCol, rTerminal, tolerance, maxIterations });
  const I = new Float64Array(B * cols);
  const stats = newSolveStats();
  for (let b = 0; b < B; b++) {
    const r = solver.solve(V.data, b * rows, I, b * cols);
    stats.solves++;
    stats.iterations += r.iterations;
    stats.maxIterations = Math.max(stats.maxIterations, r.iterations);
    if (!r.converged) {
      throw new RuntimeFailure(
        `array: vector ${b} did not reach --tolerance ${tolerance} in --max-iterations ${maxIterations} sweeps (estimated error ${r.error.toPrecision(3)} of the largest column current); nothing written`,
      );
    }
  }
  writeNpyFloat(f.out, [B, cols], '<f8', I, `--out ${f.out}`);
  const ms = performance.now() - t0;
  const summary = { rows, cols, vectors: B, rRow, rCol, rTerminal, tolerance, solves: stats.solves, iterations: stats.iterations, maxIterations: stats.maxIterations, seconds: ms / 1000, backend: 'cpu' };
  if (f.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  stderrLine(
    `xbarsim array: I [${B}, ${cols}] A -> ${f.out} | ${rows}x${cols}, rRow ${rRow} Ω, rCol ${rCol} Ω, rTerminal ${rTerminal} Ω | ` +
      `${stats.solves} solves, ${(stats.iterations / Math.max(1, stats.solves)).toFixed(1)} sweeps mean, ${stats.maxIterations} max, tolerance ${tolerance} | ${ms.toFixed(1)} ms on the CPU reference`,
  );
}
