import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/gpu/backend.ts';
import { openTestGpu } from '../helpers/gpu.ts';
import { maxAbsDiff } from '../helpers/random.ts';
import { resolveConfig } from '../../src/config/schema.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { drawingLayer, drawsOf, randomNet, vaeCase } from '../helpers/random-ops.ts';

// test/cpu/onnx-random.test.ts's random ops on WebGPU: the CPU oracle's draws, counter for counter,
// in batches that start at other samples than 0.
const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const CPU: Backend = { kind: 'cpu', reason: 'test' };
const N = 11;
const D = 37;

describe.skipIf(!gpu)('ONNX random ops on WebGPU', () => {
  it.each([
    ['RandomNormalLike', { mean: 0.5, scale: 2 }, 1e-5],
    ['RandomUniformLike', { low: -1, high: 3 }, 1e-6],
    ['Bernoulli', {}, 0],
  ] as const)('%s equals the CPU oracle, batch 4 against batch 11', async (op, attrs, tol) => {
    const GPU: Backend = { kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session };
    const net = randomNet(op, [D], attrs);
    const x = new Float32Array(N * D).map((_, i) => (i % 10) / 10 + 0.05);
    const want = await drawsOf(CPU, net, x, N, N);
    const got = await drawsOf(GPU, net, x, N, 4);
    expect(got.length).toBe(want.length);
    // WGSL's log and cos in Box–Muller round differently from the f64 oracle; the uniforms are exact in f32.
    expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(tol * 8);
  });

  it('Bernoulli decides ties alike: p at the draws\' own uniforms (the same stream), where f32 and f64 round apart', async () => {
    const GPU: Backend = { kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session };
    // Both ops write 'y', so they share a stream: p is each element's own uniform, rounded to f32.
    const u = await drawsOf(CPU, randomNet('RandomUniformLike', [D], { low: 0, high: 1 }), new Float32Array(N * D), N, N);
    const bern = randomNet('Bernoulli', [D]);
    const want = await drawsOf(CPU, bern, u, N, N);
    expect(Array.from(await drawsOf(GPU, bern, u, N, 5))).toEqual(Array.from(want));
  });

  it('calibrates a network that draws as the CPU oracle does, over more samples than one GPU batch', async () => {
    const GPU: Backend = { kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session };
    const net = drawingLayer();
    const cfg = resolveConfig({ preset: 'ideal', seed: 1 });
    const probe = openNetwork(GPU, net, cfg, false);
    const n = 2 * probe.maxBatch + 7;
    probe.destroy();
    const cal = { x: new Float32Array(n * 8).map((_, i) => ((i * 7) % 13) / 13 - 0.4), n };
    const sx = async (b: Backend): Promise<number> => {
      const r = openNetwork(b, net, cfg, false);
      try {
        await r.calibrate(cal.x, cal.n);
        return r.scales[0].sx;
      } finally {
        r.destroy();
      }
    };
    const [c, g] = [await sx(CPU), await sx(GPU)];
    expect(Math.abs(g - c) / c).toBeLessThan(1e-6);
  });

  it("PyTorch's VAE (RandomNormalLike) equals the CPU oracle, in batches of 64 against 100", async () => {
    const GPU: Backend = { kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session };
    const c = vaeCase(300);
    expect(maxAbsDiff(await drawsOf(GPU, c.net, c.x, c.n, 64), await drawsOf(CPU, c.net, c.x, c.n, 100))).toBeLessThan(1e-5);
  });
});
