// A dispatch that keeps a software adapter busy for as long as asked, for the Dawn-poll tests.
import { readBuffer } from '../../src/gpu/buffers.ts';

// Each invocation iterates a long integer recurrence, so the dispatch outlasts the 1 ms spin window.
const SHADER = /* wgsl */ `
override ITER: u32 = 20000u;
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3u) {
  var x = id.x;
  for (var i = 0u; i < ITER; i++) { x = x * 1664525u + 1013904223u; }
  out[id.x] = x;
}`;

/** What SHADER computes for invocation `id`. */
export function recurrence(id: number, iter: number): number {
  let x = id;
  for (let i = 0; i < iter; i++) x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
  return x;
}

/** SHADER's whole output at 20k steps. */
export function expected(n: number): Uint32Array {
  const y = new Uint32Array(n);
  for (let id = 0; id < n; id++) y[id] = recurrence(id, 20000);
  return y;
}

/** Submits one dispatch of SHADER over `n` invocations on `device` and reads the output back; the wait in ms. */
export async function dispatch(device: GPUDevice, n: number, iter: number): Promise<{ y: Uint32Array; waited: number }> {
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

