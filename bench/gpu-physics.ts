// npm run bench:gpu-physics [-- --k 512 --n 256 --batch 256 --reps 5]
// What device models and the IR-drop approximation cost on the WebGPU crossbar kernel, side by side in
// one run on Dawn's adapter: programming one chip (section 4 noise against each device model, with
// drift compensation) and one batch through the layer (ideal wires against circuit.model "approx"
// with 1 and 4 horizontal partitions, and PCM's per-read noise). Medians of --reps timed repeats after
// a warm-up; each timing waits for the GPU (a readback), so it includes one submit and one map.
import { parseArgs } from 'node:util';
import { openNodeGpu } from '../src/gpu/node-gpu.ts';
import { GpuRuntime } from '../src/gpu/runtime.ts';
import { adapterLine } from '../src/gpu/gpu-context.ts';
import { resolveConfig } from '../src/config/schema.ts';
import type { XbarConfigInput } from '../src/config/types.ts';
import { programLayer } from '../src/crossbar/program.ts';
import { blockRanges } from '../src/crossbar/adc.ts';
import { GpuCrossbarLayer } from '../src/kernels/xbar.ts';
import { now } from './core/measure.ts';

const { values } = parseArgs({ options: { k: { type: 'string', default: '512' }, n: { type: 'string', default: '256' }, batch: { type: 'string', default: '256' }, reps: { type: 'string', default: '5' } } });
const K = Number(values.k);
const N = Number(values.n);
const B = Number(values.batch);
const reps = Number(values.reps);

let seed = 12345;
const rnd = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
const W = Float64Array.from({ length: K * N }, () => rnd() * 2 - 1);
const X = Float32Array.from({ length: B * K }, () => Math.floor(rnd() * 256));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Median milliseconds of `reps` calls after one warm-up call. */
async function timed(f: () => Promise<void>): Promise<number> {
  await f();
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = now();
    await f();
    ts.push((now() - t0) * 1000);
  }
  return median(ts);
}

const runtime = new GpuRuntime(() => openNodeGpu((l) => console.warn(l)));
const s = await runtime.session();
if (!s) {
  console.error('bench:gpu-physics: no WebGPU adapter');
  process.exit(1);
}
const base: XbarConfigInput = { preset: 'isaac', adc: { bits: 8, range: 'full' }, calibration: { samples: 1 } };
const cases: [string, XbarConfigInput][] = [
  ['section 4 noise (programming 2 %, read 1 %)', { noise: { programming: { sigma: 0.02 }, read: { sigma: 0.01 } } }],
  ['pcm-joshi2020, 1 day, global compensation', { noise: { device: { model: 'pcm-joshi2020' }, time: 86400, drift: { compensation: 'global' } } }],
  ['pcm-joshi2020, 1 day, column compensation', { noise: { device: { model: 'pcm-joshi2020' }, time: 86400, drift: { compensation: 'column' } } }],
  ['reram-wan2022, 1 day', { noise: { device: { model: 'reram-wan2022' }, time: 86400 } }],
  ['reram-cmo, 1 day', { noise: { device: { model: 'reram-cmo' }, time: 86400 } }],
  ['ideal wires, no noise', {}],
  ['approx, rCol 1 Ω, 1 partition', { circuit: { model: 'approx', rCol: 1 } }],
  ['approx, rCol 1 Ω, 4 horizontal partitions', { circuit: { model: 'approx', rCol: 1 }, array: { partitions: { rows: 4, cols: 1 } } }],
];
console.log(`WebGPU ${adapterLine(s.ctx.adapter)}; layer ${K}x${N}, isaac geometry (8-bit weights, 2-bit cells, bit-serial), batch ${B}; medians of ${reps}`);
console.log('| config | program one chip (ms) | one batch (ms) | µs per vector |');
console.log('|---|---|---|---|');
for (const [name, over] of cases) {
  const cfg = resolveConfig({ ...base, ...over });
  const layer = programLayer(W, K, N, cfg);
  const gl = GpuCrossbarLayer.upload(s, layer, cfg, blockRanges(layer.geom, cfg, 0));
  let chipNo = 0;
  const prog = await timed(async () => {
    const c = gl.programChip(1, chipNo++);
    await gl.readCells(c);
    c.destroy();
  });
  const chip = gl.programChip(1, 0);
  const run = await timed(async () => {
    await gl.run(chip, X, B, { sxq: 1, outScale: 1 });
  });
  chip.destroy();
  gl.destroy();
  console.log(`| ${name} | ${prog.toFixed(1)} | ${run.toFixed(1)} | ${((run * 1000) / B).toFixed(1)} |`);
}
runtime.release();
