import { afterAll, describe, expect, it } from 'vitest';
import philoxWgsl from '../../shaders/philox.wgsl?raw';
import { openTestGpu } from '../helpers/gpu.ts';
import { maxAbs, maxAbsDiff, randomArray } from '../helpers/random.ts';
import { config } from '../helpers/vmm-cases.ts';
import { PHILOX_KATS } from '../helpers/philox-kats.ts';
import { COUNTER_LAYOUT_WGSL, NOISE_STREAM, NoiseDraws, perReadHi, perReadLo, staticElement } from '../../src/random/philox.ts';
import { readBuffer, uploadStorage } from '../../src/gpu/buffers.ts';
import { programLayer } from '../../src/crossbar/program.ts';
import { blockRanges } from '../../src/crossbar/adc.ts';
import { GpuCrossbarLayer } from '../../src/kernels/xbar.ts';
import { perturbConductancesRef } from '../../src/reference/chip.ts';
import { simulateVmm } from '../../src/nn/crossbar-layer.ts';
import type { XbarConfigInput } from '../../src/config/types.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const CPU = { kind: 'cpu', reason: 'test' } as const;
const GPU = () => ({ kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session }) as const;

describe.skipIf(!gpu)('Philox4x32-10 in WGSL', () => {
  it('matches the known-answer vectors bit for bit', async () => {
    const { device } = gpu!.session.ctx;
    const code = `${philoxWgsl}
@group(0) @binding(0) var<storage, read_write> io: array<vec4<u32>>;
@compute @workgroup_size(1) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let i = g.x * 2u;
  io[i] = philox4x32(io[i], io[i + 1u].xy);
}`;
    const words = new Uint32Array(PHILOX_KATS.length * 8);
    PHILOX_KATS.forEach((k, i) => {
      words.set(k.counter, i * 8);
      words.set(k.key, i * 8 + 4);
    });
    const buf = uploadStorage(device, words, 'kat');
    const pipe = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipe);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] }));
    pass.dispatchWorkgroups(PHILOX_KATS.length);
    pass.end();
    device.queue.submit([enc.finish()]);
    const out = new Uint32Array(await readBuffer(device, buf, words.byteLength));
    buf.destroy();
    PHILOX_KATS.forEach((k, i) => {
      const got = Array.from(out.subarray(i * 8, i * 8 + 4), (x) => x.toString(16).padStart(8, '0')).join(' ');
      expect(got).toBe(k.want);
    });
  });
});

/** Runs `body` (WGSL writing io[] from io[]) once per case over a u32 buffer of `words` per case, with Philox and the counter layout included. */
async function runWords(body: string, input: Uint32Array, cases: number, words: number): Promise<Uint32Array> {
  const { device } = gpu!.session.ctx;
  const code = `${philoxWgsl}\n${COUNTER_LAYOUT_WGSL}\n@group(0) @binding(0) var<storage, read_write> io: array<u32>;\n@compute @workgroup_size(1) fn main(@builtin(global_invocation_id) g: vec3<u32>) {\n  let b = g.x * ${words}u;\n${body}\n}`;
  const buf = uploadStorage(device, input, 'counters');
  const pipe = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipe);
  pass.setBindGroup(0, device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }] }));
  pass.dispatchWorkgroups(cases);
  pass.end();
  device.queue.submit([enc.finish()]);
  const out = new Uint32Array(await readBuffer(device, buf, input.byteLength));
  buf.destroy();
  gpu!.session.ctx.checkErrors();
  return out;
}

describe.skipIf(!gpu)('CPU and GPU draw the same counters (src/random/philox.ts is the one layout)', () => {
  it('per-read layout: every column of a col4, any block, cycle, plane, vector and pass', async () => {
    // [p, t, plane, col4, cyclesKeyed, planes, N, v, ph, layer, seed, chip] in, then out: lo, hi, and per stream the 4 Philox words.
    const streams = [NOISE_STREAM.read, NOISE_STREAM.adc, NOISE_STREAM.analog];
    const W = 12 + 2 + 4 * streams.length;
    const cases = [
      [0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0],
      [3, 5, 7, 9, 8, 8, 37, 123456, 1, 2, 11, 3],
      [12, 0, 0, 255, 1, 1, 1021, 70000, 0, 5, 0xffffffff, 9],
      [1, 2, 13, 4, 3, 14, 20, 7, 1, 1, 42, 0],
    ];
    const input = new Uint32Array(cases.length * W);
    cases.forEach((c, i) => input.set(c, i * W));
    const out = await runWords(
      `  let lo = perReadLo(io[b], io[b + 1u], io[b + 2u], io[b + 3u], io[b + 4u], io[b + 5u], 2u * ((io[b + 6u] + 3u) / 4u));
  let hi = perReadHi(io[b + 7u], io[b + 8u]);
  io[b + 12u] = lo;
  io[b + 13u] = hi;
  let key = vec2<u32>(io[b + 10u], io[b + 11u]);
  let streams = array<u32, 3>(STREAM_READ, STREAM_ADC, STREAM_ANALOG);
  for (var s = 0u; s < 3u; s++) {
    let w = philox4x32(perReadCounter(lo, hi, io[b + 9u], streams[s]), key);
    for (var k = 0u; k < 4u; k++) { io[b + 14u + 4u * s + k] = w[k]; }
  }`,
      input,
      cases.length,
      W,
    );
    cases.forEach(([p, t, plane, col4, ck, planes, N, v, ph, layer, seed, chip], i) => {
      const o = out.subarray(i * W, (i + 1) * W);
      // Columns 4·col4 and 4·col4 + 1 share the first pair; the WGSL returns that pair's element.
      expect(o[12]).toBe(perReadLo(p, t, plane, 4 * col4, ck, planes, N) >>> 0);
      expect(o[12] + 1).toBe(perReadLo(p, t, plane, 4 * col4 + 2, ck, planes, N) >>> 0);
      expect(o[13]).toBe(perReadHi(v, ph) >>> 0);
      streams.forEach((stream, si) => {
        const want = new NoiseDraws(seed, chip, layer, stream).words(o[12], o[13]);
        expect(Array.from(o.subarray(14 + 4 * si, 18 + 4 * si))).toEqual(Array.from(want));
      });
    });
  });

  it('static layout: cells of every slice and polarity, and their programming, stuck-at and drift words', async () => {
    // [k, s, p, j, S, pol, N, layer, seed, chip] in, then out: element, and per stream 4 words.
    const streams = [NOISE_STREAM.programming, NOISE_STREAM.stuckAt, NOISE_STREAM.drift];
    const W = 10 + 1 + 4 * streams.length;
    const cases = [
      [0, 0, 0, 0, 1, 1, 1, 0, 0, 0],
      [39, 3, 1, 12, 4, 2, 13, 2, 77, 5],
      [1000, 6, 1, 4095, 7, 2, 4096, 9, 123, 1],
    ];
    const input = new Uint32Array(cases.length * W);
    cases.forEach((c, i) => input.set(c, i * W));
    const out = await runWords(
      `  let cell = staticElement(io[b], io[b + 1u], io[b + 2u], io[b + 3u], io[b + 4u], io[b + 5u], io[b + 6u]);
  io[b + 10u] = cell;
  let key = vec2<u32>(io[b + 8u], io[b + 9u]);
  let streams = array<u32, 3>(STREAM_PROGRAMMING, STREAM_STUCK_AT, STREAM_DRIFT);
  for (var s = 0u; s < 3u; s++) {
    let w = philox4x32(staticCounter(cell, io[b + 7u], streams[s]), key);
    for (var k = 0u; k < 4u; k++) { io[b + 11u + 4u * s + k] = w[k]; }
  }`,
      input,
      cases.length,
      W,
    );
    cases.forEach(([k, s, p, j, S, pol, N, layer, seed, chip], i) => {
      const o = out.subarray(i * W, (i + 1) * W);
      expect(o[10]).toBe(staticElement(k, s, p, j, S, pol, N) >>> 0);
      streams.forEach((stream, si) => {
        const want = new NoiseDraws(seed, chip, layer, stream).words(o[10]);
        expect(Array.from(o.subarray(11 + 4 * si, 15 + 4 * si))).toEqual(Array.from(want));
      });
    });
  });
});

const allStatic: XbarConfigInput = {
  preset: 'ideal',
  array: { rows: 16, cols: 32 },
  weights: { bits: 6, cellBits: 2, onOffRatio: 20 },
  inputs: { bits: 4, dacBits: 2 },
  noise: {
    programming: { sigma: 0.02, model: 'proportional' },
    stuckAt: { sa0: 0.02, sa1: 0.01 },
    drift: { nu: 0.05, nuStd: 0.02, t: 100, t0: 1, compensation: 'none' },
  },
};

describe.skipIf(!gpu)('chips programmed on the GPU', () => {
  it('GPU and CPU programme identical conductances for the same seed and chip; other chips differ', async () => {
    const cfg = config(allStatic, { seed: 77 });
    const K = 40, N = 13;
    const layer = programLayer(randomArray(K * N, 3), K, N, cfg);
    const gl = GpuCrossbarLayer.upload(gpu!.session, layer, cfg, blockRanges(layer.geom, cfg, 0), { layerIndex: 2 });
    try {
      for (const chipNo of [0, 5]) {
        const chip = gl.programChip(77, chipNo);
        const got = await gl.readCells(chip);
        chip.destroy();
        const want = perturbConductancesRef(layer, cfg, { seed: 77, chip: chipNo, layer: 2 });
        expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(1e-5);
        const other = perturbConductancesRef(layer, cfg, { seed: 77, chip: chipNo + 1, layer: 2 });
        expect(maxAbsDiff(got, other)).toBeGreaterThan(1e-3);
      }
    } finally {
      gl.destroy();
    }
  });
});

describe.skipIf(!gpu)('every noise on: batch-invariant on the GPU and equal to the CPU reference', () => {
  const cases: [string, XbarConfigInput][] = [
    ['digital-sa, digital subtract, proportional read', { dataflow: 'digital-sa', noise: { read: { sigma: 0.03, model: 'proportional' } }, adc: { bits: 0 } }],
    ['digital-sa, analog subtract, additive read', { dataflow: 'digital-sa', adc: { subtract: 'analog' }, noise: { read: { sigma: 0.01, model: 'additive' } } }],
    ['buffered, additive read + analog noise and gain', { dataflow: 'buffered', noise: { read: { sigma: 0.01, model: 'additive' } }, analog: { gainSigma: 0.05, noise: 0.002 } }],
    ['analog-sa, proportional read + analog noise and gain', { dataflow: 'analog-sa', noise: { read: { sigma: 0.03, model: 'proportional' } }, analog: { gainSigma: 0.05, noise: 0.002 } }],
  ];
  it.each(cases)('%s', async (_name, over) => {
    const cfg = config(allStatic, over, { seed: 1234 });
    const K = 40, N = 13, B = 30;
    const W = { data: randomArray(K * N, 5), rows: K, cols: N };
    const X = { data: randomArray(B * K, 6, -1, 1), rows: B, cols: K };
    const runs = [];
    for (const vpd of [1, 7, 256]) runs.push(await simulateVmm(GPU(), cfg, W, X, { chip: 3, vectorsPerDispatch: vpd }));
    expect(Array.from(runs[1].Y)).toEqual(Array.from(runs[0].Y));
    expect(Array.from(runs[2].Y)).toEqual(Array.from(runs[0].Y));
    const cpu = await simulateVmm(CPU, cfg, W, X, { chip: 3 });
    // Ideal ADC: the only differences are f32 accumulation and WGSL log/cos precision.
    expect(maxAbsDiff(runs[0].Y, cpu.Y)).toBeLessThanOrEqual(2e-4 * maxAbs(cpu.Y));
    const otherChip = await simulateVmm(GPU(), cfg, W, X, { chip: 4 });
    expect(maxAbsDiff(otherChip.Y, cpu.Y)).toBeGreaterThan(1e-2 * maxAbs(cpu.Y));
  });

  it('quantizing ADC with ADC noise and drift compensation: GPU codes equal CPU codes except at rounding ties', async () => {
    const cfg = config(allStatic, {
      dataflow: 'analog-sa',
      adc: { bits: 8, range: 'calibrated', noise: 0.7 },
      noise: { read: { sigma: 0.01, model: 'additive' }, drift: { compensation: 'global' } },
      analog: { gainSigma: 0.02 },
      seed: 99,
    });
    const K = 40, N = 13, B = 30;
    const W = { data: randomArray(K * N, 15), rows: K, cols: N };
    const X = { data: randomArray(B * K, 16, -1, 1), rows: B, cols: K };
    const g = await simulateVmm(GPU(), cfg, W, X, { chip: 1, vectorsPerDispatch: 7 });
    const c = await simulateVmm(CPU, cfg, W, X, { chip: 1 });
    expect(Math.abs(g.compensation - c.compensation)).toBeLessThanOrEqual(1e-4 * c.compensation);
    let differ = 0;
    for (let i = 0; i < c.Y.length; i++) if (Math.abs(g.Y[i] - c.Y[i]) > 1e-4 * maxAbs(c.Y)) differ++;
    // A noisy ADC input lands within f32 rounding of a code boundary rarely; allow 1 %.
    expect(differ).toBeLessThanOrEqual(Math.ceil(0.01 * c.Y.length));
  });
});
