import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/gpu/backend.ts';
import { openTestGpu } from '../helpers/gpu.ts';
import { QUANTIZED_CASES, quantizedMismatches } from '../helpers/quantized-ops.ts';

// The same integer formats on WebGPU (test/cpu/onnx-quantized.test.ts), nine samples so the
// per-sample DynamicQuantizeLinear ranges cover every kind of sample twice.
const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

describe.skipIf(!gpu)('ONNX Runtime integer formats on WebGPU', () => {
  it.each(QUANTIZED_CASES)('%s', async (_what, c) => {
    const GPU: Backend = { kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session };
    expect(await quantizedMismatches(GPU, c, 9, 1e-5)).toEqual([]);
  });
});
