import { afterAll, describe, expect, it } from 'vitest';
import { openTestGpu } from '../helpers/gpu.ts';
import { maxAbs } from '../helpers/random.ts';
import { COMBOS, comboName, config, problem } from '../helpers/vmm-cases.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { simulateVmm, type Matrix } from '../../src/nn/crossbar-layer.ts';
import { programLayer } from '../../src/crossbar/program.ts';
import { adcIsSigned, adcLevels, blockRanges } from '../../src/crossbar/adc.ts';
import { quantizeInputs } from '../../src/crossbar/quantize.ts';
import { programChipRef } from '../../src/reference/chip.ts';
import { calibrateAdcRangeRef, vmmRef } from '../../src/reference/vmm.ts';
import { fitsLevels } from '../../src/readout/tables.ts';
import { layerReadout } from '../../src/readout/layer.ts';
import type { AdcConverter, TransferTable } from '../../src/readout/transfer.ts';
import type { Backend } from '../../src/gpu/backend.ts';
import type { XbarConfig, XbarConfigInput } from '../../src/config/types.ts';
import type { Network } from '../../src/ir/graph.ts';
import { DigitalUnit, roundBy } from '../../src/readout/digital.ts';
import { evaluateChip } from '../../src/nn/evaluate.ts';
import { loadModel } from '../../src/nn/load-model.ts';
import { mnistEvalData } from '../../src/io/datasets/eval-data.ts';
import { inputScale } from '../../src/crossbar/quantize.ts';
import { layerGeometry } from '../../src/crossbar/geometry.ts';

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
  // Levels fitted by Lloyd-Max on the calibration inputs (here X itself, as simulateVmm calibrates).
  if (fitsLevels(cfg)) calibrateAdcRangeRef(layer, cfg, quantizeInputs(X.data, sx, layer.geom.Qx), X.rows);
  const id = { seed: cfg.seed, chip, layer: 0 };
  const c = programChipRef(layer, cfg, id);
  const ranges = blockRanges(layer.geom, cfg, hi);
  const readout = layerReadout(cfg, c.chip.geom, id, layer.adcLevels ?? null);
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

  // Lloyd-Max levels fitted on the host from the calibration inputs by the CPU's code, uploaded as the table.
  it.each(COMBOS.map((c) => [comboName(c), c] as const))('nonuniform fitted by Lloyd-Max (levels []), %s', async (name, combo) => {
    const cfg = config(BASE, combo, { adc: { bits: 5, range: 'calibrated', model: 'nonuniform', groupSize: 2 } });
    for (const [K, N, B] of [[80, 13, 12], [33, 4, 1]] as const) {
      const { W, X } = problem(K, N, B, true, 41 + K);
      await expectGpuEqualsCpu(`fitted ${name} K=${K} N=${N} B=${B}`, cfg, W, X, 3);
    }
  });

  it('fitted levels: the GPU uploads the levels the CPU fits (not the uniform ones)', async () => {
    const cfg = config(BASE, COMBOS[0], { adc: { bits: 4, range: 'calibrated', model: 'nonuniform' } });
    const { W, X } = problem(60, 8, 16, true, 9);
    const gpuR = await simulateVmm(GPU(), cfg, W, X, { chip: 0 });
    const uni = await simulateVmm(GPU(), config(BASE, COMBOS[0], { adc: { bits: 4, range: 'calibrated' } }), W, X, { chip: 0 });
    const cpu = await simulateVmm(CPU, cfg, W, X, { chip: 0 });
    let vsUniform = 0;
    let vsCpu = 0;
    for (let i = 0; i < cpu.Y.length; i++) {
      vsUniform = Math.max(vsUniform, Math.abs(gpuR.Y[i] - uni.Y[i]));
      vsCpu = Math.max(vsCpu, Math.abs(gpuR.Y[i] - cpu.Y[i]));
    }
    expect(vsUniform).toBeGreaterThan(10 * vsCpu + 1e-6 * maxAbs(cpu.Y));
  });

  it('with read and ADC noise in front of the converter (neural, buffered)', async () => {
    const cfg = config(BASE, COMBOS[3], { adc: { bits: 5, range: 'calibrated', noise: 0.3 }, noise: { read: { sigma: 0.01, model: 'proportional' } } }, adcModel('neural', true, 5));
    const { W, X } = problem(40, 7, 10, true, 5);
    await expectGpuEqualsCpu('neural + noise', cfg, W, X, 2);
  });
});

describe.skipIf(!gpu)('NNS+A on WebGPU equals the CPU oracle', () => {
  const NSA: XbarConfigInput = { analog: { model: 'neural', neural: { sigma: 0.05 } } };
  it.each<[string, XbarConfigInput]>([
    ['buffered, neural ADC', { ...COMBOS[3], adc: { bits: 6, range: 'calibrated', model: 'neural', groupSize: 2 } }],
    ['analog-sa, nonlinear ADC', { ...COMBOS[4], adc: { bits: 6, range: 'calibrated', model: 'nonlinear', nonlinear: { comparatorSigma: 0.2 } } }],
    ['analog-sa, neural ADC, additive read, analog and ADC noise, gains', { ...COMBOS[4], adc: { bits: 6, range: 'calibrated', model: 'neural', noise: 0.2 }, noise: { read: { sigma: 0.01, model: 'additive' } }, analog: { noise: 0.002, gainSigma: 0.02 } }],
    ['buffered, nonlinear ADC, proportional read noise', { ...COMBOS[3], adc: { bits: 6, range: 'calibrated', model: 'nonlinear', nonlinear: { offsetSigma: 0.2 } }, noise: { read: { sigma: 0.02, model: 'proportional' } } }],
    ['analog-sa, neural ADC, proportional read noise, gains', { ...COMBOS[4], adc: { bits: 6, range: 'calibrated', model: 'neural' }, noise: { read: { sigma: 0.02, model: 'proportional' } }, analog: { gainSigma: 0.02 } }],
  ])('%s', async (name, over) => {
    const cfg = config(BASE, NSA, over);
    for (const [K, N, B] of [[48, 13, 8], [1, 5, 3], [33, 4, 1]] as const) {
      const { W, X } = problem(K, N, B, true, K * 7 + N);
      await expectGpuEqualsCpu(`NNS+A ${name} K=${K} N=${N} B=${B}`, cfg, W, X, 2);
    }
  });

  it.each<[string, XbarConfigInput]>([
    ['buffered', COMBOS[3]],
    ['analog-sa', COMBOS[4]],
  ])('%s with the ideal ADC: within 1e-5 of max |Y|', async (_name, combo) => {
    const cfg = config(BASE, NSA, combo, { adc: { bits: 0 } });
    const { W, X } = problem(70, 11, 9, true, 12);
    const cpu = await simulateVmm(CPU, cfg, W, X, { chip: 3 });
    const gpuR = await simulateVmm(GPU(), cfg, W, X, { chip: 3 });
    const ideal = await simulateVmm(CPU, config(BASE, combo, { adc: { bits: 0 } }), W, X, { chip: 3 });
    let d = 0;
    let moved = 0;
    for (let i = 0; i < cpu.Y.length; i++) {
      d = Math.max(d, Math.abs(cpu.Y[i] - gpuR.Y[i]));
      moved = Math.max(moved, Math.abs(cpu.Y[i] - ideal.Y[i]));
    }
    expect(d).toBeLessThanOrEqual(1e-5 * maxAbs(cpu.Y));
    // The chains' coefficients do move the result: the test sees NNS+A, not the ideal accumulation.
    expect(moved).toBeGreaterThan(1e-3 * maxAbs(cpu.Y));
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

/** W as the one linear layer of a network fed quantization codes (as simulateVmm builds it). */
function oneLayer(W: Matrix): Network {
  const weight = Float64Array.from(W.data);
  return {
    input: { name: 'x', shape: [W.rows] },
    output: 'y',
    shapes: new Map([
      ['x', [W.rows]],
      ['y', [W.cols]],
    ]),
    ops: [{ kind: 'linear', name: 'vmm', inputs: ['x'], output: 'y', layerIndex: 0, K: W.rows, N: W.cols, inShape: [W.rows], weight, bias: Float32Array.from({ length: W.cols }, (_, j) => 0.3 * Math.sin(j + 1)) }],
    inputs: [{ name: 'x', value: 'x', shape: [W.rows], dtype: 'float32', offset: 0 }],
    outputs: [{ name: 'y', value: 'y', shape: [W.cols], dtype: 'float32', offset: 0 }],
    batched: true,
    opset: 0,
  };
}

/**
 * Outputs of chip `chip` and the digital unit's calibrated output LSB (one batch), calibrated on the
 * inputs times 0.6 so that the largest outputs leave the code range (saturation and wrap-around run).
 */
async function runDigital(backend: Backend, cfg: XbarConfig, W: Matrix, X: Matrix, chip: number): Promise<{ Y: Float32Array; sx: number; hi: number; outScale: number }> {
  const { Qx } = layerGeometry(W.rows, W.cols, cfg);
  const sx = inputScale(X.data, Qx);
  const codes = Float32Array.from(quantizeInputs(X.data, sx, Qx));
  const runner = openNetwork(backend, oneLayer(W), cfg, false, { inputCodes: { sx } });
  try {
    await runner.calibrate(codes.map((v) => Math.round(0.6 * v)), X.rows);
    const h = await runner.program(chip);
    try {
      const r = await runner.forward(h, codes, X.rows, 0);
      return { Y: r.output, sx, hi: runner.scales[0].hi[0], outScale: runner.scales[0].digital!.outScale };
    } finally {
      h.release();
    }
  } finally {
    runner.destroy();
  }
}

/**
 * The unit's pre-rounding values m_j·A·2^−e + o_j of the CPU oracle, and how many lie within float
 * error of a rounding boundary (a half for the half modes, an integer for floor and truncate), where f32
 * and f64 may legitimately pick neighbouring codes.
 */
function digitalTies(cfg: XbarConfig, W: Matrix, X: Matrix, chip: number, sx: number, hi: number, unit: DigitalUnit): number {
  const layer = programLayer(W.data, W.rows, W.cols, cfg);
  const id = { seed: cfg.seed, chip, layer: 0 };
  const c = programChipRef(layer, cfg, id);
  const ranges = blockRanges(layer.geom, cfg, hi);
  const A = new Float64Array(X.rows * W.cols);
  vmmRef(c.chip, cfg, quantizeInputs(X.data, sx, layer.geom.Qx), X.rows, sx, { hi: (p) => ranges[p], noise: { id, vectorOffset: 0, gains: c.gains }, accumulators: A });
  const half = cfg.digital!.rounding === 'half-even' || cfg.digital!.rounding === 'half-up';
  let ties = 0;
  A.forEach((a, i) => {
    const x = unit.m[i % W.cols] * a * 2 ** -unit.exponent + unit.o[i % W.cols];
    const f = x - Math.floor(x);
    if (Math.abs(half ? f - 0.5 : Math.min(f, 1 - f)) < 1e-4 * Math.max(1, Math.abs(x))) ties++;
  });
  return ties;
}

describe.skipIf(!gpu)('the near-memory digital unit on WebGPU equals the CPU oracle', () => {
  it.each<[string, XbarConfigInput]>([
    ['NMPU formats, half-even', { digital: {} }],
    ['half-up, ReLU', { digital: { rounding: 'half-up', relu: true } }],
    ['floor, wrap-around at 6 bits', { digital: { rounding: 'floor', saturate: false, outputBits: 6 } }],
    ['truncate, wide formats', { digital: { rounding: 'truncate', scale: 'u4.12', offset: 's12.8', outputBits: 12 } }],
    // Wider than f32 holds: the kernel's exact 64-bit integer unit (shaders/int64.wgsl).
    ['32-bit formats u8.24 / s16.16, half-even', { digital: { scale: 'u8.24', offset: 's16.16', outputBits: 12 } }],
    ['32-bit formats u2.30 / s2.30, truncate, ReLU', { digital: { rounding: 'truncate', scale: 'u2.30', offset: 's2.30', relu: true } }],
    ['28-bit scale u1.27, floor, wrap-around at 7 bits', { digital: { rounding: 'floor', scale: 'u1.27', offset: 's20.8', saturate: false, outputBits: 7 } }],
    ['nonlinear ADC then the unit (analog-sa)', { dataflow: 'analog-sa', adc: { bits: 6, range: 'calibrated', model: 'nonlinear', nonlinear: { comparatorSigma: 0.2 } }, digital: { rounding: 'half-up' } }],
  ])('%s', async (name, over) => {
    const cfg = config(BASE, { adc: { bits: 0 } }, over);
    for (const [K, N, B] of [[80, 13, 16], [1, 5, 3], [33, 4, 1]] as const) {
      const { W, X } = problem(K, N, B, true, 3 * K + N);
      const cpu = await runDigital(CPU, cfg, W, X, 2);
      const gpuR = await runDigital(GPU(), cfg, W, X, 2);
      expect(Math.abs(gpuR.outScale - cpu.outScale)).toBeLessThanOrEqual(1e-5 * cpu.outScale);
      const layer = programLayer(W.data, K, N, cfg);
      const bias = Float64Array.from({ length: N }, (_, j) => Math.fround(0.3 * Math.sin(j + 1)));
      const unit = new DigitalUnit(cfg.digital!, { colScale: layer.sw.map((s) => s * cpu.sx), bias, outScale: cpu.outScale, relu: cfg.digital!.relu });
      const ties = digitalTies(cfg, W, X, 2, cpu.sx, cpu.hi, unit);
      let differing = 0;
      let clipped = 0;
      for (let i = 0; i < cpu.Y.length; i++) {
        const c = Math.round(cpu.Y[i] / cpu.outScale);
        if (c === unit.range.lo || c === unit.range.hi) clipped++;
        // Every GPU output is an output code times the LSB, inside the code range.
        // The output LSB comes from each backend's own calibration forward pass (f32 on the GPU): compare codes.
        const code = gpuR.Y[i] / gpuR.outScale;
        expect(Math.abs(code - Math.round(code))).toBeLessThan(1e-3);
        expect(Math.round(code)).toBeGreaterThanOrEqual(unit.range.lo);
        expect(Math.round(code)).toBeLessThanOrEqual(unit.range.hi);
        if (Math.round(code) !== Math.round(cpu.Y[i] / cpu.outScale)) differing++;
      }
      const adcTies = cfg.adc.model === 'uniform' ? 0 : cpu.Y.length; // an ADC breakpoint tie moves A by a code (counted in the ADC suite)
      console.log(`${name} K=${K} N=${N} B=${B}: ${differing}/${cpu.Y.length} outputs differ; ${ties} at a rounding boundary; ${clipped} at a range end`);
      expect(differing).toBeLessThanOrEqual(ties + (adcTies > 0 ? Math.ceil(0.02 * adcTies) : 0));
    }
  });

  it('rounding modes differ where they should (the test can see them)', () => {
    expect([roundBy(2.5, 'half-even'), roundBy(2.5, 'half-up'), roundBy(-2.5, 'floor'), roundBy(-2.5, 'truncate')]).toEqual([2, 3, -3, -2]);
  });

  it('same seed and chip, same codes at batches of 1, 7 and 64', async () => {
    const cfg = config(BASE, { adc: { bits: 6, model: 'neural', range: 'calibrated' }, digital: { relu: true } });
    const { W, X } = problem(40, 6, 64, true, 17);
    const full = await simulateVmm(GPU(), cfg, W, X, { chip: 1 });
    for (const B of [1, 7]) {
      const part = { data: Float32Array.from(X.data).subarray(0, B * X.cols), rows: B, cols: X.cols };
      const r = await simulateVmm(GPU(), cfg, W, part, { chip: 1, calibration: X });
      expect(Array.from(r.Y)).toEqual(Array.from(full.Y.subarray(0, B * W.cols)));
    }
  });
});

describe.skipIf(!gpu)('models/mlp.onnx: the same accuracy on CPU and GPU for every readout model', () => {
  const net = loadModel('models/mlp.onnx');
  const isaac = config({ preset: 'isaac' });
  it.each<[string, XbarConfigInput]>([
    ['uniform', {}],
    ['nonlinear', { adc: { model: 'nonlinear', groupSize: 4, nonlinear: { inl: [0, 0, -0.5], comparatorSigma: 0.2, offsetSigma: 0.1 } } }],
    ['nonuniform', { adc: { model: 'nonuniform', nonuniform: { levels: compandingLevels(isaac.adc.bits, adcIsSigned(isaac)) } } }],
    ['neural', { adc: { model: 'neural', bits: 6 } }],
    ['digital unit', { digital: {} }],
    ['nonuniform fitted by Lloyd-Max', { adc: { model: 'nonuniform', range: 'calibrated' } }],
    ['NNS+A (neural-pim)', { preset: 'neural-pim', analog: { model: 'neural' } }],
  ])('%s', async (_name, over) => {
    const cfg = config({ preset: 'isaac' }, over);
    const data = mnistEvalData(net.input.shape, 32, 8);
    const acc: number[] = [];
    for (const backend of [CPU, GPU()]) {
      const runner = openNetwork(backend, net, cfg, false);
      try {
        await runner.calibrate(data.calibration!.x, data.calibration!.n);
        acc.push((await evaluateChip(runner, data, 1, false)).accuracy);
      } finally {
        runner.destroy();
      }
    }
    console.log(`mlp ${_name}: CPU ${acc[0]}, GPU ${acc[1]}`);
    expect(acc[1]).toBe(acc[0]);
  });
});
