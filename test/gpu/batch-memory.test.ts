import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/gpu/backend.ts';
import { UniformArena } from '../../src/gpu/buffers.ts';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { openTestGpu } from '../helpers/gpu.ts';
import { maxAbsDiff, randomArray } from '../helpers/random.ts';
import { IDEAL16 } from '../helpers/torch-text.ts';

// A batch's dispatches put their uniforms into a few shared buffers (UniformArena): one buffer per
// dispatch, alive until the batch completes, ran lavapipe out of memory mappings on torchvision's
// MaxViT (37,787 buffers; Dawn segfaulted in createBuffer). And a forward pass reuses a value's
// storage after its last reader (walkNetwork's recycle), so a batch needs the memory of the
// network's widest point, not of all its activations.
const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const CPU: Backend = { kind: 'cpu', reason: 'test' };

describe.skipIf(!gpu)('UniformArena', () => {
  it('packs blocks at aligned offsets into 64 KiB buffers, gives an oversized block its own, and frees them all', () => {
    const created: { size: number; usage: number }[] = [];
    const writes: { chunk: number; offset: number; bytes: number }[] = [];
    const destroyed: number[] = [];
    const device = {
      limits: { minUniformBufferOffsetAlignment: 256 },
      createBuffer(d: GPUBufferDescriptor) {
        const id = created.length;
        created.push({ size: d.size, usage: d.usage });
        const mapped = d.mappedAtCreation ? new ArrayBuffer(d.size) : null;
        return { id, size: d.size, destroy: () => destroyed.push(id), getMappedRange: () => mapped, unmap: () => undefined } as unknown as GPUBuffer;
      },
      queue: { writeBuffer: (b: GPUBuffer & { id: number }, offset: number, data: ArrayBuffer) => writes.push({ chunk: b.id, offset, bytes: data.byteLength }) },
    } as unknown as GPUDevice;
    const arena = new UniformArena(device);
    const at = Array.from({ length: 257 }, (_, i) => arena.put(new ArrayBuffer(i === 0 ? 20 : 48), `k${i}`));
    // 256 blocks of one 256-byte slot fill a 64 KiB buffer; the 257th opens a second.
    expect(at.slice(0, 256).map((b) => b.offset)).toEqual(Array.from({ length: 256 }, (_, i) => i * 256));
    expect(at[0].size).toBe(32);
    expect(at[1].size).toBe(48);
    expect(at[256]).toMatchObject({ offset: 0 });
    expect(at[256].buffer).not.toBe(at[0].buffer);
    expect(created.map((c) => c.size)).toEqual([65536, 65536]);
    expect(created.every((c) => c.usage === (GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST))).toBe(true);
    expect(writes.slice(0, 2)).toEqual([{ chunk: 0, offset: 0, bytes: 20 }, { chunk: 0, offset: 256, bytes: 48 }]);
    const big = arena.put(new ArrayBuffer(70000), 'big');
    expect(big).toMatchObject({ offset: 0, size: 70000 });
    arena.destroy();
    expect(destroyed.sort()).toEqual([0, 1, 2]);
  });

  it('a 600-op network makes 3 uniform buffers, not 600, and a few storage buffers, and still equals the CPU oracle', async () => {
    const GPU: Backend = { kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session };
    const ops = ['Neg', 'Abs', 'Sigmoid'];
    const net = importOnnx(buildOnnxModel({
      inputs: [{ name: 'x', dims: ['N', 5] }],
      outputs: [{ name: 'y', dims: ['N', 5] }],
      nodes: Array.from({ length: 600 }, (_, i) => ({ op: ops[i % 3], inputs: [i === 0 ? 'x' : `h${i - 1}`], outputs: [i === 599 ? 'y' : `h${i}`] })),
    }), 'chain.onnx');
    const device = gpu!.session.ctx.device;
    const make = device.createBuffer.bind(device);
    let uniforms = 0;
    let storage = 0;
    device.createBuffer = (d: GPUBufferDescriptor) => {
      if (d.usage & GPUBufferUsage.UNIFORM) uniforms++;
      if (d.usage & GPUBufferUsage.STORAGE) storage++;
      return make(d);
    };
    const x = randomArray(3 * 5, 9);
    const g = openNetwork(GPU, net, IDEAL16, true);
    const c = openNetwork(CPU, net, IDEAL16, true);
    try {
      const yg = (await g.forward(null, x, 3, 0)).output;
      expect(uniforms).toBeLessThanOrEqual(3);
      // The input, and two outputs that alternate: each op's input is free once it has been read.
      expect(storage).toBeLessThanOrEqual(4);
      // Keeping every value (forward's keep) reuses nothing: one output per op.
      storage = 0;
      const kept = await g.forward(null, x, 3, 0, true);
      expect(storage).toBeGreaterThanOrEqual(600);
      expect(maxAbsDiff(kept.values!.get('h300')!, (await c.forward(null, x, 3, 0, true)).values!.get('h300')!)).toBeLessThan(1e-6);
      expect(maxAbsDiff(yg, (await c.forward(null, x, 3, 0)).output)).toBeLessThan(1e-6);
    } finally {
      device.createBuffer = make;
      g.destroy();
      c.destroy();
    }
  });
});
