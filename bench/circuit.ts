// npm run bench:circuit — the array solver's cost per array per input cycle against the ideal ΣV·G of
// the same array, side by side in one run on the CPU reference: solving every read (literal) and the
// superposed strategy the crossbar layers use (unit-drive solves once per chip, then one product per
// read, amortized over --reads reads of the chip). Usage: npm run bench:circuit [-- --size 128
// --r 0.5,2,10 --gmax 25 --reads 4096 --cycles 64]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ArraySolver } from '../src/reference/circuit.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '128' },
    r: { type: 'string', default: '0.5,2,10' },
    gmax: { type: 'string', default: '25' },
    reads: { type: 'string', default: '4096' },
    cycles: { type: 'string', default: '64' },
  },
});
const n = Number(values.size);
const gMaxS = Number(values.gmax) * 1e-6;
const reads = Number(values.reads);
const cycles = Number(values.cycles);

let seed = 12345;
const rnd = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
// Cells uniform in [0.01, 1]·Gmax (normalized), 1-bit row drives with half the rows on.
const G = Float64Array.from({ length: n * n }, () => 0.01 + 0.99 * rnd());
const drives = Array.from({ length: cycles }, () => Float64Array.from({ length: n }, () => (rnd() < 0.5 ? 1 : 0)));
const out = new Float64Array(n);

function time(f: () => void, reps: number): number {
  f();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) f();
  return (performance.now() - t0) / reps;
}

const ideal = time(() => {
  for (const V of drives) {
    out.fill(0);
    for (let r = 0; r < n; r++) {
      const v = V[r];
      if (v === 0) continue;
      for (let c = 0; c < n; c++) out[c] += v * G[r * n + c];
    }
  }
}, 5) / cycles;

console.log(`CPU reference (Node ${process.version}, one thread); array ${n}x${n}, Gmax ${values.gmax} µS, cells U[0.01, 1]·Gmax, half the rows driven per cycle`);
console.log(`ideal ΣV·G: ${(ideal * 1000).toFixed(1)} µs per array per input cycle`);
console.log('| r (Ω, rows = cols, terminal 0) | r·Gmax | sweeps per read (mean) | literal µs/cycle | literal / ideal | unit-drive setup ms/array | superposed µs/cycle (amortized over reads) | superposed / ideal |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of values.r.split(',').map(Number)) {
  const p = { rRow: r * gMaxS, rCol: r * gMaxS, rTerminal: 0, tolerance: 1e-6, maxIterations: 100000 };
  const solver = new ArraySolver(G, 0, n, n, n, p);
  let sweeps = 0;
  const literal = time(() => {
    sweeps = 0;
    for (const V of drives) sweeps += solver.solve(V, 0, out, 0).iterations;
  }, 1) / cycles;
  const unit = new Float64Array(n);
  const M = new Float64Array(n * n);
  const setup = time(() => {
    const s = new ArraySolver(G, 0, n, n, n, p);
    for (let k = 0; k < n; k++) {
      unit[k] = 1;
      s.solve(unit, 0, M, k * n);
      unit[k] = 0;
    }
  }, 1);
  const superposed = ideal + setup / reads;
  console.log(
    `| ${r} | ${(r * gMaxS).toExponential(2)} | ${(sweeps / cycles).toFixed(1)} | ${(literal * 1000).toFixed(0)} | ${(literal / ideal).toFixed(0)}x | ${setup.toFixed(0)} | ${(superposed * 1000).toFixed(1)} | ${(superposed / ideal).toFixed(2)}x |`,
  );
}
