import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/gpu/backend.ts';
import { openTestGpu } from '../helpers/gpu.ts';
import { maxAbs, maxAbsDiff } from '../helpers/random.ts';
import { runOn } from '../helpers/torch-fixtures.ts';
import { RNN_CASES, rnnCase } from '../helpers/torch-rnn.ts';
import { IDEAL16 } from '../helpers/torch-text.ts';

// test/cpu/torch-rnn.test.ts's unrolled LSTM, GRU and RNN exports on WebGPU: the CPU oracle's outputs, in f32 and on crossbars.
const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const CPU: Backend = { kind: 'cpu', reason: 'test' };

describe.skipIf(!gpu)('PyTorch recurrent exports on WebGPU', () => {
  it.each(RNN_CASES)('%s equals the CPU oracle', async (name) => {
    const GPU: Backend = { kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session };
    const c = rnnCase(name);
    const scale = Math.max(maxAbs(c.y), 1e-6);
    for (const digital of [true, false]) {
      const [g, want] = [await runOn(GPU, c.net, IDEAL16, digital, c.x, c.B), await runOn(CPU, c.net, IDEAL16, digital, c.x, c.B)];
      // WGSL's exp and tanh round differently from the f64-based oracle.
      expect(maxAbsDiff(g, want), digital ? 'f32' : 'crossbars').toBeLessThan(1e-4 * scale);
    }
  });
});
