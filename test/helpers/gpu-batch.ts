/** GPU-vs-oracle plumbing shared by the digital-op suites (test/gpu/digital-ops*.test.ts). */
import { expect } from 'vitest';
import { maxAbs, maxAbsDiff, randomArray } from './random.ts';
import type { GpuSession } from '../../src/gpu/runtime.ts';
import { readBuffer, uploadStorage } from '../../src/gpu/buffers.ts';
import { elementCount, type HostTensor } from '../../src/ir/tensor.ts';
import type { GpuTensor, OpEncoder } from '../../src/gpu/encoder.ts';
import { digitalOpRef, encodeDigitalOp } from '../../src/nn/ops/registry.ts';
import type { DigitalOp } from '../../src/nn/ops/types.ts';

/**
 * An OpEncoder like the executor's: outputs come from a pool-like allocator (sizes rounded up to a
 * power of two) and are filled with NaN, so an element a kernel forgets to write fails the comparison.
 */
export class Batch {
  readonly e: OpEncoder;
  private readonly owned: GPUBuffer[] = [];
  constructor(readonly s: GpuSession) {
    const device = s.ctx.device;
    const owned = this.owned;
    this.e = {
      session: s,
      encoder: device.createCommandEncoder(),
      alloc(bytes, label) {
        let size = 16;
        while (size < bytes) size *= 2;
        const buf = device.createBuffer({ size, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, label, mappedAtCreation: true });
        new Float32Array(buf.getMappedRange()).fill(NaN);
        buf.unmap();
        owned.push(buf);
        return buf;
      },
      temp(buf) {
        owned.push(buf);
        return buf;
      },
    };
  }
  upload(t: HostTensor): GpuTensor {
    const buf = uploadStorage(this.s.ctx.device, t.data, 'test.input');
    this.owned.push(buf);
    return { shape: t.shape, buf };
  }
  /** Submits the recorded work and reads the tensors back, then frees everything. */
  async run(...outs: GpuTensor[]): Promise<Float32Array[]> {
    const device = this.s.ctx.device;
    device.queue.submit([this.e.encoder.finish()]);
    try {
      const res: Float32Array[] = [];
      for (const o of outs) res.push(new Float32Array(await readBuffer(device, o.buf, elementCount(o.shape) * 4)));
      this.s.ctx.checkErrors();
      return res;
    } finally {
      for (const b of this.owned) b.destroy();
    }
  }
}

export function host(shape: readonly number[], seed: number, lo = -1, hi = 1): HostTensor {
  return { shape, data: randomArray(elementCount(shape), seed, lo, hi) };
}

export function expectClose(got: Float32Array, want: Float32Array, what = ''): void {
  expect(got.length, what).toBe(want.length);
  const tol = 1e-5 * Math.max(maxAbs(want), 1e-30);
  expect(maxAbsDiff(got, want), what).toBeLessThanOrEqual(tol);
}

/** Runs op on the GPU (session s) and on the CPU and compares. */
export async function checkOpOn(s: GpuSession, op: DigitalOp, inputs: HostTensor[], B: number): Promise<Float32Array> {
  const want = digitalOpRef(op, inputs, B);
  const batch = new Batch(s);
  const y = encodeDigitalOp(batch.e, op, inputs.map((t) => batch.upload(t)), B);
  expect([...y.shape]).toEqual([...want.shape]);
  const [got] = await batch.run(y);
  expectClose(got, want.data, op.name);
  return got;
}

