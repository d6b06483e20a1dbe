import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/gpu/backend.ts';
import { CONTRIB_ATTENTION_CASES } from '../helpers/contrib-attention.ts';
import { CONTRIB_CASES } from '../helpers/contrib-ops.ts';
import { openTestGpu } from '../helpers/gpu.ts';
import { QUANTIZED_CASES, quantizedMismatches, type QCase } from '../helpers/quantized-ops.ts';

// ONNX Runtime's formats on WebGPU: the integer ops (test/cpu/onnx-quantized.test.ts, nine samples so
// the per-sample DynamicQuantizeLinear ranges cover every kind of sample twice), its contrib ops
// (test/cpu/onnx-contrib.test.ts) and its fused attention (test/cpu/onnx-contrib-attention.test.ts).
const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

const SUITES: [string, [string, QCase][], number][] = [
  ['ONNX Runtime integer formats on WebGPU', QUANTIZED_CASES, 9],
  ['ONNX Runtime contrib ops on WebGPU', CONTRIB_CASES, 9],
  ["ONNX Runtime's fused attention ops on WebGPU", CONTRIB_ATTENTION_CASES, 5],
];

describe.skipIf(!gpu).each(SUITES)('%s', (_suite, cases, B) => {
  it.each(cases)('%s', async (_what, c) => {
    const GPU: Backend = { kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session };
    expect(await quantizedMismatches(GPU, c, B, 1e-5)).toEqual([]);
  });
});
