// npm run bench:readout — the cost of each readout model (DESIGN.md section 11) against the uniform ADC,
// side by side in one run, on the CPU reference (the GPU epilogue of issue 14 item 4 is not built yet;
// when it is, its adapter numbers go here beside these). Programming and per-chip draws are untimed
// (one warm-up run builds them; they are cached per chip). Usage:
//   npm run bench:readout [-- --size 128 --vectors 16 --presets isaac,neural-pim --reps 3]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { resolveConfig } from '../src/config/schema.ts';
import type { XbarConfigInput } from '../src/config/types.ts';
import { blockRanges } from '../src/crossbar/adc.ts';
import { programLayer } from '../src/crossbar/program.ts';
import { inputScale, quantizeInputs } from '../src/crossbar/quantize.ts';
import { programChipRef } from '../src/reference/chip.ts';
import { calibrateAdcRangeRef, vmmRef } from '../src/reference/vmm.ts';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '128' },
    vectors: { type: 'string', default: '16' },
    reps: { type: 'string', default: '3' },
    presets: { type: 'string', default: 'isaac,cascade,neural-pim' },
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
console.log(`CPU reference, ${n}x${n} layer, ${B} vectors, best of ${reps}`);
for (const preset of values.presets.split(',')) {
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
    console.log(`  ${preset.padEnd(11)} ${name.padEnd(10)} ${(best / B).toFixed(2).padStart(8)} ms/vector  ${(best / base).toFixed(2)}x uniform`);
  }
}
