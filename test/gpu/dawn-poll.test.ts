import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { throttleDawnPolling } from '../../src/gpu/dawn-poll.ts';
import { readBuffer } from '../../src/gpu/buffers.ts';
import { openTestGpu } from '../helpers/gpu.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

// Each invocation iterates a long integer recurrence, so the dispatch outlasts the 1 ms spin window.
const SHADER = /* wgsl */ `
override ITER: u32 = 20000u;
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
  var x = id.x;
  for (var i = 0u; i < ITER; i++) { x = x * 1664525u + 1013904223u; }
  out[id.x] = x;
}`;

function recurrence(id: number, iter: number): number {
  let x = id;
  for (let i = 0; i < iter; i++) x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
  return x;
}

function expected(n: number): Uint32Array {
  const y = new Uint32Array(n);
  for (let id = 0; id < n; id++) y[id] = recurrence(id, 20000);
  return y;
}

/** Submits one dispatch of SHADER over `n` invocations and reads the output back; the wait in ms. */
async function dispatch(n: number, iter: number): Promise<{ y: Uint32Array; waited: number }> {
  const device = gpu!.session.ctx.device;
  const buf = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: SHADER }), entryPoint: 'main', constants: { ITER: iter } } });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] }));
  pass.dispatchWorkgroups(n / 64);
  pass.end();
  const t0 = performance.now();
  device.queue.submit([enc.finish()]);
  const y = new Uint32Array(await readBuffer(device, buf, n * 4));
  const waited = performance.now() - t0;
  buf.destroy();
  return { y, waited };
}

describe.skipIf(!gpu)("Dawn's polling in Node (src/gpu/dawn-poll.ts)", () => {
  it('is throttled once a wait outlasts the spin window, and the readback is unchanged', async () => {
    const stats = throttleDawnPolling();
    expect(stats).not.toBeNull(); // node-gpu.ts installed it for a software adapter; otherwise this call does
    const before = { ...stats! };
    const n = 64 * 64;
    const { y, waited } = await dispatch(n, 20000);
    expect(y).toEqual(expected(n));
    expect(stats!.immediate).toBeGreaterThan(before.immediate);
    // A software adapter takes far longer than the 1 ms spin window here; a fast GPU may answer
    // within it, and then no tick is deferred, which is the point of the window.
    if (waited > 10) expect(stats!.timed).toBeGreaterThan(before.timed);
    else if (waited < 1) expect(stats!.timed).toBe(before.timed);
  });

  it('backs off on a long wait: later polls come up to 4 ms apart, never more, and the readback is unchanged', async () => {
    const stats = throttleDawnPolling()!;
    const before = { ...stats };
    // 4096 invocations of 400k steps: about a second on lavapipe, far past the 64 ms where the delay reaches 4 ms.
    const n = 64 * 64;
    const iter = 400_000;
    const { y, waited } = await dispatch(n, iter);
    for (let id = 0; id < n; id += 97) expect(y[id]).toBe(recurrence(id, iter));
    if (waited > 200) {
      expect(stats.maxDelayMs).toBe(4);
      // Once a millisecond would be about `waited` polls; the back-off asks for at most ~waited/4 + 60.
      expect(stats.timed - before.timed).toBeLessThan(waited / 4 + 60);
    } else expect(stats.maxDelayMs).toBeLessThanOrEqual(4);
  });

  it('leaves other setImmediate callers alone: arguments, clearImmediate, util.promisify', async () => {
    const seen = await new Promise<string>((done) => setImmediate((a: string, b: string) => done(a + b), 'imm', 'ediate'));
    expect(seen).toBe('immediate');
    let ran = false;
    clearImmediate(setImmediate(() => (ran = true)));
    await promisify(setImmediate)();
    expect(ran).toBe(false);
    expect(await promisify(setImmediate)('value')).toBe('value');
  });
});
