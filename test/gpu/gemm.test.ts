import { afterAll, describe, expect, it } from 'vitest';
import { openTestGpu } from '../helpers/gpu.ts';
import { maxAbs, maxAbsDiff, randomArray } from '../helpers/random.ts';
import { gemmRef } from '../../src/reference/gemm.ts';
import { gemmGpu, gemmSource } from '../../src/kernels/gemm.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

describe.skipIf(!gpu)('plain GEMM on WebGPU vs the CPU reference', () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [1, 300, 7],
    [37, 129, 1],
    [64, 256, 64],
    [130, 70, 33],
  ];
  it.each(shapes)('M=%i K=%i N=%i', async (M, K, N) => {
    const s = gpu!.session;
    const a = randomArray(M * K, M * 7 + K);
    const b = randomArray(K * N, N * 13 + K);
    const got = await gemmGpu(s, a, b, M, K, N);
    const want = gemmRef(a, b, M, K, N);
    expect(got.length).toBe(M * N);
    expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(1e-5 * Math.max(1, maxAbs(want)) * Math.sqrt(K));
  });

  it('caches pipelines by program key and compiles each program once', async () => {
    const s = gpu!.session;
    const before = s.pipelines.misses;
    await gemmGpu(s, randomArray(8, 1), randomArray(8, 2), 2, 4, 2, { tm: 2, wgx: 8, wgy: 2 });
    await gemmGpu(s, randomArray(12, 3), randomArray(12, 4), 3, 4, 3, { tm: 2, wgx: 8, wgy: 2 });
    expect(s.pipelines.misses - before).toBe(1);
  });

  it('rejects programs that break tile or workgroup constraints', () => {
    expect(() => gemmSource({ tm: 0, wgx: 8, wgy: 8 })).toThrow(/tm=0/);
    expect(() => gemmSource({ tm: 4, wgx: 12, wgy: 8 })).toThrow(/power of two/);
    expect(() => gemmSource({ tm: 4, wgx: 64, wgy: 64 })).toThrow(/exceeds/);
  });

  it('reports uncaptured GPU errors with their message', async () => {
    const { ctx } = gpu!.session;
    ctx.device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
    await ctx.device.queue.onSubmittedWorkDone();
    await new Promise((r) => setTimeout(r, 50));
    expect(() => ctx.checkErrors()).toThrow(/GPU error: .*usage/i);
    expect(() => ctx.checkErrors()).not.toThrow();
  });

  it('re-creates a lost device on the next session', async () => {
    const first = gpu!.session;
    first.ctx.destroy();
    await first.ctx.device.lost;
    const next = await gpu!.runtime.session();
    expect(next).not.toBeNull();
    expect(next!.ctx.device).not.toBe(first.ctx.device);
    gpu!.session = next!;
    const got = await gemmGpu(next!, new Float32Array([1, 2]), new Float32Array([3, 4]), 1, 2, 1);
    expect(Array.from(got)).toEqual([11]);
  });
});
