import { processSolveStats } from '../reference/circuit.ts';

/** The wire solves of this run (circuit.model "solve"): unit-drive solves per array row, and their sweeps. */
export function circuitLine(): string {
  const st = processSolveStats;
  return `circuit: ${st.solves} array solves (one per row of each array of each chip), ${(st.iterations / Math.max(1, st.solves)).toFixed(1)} sweeps mean, ${st.maxIterations} max, all within circuit.tolerance`;
}
