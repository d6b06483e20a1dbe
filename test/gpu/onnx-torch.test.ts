/**
 * A timm-style ViT exported the way torch.onnx.export writes it (test/helpers/torch-exports.ts) on
 * the WebGPU executor: patch embedding, LayerNorm, attention (two activation matmuls, softmax),
 * GELU through Erf, the class token by Gather — every digital op on WGSL kernels.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { gpuKernelMissing } from '../../src/nn/ops/registry.ts';
import { withLimits, type GpuSession } from '../../src/gpu/runtime.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { openTestGpu } from '../helpers/gpu.ts';
import { maxAbs, maxAbsDiff, randomArray } from '../helpers/random.ts';
import { vitModel } from '../helpers/torch-exports.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const CFG = resolveConfig({ preset: 'ideal' });

describe.skipIf(!gpu)('PyTorch ViT export on WebGPU', () => {
  const m = vitModel();
  const net = importOnnx(m.bytes, 'vit.onnx');
  const x = randomArray(64 * 192, 9);

  it('--digital: bit-identical per-sample outputs at batch sizes 1, 7 and 64, equal to a plain forward and to the CPU oracle', async () => {
    expect(net.ops.map(gpuKernelMissing).filter((k) => k !== null)).toEqual([]);
    const gpuRunner = openNetwork({ kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session }, net, CFG, true);
    const cpuRunner = openNetwork({ kind: 'cpu', reason: 'test' }, net, CFG, true);
    try {
      const run = async (B: number): Promise<Float32Array> => (await gpuRunner.forward(null, x.subarray(0, B * 192), B, 0)).output;
      const [y1, y7, y64] = [await run(1), await run(7), await run(64)];
      expect(y7.subarray(0, 10)).toEqual(y1);
      expect(y64.subarray(0, 70)).toEqual(y7);
      const cpu = (await cpuRunner.forward(null, x, 64, 0)).output;
      expect(maxAbsDiff(y64, cpu)).toBeLessThan(1e-4 * Math.max(1, maxAbs(cpu)));
      for (let s = 0; s < 64; s += 9) {
        const want = m.forward(x.subarray(s * 192, (s + 1) * 192));
        expect(maxAbsDiff(y64.subarray(s * 10, (s + 1) * 10), want)).toBeLessThan(1e-4 * Math.max(1, maxAbs(want)));
      }
    } finally {
      gpuRunner.destroy();
      cpuRunner.destroy();
    }
  });

  it('on crossbars (ideal preset, chip 0): the same outputs at batch sizes 1 and 7, and the CPU reference predictions', async () => {
    const open = (backend: Parameters<typeof openNetwork>[0]) => openNetwork(backend, net, CFG, false);
    const g = open({ kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session });
    const c = open({ kind: 'cpu', reason: 'test' });
    try {
      const cal = x.subarray(0, 16 * 192);
      await g.calibrate(cal, 16);
      await c.calibrate(cal, 16);
      const [hg, hc] = [await g.program(0), await c.program(0)];
      const run = async (B: number): Promise<Float32Array> => (await g.forward(hg, x.subarray(0, B * 192), B, 0)).output;
      const [y1, y7, y64] = [await run(1), await run(7), await run(64)];
      expect(y7.subarray(0, 10)).toEqual(y1);
      const yc = (await c.forward(hc, x, 64, 0)).output;
      const argmax = (y: Float32Array, s: number): number => {
        const row = y.subarray(s * 10, (s + 1) * 10);
        return row.indexOf(Math.max(...row));
      };
      const agree = Array.from({ length: 64 }, (_, s) => argmax(y64, s) === argmax(yc, s)).filter(Boolean).length;
      console.log(`ViT on crossbars: GPU vs CPU max |diff| ${maxAbsDiff(y64, yc)} (max |y| ${maxAbs(yc)}), ${agree}/64 equal predictions`);
      expect(agree).toBeGreaterThanOrEqual(63);
      hg.release();
      hc.release();
    } finally {
      g.destroy();
      c.destroy();
    }
  });

  it('--digital under a 2 KiB storage binding limit: smaller batches, the same outputs', async () => {
    const outputs = async (session: GpuSession): Promise<{ y: Float32Array; maxBatch: number }> => {
      const r = openNetwork({ kind: 'webgpu', runtime: gpu!.runtime, session }, net, CFG, true);
      try {
        const parts: Float32Array[] = [];
        for (let s0 = 0; s0 < 24; s0 += r.maxBatch) {
          const B = Math.min(r.maxBatch, 24 - s0);
          parts.push((await r.forward(null, x.subarray(s0 * 192, (s0 + B) * 192), B, s0)).output);
        }
        return { y: Float32Array.from(parts.flatMap((p) => Array.from(p))), maxBatch: r.maxBatch };
      } finally {
        r.destroy();
      }
    };
    const whole = await outputs(gpu!.session);
    const split = await outputs(withLimits(gpu!.session, { maxStorageBufferBindingSize: 2048 }));
    expect(split.maxBatch).toBeLessThan(whole.maxBatch);
    expect(split.maxBatch).toBeLessThan(24);
    expect(Array.from(split.y)).toEqual(Array.from(whole.y));
  });
});
