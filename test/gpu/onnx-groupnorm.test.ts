import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/gpu/backend.ts';
import { openTestGpu } from '../helpers/gpu.ts';
import { GROUP_NORM_CASES, groupNormReference, runGroupNorm } from '../helpers/group-norm.ts';
import { randomArray } from '../helpers/random.ts';

// GroupNormalization on WebGPU against its definition, as on the CPU oracle (test/cpu/onnx-groupnorm.test.ts).
const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const B = 3;

describe.skipIf(!gpu)('GroupNormalization on WebGPU', () => {
  it.each(GROUP_NORM_CASES)('%s', async (_what, c) => {
    const GPU: Backend = { kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session };
    const x = randomArray(B * c.C * c.spatial.reduce((a, b) => a * b, 1), 33, -3, 2);
    const want = groupNormReference(c, x, B);
    const got = await runGroupNorm(GPU, c, x, B);
    // WGSL's sqrt rounds differently from the f64 definition.
    for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(want[i])));
  });
});
