import { afterAll, describe, expect, it } from 'vitest';
import { openTestGpu } from '../helpers/gpu.ts';
import { maxAbs, maxAbsDiff, randomArray } from '../helpers/random.ts';
import { config } from '../helpers/vmm-cases.ts';
import { programLayer } from '../../src/crossbar/program.ts';
import { blockRanges } from '../../src/crossbar/adc.ts';
import { GpuCrossbarLayer } from '../../src/kernels/xbar.ts';
import { perturbConductancesRef } from '../../src/reference/chip.ts';
import { deviceExtras } from '../../src/devices/cells.ts';
import { simulateVmm } from '../../src/nn/crossbar-layer.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { evaluateChip } from '../../src/nn/evaluate.ts';
import { loadModel } from '../../src/nn/load-model.ts';
import { mnistEvalData } from '../../src/io/datasets/eval-data.ts';
import { resolveConfig } from '../../src/config/schema.ts';
import type { Backend } from '../../src/gpu/backend.ts';
import type { DeviceModelName, XbarConfigInput } from '../../src/config/types.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const CPU: Backend = { kind: 'cpu', reason: 'test' };
const GPU = (): Backend => ({ kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session });

type Model = Exclude<DeviceModelName, 'none'>;

/** A small layer geometry (16-row arrays, 3 slices, 2-bit DAC) with stuck cells on top of the model. */
const base = (model: Model, time: number): XbarConfigInput => ({
  preset: 'ideal',
  array: { rows: 16, cols: 32 },
  weights: { bits: 6, cellBits: 2, onOffRatio: 20 },
  inputs: { bits: 4, dacBits: 2 },
  noise: { stuckAt: { sa0: 0.01, sa1: 0.01 }, device: { model }, time },
});

// Time points of each model: programming only (0), and inference times (reram-wan2022 has fits at 1 s, 1 and 2 days only).
const TIMES: [Model, number[]][] = [
  ['pcm-joshi2020', [0, 3600, 86400, 3.1536e8]],
  ['reram-wan2022', [0, 1, 86400, 172800]],
  ['reram-cmo', [0, 3600, 86400]],
];
// Ragged columns and more rows than an array, one row, and a full array plus one.
const SHAPES: [number, number][] = [
  [40, 13],
  [1, 7],
  [17, 33],
];

describe.skipIf(!gpu)('device models on the GPU: same chip, same conductances and read σ as the CPU oracle', () => {
  for (const [model, times] of TIMES) {
    it.each(times)(`${model} at t = %d s, every shape`, async (time) => {
      const cfg = config(base(model, time), { seed: 77 });
      for (const [K, N] of SHAPES) {
        const layer = programLayer(randomArray(K * N, K + N), K, N, cfg);
        const gl = GpuCrossbarLayer.upload(gpu!.session, layer, cfg, blockRanges(layer.geom, cfg, 0), { layerIndex: 2 });
        try {
          for (const chipNo of [0, 5]) {
            const chip = gl.programChip(77, chipNo);
            const got = await gl.readCells(chip);
            const sig = await gl.readSigmas(chip);
            chip.destroy();
            const want = perturbConductancesRef(layer, cfg, { seed: 77, chip: chipNo, layer: 2 });
            // f32 device physics (WGSL log/exp/pow/cos) against the f64 oracle from the same Philox words: 1e-5 of Gmax.
            expect(maxAbsDiff(got, want), `${K}x${N} chip ${chipNo}`).toBeLessThanOrEqual(1e-5);
            const ws = deviceExtras(want).readSigma;
            expect(sig === null, 'read σ present on both or neither').toBe(ws === null);
            if (sig && ws) expect(maxAbsDiff(sig, ws), `${K}x${N} σ`).toBeLessThanOrEqual(1e-5 * Math.max(maxAbs(ws), 1e-3));
            if (K * N >= 100) {
              const other = perturbConductancesRef(layer, cfg, { seed: 77, chip: chipNo + 1, layer: 2 });
              expect(maxAbsDiff(got, other)).toBeGreaterThan(1e-3);
            }
          }
        } finally {
          gl.destroy();
        }
      }
    });
  }
});

describe.skipIf(!gpu)('device models through the crossbar: GPU outputs equal the CPU oracle at any dispatch size', () => {
  const cases: [string, Model, number, XbarConfigInput][] = [
    ['pcm, digital-sa cells, 1 day, global compensation', 'pcm-joshi2020', 86400, { noise: { drift: { compensation: 'global' } } }],
    ['pcm, buffered, 1 year, column compensation', 'pcm-joshi2020', 3.1536e7, { dataflow: 'buffered', noise: { drift: { compensation: 'column' } } }],
    ['pcm, analog-sa, 1 hour, offset-free analog subtract', 'pcm-joshi2020', 3600, { dataflow: 'analog-sa' }],
    ['pcm, digital-sa analog subtract, readScale 3', 'pcm-joshi2020', 86400, { adc: { subtract: 'analog' }, noise: { device: { readScale: 3 } } }],
    ['pcm, offset mapping, global compensation', 'pcm-joshi2020', 86400, { weights: { mapping: 'offset' }, noise: { drift: { compensation: 'global' } } }],
    ['reram-wan2022, 1 day, column compensation', 'reram-wan2022', 86400, { noise: { drift: { compensation: 'column' } } }],
    ['reram-cmo, analog-sa, 1 day, global compensation', 'reram-cmo', 86400, { dataflow: 'analog-sa', noise: { drift: { compensation: 'global' } } }],
  ];
  it.each(cases)('%s', async (_name, model, time, over) => {
    const cfg = config(base(model, time), over, { adc: { bits: 0 }, seed: 1234 });
    for (const [K, N, B] of [[40, 13, 30], [1, 7, 5]] as const) {
      const W = { data: randomArray(K * N, 5 + K), rows: K, cols: N };
      const X = { data: randomArray(B * K, 6 + K, -1, 1), rows: B, cols: K };
      const runs = [];
      for (const vpd of [1, 7, 64]) runs.push(await simulateVmm(GPU(), cfg, W, X, { chip: 3, vectorsPerDispatch: vpd }));
      expect(runs[0].backend).toBe('webgpu');
      expect(Array.from(runs[1].Y)).toEqual(Array.from(runs[0].Y));
      expect(Array.from(runs[2].Y)).toEqual(Array.from(runs[0].Y));
      const cpu = await simulateVmm(CPU, cfg, W, X, { chip: 3 });
      // Ideal ADC: f32 accumulation, f32 device physics and WGSL log/cos against the f64 oracle.
      expect(maxAbsDiff(runs[0].Y, cpu.Y), `${K}x${N}`).toBeLessThanOrEqual(2e-4 * maxAbs(cpu.Y));
      const other = await simulateVmm(GPU(), cfg, W, X, { chip: 4 });
      expect(maxAbsDiff(other.Y, cpu.Y)).toBeGreaterThan(1e-3 * maxAbs(cpu.Y));
    }
  });

  it('compensation changes the outputs (the factors are applied, not dropped)', async () => {
    const W = { data: randomArray(40 * 13, 8), rows: 40, cols: 13 };
    const X = { data: randomArray(20 * 40, 9, -1, 1), rows: 20, cols: 40 };
    const off = await simulateVmm(GPU(), config(base('pcm-joshi2020', 3.1536e8), { adc: { bits: 0 } }), W, X, { chip: 1 });
    const on = await simulateVmm(GPU(), config(base('pcm-joshi2020', 3.1536e8), { adc: { bits: 0 }, noise: { drift: { compensation: 'global' } } }), W, X, { chip: 1 });
    // Ten years of PCM drift lose well over 10 % of the conductance; global compensation scales every output back up.
    expect(maxAbs(on.Y)).toBeGreaterThan(1.1 * maxAbs(off.Y));
  });
});

describe.skipIf(!gpu)('the shipped MLP with aihwkit PCM one day after programming', () => {
  it('GPU accuracy equals CPU accuracy (8-bit ADC, global compensation), in batches of 1, 7 and 64 alike', async () => {
    const net = loadModel('models/mlp.onnx');
    const cfg = resolveConfig({
      weights: { bits: 6, cellBits: 3 },
      inputs: { bits: 6, dacBits: 6 },
      noise: { device: { model: 'pcm-joshi2020' }, time: 86400, drift: { compensation: 'global' } },
      calibration: { samples: 64 },
      seed: 5,
    });
    const data = mnistEvalData(net.input.shape, 200, cfg.calibration.samples);
    const results: { accuracy: number; predictions: number[] }[] = [];
    for (const backend of [GPU(), CPU]) {
      const runner = openNetwork(backend, net, cfg, false);
      try {
        await runner.calibrate(data.calibration!.x, data.calibration!.n);
        const r = await evaluateChip(runner, data, 0, false);
        results.push({ accuracy: r.accuracy, predictions: [] });
        if (backend.kind === 'webgpu') {
          // The same 64 samples in batches of 1, 7 and 64 give identical outputs (per-read draws key on the sample).
          const chip = await runner.program(0);
          const per = data.x.length / data.n;
          const outs: number[][] = [];
          for (const bs of [1, 7, 64]) {
            const o: number[] = [];
            for (let s = 0; s < 64; s += bs) {
              const b = Math.min(bs, 64 - s);
              o.push(...(await runner.forward(chip, data.x.subarray(s * per, (s + b) * per), b, s)).output);
            }
            outs.push(o);
          }
          chip.release();
          expect(outs[1]).toEqual(outs[0]);
          expect(outs[2]).toEqual(outs[0]);
        }
      } finally {
        runner.destroy();
      }
    }
    console.log(`MLP, pcm-joshi2020 at 1 day, global compensation, 200 samples: GPU ${results[0].accuracy}, CPU ${results[1].accuracy}`);
    expect(results[0].accuracy).toBeGreaterThan(0.8);
    expect(results[0].accuracy).toBe(results[1].accuracy);
  });
});
