import type { SubArray } from './layout.ts';

/** What one solve did. */
export interface SolveResult {
  /** Line sweeps (one sweep solves every row, then every column). */
  iterations: number;
  converged: boolean;
  /** Estimated largest column-current error after the last sweep, relative to the largest column current. */
  error: number;
}

/** Totals over many solves (reported by the commands that run them). */
export interface SolveStats {
  solves: number;
  iterations: number;
  maxIterations: number;
  notConverged: number;
}

/** Fresh, zeroed solve statistics. */
export function newSolveStats(): SolveStats {
  return { solves: 0, iterations: 0, maxIterations: 0, notConverged: 0 };
}

/** Solve statistics of every layer run without its own accumulator since the last reset (for the CLI's report); both backends add to it. */
export const processSolveStats: SolveStats = newSolveStats();

/** Adds one solve to `stats`. */
export function recordSolve(stats: SolveStats, r: SolveResult): void {
  stats.solves++;
  stats.iterations += r.iterations;
  stats.maxIterations = Math.max(stats.maxIterations, r.iterations);
  if (!r.converged) stats.notConverged++;
}

/** The one line that stops a run whose solve of sub-array `sa` (row block p of layer `where`) missed circuit.tolerance. */
export function notConvergedMessage(where: string, p: number, sa: SubArray, r: SolveResult, tolerance: number, maxIterations: number): string {
  return (
    `circuit: ${where} row block ${p}, array ${sa.array} (rows ${sa.row0}–${sa.row0 + sa.rows - 1}, packed columns ${sa.col0}–${sa.col0 + sa.cols - 1}): ` +
    `the solve did not reach circuit.tolerance ${tolerance} in circuit.maxIterations ${maxIterations} sweeps ` +
    `(estimated error ${r.error.toPrecision(3)} of the largest column current); raise circuit.maxIterations or partition the array`
  );
}
