import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/gpu/backend.ts';
import { openTestGpu } from '../helpers/gpu.ts';
import { ROTARY_CASES, rotaryError } from '../helpers/rotary.ts';

// RotaryEmbedding on WebGPU against its definition, as on the CPU oracle (test/cpu/onnx-rotary.test.ts).
const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

describe.skipIf(!gpu)('RotaryEmbedding on WebGPU', () => {
  it.each(ROTARY_CASES)('%s', async (_what, c) => {
    const GPU: Backend = { kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session };
    expect(await rotaryError(GPU, c, 3)).toBeLessThan(2e-6);
  });
});
