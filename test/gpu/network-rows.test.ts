import { afterAll, describe, it } from 'vitest';
import { openTestGpu } from '../helpers/gpu.ts';
import { checkRowsEqualSamples } from '../helpers/rows-cases.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

describe.skipIf(!gpu)('a crossbar linear layer over several rows per sample on WebGPU', () => {
  it('equals the same layer over one-row samples bit for bit, read noise and counts included', () => checkRowsEqualSamples({ kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session }));
});
