import { afterAll, describe, expect, it } from 'vitest';
import { openTestGpu } from '../helpers/gpu.ts';
import { checkDigitalMatchesF32, checkIdealMatchesQuantized } from '../helpers/network-cases.ts';
import { convBnModel, residualModel, testInput } from '../helpers/onnx-models.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { evaluateChip } from '../../src/nn/evaluate.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { resolveConfig } from '../../src/config/schema.ts';
import type { Backend } from '../../src/gpu/backend.ts';
import { loadModel } from '../../src/nn/load-model.ts';
import { mnistEvalData } from '../../src/io/datasets/eval-data.ts';
import type { LinearOp } from '../../src/ir/graph.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const CPU: Backend = { kind: 'cpu', reason: 'test' };
const GPU = (): Backend => ({ kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session });

const argmaxes = (a: Float32Array, B: number): number[] => {
  const n = a.length / B;
  return Array.from({ length: B }, (_, b) => {
    let best = 0;
    for (let i = 1; i < n; i++) if (a[b * n + i] > a[b * n + best]) best = i;
    return best;
  });
};

describe.skipIf(!gpu)('networks on WebGPU', () => {
  it('--digital equals a plain f32 forward of every test model', () => checkDigitalMatchesF32(GPU()));
  it('ideal 8-bit equals a quantized f32 forward', () => checkIdealMatchesQuantized(GPU()));

  it.each([
    ['conv+bn, isaac with RRAM noise', convBnModel(), { preset: 'isaac', noise: { preset: 'wan2022-rram' } }],
    ['residual, neural-pim with read noise and gain', residualModel(), { preset: 'neural-pim', noise: { read: { sigma: 0.02 }, programming: { sigma: 0.02 } }, analog: { gainSigma: 0.02 } }],
  ] as const)('%s: GPU predictions equal the CPU reference; batching never changes outputs', async (_n, m, cfgIn) => {
    const cfg = resolveConfig({ ...cfgIn, seed: 3 });
    const net = importOnnx(m.bytes, m.name);
    const B = 60;
    const x = testInput(m, B, 11);
    const cal = testInput(m, 32, 12);
    const outs: Float32Array[] = [];
    for (const backend of [GPU(), CPU]) {
      const runner = openNetwork(backend, net, cfg, false);
      try {
        await runner.calibrate(cal, 32);
        const chip = await runner.program(1);
        outs.push((await runner.forward(chip, x, B, 0)).output);
        if (backend.kind === 'webgpu') {
          // The same 60 samples in batches of 7 (offsets keep each sample's noise draws).
          const parts: Float32Array[] = [];
          for (let s = 0; s < B; s += 7) {
            const b = Math.min(7, B - s);
            const per = x.length / B;
            parts.push((await runner.forward(chip, x.subarray(s * per, (s + b) * per), b, s)).output);
          }
          const joined = new Float32Array(outs[0].length);
          let o = 0;
          for (const p of parts) (joined.set(p, o), (o += p.length));
          expect(Array.from(joined)).toEqual(Array.from(outs[0]));
        }
        chip.release();
      } finally {
        runner.destroy();
      }
    }
    const g = argmaxes(outs[0], B);
    const c = argmaxes(outs[1], B);
    const same = g.filter((v, i) => v === c[i]).length;
    expect(same / B).toBeGreaterThanOrEqual(0.995);
  });
});

describe.skipIf(!gpu)('pruned networks (issue 10, item 1)', () => {
  it('the MLP with 32 of fc1\'s 256 units zeroed stays within 1.5 points of digital on isaac', async () => {
    const net = loadModel('models/mlp.onnx');
    const fc1 = net.ops.find((op) => op.kind === 'linear') as LinearOp;
    // Zero every weight and the bias of 32 output units (a structured pruning of fc1).
    for (let j = 0; j < 256; j += 8) {
      for (let k = 0; k < fc1.K; k++) fc1.weight[k * fc1.N + j] = 0;
      if (fc1.bias) fc1.bias[j] = 0;
    }
    const cfg = resolveConfig({ preset: 'isaac' });
    const data = mnistEvalData(net.input.shape, 500, cfg.calibration.samples);
    const acc: number[] = [];
    for (const digital of [true, false]) {
      const runner = openNetwork(GPU(), net, cfg, digital);
      try {
        await runner.calibrate(data.calibration!.x, data.calibration!.n);
        acc.push((await evaluateChip(runner, data, 0, digital)).accuracy);
      } finally {
        runner.destroy();
      }
    }
    expect(acc[0]).toBeGreaterThan(0.9);
    expect(acc[1]).toBeGreaterThanOrEqual(acc[0] - 0.015);
  });
});
