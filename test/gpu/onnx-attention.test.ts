import { afterAll, describe, it } from 'vitest';
import type { Backend } from '../../src/gpu/backend.ts';
import { base, checkAttention, type Case } from '../helpers/attention.ts';
import { openTestGpu } from '../helpers/gpu.ts';

// ONNX Attention expanded into its nodes runs on WebGPU as on the CPU oracle: the cases of
// test/cpu/onnx-attention.test.ts that exercise each part of the expansion, against the definition.
const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

describe.skipIf(!gpu)('ONNX Attention on WebGPU', () => {
  it.each<[string, Case]>([
    ['grouped-query 3-D heads with a softcap and a float mask from the data', { rank: 3, ...base, hq: 4, softcap: 1.5, mask: 'data-float' }],
    ['a past cache, causal bottom-right, with present_key and present_value', { rank: 4, ...base, sq: 2, s: 2, past: 3, causal: true, outputs: [0, 1, 2] }],
    ['a constant boolean mask padded to the keys, qk_matmul_output after the softmax', { rank: 4, ...base, mask: 'const-bool', mode: 3, outputs: [0, 3] }],
    ['nonpad_kv_seqlen per sample, causal from the end of each', { rank: 3, ...base, sq: 2, nonpad: true, causal: true }],
  ])('%s', async (_what, c) => {
    const GPU: Backend = { kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session };
    // WGSL exp and tanh round differently from the f64 definition.
    await checkAttention(GPU, c, 1e-4);
  });
});
