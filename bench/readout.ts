// npm run bench:readout — the cost of each readout model (DESIGN.md section 11) against the uniform ADC,
// side by side in one run, on the CPU reference and on the WebGPU adapter (the crossbar kernel with its
// transfer-table epilogue and NNS+A chains, issue 14 item 4; a fitted nonuniform ADC is fitted on the host).
// Programming and per-chip draws are untimed (one warm-up run builds them; they are cached per chip);
// GPU times are wall time of one submit and readback, the models' runs interleaved. Usage:
//   npm run bench:readout [-- --size 128 --vectors 16 --gpu-vectors 256 --presets isaac,neural-pim --reps 3 --gpu-only]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { resolveConfig } from '../src/config/schema.ts';
import type { XbarConfigInput } from '../src/config/types.ts';
import { adcIsSigned, blockRanges } from '../src/crossbar/adc.ts';
import { programLayer } from '../src/crossbar/program.ts';
import { inputScale, quantizeInputs } from '../src/crossbar/quantize.ts';
import { programChipRef } from '../src/reference/chip.ts';
import { calibrateAdcRangeRef, vmmRef } from '../src/reference/vmm.ts';
import { GpuRuntime } from '../src/gpu/runtime.ts';
import { openNodeGpu } from '../src/gpu/node-gpu.ts';
import { adapterLine } from '../src/gpu/gpu-context.ts';
import { GpuCrossbarLayer } from '../src/kernels/xbar.ts';
import { fitsLevels } from '../src/readout/tables.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '128' },
    vectors: { type: 'string', default: '16' },
    reps: { type: 'string', default: '3' },
    presets: { type: 'string', default: 'isaac,cascade,neural-pim' },
    'gpu-vectors': { type: 'string', default: '256' },
    'gpu-only': { type: 'boolean', default: false },
  },
});
const n = Number(values.size);
const B = Number(values.vectors);
const reps = Number(values.reps);

function rand(len: number, seed: number, lo: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: len }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return lo + (1 - lo) * (s / 2 ** 32);
  });
}

const MODELS: [string, XbarConfigInput][] = [
  ['uniform', {}],
  ['nonlinear', { adc: { model: 'nonlinear', nonlinear: { inl: [0, 0, 1], comparatorSigma: 0.3, gainSigma: 0.01 } } }],
  ['nonuniform', { adc: { model: 'nonuniform' } }],
  ['neural', { adc: { model: 'neural' } }],
  ['NNS+A', { analog: { model: 'neural' } }],
];

const W = rand(n * n, 1, -1);
const X = rand(B * n, 2, -1);
if (!values["gpu-only"]) console.log(`CPU reference, ${n}x${n} layer, ${B} vectors, best of ${reps}`);
for (const preset of values['gpu-only'] ? [] : values.presets.split(',')) {
  let base = 0;
  for (const [name, over] of MODELS) {
    let cfg;
    try {
      cfg = resolveConfig({ preset, ...over });
    } catch {
      continue; // e.g. NNS+A on digital-sa
    }
    const layer = programLayer(W, n, n, cfg);
    const sx = inputScale(X, layer.geom.Qx);
    const xq = quantizeInputs(X, sx, layer.geom.Qx);
    const hi = calibrateAdcRangeRef(layer, cfg, xq, B);
    const ranges = blockRanges(layer.geom, cfg, hi);
    const id = { seed: 0, chip: 0, layer: 0 };
    const { chip, gains } = programChipRef(layer, cfg, id);
    const run = (): Float64Array => vmmRef(chip, cfg, xq, B, sx, { hi: (p) => ranges[p], noise: { id, vectorOffset: 0, gains } });
    run();
    let best = Infinity;
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      run();
      best = Math.min(best, performance.now() - t0);
    }
    if (name === 'uniform') base = best;
    console.log(`  ${preset.padEnd(11)} ${name.padEnd(26)} ${(best / B).toFixed(2).padStart(8)} ms/vector  ${(best / base).toFixed(2)}x uniform`);
  }
}

// The same models on the adapter, against the uniform ADC on the same adapter.
const runtime = new GpuRuntime(() => openNodeGpu((l) => process.stderr.write(`${l}\n`)));
const session = await runtime.session();
if (!session) {
  console.log('no WebGPU adapter: GPU side skipped');
} else {
  const GB = Number(values['gpu-vectors']);
  const XG = rand(GB * n, 3, -1);
  console.log(`WebGPU ${adapterLine(session.ctx.adapter)}, ${n}x${n} layer, ${GB} vectors, best of ${reps}`);
  for (const preset of values.presets.split(',')) {
    // Every model's layer and chip first, then the runs interleaved rep by rep: the machine's load drifts
    // alike for all of them, so the ratios to uniform compare like with like.
    const entries: { name: string; run: () => Promise<Float32Array>; free: () => void; best: number }[] = [];
    for (const [name, over0] of [...MODELS, ['nonuniform (given levels)', {}] as [string, XbarConfigInput]]) {
      let cfg;
      try {
        cfg = resolveConfig({ preset, ...over0 });
        // A nonuniform ADC with given levels: the uniform levels bent towards 0 (a companding converter).
        if (name === 'nonuniform (given levels)') {
          const signed = adcIsSigned(cfg);
          const m = signed ? 2 ** cfg.adc.bits - 1 : 2 ** cfg.adc.bits;
          const levels = Array.from({ length: m }, (_, i) => {
            const t = signed ? -1 + (2 * i) / (m - 1) : i / (m - 1);
            return Math.sign(t) * Math.abs(t) ** 1.5;
          });
          cfg = resolveConfig({ preset, adc: { model: 'nonuniform', nonuniform: { levels } } });
        }
      } catch {
        continue;
      }
      const layer = programLayer(W, n, n, cfg);
      const sx = inputScale(XG, layer.geom.Qx);
      // Levels fitted by Lloyd-Max (levels []): on the host with the CPU's code, as the GPU executor does.
      const hi = fitsLevels(cfg) ? calibrateAdcRangeRef(layer, cfg, quantizeInputs(XG, sx, layer.geom.Qx), GB) : n / 4;
      const xl = GpuCrossbarLayer.upload(session, layer, cfg, blockRanges(layer.geom, cfg, hi));
      const chip = xl.programChip(0, 0);
      const run = (): Promise<Float32Array> => xl.run(chip, XG, GB, { sxq: sx, outScale: sx });
      await run();
      entries.push({ name, run, free: () => (chip.destroy(), xl.destroy()), best: Infinity });
    }
    for (let r = 0; r < reps; r++) {
      for (const e of entries) {
        const t0 = performance.now();
        await e.run();
        e.best = Math.min(e.best, performance.now() - t0);
      }
    }
    const base = entries.find((e) => e.name === 'uniform')!.best;
    for (const e of entries) {
      console.log(`  ${preset.padEnd(11)} ${e.name.padEnd(26)} ${((1000 * e.best) / GB).toFixed(1).padStart(8)} µs/vector  ${(e.best / base).toFixed(2)}x uniform`);
      e.free();
    }
  }
  runtime.release();
}
