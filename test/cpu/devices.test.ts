import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import type { XbarConfig, XbarConfigInput } from '../../src/config/types.ts';
import { programLayer, type ProgrammedLayer } from '../../src/crossbar/program.ts';
import { DeviceCells } from '../../src/devices/cells.ts';
import { eyeReadout } from '../../src/devices/compensation.ts';
import { cellDevice } from '../../src/devices/model.ts';
import { PCM_T0, PCM_T_READ, pcmNuStats } from '../../src/devices/pcm.ts';
import { simulateVmm } from '../../src/nn/crossbar-layer.ts';
import { perturbConductancesRef } from '../../src/reference/chip.ts';
import { expectBinomial } from '../helpers/stats.ts';
import { expectMoments, gaussianExpectation, moments } from '../helpers/device-stats.ts';
import { randomArray } from '../helpers/random.ts';

const CPU = { kind: 'cpu', reason: 'test' } as const;
const ID = { seed: 5, chip: 1, layer: 0 };

/** A config on the ideal preset with `noise.device` and anything else merged in. */
function deviceConfig(device: XbarConfigInput['noise'], extra: XbarConfigInput = {}): XbarConfig {
  return resolveConfig({ preset: 'ideal', ...extra, noise: { ...device, ...(extra.noise ?? {}) } });
}

/** A layer of n cells all at target x (normalized), programmed onto chip ID. */
function uniformCells(cfg: XbarConfig, x: number, n = 20000): { layer: ProgrammedLayer; out: Float64Array } {
  const N = 100;
  const layer = programLayer(new Float32Array((n / 100 / 8) * N), n / 100 / 8, N, cfg);
  expect(layer.G.length).toBe(n); // 8-bit differential, 2-bit cells: S·pol = 8
  layer.G.fill(x);
  return { layer, out: perturbConductancesRef(layer, cfg, ID) };
}

const pcmSigma = (x: number, gMax: number): number => (0.26348 + 1.965 * x - 1.1731 * x * x) * (gMax / 25);
/** E[((t + t0)/t0)^(−ν)] with ν = |μ + σn|·scale at target x, by quadrature. */
function pcmDriftFactor(x: number, t: number, scale = 1): number {
  const { mu, sigma } = pcmNuStats(x, 1);
  const L = Math.log((t + PCM_T0) / PCM_T0);
  return gaussianExpectation((n) => Math.exp(-Math.abs(mu + sigma * n) * scale * L));
}
const sqrtLnRead = (t: number): number => Math.sqrt(Math.log((t + PCM_T0 + PCM_T_READ) / (2 * PCM_T_READ)));
const qs = (x: number): number => Math.min(0.0088 / Math.max(x ** 0.65, 1e-3), 0.2);

describe('pcm-joshi2020: aihwkit PCMLikeNoiseModel, seeded statistics against its formulas', () => {
  for (const [gMax, progScale] of [
    [25, 1],
    [40, 1.5],
  ] as const) {
    it.each([0.05, 0.3, 0.7, 1])(`programming noise at x = %s (gMax ${gMax} µS, progScale ${progScale}): mean g_T, σ = (0.26348 + 1.965x − 1.1731x²)·gMax/25·scale`, (x) => {
      const cfg = deviceConfig({ device: { model: 'pcm-joshi2020', progScale } }, { device: { gMax } });
      const { out } = uniformCells(cfg, x);
      expectMoments(Float64Array.from(out, (g) => g * gMax), x * gMax, progScale * pcmSigma(x, gMax));
    });
  }

  it('programming noise at g_T = 0: clipped at 0 (half the cells exactly 0), mean σ(0)/√(2π)', () => {
    const cfg = deviceConfig({ device: { model: 'pcm-joshi2020' } }, { weights: { onOffRatio: 0 } });
    const { out } = uniformCells(cfg, 0);
    const g = Float64Array.from(out, (v) => v * 25);
    expectBinomial(g.filter((v) => v === 0).length, g.length, 0.5);
    const s0 = pcmSigma(0, 25);
    // A rectified N(0, σ²): mean σ/√(2π), variance σ²(1/2 − 1/(2π)).
    expectMoments(g, s0 / Math.sqrt(2 * Math.PI), s0 * Math.sqrt(0.5 - 1 / (2 * Math.PI)));
  });

  for (const driftScale of [1, 2]) {
    it.each([1, 0.25, 0.05, 0.003, 1e-9])(`drift exponent at x = %s (driftScale ${driftScale}): ν = |μ_ν + σ_ν·n|·scale, mean and std of that folded normal`, (x) => {
      const t = 1e5;
      const cfg = deviceConfig({ device: { model: 'pcm-joshi2020', progScale: 0, readScale: 0, driftScale }, time: t });
      const { out } = uniformCells(cfg, x);
      const L = Math.log((t + PCM_T0) / PCM_T0);
      const nu = Float64Array.from(out, (g) => -Math.log(g / x) / L);
      const { mu, sigma } = pcmNuStats(x, 1);
      const m1 = gaussianExpectation((n) => Math.abs(mu + sigma * n)) * driftScale;
      const m2 = gaussianExpectation((n) => (mu + sigma * n) ** 2) * driftScale ** 2;
      expectMoments(nu, m1, Math.sqrt(m2 - m1 * m1));
    });
  }

  it('the drift exponent fit is clamped to [0.049, 0.1] and [0.008, 0.045] (pcm.py:126-127)', () => {
    expect(pcmNuStats(25, 25)).toEqual({ mu: 0.049, sigma: 0.008 });
    expect(pcmNuStats(0, 25)).toEqual({ mu: 0.1, sigma: 0.045 });
    const mid = pcmNuStats(0.1 * 25, 25);
    expect(mid.mu).toBeCloseTo(-0.0155 * Math.log(0.1) + 0.0244, 15);
    expect(mid.sigma).toBeCloseTo(-0.0125 * Math.log(0.1) - 0.0059, 15);
  });

  it.each([
    [0.5, 3600],
    [0.1, 31536000],
    [1, 315360000],
  ])('drift at x = %s, t = %s s: mean factor E[((t + 20)/20)^(−ν)]', (x, t) => {
    const cfg = deviceConfig({ device: { model: 'pcm-joshi2020', progScale: 0, readScale: 0 }, time: t });
    const { out } = uniformCells(cfg, x);
    const f = Float64Array.from(out, (g) => g / x);
    const want = pcmDriftFactor(x, t);
    const { mean, variance, n } = moments(f);
    expect(Math.abs(mean - want)).toBeLessThanOrEqual(5 * Math.sqrt(variance / n));
    expect(want).toBeLessThan(1);
  });

  it('no drift at t = 0 (t = t0), read noise still on: aihwkit drift_weights(0)', () => {
    const cfg = deviceConfig({ device: { model: 'pcm-joshi2020', progScale: 0 }, time: 0 });
    const { out } = uniformCells(cfg, 0.4, 800);
    expect(Array.from(out).every((g) => g === 0.4)).toBe(true);
    const rs = (out as DeviceCells).readSigma!;
    expect(rs[0]).toBeCloseTo(qs(0.4) * sqrtLnRead(0) * 0.4, 15);
  });

  // One row block of K rows all driven at 1, weights integers q/3 (3-bit, 2-bit cells: one slice, G⁺ = q/3,
  // G⁻ = 0 with an infinite on/off ratio), ideal ADC: Y_j = (I⁺ − I⁻)/ΔG, so Y_j − E Y_j has variance
  // K·σ(q_j/3)²/ΔG² with σ = readScale·Q_s(x)·√ln((t + t0 + t_read)/(2 t_read))·x per read.
  const readCase = async (time: number, readScale: number): Promise<void> => {
    const K = 16;
    const qs3 = [1, 2, 3];
    const N = qs3.length;
    const B = 3000;
    const W = new Float32Array(K * N);
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) W[k * N + j] = qs3[j];
    const X = new Float32Array(B * K).fill(1);
    const over: XbarConfigInput = { weights: { bits: 3, cellBits: 2, onOffRatio: 0, perChannel: false }, inputs: { bits: 1, dacBits: 1 }, array: { rows: 64, cols: 64 } };
    const cfg = deviceConfig({ device: { model: 'pcm-joshi2020', progScale: 0, driftScale: 0, readScale }, time }, over);
    const r = await simulateVmm(CPU, cfg, { data: W, rows: K, cols: N }, { data: X, rows: B, cols: K }, { chip: 2 });
    const dG = 1 / 3;
    for (let j = 0; j < N; j++) {
      const x = qs3[j] / 3;
      const sd = (Math.sqrt(K) * readScale * qs(x) * sqrtLnRead(time) * x) / dG;
      expectMoments(Float64Array.from({ length: B }, (_, b) => r.Y[b * N + j] - qs3[j] * K), 0, sd);
    }
  };
  it.each([0, 3600, 2592000, 315360000])('read noise against t = %s s: σ = Q_s(g_prog)·√ln((t + t_read)/(2 t_read))·|g|, per read', (t) => readCase(t, 1));
  it('readScale multiplies the read noise', () => readCase(86400, 2.5));
});

describe('reram-wan2022: aihwkit ReRamWan2022NoiseModel', () => {
  const poly = (c: number[], x: number): number => c.reduce((a, ci, i) => a + ci * x ** i, 0);
  const c1s = [0.348, 16.03, -43.853, 45.393, -16.815];
  const c1d = [0.701, 22.086, -50.773, 47.095, -16.458];
  const c2d = [0.782, 20.274, -43.507, 37.062, -11.934];

  it.each([0.1, 0.5, 0.9])('programming noise at x = %s: σ = quartic(x) µS at its 40 µS reference', (x) => {
    const cfg = deviceConfig({ device: { model: 'reram-wan2022' } });
    expect(cellDevice(cfg)!.gMax).toBe(40);
    const { out } = uniformCells(cfg, x);
    expectMoments(Float64Array.from(out, (g) => g * 40), x * 40, poly(c1s, x));
  });

  it.each([
    [1, c1s],
    [86400, c1d],
    [172800, c2d],
  ] as const)('at t = %s s: a fresh draw around the target with that time\'s fit (the programming draw is discarded)', (t, c) => {
    const x = 0.6;
    const cfg = deviceConfig({ device: { model: 'reram-wan2022', driftScale: 1.2 }, time: t });
    const prog = uniformCells(deviceConfig({ device: { model: 'reram-wan2022' }, time: 0 }), x).out;
    const { out } = uniformCells(cfg, x);
    expectMoments(Float64Array.from(out, (g) => g * 40), x * 40, 1.2 * poly([...c], x));
    // Independent of the programmed state: correlation within 5/√n of 0.
    const a = moments(prog);
    const b = moments(out);
    let cov = 0;
    for (let i = 0; i < out.length; i++) cov += (prog[i] - a.mean) * (out[i] - b.mean);
    expect(Math.abs(cov / (out.length * Math.sqrt(a.variance * b.variance)))).toBeLessThan(5 / Math.sqrt(out.length));
  });

  it('stuck cells stay stuck through the re-draw', () => {
    const cfg = deviceConfig({ device: { model: 'reram-wan2022' }, time: 86400, stuckAt: { sa0: 0.1, sa1: 0.1 } });
    const { out } = uniformCells(cfg, 0.5);
    const Gmin = 1 / 100;
    expectBinomial(out.filter((g) => g === Gmin).length, out.length, 0.1);
    expectBinomial(out.filter((g) => g === 1).length, out.length, 0.1);
  });

  it('only 0, 1, 86400 and 172800 s are valid times (its fits), as aihwkit raises for others', () => {
    expect(() => deviceConfig({ device: { model: 'reram-wan2022' }, time: 3600 })).toThrow(/noise\.time: must be one of 0, 1, 86400, 172800 s/);
  });
});

describe('reram-cmo: aihwkit ReRamCMONoiseModel', () => {
  const gMax = 88.199997;
  const gMin = 9;
  it.each([20, 50, 80])('programming noise at g_T = %s µS: σ = 0.00081107 + 0.00106879·g_T µS (the 0.2-percent fit, absolute µS)', (gT) => {
    const cfg = deviceConfig({ device: { model: 'reram-cmo', progScale: 3 } });
    expect(cellDevice(cfg)).toMatchObject({ gMax, gMin });
    const { out } = uniformCells(cfg, gT / gMax);
    expectMoments(Float64Array.from(out, (g) => g * gMax), gT, 3 * (0.00081107 + 0.00106879 * gT));
  });

  it.each([3600, 86400, 31536000])('at t = %s s: mean shift −0.08900206·ln t, spread 0.04201137·ln t + 0.41183342 µS (with the programming spread)', (t) => {
    const gT = 50;
    const cfg = deviceConfig({ device: { model: 'reram-cmo', driftScale: 0.8 }, time: t });
    const { out } = uniformCells(cfg, gT / gMax);
    const lt = Math.log(t);
    const sp = 0.00081107 + 0.00106879 * gT;
    const sr = (0.04201137 * lt + 0.41183342) * 0.8;
    expectMoments(Float64Array.from(out, (g) => g * gMax), gT - 0.08900206 * lt * 0.8, Math.sqrt(sp * sp + sr * sr));
  });

  it('clamps to [g_min, g_max] and reads with σ = K·log10(g)·√ln((t + 1e-6)/2e-6)', () => {
    const t = 1e7;
    const cfg = deviceConfig({ device: { model: 'reram-cmo', driftScale: 40 }, time: t });
    const { out } = uniformCells(cfg, 0.5);
    const g = Float64Array.from(out, (v) => v * gMax);
    expect(Math.min(...g)).toBe(gMin);
    expect(Math.max(...g)).toBeCloseTo(gMax, 10);
    const rs = (out as DeviceCells).readSigma!;
    for (let i = 0; i < 50; i++) expect(rs[i] * gMax).toBeCloseTo(0.0277316483 * Math.log10(g[i]) * Math.sqrt(Math.log((t + 1e-6) / 2e-6)), 12);
  });
});

describe('drift compensation as aihwkit computes it: eye readout after programming, a factor at inference time', () => {
  // Random weights, 2-bit cells, infinite on/off ratio (the zero device of each pair stays at 0).
  const K = 96;
  const N = 64;
  const W = { data: randomArray(K * N, 3), rows: K, cols: N };
  const t = 2.6e6;
  const make = (compensation: 'none' | 'global' | 'column'): XbarConfig =>
    deviceConfig({ device: { model: 'pcm-joshi2020', progScale: 0, readScale: 0 }, time: t, drift: { compensation } }, { weights: { onOffRatio: 0 } });

  it('global: α = mean|ŵ_programmed| / mean|ŵ(t)| (drift.py:21-41), ≈ Σ w·g_T / Σ w·g_T·E[factor(g_T)]', () => {
    const cfg = make('global');
    const layer = programLayer(W.data, K, N, cfg);
    const out = perturbConductancesRef(layer, cfg, ID) as DeviceCells;
    const alpha = out.columnScale!;
    expect(new Set(alpha).size).toBe(1);
    // Exactly the ratio of the two readouts.
    const ref = eyeReadout(layer.geom, layer.G, false).reduce((a, v) => a + v, 0);
    const cur = eyeReadout(layer.geom, out, false).reduce((a, v) => a + v, 0);
    expect(alpha[0]).toBeCloseTo(ref / cur, 12);
    // And statistically the inverse of the mean drift, weighted by each cell's contribution.
    const g = layer.geom;
    let num = 0;
    let den = 0;
    let varDen = 0;
    const L = Math.log((t + PCM_T0) / PCM_T0);
    // The targets take 2^c values only: the factor's moments per level, once.
    const levels = new Map<number, [number, number]>();
    for (let i = 0; i < layer.G.length; i++) {
      const x = layer.G[i];
      if (x === 0) continue;
      const s = Math.floor(i / (g.pol * g.N)) % g.S;
      const w = (2 ** (s * g.c) * x) / g.dG;
      if (!levels.has(x)) {
        const { mu, sigma } = pcmNuStats(x, 1);
        levels.set(x, [gaussianExpectation((n) => Math.exp(-Math.abs(mu + sigma * n) * L)), gaussianExpectation((n) => Math.exp(-2 * Math.abs(mu + sigma * n) * L))]);
      }
      const [f1, f2] = levels.get(x)!;
      num += w;
      den += w * f1;
      varDen += w * w * (f2 - f1 * f1);
    }
    const want = num / den;
    expect(want).toBeGreaterThan(1.2);
    expect(Math.abs(alpha[0] - want)).toBeLessThanOrEqual(5 * want * (Math.sqrt(varDen) / den));
  });

  it('the eye readout of a noise-free chip is Σ_k |q[k, j]| / Qw, for the offset mapping too (ŵ = Σ…/ΔG − Qw, DESIGN.md section 3)', () => {
    for (const mapping of ['differential', 'offset'] as const) {
      const cfg = resolveConfig({ preset: 'ideal', weights: { bits: 6, cellBits: 2, mapping, onOffRatio: 10 } });
      const layer = programLayer(W.data, K, N, cfg);
      const got = eyeReadout(layer.geom, layer.G, mapping === 'offset');
      for (let j = 0; j < N; j++) {
        let want = 0;
        for (let k = 0; k < K; k++) want += Math.abs(layer.q[k * N + j]) / layer.geom.Qw;
        expect(got[j], `${mapping} column ${j}`).toBeCloseTo(want, 9);
      }
    }
  });

  it('column: one factor per output column, the mean over its rows (drift.py:68-86)', () => {
    const cfg = make('column');
    const layer = programLayer(W.data, K, N, cfg);
    const out = perturbConductancesRef(layer, cfg, ID) as DeviceCells;
    const ref = eyeReadout(layer.geom, layer.G, false);
    const cur = eyeReadout(layer.geom, out, false);
    for (let j = 0; j < N; j++) expect(out.columnScale![j]).toBeCloseTo(ref[j] / cur[j], 12);
    expect(new Set(out.columnScale).size).toBe(N);
  });

  it('multiplies the digital output: compensated Y = α·(uncompensated Y), and restores the ideal scale on average', async () => {
    const X = { data: randomArray(40 * K, 4, 0, 1), rows: 40, cols: K };
    const none = await simulateVmm(CPU, make('none'), W, X, { chip: 1 });
    const glob = await simulateVmm(CPU, make('global'), W, X, { chip: 1 });
    const layer = programLayer(W.data, K, N, make('global'));
    const alpha = (perturbConductancesRef(layer, make('global'), { seed: 0, chip: 1, layer: 0 }) as DeviceCells).columnScale![0];
    for (let i = 0; i < none.Y.length; i++) expect(glob.Y[i]).toBeCloseTo(Math.fround(none.Y[i] * alpha), 4);
    const ideal = await simulateVmm(CPU, resolveConfig({ preset: 'ideal', weights: { onOffRatio: 0 } }), W, X);
    const sum = (y: Float32Array): number => y.reduce((a, v) => a + Math.abs(v), 0);
    expect(sum(none.Y) / sum(ideal.Y)).toBeLessThan(0.85);
    expect(Math.abs(sum(glob.Y) / sum(ideal.Y) - 1)).toBeLessThan(0.03);
  });
});

describe('noise.device in the config', () => {
  it('replaces the programming, read and drift blocks while set (their sigmas and exponents become 0)', () => {
    const c = resolveConfig({ noise: { device: { model: 'pcm-joshi2020' }, programming: { sigma: 0.1 }, read: { sigma: 0.1 }, drift: { nu: 0.1, nuStd: 0.01, t: 100, compensation: 'global' } } });
    expect(c.noise.programming.sigma).toBe(0);
    expect(c.noise.read.sigma).toBe(0);
    expect(c.noise.drift).toMatchObject({ nu: 0, nuStd: 0, compensation: 'global' });
    expect(resolveConfig({ noise: { programming: { sigma: 0.1 } } }).noise.programming.sigma).toBe(0.1);
  });

  it('device.gMax and gMin default to the model (25, 40, 88.2 µS) and gMin to gMax/onOffRatio or 9 µS', () => {
    expect(cellDevice(resolveConfig({ noise: { device: { model: 'pcm-joshi2020' } } }))).toMatchObject({ gMax: 25, gMin: 0.25 });
    expect(cellDevice(resolveConfig({ noise: { device: { model: 'reram-cmo' } } }))).toMatchObject({ gMax: 88.199997, gMin: 9 });
    expect(cellDevice(resolveConfig({ device: { gMax: 30, gMin: 3 }, noise: { device: { model: 'reram-cmo' } } }))).toMatchObject({ gMax: 30, gMin: 3 });
    const g = programLayer(new Float32Array(1), 1, 1, resolveConfig({ device: { gMax: 20, gMin: 5 } })).geom;
    expect(g.Gmin).toBe(0.25);
  });

  it('rejects bad values naming the field', () => {
    expect(() => resolveConfig({ noise: { device: { model: 'pcm' } } })).toThrow(/noise\.device\.model: must be one of "none", "pcm-joshi2020", "reram-wan2022", "reram-cmo"/);
    expect(() => resolveConfig({ noise: { time: -1 } })).toThrow(/noise\.time: must be a number >= 0/);
    expect(() => resolveConfig({ device: { gMax: 10, gMin: 10 } })).toThrow(/device\.gMin: must be a number in µS, >= 0 and below device\.gMax/);
    expect(() => resolveConfig({ device: { gMin: 0 }, noise: { device: { model: 'reram-cmo' } } })).toThrow(/device\.gMin: must be > 0 with noise\.device\.model "reram-cmo"/);
    expect(() => resolveConfig({ noise: { drift: { compensation: 'column' } } })).toThrow(/"column" needs a noise\.device\.model/);
    expect(() => resolveConfig({ device: { gMax: 'big' } })).toThrow(/device\.gMax: must be a number in µS or null/);
  });
});
