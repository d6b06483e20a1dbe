import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/gpu/backend.ts';
import { openTestGpu } from '../helpers/gpu.ts';
import { LP_CASES, lpError } from '../helpers/lp-ops.ts';

// The same ops on WebGPU (test/cpu/onnx-lp-ops.test.ts).
const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

describe.skipIf(!gpu)('Hardmax, Lp norms and pools, MVN and ReduceLogSum on WebGPU', () => {
  it.each(LP_CASES)('%s', async (_what, c) => {
    const GPU: Backend = { kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session };
    expect(await lpError(GPU, c, 3)).toBeLessThan(1e-5);
  });
});
