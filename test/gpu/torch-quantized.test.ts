import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/gpu/backend.ts';
import { openTestGpu } from '../helpers/gpu.ts';
import { QUANTIZED_CASES, QUANTIZED_DIR, runOn, torchCase } from '../helpers/torch-fixtures.ts';
import { levelsOff } from '../helpers/torch-quantized.ts';
import { IDEAL16 } from '../helpers/torch-text.ts';

// The int8 models on WebGPU (test/cpu/torch-quantized.test.ts). The GPU sums in another order, so
// a value on a rounding tie may land one output level away.
const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

describe.skipIf(!gpu)('PyTorch int8 models on WebGPU', () => {
  it.each(QUANTIZED_CASES)('%s in f32 and on noise-free 16-bit crossbars, within one output level', async (name) => {
    const GPU: Backend = { kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session };
    const c = torchCase(name, QUANTIZED_DIR);
    expect(levelsOff(await runOn(GPU, c.net, IDEAL16, true, c.x, c.B), c.y)).toBeLessThanOrEqual(1.001);
    expect(levelsOff(await runOn(GPU, c.net, IDEAL16, false, c.x, c.B), c.y)).toBeLessThanOrEqual(1.001);
  });
});
