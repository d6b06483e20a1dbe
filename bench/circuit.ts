// npm run bench:circuit — the array solver's cost per array per input cycle against the ideal ΣV·G of
// the same array, side by side in one run, on the CPU reference and then on WebGPU (the circuit kernel
// family of src/kernels/circuit.ts against the crossbar kernel on the same array): solving every read
// (literal) and the superposed strategy the crossbar layers use (unit-drive solves once per chip, then
// one product per read, amortized over --reads reads of the chip). Usage: npm run bench:circuit
// [-- --size 128 --r 0.5,2,10 --gmax 25 --reads 4096 --cycles 64 --gpu true --gpu-cycles 512]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ArraySolver } from '../src/reference/circuit.ts';
import { resolveConfig } from '../src/config/schema.ts';
import { programLayer } from '../src/crossbar/program.ts';
import { blockRanges } from '../src/crossbar/adc.ts';
import { adapterLine } from '../src/gpu/gpu-context.ts';
import { openNodeGpu } from '../src/gpu/node-gpu.ts';
import { GpuRuntime } from '../src/gpu/runtime.ts';
import { solveArrayGpu } from '../src/kernels/circuit.ts';
import { GpuCrossbarLayer } from '../src/kernels/xbar.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '128' },
    r: { type: 'string', default: '0.5,2,10' },
    gmax: { type: 'string', default: '25' },
    reads: { type: 'string', default: '4096' },
    cycles: { type: 'string', default: '64' },
    gpu: { type: 'string', default: 'true' },
    /** Input cycles per GPU run (the ideal kernel's vectors × 8 cycles, the literal solve's drives): enough to hide launch overhead. */
    'gpu-cycles': { type: 'string', default: '512' },
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

async function timeAsync(f: () => Promise<void>, reps: number): Promise<number> {
  await f();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) await f();
  return (performance.now() - t0) / reps;
}

if (values.gpu !== 'false') {
  const runtime = new GpuRuntime(() => openNodeGpu((l) => console.warn(l)));
  const s = await runtime.session();
  if (!s) {
    console.log('WebGPU: no adapter, GPU rows skipped');
  } else {
    // One array of n×n cells as a crossbar layer: offset mapping with 2-bit weights in 2-bit cells is one
    // cell per weight (S = 1, pol = 1), 8-bit inputs driven bit-serially (T = 8 cycles), ideal ADC.
    const T = 8;
    const W = Float64Array.from({ length: n * n }, () => 2 * rnd() - 1);
    const gpuCycles = Number(values['gpu-cycles']);
    const B = Math.max(1, Math.ceil(gpuCycles / T));
    const X = Float32Array.from({ length: B * n }, () => Math.floor(256 * rnd()));
    const layerCfg = (over: object) =>
      resolveConfig({ preset: 'ideal', dataflow: 'digital-sa', array: { rows: n, cols: n }, weights: { bits: 2, cellBits: 2, mapping: 'offset' }, inputs: { bits: 8, dacBits: 1 }, adc: { bits: 0 }, device: { gMax: Number(values.gmax) }, ...over });
    const none = layerCfg({});
    const layer = programLayer(W, n, n, none);
    const gl = GpuCrossbarLayer.upload(s, layer, none, blockRanges(layer.geom, none, 0));
    const chip = gl.programChip(1, 0);
    const idealGpu = (await timeAsync(async () => void (await gl.run(chip, X, B, { sxq: 1, outScale: 1 })), 5)) / (B * T);
    // Uploading a layer programs its noise-free chip: with circuit.model "solve" that is every row's unit-drive solve.
    const upload = async (cfg: typeof none): Promise<void> => {
      const l = GpuCrossbarLayer.upload(s, programLayer(W, n, n, cfg), cfg, blockRanges(layer.geom, cfg, 0));
      await l.readCells(l.ideal);
      await l.settle();
      l.destroy();
    };
    const uploadNone = await timeAsync(() => upload(none), 3);
    chip.destroy();
    gl.destroy();
    console.log(`\nWebGPU ${adapterLine(s.ctx.adapter)}; the same array as a crossbar layer (one cell per weight, ${T} bit-serial cycles, ideal ADC), ${B} vectors (${B * T} cycles) per run; literal: ${gpuCycles} drives per run`);
    console.log(`ideal crossbar kernel: ${(idealGpu * 1000).toFixed(2)} µs per array per input cycle (run of ${B} vectors, upload and readback included)`);
    console.log('| r (Ω, rows = cols, terminal 0) | sweeps per read (mean) | literal µs/cycle | literal / ideal | unit-drive setup ms/array | superposed µs/cycle (amortized over reads) | superposed / ideal |');
    console.log('|---|---|---|---|---|---|---|');
    for (const r of values.r.split(',').map(Number)) {
      const p = { rRow: r * gMaxS, rCol: r * gMaxS, rTerminal: 0, tolerance: 1e-6, maxIterations: 100000 };
      const V = Float64Array.from({ length: gpuCycles * n }, () => (rnd() < 0.5 ? 1 : 0));
      let sweeps = 0;
      const literal = (await timeAsync(async () => {
        const res = await solveArrayGpu(s, G, n, n, V, gpuCycles, p);
        sweeps = res.results.reduce((a, x) => a + x.iterations, 0);
      }, 1)) / gpuCycles;
      const solveCfg = layerCfg({ circuit: { model: 'solve', rRow: r, rCol: r, tolerance: 1e-6, maxIterations: 100000 } });
      const withSolve = await timeAsync(() => upload(solveCfg), 3);
      const setup = Math.max(0, withSolve - uploadNone);
      const superposed = idealGpu + setup / reads;
      console.log(
        `| ${r} | ${(sweeps / gpuCycles).toFixed(1)} | ${(literal * 1000).toFixed(1)} | ${(literal / idealGpu).toFixed(0)}x | ${setup.toFixed(1)} | ${(superposed * 1000).toFixed(2)} | ${(superposed / idealGpu).toFixed(2)}x |`,
      );
    }
    runtime.release();
  }
}
