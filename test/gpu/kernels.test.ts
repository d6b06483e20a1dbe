import { afterAll, describe, expect, it } from 'vitest';
import { openTestGpu } from '../helpers/gpu.ts';
import { readBuffer } from '../../src/gpu/buffers.ts';
import { withLimits } from '../../src/gpu/runtime.ts';
import { defineKernel, readWrite, read } from '../../src/kernels/kernel.ts';
import { dispatch, type Recorder } from '../../src/kernels/dispatch.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

/** Copies every word of its uniforms, as WGSL sees them, to `out`: the generated struct against the host packing. */
const ECHO = defineKernel({
  name: 'test-echo',
  uniforms: { a: 'u32', b: 'f32', t: 'array<vec4<u32>, 2>', c: 'i32', d: 'f32', u: 'array<vec4<f32>, 1>', e: 'u32' },
  bindings: { out: readWrite('u32'), unused: read('f32') },
  compile: (_v: { n: number }) => ({
    body: `@compute @workgroup_size(1) fn main() {
  out[0] = P.a; out[1] = bitcast<u32>(P.b);
  for (var i = 0u; i < 8u; i++) { out[2u + i] = P.t[i / 4u][i % 4u]; }
  out[10] = bitcast<u32>(P.c); out[11] = bitcast<u32>(P.d);
  for (var i = 0u; i < 4u; i++) { out[12u + i] = bitcast<u32>(P.u[0][i]); }
  out[16] = P.e;
}`,
    uses: ['out'] as const,
  }),
});

async function echo(values: Parameters<typeof dispatch<{ n: number }, typeof ECHO.uniforms, typeof ECHO.bindings>>[4]['params']): Promise<Uint32Array> {
  const s = gpu!.session;
  const { device } = s.ctx;
  const out = device.createBuffer({ size: 17 * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, label: 'echo.out' });
  const temps: GPUBuffer[] = [out];
  const rec: Recorder = { encoder: device.createCommandEncoder(), temp: (b) => (temps.push(b), b) };
  dispatch(s, rec, ECHO, { n: 1 }, { params: values, bind: { out }, grid: { x: 1 } });
  device.queue.submit([rec.encoder.finish()]);
  const got = new Uint32Array(await readBuffer(device, out, 17 * 4));
  s.ctx.checkErrors();
  for (const b of temps) b.destroy();
  return got;
}

describe.skipIf(!gpu)('kernel declarations on the device', () => {
  it('the generated WGSL struct reads every field where the host packed it', async () => {
    const f = new Float32Array(6);
    f.set([0.25, -7.5, 1, 2, 3, 4]);
    const fw = new Uint32Array(f.buffer);
    const got = await echo({ a: 11, b: 0.25, t: [1, 2, 3, 4, 5, 6, 7], c: -9, d: -7.5, u: [1, 2, 3, 4], e: 0xdeadbeef });
    expect(Array.from(got)).toEqual([11, fw[0], 1, 2, 3, 4, 5, 6, 7, 0, 0xfffffff7, fw[1], fw[2], fw[3], fw[4], fw[5], 0xdeadbeef]);
  });

  it('bindings are checked by name and against the session limits before anything is recorded', () => {
    const s = gpu!.session;
    const { device } = s.ctx;
    const out = device.createBuffer({ size: 4096, usage: GPUBufferUsage.STORAGE, label: 'echo.big' });
    const rec: Recorder = { encoder: device.createCommandEncoder(), temp: (b) => b };
    const params = { a: 0, b: 0, t: [], c: 0, d: 0, u: [], e: 0 };
    try {
      expect(() => dispatch(s, rec, ECHO, { n: 1 }, { params, bind: {}, grid: { x: 1 } })).toThrow(/binding out not given/);
      expect(() => dispatch(s, rec, ECHO, { n: 1 }, { params, bind: { out, unused: out }, grid: { x: 1 } })).toThrow(/binding unused is not used/);
      expect(() => dispatch(withLimits(s, { maxStorageBufferBindingSize: 1024 }), rec, ECHO, { n: 1 }, { params, bind: { out }, grid: { x: 1 } })).toThrow(/echo.big: binding 4096 bytes exceeds .*\(1024\)/);
      expect(() => dispatch(s, rec, ECHO, { n: 1 }, { params, bind: { out: { buffer: out, offset: 4 } }, grid: { x: 1 } })).toThrow(/offset 4, not a multiple/);
      expect(() => dispatch(withLimits(s, { maxComputeWorkgroupsPerDimension: 4 }), rec, ECHO, { n: 1 }, { params, bind: { out }, grid: { x: 5 } })).toThrow(/grid 5x1x1 exceeds 4/);
    } finally {
      rec.encoder.finish();
      out.destroy();
    }
  });
});
