import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import type { Backend } from '../../src/gpu/backend.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { openTestGpu } from '../helpers/gpu.ts';
import { maxAbs } from '../helpers/random.ts';
import { K, tiedInputs, tiedNet, usesOf } from '../helpers/tied-net.ts';

// test/cpu/tied-layer.test.ts on WebGPU: a tied layer's uses share one programmed GPU chip and draw
// their own per-read noise, as the CPU oracle does.
const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const CPU: Backend = { kind: 'cpu', reason: 'test' };
const B = 40;
const x = tiedInputs(B);

async function run(backend: Backend, noise: { programming: number; read: number }, batch = B): Promise<Float32Array> {
  const cfg = resolveConfig({ preset: 'isaac', noise: { programming: { sigma: noise.programming }, read: { sigma: noise.read } } });
  const r = openNetwork(backend, tiedNet(true), cfg, false);
  try {
    await r.calibrate(x, B);
    const h = await r.program(1);
    const out = new Float32Array(B * 3 * K);
    for (let s0 = 0; s0 < B; s0 += batch) {
      const n = Math.min(batch, B - s0);
      out.set((await r.forward(h, x.subarray(s0 * K, (s0 + n) * K), n, s0)).output, s0 * 3 * K);
    }
    h.release();
    return out;
  } finally {
    r.destroy();
  }
}

describe.skipIf(!gpu)('tied crossbar layers on WebGPU', () => {
  const GPU = (): Backend => ({ kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session });

  it('equal the CPU oracle with programming and read noise, at any batch size', async () => {
    const noise = { programming: 0.03, read: 0.03 };
    const [g, c, g7] = [await run(GPU(), noise), await run(CPU, noise), await run(GPU(), noise, 7)];
    expect(g7).toEqual(g);
    // f32 against the f64 oracle: an ADC code may round the other way now and then, nothing more.
    const tol = 1e-4 * maxAbs(c);
    const close = g.filter((v, i) => Math.abs(v - c[i]) <= tol).length;
    expect(close / g.length).toBeGreaterThanOrEqual(0.99);
  });

  it('share one programmed chip: the same input at two uses reads the same cells, each use with its own read noise', async () => {
    const still = await run(GPU(), { programming: 0.05, read: 0 });
    const noisy = await run(GPU(), { programming: 0.05, read: 0.05 });
    for (let b = 0; b < B; b++) {
      const [r0, , r2] = usesOf(still, b);
      expect(r2).toEqual(r0);
    }
    const [n0, , n2] = usesOf(noisy, 0);
    expect(n2).not.toEqual(n0);
  });
});
