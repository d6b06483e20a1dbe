import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/gpu/backend.ts';
import { CONTRIB_ATTENTION_CASES } from '../helpers/contrib-attention.ts';
import { openTestGpu } from '../helpers/gpu.ts';
import { quantizedMismatches } from '../helpers/quantized-ops.ts';

// The same fused attention ops on WebGPU (test/cpu/onnx-contrib-attention.test.ts).
const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

describe.skipIf(!gpu)("ONNX Runtime's fused attention ops on WebGPU", () => {
  it.each(CONTRIB_ATTENTION_CASES)('%s', async (_what, c) => {
    const GPU: Backend = { kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session };
    expect(await quantizedMismatches(GPU, c, 5, 1e-5)).toEqual([]);
  });
});
