// npm run bench:vmm — simulated cell-MACs per second of the crossbar kernel against our plain f32
// GEMM of the same shape on the same adapter, and the CPU reference, side by side in one run.
// Calibration is not timed. Usage: npm run bench:vmm [-- --sizes 256,512 --batch 256 --reps 3]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { resolveConfig } from '../src/config/schema.ts';
import { blockRanges } from '../src/crossbar/adc.ts';
import { programLayer } from '../src/crossbar/program.ts';
import { inputScale, quantizeInputs } from '../src/crossbar/quantize.ts';
import { adapterLine } from '../src/gpu/gpu-context.ts';
import { openNodeGpu } from '../src/gpu/node-gpu.ts';
import { GpuRuntime, withTuning } from '../src/gpu/runtime.ts';
import { REGISTER_TILES, SHARED_TILES } from '../src/gpu/tuning.ts';
import { planGemm } from '../src/kernels/gemm.ts';
import { GpuCrossbarLayer } from '../src/kernels/xbar.ts';
import { calibrateAdcRangeReference, referenceVmm } from '../src/reference/vmm.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '256,512,1024' },
    batch: { type: 'string', default: '256' },
    reps: { type: 'string', default: '3' },
    presets: { type: 'string', default: 'isaac,cascade,neural-pim' },
    'read-sigma': { type: 'string', default: '0.01' },
    variant: { type: 'string', default: 'auto' },
    'cpu-vectors': { type: 'string', default: '2' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const B = Number(values.batch);
const reps = Number(values.reps);
const cpuVectors = Number(values['cpu-vectors']);

function rand(n: number, seed: number, lo: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (1 - lo) * (s / 2 ** 32);
  });
}

async function timeIt(reps: number, f: () => Promise<unknown>): Promise<number> {
  await f(); // warm-up: pipeline compile, first-touch allocations
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await f();
    best = Math.min(best, performance.now() - t0);
  }
  return best / 1000;
}

const runtime = new GpuRuntime(() => openNodeGpu((l) => console.error(l)));
const opened = await runtime.session();
if (!opened) {
  console.error('bench:vmm needs a WebGPU adapter');
  process.exit(1);
}
console.log(`adapter: ${adapterLine(opened.ctx.adapter)} [${opened.ctx.adapter.source}]`);
// --variant shared|registers forces a kernel variant (compare them side by side on one adapter).
if (values.variant !== 'auto' && values.variant !== 'shared' && values.variant !== 'registers') throw new Error('--variant: auto, shared or registers');
const s = values.variant === 'auto' ? opened : withTuning(opened, { xbar: values.variant === 'registers' ? REGISTER_TILES : SHARED_TILES });
console.log(`crossbar kernel variant: ${s.tuning.xbar.kt > 0 ? 'shared' : 'registers'}${values.variant === 'auto' ? ' (auto)' : ''}`);
console.log(`B = ${B}, best of ${reps}; GEMM = our register-blocked f32 GEMM [B,K]x[K,N]; CPU = reference on ${cpuVectors} vectors`);
console.log(`read noise: sigma ${values['read-sigma']}; "+read add." / "+read prop." = kernel time with additive / proportional read noise over the noise-free kernel`);
console.log('| preset | K=N | cell-MACs | xbar ms | xbar Gcell-MAC/s | GEMM ms | GEMM GMAC/s | xbar/GEMM rate | xbar time / GEMM time | CPU ref Gcell-MAC/s | GPU/CPU | +read add. | +read prop. |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const K of sizes) {
  const N = K;
  const W = rand(K * N, K, -1);
  const X = rand(B * K, K + 1, 0); // non-negative inputs: one pass, as after a ReLU
  const gemm = planGemm(s, X, W, B, K, N);
  const gemmS = await timeIt(reps, async () => {
    const enc = s.ctx.device.createCommandEncoder();
    gemm.encode(enc);
    s.ctx.device.queue.submit([enc.finish()]);
    await gemm.read();
  });
  gemm.destroy();
  const gemmRate = (B * K * N) / gemmS;
  for (const preset of values.presets.split(',')) {
    const cfg = resolveConfig({ preset });
    const layer = programLayer(W, K, N, cfg);
    const g = layer.geom;
    const sx = inputScale(X, g.Qx);
    const xq = quantizeInputs(X, sx, g.Qx);
    const xf = Float32Array.from(xq);
    const calHi = calibrateAdcRangeReference(layer, cfg, xq.subarray(0, 8 * K), 8);
    // The same chip kernel without and with read noise (per-read draws, keyed per vector).
    const timeKernel = async (c: typeof cfg): Promise<number> => {
      const gl = GpuCrossbarLayer.upload(s, layer, c, blockRanges(g, c, calHi));
      const chip = gl.programChip(c.seed, 0);
      try {
        return await timeIt(reps, () => gl.run(chip, xf, B, { sxq: 1, outScale: sx }));
      } finally {
        chip.destroy();
        gl.destroy();
      }
    };
    const xbarS = await timeKernel(cfg);
    const sigma = Number(values['read-sigma']);
    const addS = await timeKernel({ ...cfg, noise: { ...cfg.noise, read: { sigma, model: 'additive' } } });
    const propS = await timeKernel({ ...cfg, noise: { ...cfg.noise, read: { sigma, model: 'proportional' } } });
    const cellMacs = g.T * g.S * g.pol * B * K * N;
    const ranges = blockRanges(g, cfg, calHi);
    const t0 = performance.now();
    referenceVmm(layer, cfg, xq.subarray(0, cpuVectors * K), cpuVectors, sx, { hi: (p) => ranges[p] });
    const cpuRate = (g.T * g.S * g.pol * cpuVectors * K * N) / ((performance.now() - t0) / 1000);
    const xbarRate = cellMacs / xbarS;
    console.log(
      `| ${preset} | ${K} | ${(cellMacs / 1e9).toFixed(2)}G | ${(xbarS * 1e3).toFixed(1)} | ${(xbarRate / 1e9).toFixed(2)} | ${(gemmS * 1e3).toFixed(1)} | ${(gemmRate / 1e9).toFixed(2)} | ${(xbarRate / gemmRate).toFixed(2)} | ${(xbarS / gemmS).toFixed(2)} | ${(cpuRate / 1e9).toFixed(3)} | ${(xbarRate / cpuRate).toFixed(0)}x | ${(addS / xbarS).toFixed(2)}x | ${(propS / xbarS).toFixed(2)}x |`,
    );
  }
}
runtime.release();
