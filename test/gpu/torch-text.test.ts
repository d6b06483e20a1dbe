import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/gpu/backend.ts';
import { openTestGpu } from '../helpers/gpu.ts';
import { maxAbs, maxAbsDiff } from '../helpers/random.ts';
import { TEXT_EXPORTS, textData, textLogits, textNet } from '../helpers/torch-text.ts';

// The PyTorch text transformer of test/cpu/torch-text.test.ts on WebGPU: the same logits as the CPU oracle.
const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const CPU: Backend = { kind: 'cpu', reason: 'test' };

describe.skipIf(!gpu)('PyTorch nn.TransformerEncoder text classifier on WebGPU', () => {
  it.each(TEXT_EXPORTS)('%s: f32 and noise-free 16-bit crossbars equal the CPU oracle (and PyTorch)', async (name) => {
    const GPU: Backend = { kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session };
    const net = textNet(name);
    const { logits, B } = textData();
    const scale = maxAbs(logits);
    for (const digital of [true, false]) {
      const [g, c] = [await textLogits(GPU, net, digital, B), await textLogits(CPU, net, digital, B)];
      // WGSL exp/erf/sqrt (GELU, softmax, LayerNorm) round differently from the f64-based oracle.
      expect(maxAbsDiff(g, c)).toBeLessThan(1e-4 * scale);
      expect(maxAbsDiff(g, logits)).toBeLessThan((digital ? 1e-4 : 1e-3) * scale);
    }
  });
});
