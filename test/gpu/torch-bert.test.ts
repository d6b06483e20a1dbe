import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/gpu/backend.ts';
import { openTestGpu } from '../helpers/gpu.ts';
import { maxAbs, maxAbsDiff } from '../helpers/random.ts';
import { BERT_OPSETS, bertCase } from '../helpers/torch-bert.ts';
import { runOn } from '../helpers/torch-fixtures.ts';
import { IDEAL16 } from '../helpers/torch-text.ts';

// test/cpu/torch-bert.test.ts's dynamic-sequence BERT export on WebGPU: the CPU oracle's logits, in f32 and on crossbars.
const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const CPU: Backend = { kind: 'cpu', reason: 'test' };

describe.skipIf(!gpu)('BERT-style export with a dynamic sequence length on WebGPU', () => {
  it.each(BERT_OPSETS)('opset %i equals the CPU oracle', async (opset) => {
    const GPU: Backend = { kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session };
    const c = bertCase(opset);
    for (const digital of [true, false]) {
      const [g, want] = [await runOn(GPU, c.net, IDEAL16, digital, c.x, c.B), await runOn(CPU, c.net, IDEAL16, digital, c.x, c.B)];
      expect(maxAbsDiff(g, want), digital ? 'f32' : 'crossbars').toBeLessThan(1e-4 * maxAbs(c.logits));
    }
  });
});
