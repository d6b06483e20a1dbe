// Calibration's ADC-range kernel (src/kernels/adc-max.ts) against the crossbar kernel's trace, bit for
// bit: the same integer sums and the same f32 expression, reduced on the GPU instead of per output.
import { afterAll, describe, expect, it } from 'vitest';
import { openTestGpu } from '../helpers/gpu.ts';
import { randomArray } from '../helpers/random.ts';
import { config } from '../helpers/vmm-cases.ts';
import { programLayer } from '../../src/crossbar/program.ts';
import { blockRanges } from '../../src/crossbar/adc.ts';
import { quantizeInputs } from '../../src/crossbar/quantize.ts';
import { calibrateAdcRangeRef } from '../../src/reference/vmm.ts';
import { im2colRef } from '../../src/reference/ops.ts';
import { GpuCrossbarLayer } from '../../src/kernels/xbar.ts';
import { GpuAdcMax, adcMaxGap, type AdcMaxInput } from '../../src/kernels/adc-max.ts';
import { readBuffer, uploadStorage } from '../../src/gpu/buffers.ts';
import type { ConvGeometry } from '../../src/ir/geometry.ts';
import type { XbarConfigInput } from '../../src/config/types.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

/** One config per plane kind and cycle structure the kernel compiles. */
const CONFIGS: [string, XbarConfigInput][] = [
  ['isaac (offset cells, 1-bit DAC)', { preset: 'isaac' }],
  ['cascade (buffered: collapsed differences)', { preset: 'cascade' }],
  ['neural-pim (analog-sa: slice-weighted differences)', { preset: 'neural-pim' }],
  ['prime (3-bit DAC, 4-bit cells)', { preset: 'prime' }],
  ['digital-sa, analog subtract (signed differences)', { preset: 'cascade', dataflow: 'digital-sa', adc: { subtract: 'analog' } }],
  ['digital-sa, differential, digital subtract (two polarities)', { preset: 'cascade', dataflow: 'digital-sa', adc: { subtract: 'digital' } }],
];

/** Runs `f` with the layer on the GPU, then frees it. */
async function withLayer<R>(cfgIn: XbarConfigInput, W: Float32Array, K: number, N: number, f: (xl: GpuCrossbarLayer, k: GpuAdcMax) => Promise<R>): Promise<R> {
  const cfg = config(cfgIn);
  const layer = programLayer(W, K, N, cfg);
  const xl = GpuCrossbarLayer.upload(gpu!.session, layer, cfg, blockRanges(layer.geom, cfg, 0), { layerIndex: 2 });
  const k = GpuAdcMax.create(gpu!.session, xl);
  try {
    expect(k).not.toBeNull();
    return await f(xl, k!);
  } finally {
    k?.destroy();
    xl.destroy();
  }
}

/** The kernel's maximum over `n` vectors of `input`. */
async function adcMax(k: GpuAdcMax, input: AdcMaxInput, n: number, sxq: number): Promise<number> {
  const { device } = gpu!.session.ctx;
  const hi = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
  const temps: GPUBuffer[] = [hi];
  try {
    const encoder = device.createCommandEncoder();
    encoder.clearBuffer(hi);
    k.encode({ encoder, temp: (b) => (temps.push(b), b) }, input, n, sxq, hi);
    device.queue.submit([encoder.finish()]);
    return new Float32Array(await readBuffer(device, hi, 4))[0];
  } finally {
    for (const b of temps) b.destroy();
  }
}

/** The crossbar kernel's trace over rows x [n, K]: its largest value. */
async function traceMax(xl: GpuCrossbarLayer, x: Float32Array, n: number, sxq: number): Promise<number> {
  const t = await xl.run(xl.ideal, x, n, { sxq, outScale: 1, trace: true });
  return t.reduce((a, v) => Math.max(a, v), 0);
}

describe.skipIf(!gpu)('adc-max kernel equals the crossbar trace bit for bit', () => {
  // K = 1, ragged K and N, and more rows than an array (three row blocks, the last short).
  const SHAPES: [number, number][] = [[1, 5], [45, 13], [300, 9]];
  it.each(CONFIGS)('%s: rows, signed and non-negative inputs', async (_n, cfgIn) => {
    for (const [K, N] of SHAPES) {
      for (const signed of [true, false]) {
        const n = 37;
        const x = randomArray(n * K, K * 3 + N, signed ? -1 : 0, 1);
        // Sparse inputs: zero words and zero vectors take the kernel's shortcuts.
        for (let i = 0; i < x.length; i += 3) x[i] = 0;
        await withLayer(cfgIn, randomArray(K * N, K + 7 * N), K, N, async (xl, k) => {
          const sxq = 1 / xl.layer.geom.Qx;
          const input = { kind: 'rows' as const, buf: uploadStorage(gpu!.session.ctx.device, x, 'x') };
          try {
            const got = await adcMax(k, input, n, sxq);
            expect(got).toBeGreaterThan(0);
            expect(got).toBe(await traceMax(xl, x, n, sxq));
            // And the oracle's f64 range, to f32 rounding.
            const ref = calibrateAdcRangeRef(xl.layer, xl.cfg, quantizeInputs(x, sxq, xl.layer.geom.Qx), n);
            expect(Math.abs(got - ref)).toBeLessThanOrEqual(1e-5 * ref);
          } finally {
            input.buf.destroy();
          }
        });
      }
    }
  });

  it.each(CONFIGS.slice(0, 3))('%s: conv input through im2col indices (padding, stride, dilation, groups)', async (_n, cfgIn) => {
    const geom: ConvGeometry = { cin: 4, cout: 6, group: 2, kh: 3, kw: 2, strides: [2, 1], pads: [1, 2, 0, 1], dilations: [1, 2], inShape: [4, 7, 6], outShape: [6, 4, 6] };
    const B = 3;
    const x = randomArray(B * 4 * 7 * 6, 17, -0.5, 1);
    const K = 2 * 3 * 2;
    const N = 3;
    const n = B * 4 * 6;
    for (const group of [0, 1]) {
      await withLayer(cfgIn, randomArray(K * N, 5 + group), K, N, async (xl, k) => {
        const sxq = 1 / xl.layer.geom.Qx;
        const buf = uploadStorage(gpu!.session.ctx.device, x, 'x');
        try {
          const got = await adcMax(k, { kind: 'conv', buf, geom, B, group }, n, sxq);
          expect(got).toBeGreaterThan(0);
          expect(got).toBe(await traceMax(xl, im2colRef(geom, x, B, group), n, sxq));
        } finally {
          buf.destroy();
        }
      });
    }
  });

  it('layers whose levels are not exact, or with NNS+A chains, keep the trace', async () => {
    const K = 8, N = 4;
    const W = randomArray(K * N, 3);
    for (const [over, reason] of [
      [{ preset: 'isaac', noise: { programming: { sigma: 0.01 } } }, /programming/],
      [{ preset: 'neural-pim', analog: { model: 'neural' } }, /neural/],
    ] as [XbarConfigInput, RegExp][]) {
      const cfg = config(over);
      const layer = programLayer(W, K, N, cfg);
      const xl = GpuCrossbarLayer.upload(gpu!.session, layer, cfg, blockRanges(layer.geom, cfg, 0));
      try {
        expect(adcMaxGap(xl)).toMatch(reason);
        expect(GpuAdcMax.create(gpu!.session, xl)).toBeNull();
      } finally {
        xl.destroy();
      }
    }
  });
});
