import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import type { XbarConfig, XbarConfigInput } from '../../src/config/types.ts';
import { adcConvert } from '../../src/crossbar/adc.ts';
import type { ChipId } from '../../src/crossbar/chip.ts';
import { layerGeometry } from '../../src/crossbar/geometry.ts';
import { roundHalfEven } from '../../src/crossbar/rounding.ts';
import { simulateVmm, type Matrix } from '../../src/nn/crossbar-layer.ts';
import { blockRanges } from '../../src/crossbar/adc.ts';
import { programLayer } from '../../src/crossbar/program.ts';
import { inputScale, quantizeInputs } from '../../src/crossbar/quantize.ts';
import { calibrateAdcRangeRef, vmmRef } from '../../src/reference/vmm.ts';
import { DigitalUnit, fixedFormat, outputRange, quantizeFixed, roundBy } from '../../src/readout/digital.ts';
import { codeRange } from '../../src/readout/codes.ts';
import { LayerReadout } from '../../src/readout/layer.ts';
import { coherentCycles, coherentSine, rampLinearity, sineFigures } from '../../src/readout/measure.ts';
import { balancedDigits, designNnadc, NeuralAdc } from '../../src/readout/neural-adc.ts';
import { chainCoefficients, weightSigma } from '../../src/readout/neural-sa.ts';
import { inlCurve, nonlinearThresholds, ThresholdAdc } from '../../src/readout/nonlinear.ts';
import { lloydMax, uniformLevels, LevelAdc, type InputHistogram } from '../../src/readout/nonuniform.ts';
import { evalTable } from '../../src/readout/transfer.ts';
import { expectStandardNormal } from '../helpers/stats.ts';
import { convBnModel, testInput } from '../helpers/onnx-models.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { randomArray } from '../helpers/random.ts';

const CPU = { kind: 'cpu', reason: 'test' } as const;
const id = (chip: number, seed = 0, layer = 0): ChipId => ({ seed, chip, layer });

/** A converter's SINAD/ENOB/SFDR and INL/DNL at range 1, as periph measures the ADC alone. */
function measure(code: (u: number) => number, bits: number, signed: boolean): { sinad: number; enob: number; inlMax: number; dnlMax: number } {
  const r = codeRange(bits, signed);
  const M = 2 ** Math.max(12, bits + 4);
  const J = coherentCycles(M);
  const u = coherentSine(M, J, ((r.max - r.min + 1) / 2) * (1 - 1e-9), (r.max + r.min) / 2);
  const f = sineFigures(u.map(code), J);
  const lin = rampLinearity(code, r.min, r.max, r.min - 3, r.max + 3, 64);
  return { sinad: f.sinad_dB, enob: f.enob, inlMax: lin.inlMax, dnlMax: lin.dnlMax };
}

describe('measurement: an ideal uniform ADC', () => {
  it('measures SINAD within 0.5 dB of 6.02·n + 1.76 and INL/DNL of 0 for n = 4…10', () => {
    for (let n = 4; n <= 10; n++) {
      const L = 2 ** n - 1;
      const m = measure((u) => adcConvert(u, n, L, false), n, false);
      expect(Math.abs(m.sinad - (6.02 * n + 1.76)), `n=${n}`).toBeLessThan(0.5);
      expect(m.enob).toBeCloseTo(n, 0);
      expect(m.inlMax).toBe(0);
      expect(m.dnlMax).toBe(0);
    }
  });

  it('a signed (mid-tread) ADC has one code fewer: SINAD within 0.5 dB of theory for its 2^n − 1 levels', () => {
    for (const n of [4, 6, 8]) {
      const L = 2 ** (n - 1) - 1;
      const m = measure((u) => adcConvert(u, n, L, true), n, true);
      const theory = 10 * Math.log10(6 * ((2 * L + 1) / 2) ** 2);
      expect(Math.abs(m.sinad - theory), `n=${n}`).toBeLessThan(0.5);
      expect(m.inlMax).toBe(0);
      expect(m.dnlMax).toBe(0);
    }
  });

  it('a half-LSB offset shows in the code density: the edge codes shrink and grow, inner DNL stays 0', () => {
    const lin = rampLinearity((u) => Math.min(15, Math.max(0, Math.round(u + 0.25))), 0, 15, -3, 18, 64);
    expect(lin.transitions[0]).toBeCloseTo(0.25, 10);
    expect(lin.dnlMax).toBeCloseTo(0, 10);
  });
});

const NL_DEFAULTS = resolveConfig({}).adc.nonlinear;

describe('nonlinear ADC', () => {
  it('measures a known INL curve back (polynomial and table), terminal-based', () => {
    const r = codeRange(8, false);
    const H = r.max - r.min;
    for (const nl of [
      { ...NL_DEFAULTS, inl: [0, 0.3, -2, 0.5], inlKind: 'polynomial' as const },
      { ...NL_DEFAULTS, inl: [0, 1.5, -0.5, 1, 0], inlKind: 'table' as const },
    ]) {
      const adc = new ThresholdAdc(nonlinearThresholds(nl, r, null, 0), r);
      const lin = rampLinearity((u) => adc.code(u), r.min, r.max, r.min - 3, r.max + 3, 256);
      const curve = inlCurve(nl, H);
      // The terminal line through the first and last transition removes the curve's own end points.
      const lsb = 1 + (curve[H - 1] - curve[0]) / (H - 1);
      for (let k = 0; k < H; k++) {
        const want = (curve[k] - curve[0] - k * (lsb - 1)) / lsb;
        expect(Math.abs(lin.inl[k] - want), `${nl.inlKind} k=${k}`).toBeLessThanOrEqual(2 / 256);
      }
      expect(lin.inlMax).toBeGreaterThan(0.4);
    }
  });

  it('gain and offset errors move the terminal line, not the INL', () => {
    const r = codeRange(6, false);
    const adc = new ThresholdAdc(nonlinearThresholds({ ...NL_DEFAULTS, gainError: 0.05, offsetError: 0.75 }, r, null, 0), r);
    const lin = rampLinearity((u) => adc.code(u), r.min, r.max, r.min - 4, r.max + 4, 256);
    expect(lin.lsb).toBeCloseTo(1 / 1.05, 2);
    expect(lin.transitions[0]).toBeCloseTo((0.5 - 0.75) / 1.05, 2);
    expect(lin.inlMax).toBeLessThan(2 / 256 / lin.lsb + 1e-9);
  });

  it('comparator offsets are N(0, comparatorSigma) per chip and instance; gain and offset errors N(0, sigma) per instance', () => {
    const r = codeRange(6, true);
    const nl = { ...NL_DEFAULTS, comparatorSigma: 0.3 };
    const z: number[] = [];
    for (let chip = 0; chip < 8; chip++) {
      for (let inst = 0; inst < 10; inst++) {
        const t = nonlinearThresholds(nl, r, id(chip, 5), inst);
        for (let k = 0; k < t.length; k++) z.push((t[k] - (r.min + k + 0.5)) / 0.3);
      }
    }
    expectStandardNormal(z);
    const g: number[] = [];
    const o: number[] = [];
    const gainOffset = { ...NL_DEFAULTS, gainError: 0.01, gainSigma: 0.02, offsetError: -0.5, offsetSigma: 0.4 };
    for (let inst = 0; inst < 600; inst++) {
      // With no INL or comparator offsets, τ_k = (min + k + 0.5 − o)/(1 + g): two thresholds give g and o.
      const t = nonlinearThresholds(gainOffset, r, id(3, 9), inst);
      const gain = 1 / (t[1] - t[0]) - 1;
      const off = r.min + 0.5 - t[0] * (1 + gain);
      g.push((gain - 0.01) / 0.02);
      o.push((off + 0.5) / 0.4);
    }
    expectStandardNormal(g);
    expectStandardNormal(o);
  });

  it('offsets change with the chip and not with the batch; adc.groupSize channels share one instance', async () => {
    const cfg = resolveConfig({ preset: 'isaac', array: { rows: 16, cols: 16 }, adc: { bits: 6, model: 'nonlinear', nonlinear: { comparatorSigma: 0.6, gainSigma: 0.02 } } });
    const W: Matrix = { data: randomArray(40 * 6, 11), rows: 40, cols: 6 };
    const X: Matrix = { data: randomArray(12 * 40, 12, -1, 1), rows: 12, cols: 40 };
    const half: Matrix = { data: (X.data as Float32Array).slice(0, 5 * 40), rows: 5, cols: 40 };
    const all0 = await simulateVmm(CPU, cfg, W, X, { chip: 0 });
    const part0 = await simulateVmm(CPU, cfg, W, half, { chip: 0, calibration: X });
    const all1 = await simulateVmm(CPU, cfg, W, X, { chip: 1 });
    expect(Array.from(part0.Y)).toEqual(Array.from(all0.Y.subarray(0, 5 * 6)));
    expect(Array.from(all1.Y)).not.toEqual(Array.from(all0.Y));
    const uniform = await simulateVmm(CPU, resolveConfig({ ...cfg, adc: { ...cfg.adc, model: 'uniform' } }), W, X, { chip: 0 });
    expect(Array.from(uniform.Y)).not.toEqual(Array.from(all0.Y));

    const grouped = resolveConfig({ ...cfg, adc: { ...cfg.adc, groupSize: 4 } });
    const ro = new LayerReadout(grouped, layerGeometry(40, 6, grouped), id(0));
    expect(ro.adc(0, 0)).toBe(ro.adc(0, 3));
    expect(ro.adc(0, 4)).not.toBe(ro.adc(0, 3));
    expect(ro.adc(1, 0)).not.toBe(ro.adc(0, 0));
    expect(ro.instance(1, 5)).toBe(ro.groups + 1);
  });
});

describe('neural ADC (NNADC)', () => {
  it('balanced digits reproduce their integer', () => {
    for (const v of [0, 1, -1, 17, -342, 1200, 16806 / 2 - 1]) {
      const d = balancedDigits(v, 3, 6);
      expect(d.reduce((a, x, r) => a + x * 7 ** r, 0)).toBe(v);
      for (const x of d) expect(Math.abs(x)).toBeLessThanOrEqual(3);
    }
  });

  it('without variation reproduces the uniform ADC codes on ≥ 99% of a dense ramp at 4–8 bits', () => {
    for (const signed of [false, true]) {
      for (let n = 4; n <= 8; n++) {
        const d = designNnadc(n, signed, 3, 0.025);
        const r = codeRange(n, signed);
        const adc = new NeuralAdc(d, null, 0);
        let agree = 0;
        let total = 0;
        for (let u = r.min - 1.5; u <= r.max + 1.5; u += 1 / 64 + 1e-6) {
          total++;
          if (adc.code(u) === Math.min(r.max, Math.max(r.min, roundHalfEven(u)))) agree++;
        }
        expect(agree / total, `${signed ? 's' : 'u'}${n}`).toBeGreaterThanOrEqual(0.99);
        expect(d.maxError).toBeLessThanOrEqual(1 / 128);
        for (let k = 0; k < d.H; k++) for (let x = 0; x < d.R; x++) expect(Math.abs(d.d[k * d.R + x])).toBeLessThanOrEqual(3);
      }
    }
  });

  it('its transfer table is the network evaluated directly (dense ramp and both sides of every breakpoint)', () => {
    const d = designNnadc(6, true, 3, 0.1);
    for (const chip of [null, id(2, 7)]) {
      const adc = new NeuralAdc(d, chip, 3);
      const t = adc.table();
      for (let u = -40; u <= 40; u += 1 / 32 + 1e-7) expect(evalTable(t, u)).toBe(adc.code(u));
      for (const b of t.breakpoints) {
        expect(evalTable(t, b)).toBe(adc.code(b));
        expect(evalTable(t, b - 1e-9)).toBe(adc.code(b - 1e-9));
      }
    }
  });

  it('hidden thresholds vary per cell as the first-order formula says', () => {
    const sigma = 0.02;
    const d = designNnadc(6, false, 3, sigma);
    const z: number[] = [];
    for (let chip = 0; chip < 12; chip++) {
      const adc = new NeuralAdc(d, id(chip, 1), 0);
      for (let k = 0; k < d.H; k++) {
        let nominal = 0;
        let spread = 0;
        for (let r = 0; r < d.R; r++) {
          nominal += d.d[k * d.R + r] * d.rho[r];
          spread += (d.d[k * d.R + r] * d.rho[r]) ** 2;
        }
        const t0 = nominal / d.w[k];
        spread += (d.w[k] * t0) ** 2;
        z.push((adc.t[k] - t0) / ((sigma * Math.sqrt(spread)) / d.w[k]));
      }
    }
    expectStandardNormal(z);
  });

  it('with variation INL/DNL grow and ENOB falls; the spread follows the seed', () => {
    const bits = 6;
    const code = (a: NeuralAdc) => (u: number) => a.code(u);
    const nominal = measure(code(new NeuralAdc(designNnadc(bits, false, 3, 0.025), null, 0)), bits, false);
    const per = (seed: number, sigma: number) =>
      [0, 1, 2, 3].map((chip) => measure(code(new NeuralAdc(designNnadc(bits, false, 3, sigma), id(chip, seed), 0)), bits, false));
    const small = per(0, 0.005);
    const large = per(0, 0.025);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(nominal.enob).toBeGreaterThan(bits - 0.1);
    expect(mean(small.map((m) => m.enob))).toBeLessThan(nominal.enob);
    expect(mean(large.map((m) => m.enob))).toBeLessThan(mean(small.map((m) => m.enob)));
    expect(mean(large.map((m) => m.inlMax))).toBeGreaterThan(mean(small.map((m) => m.inlMax)));
    expect(mean(large.map((m) => m.dnlMax))).toBeGreaterThan(mean(small.map((m) => m.dnlMax)));
    expect(mean(small.map((m) => m.inlMax))).toBeGreaterThan(nominal.inlMax);
    // Same seed, same chips; another seed, other chips; chips of one seed differ.
    expect(per(0, 0.025)).toEqual(large);
    expect(per(1, 0.025)).not.toEqual(large);
    expect(new Set(large.map((m) => m.sinad)).size).toBe(4);
  });

  it('runs in a layer on the CPU reference, per chip, the same at any batch', async () => {
    const cfg = resolveConfig({ preset: 'neural-pim', array: { rows: 16, cols: 16 }, adc: { bits: 5, model: 'neural' } });
    const W: Matrix = { data: randomArray(24 * 3, 21), rows: 24, cols: 3 };
    const X: Matrix = { data: randomArray(8 * 24, 22, -1, 1), rows: 8, cols: 24 };
    const a = await simulateVmm(CPU, cfg, W, X, { chip: 0 });
    const b = await simulateVmm(CPU, cfg, W, { data: (X.data as Float32Array).slice(0, 3 * 24), rows: 3, cols: 24 }, { chip: 0, calibration: X });
    const c = await simulateVmm(CPU, cfg, W, X, { chip: 1 });
    expect(Array.from(b.Y)).toEqual(Array.from(a.Y.subarray(0, 9)));
    expect(Array.from(c.Y)).not.toEqual(Array.from(a.Y));
  });
});

describe('NNS+A (analog.model "neural")', () => {
  it('a weight of W units in ceil(W/Q) cells has sigma·sqrt(Σ l²)/W', () => {
    expect(weightSigma(1, 3, 0.02)).toBeCloseTo(0.02, 12);
    expect(weightSigma(2, 3, 0.02)).toBeCloseTo(0.02, 12);
    expect(weightSigma(4, 3, 0.02)).toBeCloseTo((0.02 * Math.sqrt(9 + 1)) / 4, 12);
    expect(weightSigma(16, 4, 0.02)).toBeCloseTo((0.02 * Math.sqrt(2 * 49 + 4)) / 16, 12);
  });

  it('chain coefficients: the most significant term carries in/fb, each earlier one also acc/fb of every later stage', () => {
    const sigma = 0.01;
    const s1 = weightSigma(1, 3, sigma);
    const sh = weightSigma(2, 3, sigma);
    const zTop: number[] = [];
    const zLog: number[] = [];
    for (let chain = 0; chain < 3000; chain++) {
      const c = chainCoefficients(4, 1, 3, sigma, id(0, 3), chain);
      zTop.push((c[3] - 1) / (Math.SQRT2 * sh));
      // log c_0 sums in/fb of stage 0 and acc/fb of stages 1–3 (first order): variance 2sh² + 3(s1² + sh²).
      zLog.push(Math.log(c[0]) / Math.sqrt(2 * sh * sh + 3 * (s1 * s1 + sh * sh)));
    }
    expectStandardNormal(zTop);
    expectStandardNormal(zLog);
    expect(Array.from(chainCoefficients(5, 2, 3, 0.03, null, 7))).toEqual([1, 1, 1, 1, 1]);
  });

  it('with sigma 0 the layer equals the ideal accumulation exactly; with sigma it changes per chip, not per batch', async () => {
    const W: Matrix = { data: randomArray(30 * 4, 31), rows: 30, cols: 4 };
    const X: Matrix = { data: randomArray(9 * 30, 32, -1, 1), rows: 9, cols: 30 };
    for (const preset of ['cascade', 'neural-pim']) {
      const base: XbarConfigInput = { preset, array: { rows: 16, cols: 16 } };
      const ideal = await simulateVmm(CPU, resolveConfig(base), W, X, { chip: 0 });
      const exact = await simulateVmm(CPU, resolveConfig({ ...base, analog: { model: 'neural', neural: { sigma: 0 } } }), W, X, { chip: 0 });
      expect(Array.from(exact.Y)).toEqual(Array.from(ideal.Y));
      const varied = resolveConfig({ ...base, analog: { model: 'neural', neural: { sigma: 0.05 } } });
      const c0 = await simulateVmm(CPU, varied, W, X, { chip: 0 });
      const c0part = await simulateVmm(CPU, varied, W, { data: (X.data as Float32Array).slice(0, 4 * 30), rows: 4, cols: 30 }, { chip: 0, calibration: X });
      const c1 = await simulateVmm(CPU, varied, W, X, { chip: 1 });
      expect(Array.from(c0.Y)).not.toEqual(Array.from(ideal.Y));
      expect(Array.from(c0part.Y)).toEqual(Array.from(c0.Y.subarray(0, 16)));
      expect(Array.from(c1.Y)).not.toEqual(Array.from(c0.Y));
    }
  });
});

/** A histogram of the standard normal density on [−5, 5]. */
function gaussianHistogram(bins: number): InputHistogram {
  const counts = Float64Array.from({ length: bins }, (_, i) => {
    const x = -5 + ((i + 0.5) * 10) / bins;
    return Math.exp(-x * x / 2);
  });
  return { lo: -5, hi: 5, counts };
}

describe('nonuniform ADC', () => {
  it('Lloyd-Max finds Max (1960)\'s optimum levels of a Gaussian', () => {
    const h = gaussianHistogram(20000);
    const four = lloydMax(h, Float64Array.of(-3, -1, 1, 3));
    // J. Max, "Quantizing for minimum distortion", Table I, N = 4: outputs ±0.4528, ±1.510.
    [-1.51, -0.4528, 0.4528, 1.51].forEach((want, i) => expect(Math.abs(four[i] - want)).toBeLessThan(2e-3));
    const two = lloydMax(h, Float64Array.of(-1, 1));
    expect(two[1]).toBeCloseTo(Math.sqrt(2 / Math.PI), 3);
  });

  it('the uniform ADC\'s levels give the uniform ADC', () => {
    const r = codeRange(5, true);
    const adc = new LevelAdc(uniformLevels(r), true, r);
    for (let x = -1.2; x <= 1.2; x += 0.00731) expect(adc.convert(x, 1)).toBeCloseTo(adcConvert(x, 5, 1, true), 12);
  });

  it('given levels through the reference, and levels fitted at calibration where the ADC inputs are dense', async () => {
    const W: Matrix = { data: randomArray(32 * 4, 41), rows: 32, cols: 4 };
    const X: Matrix = { data: randomArray(40 * 32, 42, -1, 1), rows: 40, cols: 32 };
    const base: XbarConfigInput = { preset: 'neural-pim', array: { rows: 32, cols: 16 }, adc: { bits: 3 } };
    const given = resolveConfig({ ...base, adc: { bits: 3, model: 'nonuniform', nonuniform: { levels: [-1, -0.5, -0.2, 0, 0.2, 0.5, 1] } } });
    const fitted = resolveConfig({ ...base, adc: { bits: 3, model: 'nonuniform' } });
    const uniform = await simulateVmm(CPU, resolveConfig(base), W, X);
    const yg = await simulateVmm(CPU, given, W, X);
    const yf = await simulateVmm(CPU, fitted, W, X);
    const ideal = await simulateVmm(CPU, resolveConfig({ ...base, adc: { bits: 0 } }), W, X);
    expect(Array.from(yg.Y)).not.toEqual(Array.from(uniform.Y));
    const mse = (y: Float32Array) => y.reduce((a, v, i) => a + (v - ideal.Y[i]) ** 2, 0) / y.length;
    // Analog-sa sums cluster near 0: Lloyd-Max spends its 7 levels there and beats the uniform 3-bit ADC.
    expect(mse(yf.Y)).toBeLessThan(mse(uniform.Y));
  });
});

describe('readout config', () => {
  it('rejects bad values with one line naming the field and the allowed values', () => {
    const bad: [XbarConfigInput, string][] = [
      [{ adc: { model: 'flash' as never } }, 'config: adc.model: must be one of "uniform", "nonlinear", "nonuniform", "neural"'],
      [{ adc: { model: 'neural', bits: 0 } }, 'config: adc.model: "neural" needs adc.bits 2–16'],
      [{ adc: { groupSize: 0 } }, 'config: adc.groupSize: must be an integer 1–65536'],
      [{ adc: { model: 'nonuniform', range: 'full' } }, 'config: adc.nonuniform.levels:'],
      [{ adc: { model: 'nonuniform', bits: 2, nonuniform: { levels: [0, 1] } } }, '4 increasing levels in [0, 1]'],
      [{ analog: { model: 'neural' } }, 'config: analog.model: "neural" (NNS+A)'],
      [{ digital: { scale: 'q1.7' } }, 'config: digital.scale: must be a fixed-point format'],
      [{ digital: { rounding: 'up' as never } }, 'config: digital.rounding: must be one of "half-even", "half-up", "floor", "truncate"'],
      [{ adc: { neural: { weightBits: 9 } } }, 'config: adc.neural.weightBits: must be an integer 2–8'],
      [{ adc: { model: 'neural', bits: 12 } }, 'config: adc.bits: must be 2–10 with adc.model "neural"'],
    ];
    for (const [input, msg] of bad) {
      let err = '';
      try {
        resolveConfig(input);
      } catch (e) {
        err = (e as Error).message;
      }
      expect(err).toContain(msg);
      expect(err).not.toContain('\n');
    }
  });

  it('a digital block gets every default; none means f32', () => {
    expect(resolveConfig({}).digital).toBeUndefined();
    expect(resolveConfig({ digital: { outputBits: 6 } }).digital).toEqual({ scale: 'u1.7', offset: 's7.1', rounding: 'half-even', saturate: true, relu: false, outputBits: 6 });
  });

  it('keeps the uniform ADC and ideal accumulation by default, on every preset', () => {
    for (const p of ['ideal', 'isaac', 'prime', 'cascade', 'neural-pim']) {
      const c: XbarConfig = resolveConfig({ preset: p });
      expect([c.adc.model, c.analog.model, c.digital]).toEqual(['uniform', 'ideal', undefined]);
    }
  });
});

describe('near-memory digital unit (fixed point)', () => {
  const digital = (over: Partial<NonNullable<XbarConfig['digital']>>) => resolveConfig({ digital: over }).digital!;

  /** A real layer's accumulators from the reference, its f32 output and scales. */
  function layerRun() {
    const cfg = resolveConfig({ preset: 'isaac', array: { rows: 16, cols: 16 }, adc: { bits: 6 } });
    const K = 24;
    const N = 6;
    const B = 10;
    const W = randomArray(K * N, 51);
    const X = randomArray(B * K, 52, -1, 1);
    const layer = programLayer(W, K, N, cfg);
    const sx = inputScale(X, layer.geom.Qx);
    const xq = quantizeInputs(X, sx, layer.geom.Qx);
    const hi = calibrateAdcRangeRef(layer, cfg, xq, B);
    const ranges = blockRanges(layer.geom, cfg, hi);
    const acc = new Float64Array(B * N);
    const Y = vmmRef(layer, cfg, xq, B, sx, { hi: (p) => ranges[p], accumulators: acc });
    const colScale = Float64Array.from(layer.sw, (s) => s * sx);
    const bias = Float64Array.from(randomArray(N, 53, -0.5, 0.5));
    return { Y, acc, colScale, bias, B, N };
  }

  it('the reference hands out the accumulators: Y = sw·sx·A', () => {
    const { Y, acc, colScale, B, N } = layerRun();
    for (let i = 0; i < B * N; i++) expect(Y[i]).toBeCloseTo(colScale[i % N] * acc[i], 12);
  });

  it('with wide formats equals the f32 path followed by the same requantization', () => {
    const { Y, acc, colScale, bias, B, N } = layerRun();
    let peak = 0;
    for (let i = 0; i < B * N; i++) peak = Math.max(peak, Math.abs(Y[i] + bias[i % N]));
    for (const rounding of ['half-even', 'half-up', 'floor', 'truncate'] as const) {
      for (const relu of [false, true]) {
        const cfg = digital({ scale: 'u8.24', offset: 's16.16', rounding, relu, outputBits: 8 });
        // Not peak / 100: the peak output would sit exactly on an integer, where 1e-10 decides truncation.
        const outScale = peak / 100.37;
        const unit = new DigitalUnit(cfg, { colScale, bias, outScale, relu: false });
        const got = unit.apply(acc, B);
        const { lo, hi } = outputRange(8, relu);
        for (let i = 0; i < B * N; i++) {
          const f32 = Y[i] + bias[i % N];
          let y = roundBy(f32 / outScale, rounding);
          if (relu) y = Math.max(0, y);
          expect(got[i], `${rounding} relu=${relu} i=${i}`).toBe(Math.min(hi, Math.max(lo, y)) * outScale);
        }
      }
    }
  });

  it('at NMPU formats (u1.7 scale, s7.1 offset) matches an independent integer computation of the same rounding', () => {
    const N = 5;
    const B = 40;
    const colScale = Float64Array.from(randomArray(N, 61, 0.001, 0.01));
    const bias = Float64Array.from(randomArray(N, 62, -3, 3));
    const A = Float64Array.from(randomArray(B * N, 63, -3000, 3000), Math.round);
    const outScale = 0.05;
    for (const rounding of ['half-even', 'half-up', 'floor', 'truncate'] as const) {
      for (const relu of [false, true]) {
        const unit = new DigitalUnit(digital({ rounding, relu }), { colScale, bias, outScale, relu: false });
        const got = unit.apply(A, B);
        // Independent: the largest e with max F·2^e ≤ 2 − 2^−7, coefficients on their grids, then BigInt.
        const F = Array.from(colScale, (s) => s / outScale);
        let e = -64;
        while (Math.max(...F) * 2 ** (e + 1) <= 2 - 2 ** -7) e++;
        expect(unit.exponent).toBe(e);
        const Mi = F.map((f) => BigInt(Math.min(255, Math.max(0, roundHalfEven(f * 2 ** e * 128)))));
        const Oi = Array.from(bias, (b) => BigInt(Math.min(127, Math.max(-128, roundHalfEven((b / outScale) * 2)))));
        expect(e + 8).toBeGreaterThanOrEqual(0);
        const D = 1n << BigInt(e + 8);
        const floorDiv = (n: bigint, d: bigint): bigint => (n >= 0n ? n / d : -((-n + d - 1n) / d));
        for (let v = 0; v < B; v++) {
          for (let j = 0; j < N; j++) {
            // y = M·A/2^(e+7) + O/2 = (2·M·A + O·2^(e+7)) / 2^(e+8)
            const num = 2n * Mi[j] * BigInt(A[v * N + j]) + Oi[j] * (1n << BigInt(e + 7));
            const q = floorDiv(num, D);
            const r = num - q * D;
            let y: bigint;
            if (rounding === 'floor') y = q;
            else if (rounding === 'truncate') y = num >= 0n ? q : r === 0n ? q : q + 1n;
            else if (rounding === 'half-up') y = 2n * r >= D ? q + 1n : q;
            else y = 2n * r > D || (2n * r === D && q % 2n !== 0n) ? q + 1n : q;
            if (relu && y < 0n) y = 0n;
            const [lo, hi] = relu ? [0n, 255n] : [-128n, 127n];
            y = y < lo ? lo : y > hi ? hi : y;
            expect(got[v * N + j], `${rounding} relu=${relu}`).toBe(Number(y) * outScale);
          }
        }
      }
    }
  });

  it('saturates, or wraps as two\'s complement, at outputBits; a ReLU makes the output unsigned', () => {
    const colScale = Float64Array.of(1);
    const A = Float64Array.of(-40, -9, -8, 7, 8, 30);
    const sat = new DigitalUnit(digital({ scale: 'u8.8', offset: 's8.8', outputBits: 4 }), { colScale, bias: null, outScale: 1, relu: false });
    expect(Array.from(sat.apply(A, 6))).toEqual([-8, -8, -8, 7, 7, 7]);
    const wrap = new DigitalUnit(digital({ scale: 'u8.8', offset: 's8.8', outputBits: 4, saturate: false }), { colScale, bias: null, outScale: 1, relu: false });
    expect(Array.from(wrap.apply(A, 6))).toEqual([-8, 7, -8, 7, -8, -2]);
    const relu = new DigitalUnit(digital({ scale: 'u8.8', offset: 's8.8', outputBits: 4 }), { colScale, bias: null, outScale: 1, relu: true });
    expect(Array.from(relu.apply(A, 6))).toEqual([0, 0, 0, 7, 8, 15]);
  });

  it('parses formats: u1.7 spans [0, 2 − 2^−7], s7.1 spans [−64, 63.5]', () => {
    expect(fixedFormat('u1.7')).toMatchObject({ min: 0, max: 2 - 2 ** -7, step: 2 ** -7 });
    expect(fixedFormat('s7.1')).toMatchObject({ min: -64, max: 63.5, step: 0.5 });
    expect(quantizeFixed(100, fixedFormat('s7.1'))).toBe(63.5);
    expect(quantizeFixed(0.26, fixedFormat('s7.1'))).toBe(0.5);
  });
});

describe('digital unit in the network executor (CPU)', () => {
  it('wide formats track the f32 path; NMPU formats put outputs on their grid; a ReLU after a layer is fused', async () => {
    const m = convBnModel();
    const net = importOnnx(m.bytes, m.name);
    const cal = testInput(m, 16, 3);
    const x = testInput(m, 8, 4);
    const run = async (over: XbarConfigInput) => {
      const r = openNetwork(CPU, net, resolveConfig({ preset: 'isaac', ...over }), false);
      await r.calibrate(cal, 16);
      const y = (await r.forward(await r.program(0), x, 8, 0)).output;
      return { y, scales: r.scales };
    };
    // Fine inputs and an ideal ADC, so the next layer's input quantization does not amplify the 16-bit requantization.
    const fine: XbarConfigInput = { inputs: { bits: 12 }, adc: { bits: 0 } };
    const f32 = await run(fine);
    const wide = await run({ ...fine, digital: { scale: 'u8.24', offset: 's16.16', outputBits: 16 } });
    const f32Isaac = await run({});
    const nmpu = await run({ digital: {} });
    const peak = f32.y.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    const dev = (y: Float32Array, ref: Float32Array) => y.reduce((a, v, i) => Math.max(a, Math.abs(v - ref[i])), 0);
    expect(dev(wide.y, f32.y)).toBeLessThan(2e-3 * peak);
    expect(dev(nmpu.y, f32Isaac.y)).toBeGreaterThan(dev(wide.y, f32.y));
    expect(dev(nmpu.y, f32Isaac.y)).toBeLessThan(0.2 * peak);
    expect([nmpu.scales[0].digital?.relu, nmpu.scales[1].digital?.relu]).toEqual([true, false]);
    // The last Gemm is the network output: every value is an output code times its LSB.
    const lsb = nmpu.scales[1].digital!.outScale;
    for (const v of nmpu.y) {
      expect(Math.abs(v / lsb - Math.round(v / lsb))).toBeLessThan(1e-3);
      expect(Math.abs(Math.round(v / lsb))).toBeLessThanOrEqual(128);
    }
    expect(f32.scales[0].digital).toBeUndefined();
  });

  it('vmm: a one-layer network with a digital unit, wide formats: within half an output LSB of f32', async () => {
    const W: Matrix = { data: randomArray(20 * 5, 71), rows: 20, cols: 5 };
    const X: Matrix = { data: randomArray(30 * 20, 72, -1, 1), rows: 30, cols: 20 };
    const base = resolveConfig({ preset: 'isaac', array: { rows: 16, cols: 16 } });
    const f32 = await simulateVmm(CPU, base, W, X);
    const wide = await simulateVmm(CPU, resolveConfig({ preset: 'isaac', array: { rows: 16, cols: 16 }, digital: { scale: 'u8.24', offset: 's16.16', outputBits: 16 } }), W, X);
    const peak = f32.Y.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
    // Requantization to 16 bits of an outScale near peak/32767 (calibrated on the f32 forward).
    for (let i = 0; i < f32.Y.length; i++) expect(Math.abs(wide.Y[i] - f32.Y[i])).toBeLessThanOrEqual((0.51 * 1.05 * peak) / 32767);
  });
});
