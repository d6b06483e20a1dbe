import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { calibrateCached, openNetwork } from '../../src/nn/runner.ts';
import { CalibrationCache } from '../../src/nn/calibration.ts';
import { usageMessage } from '../helpers/errors.ts';
import { drawsOf, moments, randomNet, vaeCase } from '../helpers/random-ops.ts';

// ONNX's random ops (src/io/onnx/ops/random.ts): seeded statistical tests against each
// distribution's mean and variance, the same draws at any batch size, and seeds that matter.
const CPU = { kind: 'cpu' as const, reason: 'test' };
const N = 16;
const D = 1000;
const zeros = new Float32Array(N * D);

/** |estimate − expected| within `k` standard errors of a mean of n draws with variance v (k = 5: p ≈ 6e-7). */
const near = (got: number, want: number, v: number, n: number, k = 5): void => expect(Math.abs(got - want)).toBeLessThan(k * Math.sqrt(v / n));

describe('ONNX random ops', () => {
  it('RandomNormalLike: mean and scale², from the formula', async () => {
    const y = await drawsOf(CPU, randomNet('RandomNormalLike', [D], { mean: 0.5, scale: 2 }), zeros, N, N);
    const m = moments(y);
    near(m.mean, 0.5, 4, y.length);
    // The sample variance of n normals has variance 2σ⁴/n.
    near(m.variance, 4, 2 * 16, y.length);
  });

  it('RandomUniformLike: (low + high)/2 and (high − low)²/12, every draw inside [low, high)', async () => {
    const y = await drawsOf(CPU, randomNet('RandomUniformLike', [D], { low: -1, high: 3 }), zeros, N, N);
    const m = moments(y);
    near(m.mean, 1, 16 / 12, y.length);
    // A uniform's sample variance has variance (μ4 − σ⁴)/n, μ4 = (b − a)⁴/80.
    near(m.variance, 16 / 12, 256 / 80 - (16 / 12) ** 2, y.length);
    expect(y.every((v) => v >= -1 && v < 3)).toBe(true);
  });

  it('Bernoulli: mean p and variance p(1 − p) per element, values 0 and 1', async () => {
    const p = new Float32Array(N * D).map((_, i) => (i % 2 === 0 ? 0.2 : 0.7));
    const y = await drawsOf(CPU, randomNet('Bernoulli', [D]), p, N, N);
    for (const [parity, q] of [[0, 0.2], [1, 0.7]] as const) {
      const pick = y.filter((_, i) => i % 2 === parity);
      near(moments(pick).mean, q, q * (1 - q), pick.length);
    }
    expect(y.every((v) => v === 0 || v === 1)).toBe(true);
  });

  it('gives each sample the same draws at any batch size; another config seed others, a seed attribute its own', async () => {
    const net = randomNet('RandomNormalLike', [D]);
    const whole = await drawsOf(CPU, net, zeros, N, N);
    expect(Array.from(await drawsOf(CPU, net, zeros, N, 3))).toEqual(Array.from(whole));
    expect(Array.from(await drawsOf(CPU, net, zeros, N, 1))).toEqual(Array.from(whole));
    // Samples draw apart: no two alike.
    expect(Array.from(whole.subarray(0, D))).not.toEqual(Array.from(whole.subarray(D, 2 * D)));
    expect(Array.from(await drawsOf(CPU, net, zeros, N, N, 8))).not.toEqual(Array.from(whole));
    const own = randomNet('RandomNormalLike', [D], { seed: 42 });
    expect(Array.from(await drawsOf(CPU, own, zeros, N, 4, 1))).toEqual(Array.from(await drawsOf(CPU, own, zeros, N, N, 2)));
  });

  it('RandomNormal of [1, …] is one draw for every sample; of the declared batch, one per sample; of another shape, refused', async () => {
    const x = new Float32Array(4 * 5).map((_, i) => i);
    const shared = await drawsOf(CPU, randomNet('RandomNormal', [5], { shape: [1, 5] }), x, 4, 4);
    const noise = shared.map((v, i) => v - x[i]);
    for (let s = 1; s < 4; s++) for (let j = 0; j < 5; j++) expect(noise[s * 5 + j]).toBeCloseTo(noise[j], 4);
    const each = await drawsOf(CPU, randomNet('RandomUniform', [5], { shape: [4, 5] }, 4), x, 4, 4);
    const u = each.map((v, i) => v - x[i]);
    expect(Array.from(u.subarray(0, 5))).not.toEqual(Array.from(u.subarray(5, 10)));
    expect(usageMessage(() => randomNet('RandomNormal', [5], { shape: [3, 5] }))).toMatch(/draws a tensor of shape \[3, 5\]; in a batched import its first dim must be 1 \(one draw for every sample\) or the batch/);
    // A static export traced at batch 1 (torch.randn(1, 5)): that 1 is the batch, each sample its own draw.
    const one = await drawsOf(CPU, randomNet('RandomNormal', [5], { shape: [1, 5] }, 1), x, 4, 4);
    const d = one.map((v, i) => v - x[i]);
    expect(Array.from(d.subarray(0, 5))).not.toEqual(Array.from(d.subarray(5, 10)));
  });

  it('refuses a normal or uniform draw typed other than float, in one line', () => {
    expect(usageMessage(() => randomNet('RandomUniform', [5], { shape: [1, 5], dtype: 6 }))).toMatch(/attribute "dtype" is 6; RandomUniform draws float32, float64, float16 or bfloat16/);
  });

  it('PyTorch\'s VAE (torch.randn_like, RandomNormalLike): over 2000 samples of one input, each output\'s mean and deviation are the decoder\'s of mu and σ', async () => {
    const c = vaeCase(2000);
    const y = await drawsOf(CPU, c.net, c.x, c.n, 256);
    for (let j = 0; j < 8; j++) {
      const m = moments(Array.from({ length: c.n }, (_, s) => y[s * 8 + j]));
      near(m.mean, c.mean[j], c.std[j] ** 2, c.n);
      near(m.variance, c.std[j] ** 2, 2 * c.std[j] ** 4, c.n);
    }
  });

  it('a network that draws calibrates per seed: a cached calibration of another seed is not adopted', async () => {
    // x·(1 + U) on a crossbar: the calibrated input range follows the draws.
    const bytes = buildOnnxModel({
      opset: 15, inputs: [{ name: 'x', dims: ['N', 8] }], outputs: [{ name: 'y', dims: ['N', 8] }],
      initializers: [{ name: 'w', dims: [8, 8], data: new Float32Array(64).map((_, i) => (i % 9 === 0 ? 1 : 0)) }],
      nodes: [{ op: 'RandomUniformLike', inputs: ['x'], outputs: ['u'], attrs: { low: 0, high: 4 } }, { op: 'Mul', inputs: ['x', 'u'], outputs: ['h'] }, { op: 'MatMul', inputs: ['h', 'w'], outputs: ['y'] }],
    });
    const net = importOnnx(bytes, 'm.onnx');
    const cal = { x: new Float32Array(8).fill(1), n: 1 };
    const cache = new CalibrationCache();
    const sx = async (seed: number): Promise<number> => {
      const cfg = resolveConfig({ preset: 'ideal', seed });
      const r = openNetwork(CPU, net, cfg, false);
      try {
        expect(r.draws).toBe(true);
        await calibrateCached(r, cfg, cache, 'cal', cal);
        return r.scales[0].sx;
      } finally {
        r.destroy();
      }
    };
    const [a, b, again] = [await sx(1), await sx(2), await sx(1)];
    expect(a).not.toBe(b);
    expect(again).toBe(a);
  });
});
