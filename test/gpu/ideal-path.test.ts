import { afterAll, describe, expect, it } from 'vitest';
import { openTestGpu } from '../helpers/gpu.ts';
import { maxAbs, randomArray } from '../helpers/random.ts';
import { COMBOS, comboName, config, integerProduct } from '../helpers/vmm-cases.ts';
import { programLayer } from '../../src/crossbar/program.ts';
import { blockRanges } from '../../src/crossbar/adc.ts';
import { quantizeInputs } from '../../src/crossbar/quantize.ts';
import { GpuCrossbarLayer } from '../../src/kernels/xbar.ts';
import { withTuning } from '../../src/gpu/runtime.ts';
import type { XbarConfigInput } from '../../src/config/types.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

/*
 * Ideal runs (adc.bits 0, nothing drawn per read, exact levels) take one collapsed plane of whole
 * weights (src/kernels/bitplane.ts idealLayout) instead of T cycles × S·pol planes. The fast path must
 * give the general and bit-plane kernels' results bit for bit, and those are the integer product.
 */
/** One row block, three with a short last one (16-row arrays; 128-row: two), one input, ragged N. */
const SHAPES: [number, number][] = [[1, 5], [45, 13], [16, 1], [300, 6]];
/** Every dataflow and mapping at three cell and DAC widths (prime's 4-bit cells and 3-bit DACs among them). */
const CASES: [string, XbarConfigInput][] = [
  ...COMBOS.flatMap((combo) =>
    ([[2, 1], [1, 2], [4, 3]] as const).map(([cellBits, dacBits]): [string, XbarConfigInput] => [`${comboName(combo)} cell=${cellBits} dac=${dacBits}`, { ...combo, preset: 'ideal', array: { rows: 16, cols: 8 }, weights: { ...combo.weights, cellBits }, inputs: { dacBits } }]),
  ),
  // Analog gain and noise do not apply to digital-sa (DESIGN.md section 4): still an ideal run.
  ['digital-sa with analog gain and noise set', { preset: 'ideal', array: { rows: 16, cols: 8 }, analog: { gainSigma: 0.05, noise: 0.01 } }],
  // 128 rows × 255 × 4095 ≥ 2^24: the ideal plane's sums in i32 rather than f32 multiply-adds.
  ['12-bit weights on 128-row arrays (i32 sums)', { preset: 'ideal', weights: { bits: 12 } }],
];

async function paths(cfgIn: XbarConfigInput, K: number, N: number, B: number, seed: number) {
  const cfg = config(cfgIn, { seed: 3 });
  const layer = programLayer(randomArray(K * N, seed), K, N, cfg);
  const x = Float32Array.from(randomArray(B * K, seed + 1, -1, 1));
  const sx = 1 / layer.geom.Qx;
  const gl = GpuCrossbarLayer.upload(gpu!.session, layer, cfg, blockRanges(layer.geom, cfg, 0), { layerIndex: 1 });
  try {
    const chip = gl.programChip(3, 1);
    const o = { sxq: sx, outScale: sx, bias: false };
    const r = {
      path: gl.kernelPath(),
      f32Sums: gl.kernelVariant().exactF32,
      auto: await gl.run(chip, x, B, o),
      onePerDispatch: await gl.run(chip, x, B, { ...o, vectorsPerDispatch: 1 }),
      general: await gl.run(chip, x, B, { ...o, kernel: 'general' }),
      bitplane: await gl.run(chip, x, B, { ...o, kernel: 'bitplane' }),
      want: integerProduct(layer.q, layer.sw, quantizeInputs(x, sx, layer.geom.Qx), sx, B, K, N),
    };
    chip.destroy();
    return r;
  } finally {
    gl.destroy();
  }
}

describe.skipIf(!gpu)('ideal runs: one collapsed plane of whole weights', () => {
  it.each(CASES)('%s: equals the general and bit-plane kernels bit for bit, and the integer product', async (name, cfg) => {
    for (const [K, N] of SHAPES) {
      const r = await paths(cfg, K, N, 6, K * 5 + N);
      expect(r.path).toBe('ideal');
      // K·255·4095 ≥ 2^24 from K = 17 rows on.
      expect(r.f32Sums).toBe(!(name.includes('i32 sums') && K > 16));
      expect(maxAbs(r.want)).toBeGreaterThan(0);
      expect(Array.from(r.auto)).toEqual(Array.from(r.general));
      expect(Array.from(r.auto)).toEqual(Array.from(r.bitplane));
      expect(Array.from(r.onePerDispatch)).toEqual(Array.from(r.auto));
      // The row blocks' integers are exact; only the f32 sum over blocks and the scale multiply round.
      for (let i = 0; i < r.want.length; i++) expect(Math.abs(r.auto[i] - r.want[i])).toBeLessThanOrEqual(1e-6 * maxAbs(r.want));
    }
  });

  it('on the shared-memory variant too', async () => {
    const cfg = config({ preset: 'ideal', array: { rows: 16, cols: 8 } }, { seed: 3 });
    const K = 45, N = 13, B = 7;
    const layer = programLayer(randomArray(K * N, 8), K, N, cfg);
    const x = Float32Array.from(randomArray(B * K, 9, -1, 1));
    const sx = 1 / layer.geom.Qx;
    const run = async (kernel: 'auto' | 'general', shared: boolean) => {
      const s = shared ? withTuning(gpu!.session, { xbar: { tm: 2, wgx: 4, wgy: 4, pcMax: 2, kt: 8 } }) : gpu!.session;
      const gl = GpuCrossbarLayer.upload(s, layer, cfg, blockRanges(layer.geom, cfg, 0), { bias: randomArray(N, 4) });
      try {
        return Array.from(await gl.run(gl.ideal, x, B, { sxq: sx, outScale: sx, kernel }));
      } finally {
        gl.destroy();
      }
    };
    const fast = await run('auto', true);
    expect(await run('general', true)).toEqual(fast);
    expect(await run('auto', false)).toEqual(fast);
  });

  it.each<[string, XbarConfigInput, RegExp]>([
    ['a quantizing ADC', { adc: { bits: 8 } }, /adc\.bits/],
    ['read noise', { noise: { read: { sigma: 0.01, model: 'additive' } } }, /noise\.read/],
    ['analog noise', { dataflow: 'analog-sa', analog: { noise: 0.01 } }, /analog/],
    ['NNS+A', { dataflow: 'analog-sa', analog: { model: 'neural' } }, /neural/],
    ['programming noise', { noise: { programming: { sigma: 0.01 } } }, /programming/],
  ])('is not taken with %s', (_name, over, reason) => {
    const cfg = config({ preset: 'ideal' }, over);
    const layer = programLayer(randomArray(40 * 6, 9), 40, 6, cfg);
    const gl = GpuCrossbarLayer.upload(gpu!.session, layer, cfg, blockRanges(layer.geom, cfg, 0));
    try {
      expect(gl.idealReason).toMatch(reason);
      expect(gl.kernelPath()).not.toBe('ideal');
      expect(gl.kernelVariant().ideal).toBe(false);
    } finally {
      gl.destroy();
    }
  });

  it('calibration traces keep the layer own planes (each conversion has its own input)', () => {
    const cfg = config({ preset: 'ideal' });
    const layer = programLayer(randomArray(40 * 6, 9), 40, 6, cfg);
    const gl = GpuCrossbarLayer.upload(gpu!.session, layer, cfg, blockRanges(layer.geom, cfg, 0));
    try {
      expect(gl.kernelPath('auto', true)).not.toBe('ideal');
      expect(gl.kernelVariant({ trace: true }).ideal).toBe(false);
      expect(gl.kernelVariant().npl).toBe(1);
    } finally {
      gl.destroy();
    }
  });
});
