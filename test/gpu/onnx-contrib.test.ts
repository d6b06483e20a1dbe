import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/gpu/backend.ts';
import { CONTRIB_CASES } from '../helpers/contrib-ops.ts';
import { openTestGpu } from '../helpers/gpu.ts';
import { quantizedMismatches } from '../helpers/quantized-ops.ts';

// The same contrib ops on WebGPU (test/cpu/onnx-contrib.test.ts).
const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

describe.skipIf(!gpu)('ONNX Runtime contrib ops on WebGPU', () => {
  it.each(CONTRIB_CASES)('%s', async (_what, c) => {
    const GPU: Backend = { kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session };
    expect(await quantizedMismatches(GPU, c, 9, 1e-5)).toEqual([]);
  });
});
