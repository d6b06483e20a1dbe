import { describe, expect, it } from 'vitest';
import { programLayer } from '../../src/crossbar/program.ts';
import { inputScale, negativeFlags, quantizeInputs, quantizeWeights } from '../../src/crossbar/quantize.ts';
import { layerCounts, totalPasses } from '../../src/crossbar/counts.ts';
import { adcConvert } from '../../src/crossbar/adc.ts';
import { roundHalfEven } from '../../src/crossbar/rounding.ts';
import { simulateVmm } from '../../src/nn/crossbar-layer.ts';
import { COMBOS, comboName, config, forEachIdealCase, integerProduct, problem, prunedProblem, PRUNED_CONFIGS } from '../helpers/vmm-cases.ts';
import { maxAbs, maxAbsDiff } from '../helpers/random.ts';

const CPU = { kind: 'cpu', reason: 'test' } as const;

describe('CPU reference, ideal ADC: equals the integer product of section 3', () => {
  forEachIdealCase((name, cfg, shapes) => {
    it(name, async () => {
      for (const [K, N] of shapes) {
        for (const signed of [false, true]) {
          const { W, X } = problem(K, N, 3, signed, K * 31 + N + (signed ? 7 : 0));
          const r = await simulateVmm(CPU, cfg, W, X);
          const layer = programLayer(W.data, K, N, cfg);
          const want = integerProduct(layer.q, layer.sw, quantizeInputs(X.data, r.sx, layer.geom.Qx), r.sx, X.rows, K, N);
          expect(maxAbsDiff(r.Y, want)).toBeLessThanOrEqual(1e-6 * Math.max(maxAbs(want), 1e-30));
        }
      }
    });
  });
});

describe('pruned columns (all-zero weights) output exactly 0 (DESIGN.md section 3)', () => {
  it.each(PRUNED_CONFIGS)('%s', async (_n, over) => {
    const { W, X } = prunedProblem();
    const r = await simulateVmm(CPU, config(over), W, X);
    for (let b = 0; b < X.rows; b++) for (let j = 1; j < 16; j++) expect(r.Y[b * 16 + j]).toBe(0);
    // The one live column still carries the product.
    expect(maxAbs(Float64Array.from({ length: X.rows }, (_, b) => r.Y[b * 16]))).toBeGreaterThan(0.1);
  });

  it('sw = 0 and q = 0 for a zero column, per channel and per tensor; an all-zero matrix is all zero', () => {
    const W = [0, 2, 0, -1, 0, 0.5]; // [3, 2]: column 0 all zero
    for (const perChannel of [true, false]) {
      const { q, sw } = quantizeWeights(W, 3, 2, 127, perChannel);
      expect(sw[0]).toBe(0);
      expect([q[0], q[2], q[4]]).toEqual([0, 0, 0]);
      expect(sw[1]).toBeCloseTo(2 / 127, 15);
    }
    const z = quantizeWeights([0, 0, 0, 0], 2, 2, 127, false);
    expect(Array.from(z.sw)).toEqual([0, 0]);
    expect(Array.from(z.q)).toEqual([0, 0, 0, 0]);
  });
});

describe('quantization primitives', () => {
  it('rounds half to even like WGSL and numpy', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, 2, 3]);
  });

  it('ADC: unsigned and signed mid-tread, clamping, hi = 0', () => {
    expect(adcConvert(0.37, 0, 1, false)).toBe(0.37);
    expect(adcConvert(0.37, 2, 3, false)).toBe(0); // step 1: round(0.37) = 0
    expect(adcConvert(2.6, 2, 3, false)).toBe(3);
    expect(adcConvert(9, 2, 3, false)).toBe(3);
    expect(adcConvert(-1, 2, 3, false)).toBe(0);
    expect(adcConvert(-0.8, 3, 3, true)).toBe(-1); // step 1, levels -3..3
    expect(adcConvert(-7, 3, 3, true)).toBe(-3);
    expect(adcConvert(0, 3, 3, true)).toBe(0);
    expect(adcConvert(5, 8, 0, true)).toBe(0);
  });

  it('input scale comes from the calibration set and clamps the evaluated inputs', () => {
    const sx = inputScale([0.5, -1, 0.25], 255);
    expect(sx).toBeCloseTo(1 / 255, 15);
    expect(Array.from(quantizeInputs([2, -0.5, 0], sx, 255))).toEqual([255, -128, 0]);
    expect(inputScale([0, 0], 255)).toBe(1);
  });
});

describe('event counts equal the closed forms of section 5', () => {
  it.each(COMBOS.map((c) => [comboName(c), c] as const))('%s', (_name, combo) => {
    const cfg = config({ array: { rows: 16, cols: 12 }, weights: { cellBits: 2 }, inputs: { dacBits: 2 } }, combo);
    const K = 40, N = 7;
    const layer = programLayer(new Float64Array(K * N).fill(0.5), K, N, cfg);
    const g = layer.geom;
    const xq = new Int32Array([1, -2, ...new Array(K - 2).fill(3), ...new Array(K).fill(1)]);
    const flags = negativeFlags(xq, 2, K);
    const P = totalPasses(flags);
    expect(P).toBe(3);
    const c = layerCounts(g, cfg, P);
    const S = cfg.weights.mapping === 'offset' ? 4 : 4; // m = 8 (offset) or 7 (differential), c = 2
    const pol = cfg.weights.mapping === 'offset' ? 1 : 2;
    const T = 4;
    const Rp = [16, 16, 8];
    const A = Math.ceil((N * S * pol) / 12);
    const kappa = cfg.dataflow === 'analog-sa' ? 1 : cfg.dataflow === 'buffered' ? S : pol === 2 && cfg.adc.subtract === 'digital' ? T * S * 2 : T * S;
    expect(g.S).toBe(S);
    expect(c.adcConversions).toBe(P * 3 * N * kappa);
    expect(c.digitalShiftAdds).toBe(c.adcConversions);
    expect(c.dacActivations).toBe(P * Rp.reduce((a, r) => a + r * T * A, 0));
    expect(c.cellReads).toBe(P * Rp.reduce((a, r) => a + r * T * N * S * pol, 0));
    expect(c.analogAccumulations).toBe(cfg.dataflow === 'digital-sa' ? 0 : P * 3 * N * S * T);
    expect(c.arrays).toBe(3 * A);
  });
});
