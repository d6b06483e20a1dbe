import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/gpu/backend.ts';
import { ConstantCache } from '../../src/gpu/encoder.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { openTestGpu } from '../helpers/gpu.ts';
import { maxAbs, maxAbsDiff } from '../helpers/random.ts';
import { IDEAL16, textData, textNet } from '../helpers/torch-text.ts';

// The executor keeps the digital ops' constant tables on the GPU across batches (an embedding table
// uploads once, not per batch): the cache hands out one buffer per op and label, and every batch of
// every size still equals the CPU oracle.
const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const CPU: Backend = { kind: 'cpu', reason: 'test' };

describe('ConstantCache', () => {
  it('uploads once per owner and label, and frees every buffer on destroy', () => {
    const made: string[] = [];
    const destroyed: string[] = [];
    const cache = new ConstantCache((_data, label) => ({ label, destroy: () => destroyed.push(label) }) as unknown as GPUBuffer);
    const a = {};
    const b = {};
    const make = (tag: string) => () => (made.push(tag), new Float32Array(1));
    const first = cache.get(a, 'x', make('a.x'));
    expect(cache.get(a, 'x', make('again'))).toBe(first);
    expect(cache.get(a, 'y', make('a.y'))).not.toBe(first);
    expect(cache.get(b, 'x', make('b.x'))).not.toBe(first);
    expect(made).toEqual(['a.x', 'a.y', 'b.x']);
    cache.destroy();
    expect(destroyed.sort()).toEqual(['x', 'x', 'y']);
  });
});

describe.skipIf(!gpu)('constant tables kept across batches on WebGPU', () => {
  it('the text transformer (embedding table, constant ops, LayerNorm) equals the CPU oracle batch after batch, at several sizes', async () => {
    const GPU: Backend = { kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session };
    const net = textNet('text-dynamic');
    const { ids, logits } = textData();
    const g = openNetwork(GPU, net, IDEAL16, true);
    const c = openNetwork(CPU, net, IDEAL16, true);
    try {
      for (const [s0, n] of [[0, 4], [4, 2], [1, 4], [0, 6]]) {
        const x = ids.subarray(s0 * 12, (s0 + n) * 12);
        const [yg, yc] = [(await g.forward(null, x, n, s0)).output, (await c.forward(null, x, n, s0)).output];
        expect(maxAbsDiff(yg, yc), `samples ${s0}..${s0 + n}`).toBeLessThan(1e-4 * maxAbs(logits));
      }
    } finally {
      g.destroy();
      c.destroy();
    }
  });
});
