import { afterAll, describe, expect, it } from 'vitest';
import { openTestGpu } from '../helpers/gpu.ts';
import { goldenHashes, maybeUpdateGolden, storedGolden } from '../helpers/golden.ts';

const FILE = 'test/golden/hashes.json';
const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

describe.skipIf(!gpu)('golden outputs: the GPU is bit-identical to the stored hashes of its adapter', () => {
  it('every vmm and network case', { timeout: 600_000 }, async () => {
    const a = gpu!.session.ctx.adapter;
    // Float rounding differs between adapters, so hashes are kept per adapter (CI: lavapipe, SwiftShader).
    const key = `webgpu ${a.vendor}/${a.architecture}/${a.device}`;
    const got = await goldenHashes({ kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session }, 64, 64);
    if (maybeUpdateGolden(FILE, key, got)) return;
    const want = storedGolden(FILE, key);
    if (!want) {
      console.warn(`golden: no stored hashes for ${key}; run with GOLDEN_UPDATE=1 on this adapter to record them`);
      return;
    }
    expect(got).toEqual(want);
  });
});
