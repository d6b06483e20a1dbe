import { afterAll, describe, expect, it } from 'vitest';
import { openTestGpu } from '../helpers/gpu.ts';
import { maxAbs } from '../helpers/random.ts';
import { COMBOS, comboName, config, problem } from '../helpers/vmm-cases.ts';
import { convBnModel } from '../helpers/onnx-models.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { simulateVmm, type Matrix } from '../../src/nn/crossbar-layer.ts';
import { resolveConfig } from '../../src/config/schema.ts';
import { programLayer } from '../../src/crossbar/program.ts';
import { adcIsSigned, adcLevels, blockRanges } from '../../src/crossbar/adc.ts';
import { quantizeInputs } from '../../src/crossbar/quantize.ts';
import { programChipRef } from '../../src/reference/chip.ts';
import { vmmRef } from '../../src/reference/vmm.ts';
import { layerReadout } from '../../src/readout/layer.ts';
import type { AdcConverter, TransferTable } from '../../src/readout/transfer.ts';
import type { Backend } from '../../src/gpu/backend.ts';
import type { XbarConfig, XbarConfigInput } from '../../src/config/types.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const CPU: Backend = { kind: 'cpu', reason: 'test' };
const GPU = (): Backend => ({ kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session });

/** Conversions closer than this (LSB) to a breakpoint of their instance may round apart in f32 and f64. */
const TIE_LSB = 2e-4;

/** 2^n (unsigned) or 2^n − 1 (signed) increasing levels in units of the range, denser near 0 (a companding ADC). */
function compandingLevels(bits: number, signed: boolean): number[] {
  const n = signed ? 2 ** bits - 1 : 2 ** bits;
  return Array.from({ length: n }, (_, i) => {
    const t = signed ? -1 + (2 * i) / (n - 1) : i / (n - 1);
    return Math.sign(t) * Math.abs(t) ** 1.5;
  });
}

/** The readout blocks of each ADC model under test (per-chip variation in every one that has it). */
function adcModel(model: 'nonlinear' | 'nonuniform' | 'neural', signed: boolean, bits: number): XbarConfigInput {
  if (model === 'nonlinear') {
    return { adc: { model, groupSize: 3, nonlinear: { inl: [0, 0.1, -0.6, 0.3], comparatorSigma: 0.15, gainError: 0.01, gainSigma: 0.005, offsetError: 0.2, offsetSigma: 0.1 } } };
  }
  if (model === 'nonuniform') return { adc: { model, nonuniform: { levels: compandingLevels(bits, signed) } } };
  return { adc: { model, groupSize: 2, neural: { sigma: 0.025 } } };
}

/**
 * The CPU reference of chip `chip` (the oracle simulateVmm runs), with every conversion checked against
 * its own instance's breakpoints: how many lie within TIE_LSB of one, and the largest jump (LSB) between
 * neighbouring segments of any table (what one such conversion can move by).
 */
function oracleWithTies(cfg: XbarConfig, W: Matrix, X: Matrix, chip: number, sx: number, hi: number): { Y: Float64Array; ties: number; jump: number } {
  const layer = programLayer(W.data, W.rows, W.cols, cfg);
  const id = { seed: cfg.seed, chip, layer: 0 };
  const c = programChipRef(layer, cfg, id);
  const ranges = blockRanges(layer.geom, cfg, hi);
  const readout = layerReadout(cfg, c.chip.geom, id);
  const L = adcLevels(cfg.adc.bits, adcIsSigned(cfg));
  const orig = readout.adc.bind(readout);
  const tables = new Map<AdcConverter, TransferTable>();
  let ties = 0;
  let jump = 1;
  readout.adc = (p: number, f: number): AdcConverter => {
    const conv = orig(p, f);
    let t = tables.get(conv);
    if (!t) {
      t = conv.table(ranges[p]);
      tables.set(conv, t);
      for (let i = 1; i < t.values.length; i++) jump = Math.max(jump, Math.abs(t.values[i] - t.values[i - 1]));
    }
    const table = t;
    return {
      convert: (x, h) => {
        const u = x / (h / L);
        if (table.breakpoints.some((b) => Math.abs(u - b) < TIE_LSB)) ties++;
        return conv.convert(x, h);
      },
      table: (h) => conv.table(h),
    };
  };
  try {
    const xq = quantizeInputs(X.data, sx, layer.geom.Qx);
    const Y = vmmRef(c.chip, cfg, xq, X.rows, sx, { hi: (p) => ranges[p], noise: { id, vectorOffset: 0, gains: c.gains } });
    return { Y, ties, jump };
  } finally {
    delete (readout as { adc?: unknown }).adc;
  }
}

/** Largest change of one output from one ADC code of the heaviest plane, in output units. */
function oneCodeBound(cfg: XbarConfig, sx: number, swMax: number, hi: number): number {
  const g = programLayer(new Float64Array([1]), 1, 1, cfg).geom;
  const L = adcLevels(cfg.adc.bits, adcIsSigned(cfg));
  const wmax = cfg.dataflow === 'analog-sa' ? 1 : 2 ** ((cfg.dataflow === 'buffered' ? 0 : (g.T - 1) * g.b) + (g.S - 1) * g.c);
  return (swMax * sx * wmax * g.Vm * (hi / L)) / g.dG;
}

/** GPU equals the CPU oracle on chip `chip`, but for conversions at a breakpoint (counted on the CPU). */
async function expectGpuEqualsCpu(name: string, cfg: XbarConfig, W: Matrix, X: Matrix, chip: number): Promise<void> {
  const cpu = await simulateVmm(CPU, cfg, W, X, { chip });
  const gpuR = await simulateVmm(GPU(), cfg, W, X, { chip });
  if (cfg.adc.range === 'calibrated') expect(Math.abs(gpuR.calibratedHi - cpu.calibratedHi)).toBeLessThanOrEqual(1e-5 * cpu.calibratedHi);
  const o = oracleWithTies(cfg, W, X, chip, cpu.sx, cpu.calibratedHi);
  // The instrumented oracle is the one simulateVmm ran.
  for (let i = 0; i < o.Y.length; i++) expect(Math.abs(o.Y[i] - cpu.Y[i])).toBeLessThanOrEqual(1e-6 * Math.max(1e-30, maxAbs(cpu.Y)));
  const layer = programLayer(W.data, W.rows, W.cols, cfg);
  const bound = oneCodeBound(cfg, cpu.sx, Math.max(...layer.sw), Math.max(...blockRanges(layer.geom, cfg, cpu.calibratedHi)));
  const scale = maxAbs(cpu.Y);
  let differing = 0;
  let worst = 0;
  for (let i = 0; i < cpu.Y.length; i++) {
    const d = Math.abs(cpu.Y[i] - gpuR.Y[i]);
    if (d > 1e-5 * scale) differing++;
    worst = Math.max(worst, d);
  }
  console.log(`${name}: ${differing}/${cpu.Y.length} outputs differ; ${o.ties} conversions lie at a breakpoint`);
  expect(differing).toBeLessThanOrEqual(o.ties);
  expect(worst).toBeLessThanOrEqual(Math.max(1e-5 * scale, 2 * bound * o.jump * Math.min(o.ties, 4)));
}

const MODELS = ['nonlinear', 'nonuniform', 'neural'] as const;
/** Device constants off the round grid: currents then rarely sit exactly on a half LSB (see xbar.test.ts). */
const BASE: XbarConfigInput = { array: { rows: 32, cols: 64 }, inputs: { dacBits: 2 }, weights: { cellBits: 2, onOffRatio: 87.3 } };

describe.skipIf(!gpu)('ADC models on WebGPU equal the CPU oracle', () => {
  const cases: [string, XbarConfigInput, 'nonlinear' | 'nonuniform' | 'neural'][] = [];
  for (const model of MODELS) for (const combo of COMBOS) cases.push([`${model} ${comboName(combo)}`, combo, model]);
  it.each(cases)('%s', async (name, combo, model) => {
    const probe = config(BASE, combo, { adc: { bits: 5 } });
    const cfg = config(BASE, combo, { adc: { bits: 5, range: 'calibrated' } }, adcModel(model, adcIsSigned(probe), 5));
    const { W, X } = problem(80, 13, 12, true, 41);
    await expectGpuEqualsCpu(name, cfg, W, X, 3);
  });

  // Ragged edges (K, N not multiples of the array or of 4), one input row, a single short row block.
  it.each<[string, number, number, number]>([
    ['K=1 N=5 B=3', 1, 5, 3],
    ['K=33 N=4 B=1 (one row)', 33, 4, 1],
    ['K=100 N=9 B=6 (four row blocks)', 100, 9, 6],
  ])('every model, shape %s', async (name, K, N, B) => {
    for (const model of MODELS) {
      const combo = COMBOS[0];
      const probe = config(BASE, combo, { adc: { bits: 6 } });
      const cfg = config(BASE, combo, { adc: { bits: 6, range: 'calibrated' } }, adcModel(model, adcIsSigned(probe), 6));
      const { W, X } = problem(K, N, B, true, K + N);
      await expectGpuEqualsCpu(`${model} ${name}`, cfg, W, X, 1);
    }
  });

  it('with read and ADC noise in front of the converter (neural, buffered)', async () => {
    const cfg = config(BASE, COMBOS[3], { adc: { bits: 5, range: 'calibrated', noise: 0.3 }, noise: { read: { sigma: 0.01, model: 'proportional' } } }, adcModel('neural', true, 5));
    const { W, X } = problem(40, 7, 10, true, 5);
    await expectGpuEqualsCpu('neural + noise', cfg, W, X, 2);
  });
});

describe.skipIf(!gpu)('ADC models: same seed and chip, same result at any batch', () => {
  it.each(MODELS.map((m) => [m] as const))('%s: batches of 1, 7 and 64 vectors, chips differ', async (model) => {
    const cfg = config(BASE, COMBOS[0], { adc: { bits: 5, range: 'calibrated' } }, adcModel(model, false, 5));
    const { W, X } = problem(50, 9, 64, true, 8);
    const full = await simulateVmm(GPU(), cfg, W, X, { chip: 4 });
    for (const B of [1, 7]) {
      const part = { data: Float32Array.from(X.data).subarray(0, B * X.cols), rows: B, cols: X.cols };
      const r = await simulateVmm(GPU(), cfg, W, part, { chip: 4, calibration: X });
      expect(Array.from(r.Y)).toEqual(Array.from(full.Y.subarray(0, B * W.cols)));
    }
    const perDispatch = await simulateVmm(GPU(), cfg, W, X, { chip: 4, vectorsPerDispatch: 7 });
    expect(Array.from(perDispatch.Y)).toEqual(Array.from(full.Y));
    if (model !== 'nonuniform') {
      const other = await simulateVmm(GPU(), cfg, W, X, { chip: 5 });
      expect(Array.from(other.Y)).not.toEqual(Array.from(full.Y));
    }
  });
});

// What the GPU epilogue does not have still refuses, with one line, rather than run as the uniform ADC.
describe.skipIf(!gpu)('readout models left on the CPU', () => {
  it.each<[string, XbarConfigInput]>([
    ['fitted nonuniform ADC', { adc: { model: 'nonuniform', range: 'calibrated' } }],
    ['NNS+A', { preset: 'neural-pim', analog: { model: 'neural' } }],
    ['a 32-bit digital scale', { digital: { scale: 'u8.24' } }],
    ['a layer override', { layers: { '0': { adc: { model: 'nonuniform', range: 'calibrated', bits: 6 } } } }],
  ])('refuses %s', (_name, over) => {
    const m = convBnModel();
    const net = importOnnx(m.bytes, m.name);
    expect(() => openNetwork(GPU(), net, resolveConfig({ preset: 'isaac', ...over }), false)).toThrow(/runs on the CPU reference only for now/);
  });
});
