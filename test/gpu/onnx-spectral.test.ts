import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/gpu/backend.ts';
import { openTestGpu } from '../helpers/gpu.ts';
import { SPECTRAL_CASES, spectralError } from '../helpers/spectral.ts';

// The same transforms on WebGPU (test/cpu/onnx-spectral.test.ts).
const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

describe.skipIf(!gpu)('DFT, STFT and the log-mel front end on WebGPU', () => {
  it.each(SPECTRAL_CASES)('%s', async (_what, c) => {
    const GPU: Backend = { kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session };
    expect(await spectralError(GPU, c, 3)).toBeLessThan(2e-6);
  });
});
