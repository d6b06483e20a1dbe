import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/gpu/backend.ts';
import { openTestGpu } from '../helpers/gpu.ts';
import { UNARY_MATH_CASES, unaryMathError } from '../helpers/unary-math.ts';

// The same ops on WebGPU (test/cpu/onnx-unary-math.test.ts): WGSL leaves asin, acos, acosh and atanh
// indeterminate outside their domains, so NaN and ±∞ there are the kernel's own.
const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

describe.skipIf(!gpu)('ONNX trigonometric, hyperbolic and shrinkage ops on WebGPU', () => {
  it.each(UNARY_MATH_CASES)('%s', async (_what, c) => {
    const GPU: Backend = { kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session };
    const { worst, special } = await unaryMathError(GPU, c, 3);
    expect(special).toBe(true);
    expect(worst).toBeLessThanOrEqual(1);
  });
});
