import { describe, expect, it } from 'vitest';
import { philox4x32 } from '../../src/random/philox.ts';
import { programLayer, cellIndex } from '../../src/crossbar/program.ts';
import { inputScale, quantizeInputs } from '../../src/crossbar/quantize.ts';
import { blockRanges } from '../../src/crossbar/adc.ts';
import { perturbConductancesRef } from '../../src/reference/chip.ts';
import { analogGains } from '../../src/crossbar/chip.ts';
import { vmmRef } from '../../src/reference/vmm.ts';
import { simulateVmm } from '../../src/nn/crossbar-layer.ts';
import { compensationFactor } from '../../src/nn/calibration.ts';
import type { XbarConfig, XbarConfigInput } from '../../src/config/types.ts';
import { config } from '../helpers/vmm-cases.ts';
import { randomArray } from '../helpers/random.ts';
import { expectBinomial, expectStandardNormal } from '../helpers/stats.ts';
import { PHILOX_KATS } from '../helpers/philox-kats.ts';
import { resolveConfig } from '../../src/config/schema.ts';

const CPU = { kind: 'cpu', reason: 'test' } as const;
const hex = (a: Uint32Array): string => Array.from(a, (x) => x.toString(16).padStart(8, '0')).join(' ');


describe('Philox4x32-10 on the CPU', () => {
  it.each(PHILOX_KATS)('known answer $want', ({ counter, key, want }) => {
    expect(hex(philox4x32(counter, key))).toBe(want);
  });
});

// One row block, one non-negative input vector repeated B times: every row is an independent read of
// the same ADC inputs, so the spread of Y around the noise-free Y is the per-read noise alone.
const K = 48;
const N = 64;
const B = 64;
function readProblem(seed: number): { W: { data: Float32Array; rows: number; cols: number }; X: { data: Float32Array; rows: number; cols: number } } {
  const W = randomArray(K * N, seed);
  const x = randomArray(K, seed + 1, 0, 1);
  const X = new Float32Array(B * K);
  for (let b = 0; b < B; b++) X.set(x, b * K);
  return { W: { data: W, rows: K, cols: N }, X: { data: X, rows: B, cols: K } };
}
const base: XbarConfigInput = {
  preset: 'ideal',
  array: { rows: 64, cols: 64 },
  weights: { bits: 8, cellBits: 2, onOffRatio: 20 },
  inputs: { bits: 4, dacBits: 1 },
};

/** Voltages V_t[k] of the single input vector. */
function voltages(cfg: XbarConfig, X: Float32Array): { V: number[][]; T: number; b: number; Vm: number } {
  const layer = programLayer(new Float32Array(1), 1, 1, cfg).geom;
  const sx = inputScale(X, layer.Qx);
  const xq = quantizeInputs(X.subarray(0, K), sx, layer.Qx);
  const V = Array.from({ length: layer.T }, (_, t) => Array.from(xq, (u) => (Math.floor(u / 2 ** (t * layer.b)) & layer.Vm) / layer.Vm));
  return { V, T: layer.T, b: layer.b, Vm: layer.Vm };
}

async function zScores(cfg: XbarConfig, sd: (j: number) => number): Promise<Float64Array> {
  const { W, X } = readProblem(5);
  const noisy = await simulateVmm(CPU, cfg, W, X, { chip: 3 });
  const ideal = await simulateVmm(CPU, { ...cfg, noise: { ...cfg.noise, read: { ...cfg.noise.read, sigma: 0 } }, adc: { ...cfg.adc, noise: 0 }, analog: { ...cfg.analog, noise: 0 } }, W, X);
  const z = new Float64Array(B * N);
  for (let b = 0; b < B; b++) for (let j = 0; j < N; j++) z[b * N + j] = (noisy.Y[b * N + j] - ideal.Y[b * N + j]) / sd(j);
  return z;
}

describe('per-read noise: Y − Y_ideal has the variance of DESIGN.md section 4', () => {
  for (const model of ['additive', 'proportional'] as const) {
    it(`analog-sa, ${model}: Var J = Σ_k (Σ_t 4^(tb) V_t²)·Σ_s 4^(sc)(σ²(G⁺)+σ²(G⁻))`, async () => {
      const sigma = 0.02;
      const cfg = config(base, { dataflow: 'analog-sa', noise: { read: { sigma, model } } });
      const { W, X } = readProblem(5);
      const layer = programLayer(W.data, K, N, cfg);
      const g = layer.geom;
      const sx = inputScale(X.data, g.Qx);
      const { V, T, b } = voltages(cfg, X.data);
      const s2 = (G: number): number => (model === 'additive' ? sigma * sigma : sigma * sigma * G * G);
      const z = await zScores(cfg, (j) => {
        let varJ = 0;
        for (let k = 0; k < K; k++) {
          let w2 = 0;
          for (let t = 0; t < T; t++) w2 += 4 ** (t * b) * V[t][k] ** 2;
          let cells = 0;
          for (let s = 0; s < g.S; s++) cells += 4 ** (s * g.c) * (s2(layer.G[cellIndex(g, k, s, 0, j)]) + s2(layer.G[cellIndex(g, k, s, 1, j)]));
          varJ += w2 * cells;
        }
        return (layer.sw[j] * sx * g.Vm * Math.sqrt(varJ)) / g.dG;
      });
      expectStandardNormal(z);
    });
  }

  it('digital-sa, digital subtract, additive: Var Y = Σ_t Σ_s Σ_pol w(t,s)²·σ²·Σ_k V_t[k]²', async () => {
    const sigma = 0.01;
    const cfg = config(base, { dataflow: 'digital-sa', adc: { subtract: 'digital' }, noise: { read: { sigma, model: 'additive' } } });
    const { W, X } = readProblem(5);
    const layer = programLayer(W.data, K, N, cfg);
    const g = layer.geom;
    const sx = inputScale(X.data, g.Qx);
    const { V, T, b } = voltages(cfg, X.data);
    let sumW2 = 0;
    for (let t = 0; t < T; t++) {
      const v2 = V[t].reduce((a, v) => a + v * v, 0);
      for (let s = 0; s < g.S; s++) sumW2 += 2 * 4 ** (t * b + s * g.c) * sigma * sigma * v2;
    }
    expectStandardNormal(await zScores(cfg, (j) => (layer.sw[j] * sx * g.Vm * Math.sqrt(sumW2)) / g.dG));
  });

  it('buffered, additive: Var J_s = 2σ²·Σ_k Σ_t 4^(tb) V_t[k]², shift-added over slices', async () => {
    const sigma = 0.01;
    const cfg = config(base, { dataflow: 'buffered', noise: { read: { sigma, model: 'additive' } } });
    const { W, X } = readProblem(5);
    const layer = programLayer(W.data, K, N, cfg);
    const g = layer.geom;
    const sx = inputScale(X.data, g.Qx);
    const { V, T, b } = voltages(cfg, X.data);
    let w2 = 0;
    for (let t = 0; t < T; t++) for (let k = 0; k < K; k++) w2 += 4 ** (t * b) * V[t][k] ** 2;
    let total = 0;
    for (let s = 0; s < g.S; s++) total += 4 ** (s * g.c) * 2 * sigma * sigma * w2;
    expectStandardNormal(await zScores(cfg, (j) => (layer.sw[j] * sx * g.Vm * Math.sqrt(total)) / g.dG));
  });

  it('ADC noise: sigma in LSB of the ADC, plus the quantization error step²/12', async () => {
    const lsb = 3;
    const cfg = config(base, { dataflow: 'analog-sa', adc: { bits: 12, range: 'full', noise: lsb } });
    const { W } = readProblem(5);
    const layer = programLayer(W.data, K, N, cfg);
    const g = layer.geom;
    const { X } = readProblem(5);
    const sx = inputScale(X.data, g.Qx);
    const step = blockRanges(g, cfg, 0)[0] / (2 ** 11 - 1);
    const noisy = await simulateVmm(CPU, cfg, readProblem(5).W, X, { chip: 1 });
    const ideal = await simulateVmm(CPU, config(base, { dataflow: 'analog-sa' }), readProblem(5).W, X);
    const z = Float64Array.from(noisy.Y, (y, i) => (y - ideal.Y[i]) / ((layer.sw[i % N] * sx * g.Vm * step * Math.sqrt(lsb * lsb + 1 / 12)) / g.dG));
    expectStandardNormal(z);
  });

  it('analog noise: sigma relative to the ADC range hi, added to J', async () => {
    const rel = 1e-3;
    const cfg = config(base, { dataflow: 'analog-sa', adc: { range: 'full' }, analog: { noise: rel } });
    const { W, X } = readProblem(5);
    const layer = programLayer(W.data, K, N, cfg);
    const g = layer.geom;
    const sx = inputScale(X.data, g.Qx);
    const hi = blockRanges(g, cfg, 0)[0];
    expectStandardNormal(await zScores(cfg, (j) => (layer.sw[j] * sx * g.Vm * rel * hi) / g.dG));
  });

  it('is keyed by the vector position: two calls with vectorOffset equal one call', () => {
    const cfg = config(base, { dataflow: 'digital-sa', noise: { read: { sigma: 0.05, model: 'proportional' } }, adc: { bits: 6, range: 'full', noise: 0.5 } });
    const { W, X } = readProblem(8);
    const layer = programLayer(W.data, K, N, cfg);
    const sx = inputScale(X.data, layer.geom.Qx);
    const xq = quantizeInputs(X.data, sx, layer.geom.Qx);
    const ranges = blockRanges(layer.geom, cfg, 0);
    const id = { seed: 9, chip: 2, layer: 0 };
    const gains = analogGains(cfg, 1, N, id);
    const all = vmmRef(layer, cfg, xq, B, sx, { hi: (p) => ranges[p], noise: { id, vectorOffset: 0, gains } });
    const a = vmmRef(layer, cfg, xq.subarray(0, 10 * K), 10, sx, { hi: (p) => ranges[p], noise: { id, vectorOffset: 0, gains } });
    const b = vmmRef(layer, cfg, xq.subarray(10 * K), B - 10, sx, { hi: (p) => ranges[p], noise: { id, vectorOffset: 10, gains } });
    expect(Array.from(all)).toEqual([...a, ...b]);
    // Rows of the same input differ: each vector position draws its own noise.
    expect(all[0]).not.toBe(all[N]);
  });
});

describe('static noise, per chip', () => {
  // Wide layer, one input vector: the columns are independent samples of the chip's static noise.
  const Kp = 24;
  const Np = 2000;
  const W = { data: randomArray(Kp * Np, 21), rows: Kp, cols: Np };
  const X = { data: randomArray(Kp, 22, 0, 1), rows: 1, cols: Kp };
  const progBase: XbarConfigInput = { ...base, array: { rows: 32, cols: 64 }, weights: { bits: 6, cellBits: 2, onOffRatio: 10 }, dataflow: 'digital-sa' };

  for (const model of ['additive', 'proportional'] as const) {
    it(`programming noise (${model}): output error variance = (sw·sx/ΔG)²·Σ_k u_k²·Σ_(s,pol) 4^(sc)·σ²(G)`, async () => {
      const sigma = 0.005; // Gmin = 0.1: clipping at 0 is 20σ away
      const cfg = config(progBase, { noise: { programming: { sigma, model } } });
      const noisy = await simulateVmm(CPU, cfg, W, X, { chip: 4 });
      const ideal = await simulateVmm(CPU, config(progBase), W, X);
      const layer = programLayer(W.data, Kp, Np, cfg);
      const g = layer.geom;
      const u = quantizeInputs(X.data, noisy.sx, g.Qx);
      const z = new Float64Array(Np);
      for (let j = 0; j < Np; j++) {
        let v = 0;
        for (let k = 0; k < Kp; k++) {
          for (let s = 0; s < g.S; s++) {
            for (let q = 0; q < g.pol; q++) {
              const G = layer.G[cellIndex(g, k, s, q, j)];
              v += u[k] ** 2 * 4 ** (s * g.c) * (model === 'additive' ? sigma ** 2 : sigma ** 2 * G * G);
            }
          }
        }
        z[j] = (noisy.Y[j] - ideal.Y[j]) / ((layer.sw[j] * noisy.sx * Math.sqrt(v)) / g.dG);
      }
      expectStandardNormal(z);
    });
  }

  it('stuck-at faults: each cell is stuck at Gmin with probability sa0 and at Gmax with sa1', () => {
    const cfg = config(progBase, { noise: { stuckAt: { sa0: 0.03, sa1: 0.07 } } });
    const layer = programLayer(W.data, Kp, Np, cfg);
    const G = perturbConductancesRef(layer, cfg, { seed: 0, chip: 1, layer: 0 });
    let notMin = 0, toMin = 0, notMax = 0, toMax = 0;
    for (let i = 0; i < G.length; i++) {
      if (layer.G[i] !== layer.geom.Gmin) {
        notMin++;
        if (G[i] === layer.geom.Gmin) toMin++;
      }
      if (layer.G[i] !== 1) {
        notMax++;
        if (G[i] === 1) toMax++;
      }
    }
    expectBinomial(toMin, notMin, 0.03);
    expectBinomial(toMax, notMax, 0.07);
  });

  it('drift: mean factor E[(t/t0)^(−ν)] = exp(−ν̄L + σν²L²/2), and global compensation restores mean |Y|', async () => {
    const drift = { nu: 0.1, nuStd: 0.02, t: 1e4, t0: 1 }; // ν clipped at 0 only 5σ away
    const cfg = config(progBase, { noise: { drift: { ...drift, compensation: 'none' } } });
    const layer = programLayer(W.data, Kp, Np, cfg);
    const G = perturbConductancesRef(layer, cfg, { seed: 0, chip: 2, layer: 0 });
    const L = Math.log(drift.t / drift.t0);
    const ratios = Float64Array.from(G, (g, i) => g / layer.G[i]);
    const mean = Math.exp(-drift.nu * L + (drift.nuStd * L) ** 2 / 2);
    const sd = Math.sqrt(Math.exp(-2 * drift.nu * L + 2 * (drift.nuStd * L) ** 2) - mean * mean);
    expectStandardNormal(Float64Array.from(ratios, (r) => (r - mean) / sd));

    const Xc = { data: randomArray(16 * Kp, 23, -1, 1), rows: 16, cols: Kp };
    const ideal = await simulateVmm(CPU, config(progBase), W, Xc);
    const drifted = await simulateVmm(CPU, cfg, W, Xc, { chip: 2 });
    const comp = await simulateVmm(CPU, config(progBase, { noise: { drift: { ...drift, compensation: 'global' } } }), W, Xc, { chip: 2 });
    expect(compensationFactor(ideal.Y, drifted.Y)).toBeGreaterThan(1.5); // drift shrinks the outputs
    expect(comp.compensation).toBeCloseTo(compensationFactor(ideal.Y, drifted.Y), 5);
    // Evaluated on its own calibration inputs with an ideal ADC, compensation is exact in the mean.
    expect(compensationFactor(ideal.Y, comp.Y)).toBeCloseTo(1, 5);
  });

  it('analog gain error: J′ = J·(1 + g), g ~ N(0, gainSigma) per row block and column', async () => {
    const gainSigma = 0.05;
    const cfg = config(progBase, { dataflow: 'analog-sa', analog: { gainSigma } });
    const noisy = await simulateVmm(CPU, cfg, W, X, { chip: 6 });
    const ideal = await simulateVmm(CPU, config(progBase, { dataflow: 'analog-sa' }), W, X);
    const z: number[] = [];
    for (let j = 0; j < Np; j++) if (Math.abs(ideal.Y[j]) > 1e-6) z.push((noisy.Y[j] / ideal.Y[j] - 1) / gainSigma);
    expect(z.length).toBeGreaterThan(1900);
    expectStandardNormal(z);
  });

  it('different chips are different chips; the same chip is the same chip', () => {
    const cfg = config(progBase, { noise: { programming: { sigma: 0.01 } } });
    const layer = programLayer(W.data, Kp, 8, cfg);
    const a = perturbConductancesRef(layer, cfg, { seed: 1, chip: 0, layer: 0 });
    const b = perturbConductancesRef(layer, cfg, { seed: 1, chip: 1, layer: 0 });
    const c = perturbConductancesRef(layer, cfg, { seed: 1, chip: 0, layer: 0 });
    const d = perturbConductancesRef(layer, cfg, { seed: 1, chip: 0, layer: 1 });
    expect(Array.from(a)).toEqual(Array.from(c));
    expect(Array.from(a)).not.toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(d));
  });
});

describe('device noise presets', () => {
  it('are usable as a noise block in any config, with fields overriding them', () => {
    const c = resolveConfig({ preset: 'isaac', noise: { preset: 'cmo-reram', read: { sigma: 0.02 } } });
    expect(c.noise.programming).toEqual({ sigma: 0.0113, model: 'proportional' });
    expect(c.noise.read).toEqual({ sigma: 0.02, model: 'additive' });
    expect(c.dataflow).toBe('digital-sa');
    const p = resolveConfig({ noise: { preset: 'pcm-joshi2020' } });
    expect(p.noise.drift.compensation).toBe('global');
  });
  it('reject an unknown name with the allowed values', () => {
    expect(() => resolveConfig({ noise: { preset: 'nope' } })).toThrow(/noise\.preset: unknown noise preset "nope" \(allowed: wan2022-rram, cmo-reram, pcm-joshi2020\)/);
  });
});
