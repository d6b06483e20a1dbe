// npm run bench:readout-accuracy — the closing note's data for the readout chain (issue 14, DESIGN.md
// section 11), printed as markdown tables and written as JSON to bench/results/:
//  1. SINAD, ENOB, SFDR, INL and DNL of the isaac, cascade and neural-pim conversion chains (the ADC alone
//     and the whole chain, every chip; the periph command's own measurement code, CPU reference, f64), and
//     of neural-pim with its neural peripherals (NNADC and NNS+A, Neural-PIM's ~50 dB chain);
//  2. top-1 accuracy of the shipped LeNet-5 (MNIST) and Fashion-MNIST CNN (models/fmnist-mobilenet.onnx)
//     on WebGPU over chips 0…N−1 with the uniform ADC, a nonlinear ADC (INL and offsets stated below), the
//     neural ADC, and the fixed-point near-memory unit at NMPU's formats against the f32 path on the same chips.
// Usage:
//   npm run bench:readout-accuracy [-- --quick] [--images 200] [--fmnist-images 32] [--chips 10] [--fmnist-chips N]
//     [--periph-chips 10] [--calibration 64] [--out FILE]
// --quick: 32 images, 8 Fashion-MNIST images, 3 chips (a smoke run). The CNN's convolutions cost about a
// second per image on a software adapter; size --fmnist-images to the adapter.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveConfig } from '../src/config/schema.ts';
import type { XbarConfig, XbarConfigInput } from '../src/config/types.ts';
import { measureAdc, measureChain, type ChainEntry } from '../src/cli/periph-measure.ts';
import { chainEntries } from '../src/cli/periph.ts';
import { GpuRuntime } from '../src/gpu/runtime.ts';
import { openNodeGpu } from '../src/gpu/node-gpu.ts';
import { adapterLine } from '../src/gpu/gpu-context.ts';
import type { Backend } from '../src/gpu/backend.ts';
import { fashionMnistEvalData, mnistEvalData, type EvalData } from '../src/io/datasets/eval-data.ts';
import { loadModel } from '../src/nn/load-model.ts';
import { openNetwork } from '../src/nn/runner.ts';
import { evaluateChip } from '../src/nn/evaluate.ts';
import { meanStdCi } from '../src/sweep/stats.ts';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    images: { type: 'string' },
    'fmnist-images': { type: 'string' },
    chips: { type: 'string' },
    'fmnist-chips': { type: 'string' },
    'periph-chips': { type: 'string' },
    calibration: { type: 'string', default: '64' },
    out: { type: 'string', default: 'bench/results/readout-accuracy.json' },
  },
});
const quick = values.quick;
const images = Number(values.images ?? (quick ? 32 : 200));
const fmnistImages = Number(values['fmnist-images'] ?? (quick ? 8 : 32));
const chips = Number(values.chips ?? (quick ? 3 : 10));
const fmnistChips = Number(values['fmnist-chips'] ?? chips);
const periphChips = Number(values['periph-chips'] ?? (quick ? 3 : 10));
const calSamples = Number(values.calibration);
const log = (s: string): void => void process.stderr.write(`${s}\n`);

// A stated nonlinear ADC: a quadratic INL bow of 0.5 LSB peak (terminal-based), comparator offsets
// σ = 0.2 LSB, instance offset σ = 0.1 LSB and gain σ = 0.5%, drawn per chip; one instance per 4 channels.
const NONLINEAR: XbarConfigInput = { adc: { model: 'nonlinear', groupSize: 4, nonlinear: { inl: [0, 0, -0.5], comparatorSigma: 0.2, offsetSigma: 0.1, gainSigma: 0.005 } } };
const PERIPHERALS: [string, XbarConfigInput][] = [
  ['uniform ADC', {}],
  ['nonlinear ADC (INL 0.5 LSB, σ_cmp 0.2 LSB, σ_off 0.1 LSB)', NONLINEAR],
  ['neural ADC (NNADC, 3-bit cells, σ 0.025)', { adc: { model: 'neural' } }],
  ['uniform ADC + fixed-point unit (u1.7 / s7.1)', { digital: {} }],
];

function fmt(s: { mean: number; std: number }, digits: number): string {
  return `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}`;
}

// ---- 1. the conversion chains --------------------------------------------------------------------------
const periphSets: [string, XbarConfig][] = [
  ['isaac', resolveConfig({ preset: 'isaac' })],
  ['cascade', resolveConfig({ preset: 'cascade' })],
  ['neural-pim', resolveConfig({ preset: 'neural-pim' })],
  ['neural-pim (NNADC + NNS+A)', resolveConfig({ preset: 'neural-pim', adc: { model: 'neural' }, analog: { model: 'neural' } })],
];
const chains: ChainEntry[] = [];
for (const [label, cfg] of periphSets) {
  log(`periph ${label}: ${periphChips} chips`);
  chains.push(...chainEntries([{ label, config: cfg, stages: [measureAdc(cfg, periphChips), measureChain(cfg, periphChips)] }]));
}
console.log(`### Conversion chains (${periphChips} chips, mean ± std over chips; CPU reference, f64)\n`);
console.log('| chain | stage | SINAD (dB) | ENOB (bits) | SFDR (dB) | INL max (LSB) | DNL max (LSB) |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const e of chains) console.log(`| ${e.preset} | ${e.stage} | ${fmt(e.sinad_dB, 1)} | ${fmt(e.enob, 2)} | ${fmt(e.sfdr_dB, 1)} | ${fmt(e.inlMax_LSB, 2)} | ${fmt(e.dnlMax_LSB, 2)} |`);
console.log('\nNeural-PIM (IEEE TC 2022) reports about 50 dB SINAD for its accumulation chain.\n');

// ---- 2. network accuracy on WebGPU ---------------------------------------------------------------------
interface AccuracyRow {
  model: string;
  dataset: string;
  peripherals: string;
  images: number;
  chips: number[];
  accuracy: number[];
  mean: number;
  std: number;
  /** The fixed-point unit's accuracy minus the f32 path's on the same chip. */
  vsF32?: { mean: number; std: number };
}
const rows: AccuracyRow[] = [];
const runtime = new GpuRuntime(() => openNodeGpu(log));
const session = await runtime.session();
let adapter = 'none';
if (!session) {
  console.log('no WebGPU adapter: the accuracy tables are skipped');
} else {
  adapter = adapterLine(session.ctx.adapter);
  const backend: Backend = { kind: 'webgpu', runtime, session };
  const models: [string, string, number, number, (shape: readonly number[], n: number) => EvalData][] = [
    ['lenet5', 'models/lenet5.onnx', images, chips, (s, n) => mnistEvalData(s, n, calSamples)],
    ['fmnist-mobilenet', 'models/fmnist-mobilenet.onnx', fmnistImages, fmnistChips, (s, n) => fashionMnistEvalData(s, n, calSamples)],
  ];
  for (const [name, path, n, nChips, dataOf] of models) {
    if (n <= 0) continue;
    const net = loadModel(path);
    const data = dataOf(net.input.shape, n);
    const digitalRunner = openNetwork(backend, net, resolveConfig({ preset: 'isaac' }), true);
    try {
      const d = await evaluateChip(digitalRunner, data, 0, true);
      rows.push({ model: name, dataset: data.name, peripherals: 'digital f32 network (no crossbar)', images: n, chips: [], accuracy: [d.accuracy], mean: d.accuracy, std: 0 });
    } finally {
      digitalRunner.destroy();
    }
    const perChip = new Map<string, number[]>();
    for (const [label, over] of PERIPHERALS) {
      const cfg = resolveConfig({ preset: 'isaac', calibration: { samples: calSamples }, ...over });
      const runner = openNetwork(backend, net, cfg, false);
      try {
        await runner.calibrate(data.calibration!.x, data.calibration!.n);
        const acc: number[] = [];
        for (let c = 0; c < nChips; c++) {
          acc.push((await evaluateChip(runner, data, c, false)).accuracy);
          log(`${name} ${label}: chip ${c} ${(100 * acc[c]).toFixed(1)}%`);
        }
        perChip.set(label, acc);
        const s = meanStdCi(acc);
        const row: AccuracyRow = { model: name, dataset: data.name, peripherals: label, images: n, chips: acc.map((_, c) => c), accuracy: acc, mean: s.mean, std: s.std ?? 0 };
        const f32 = perChip.get(PERIPHERALS[0][0]);
        if (over.digital && f32) {
          const diff = meanStdCi(acc.map((a, c) => a - f32[c]));
          row.vsF32 = { mean: diff.mean, std: diff.std ?? 0 };
        }
        rows.push(row);
      } finally {
        runner.destroy();
      }
    }
  }
  runtime.release();
  console.log(`### Accuracy on WebGPU (${adapter}; isaac preset, ${calSamples} calibration samples, mean ± std over chips)\n`);
  console.log('| model | peripherals | images | chips | top-1 accuracy (%) | fixed point − f32 (points) |');
  console.log('|---|---|---:|---:|---:|---:|');
  for (const r of rows) {
    const vs = r.vsF32 ? `${(100 * r.vsF32.mean).toFixed(2)} ± ${(100 * r.vsF32.std).toFixed(2)}` : '';
    console.log(`| ${r.model} (${r.dataset}) | ${r.peripherals} | ${r.images} | ${r.chips.length} | ${(100 * r.mean).toFixed(2)} ± ${(100 * r.std).toFixed(2)} | ${vs} |`);
  }
}

mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify({ adapter, quick, images, fmnistImages, chips, fmnistChips, periphChips, calibrationSamples: calSamples, nonlinear: NONLINEAR, chains, accuracy: rows }, null, 2)}\n`);
log(`wrote ${values.out}`);
