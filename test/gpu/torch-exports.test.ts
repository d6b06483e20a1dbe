import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/gpu/backend.ts';
import { openTestGpu } from '../helpers/gpu.ts';
import { maxAbs, maxAbsDiff } from '../helpers/random.ts';
import { TORCH_CASES, runOn, torchCase } from '../helpers/torch-fixtures.ts';
import { IDEAL16 } from '../helpers/torch-text.ts';

// test/cpu/torch-exports.test.ts's PyTorch exports on WebGPU: the CPU oracle's outputs, in f32 and on crossbars.
const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const CPU: Backend = { kind: 'cpu', reason: 'test' };

describe.skipIf(!gpu)('PyTorch exports on WebGPU', () => {
  it.each(TORCH_CASES)('%s equals the CPU oracle', async (name) => {
    const GPU: Backend = { kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session };
    const c = torchCase(name);
    const scale = Math.max(maxAbs(c.y), 1e-6);
    const analog = c.net.ops.some((o) => o.kind === 'linear' || o.kind === 'conv');
    for (const digital of analog ? [true, false] : [true]) {
      const [g, want] = [await runOn(GPU, c.net, IDEAL16, digital, c.x, c.B), await runOn(CPU, c.net, IDEAL16, digital, c.x, c.B)];
      // WGSL's exp/log/erf/sqrt round differently from the f64-based oracle.
      expect(maxAbsDiff(g, want), digital ? 'f32' : 'crossbars').toBeLessThan(1e-4 * scale);
    }
  });
});
