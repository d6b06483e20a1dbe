// Calibration walks its inputs once when they fit one batch (the ranges measured on the activations
// of the walk that gave the scales) and twice otherwise; both must give the same scales and ranges,
// on the CPU reference and on WebGPU, for exact-level chips (the range kernel) and noisy ones (the trace).
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import type { XbarConfigInput } from '../../src/config/types.ts';
import { calibrateNetwork } from '../../src/nn/calibration.ts';
import { CpuExecutor } from '../../src/nn/exec/cpu.ts';
import { GpuExecutor } from '../../src/nn/exec/gpu.ts';
import type { Executor } from '../../src/nn/exec/types.ts';
import { loadModel } from '../../src/nn/load-model.ts';
import { planMatrices } from '../../src/nn/matrices.ts';
import { openTestGpu } from '../helpers/gpu.ts';
import { randomArray } from '../helpers/random.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

/** The same executor with a smaller calibration batch: every batch is walked again for the ranges. */
function inBatchesOf<T>(ex: Executor<T>, n: number): Executor<T> {
  return Object.create(ex, { calibrationBatch: { value: n } }) as Executor<T>;
}

describe.skipIf(!gpu)('calibration in one walk equals calibration in batches', () => {
  const net = loadModel('models/lenet5.onnx');
  const n = 20;
  const cal = { x: randomArray(n * 784, 5, 0, 1), n };
  const cases: [string, XbarConfigInput][] = [
    ['isaac (exact levels: the range kernel)', { preset: 'isaac' }],
    ['neural-pim (exact levels, analog shift-and-add)', { preset: 'neural-pim' }],
    ['isaac with programming noise (the trace)', { preset: 'isaac', noise: { programming: { sigma: 0.05 } } }],
  ];
  it.each(cases)('%s, on the CPU reference and on WebGPU', async (_name, over) => {
    const cfg = resolveConfig(over);
    const layers = planMatrices(net, cfg, false);
    const executors: [string, () => Executor<unknown>][] = [
      ['cpu', () => new CpuExecutor(net.input.shape, layers, cfg.seed) as Executor<unknown>],
      ['webgpu', () => new GpuExecutor(gpu!.session, net, layers, cfg.seed) as Executor<unknown>],
    ];
    for (const [backend, make] of executors) {
      const whole = make();
      const batched = make();
      expect(whole.calibrationBatch, backend).toBeGreaterThanOrEqual(n);
      const once = await calibrateNetwork(net, layers, whole, cal);
      const twice = await calibrateNetwork(net, layers, inBatchesOf(batched, 7), cal);
      expect(twice, backend).toEqual(once);
      expect(once.every((s) => s.hi.every((h) => h > 0)), backend).toBe(true);
      whole.destroy();
      batched.destroy();
    }
  });
});
