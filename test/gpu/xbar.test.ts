import { afterAll, describe, expect, it } from 'vitest';
import { openTestGpu } from '../helpers/gpu.ts';
import { maxAbs, maxAbsDiff, randomArray } from '../helpers/random.ts';
import { COMBOS, comboName, config, forEachIdealCase, integerProduct, problem, prunedProblem, PRUNED_CONFIGS } from '../helpers/vmm-cases.ts';
import { programLayer } from '../../src/crossbar/program.ts';
import { adcIsSigned, adcLevels, blockRanges } from '../../src/crossbar/adc.ts';
import { vmmRef } from '../../src/reference/vmm.ts';
import { quantizeInputs } from '../../src/crossbar/quantize.ts';
import { simulateVmm } from '../../src/nn/crossbar-layer.ts';
import { xbarSource } from '../../src/kernels/xbar.ts';
import { withTuning } from '../../src/gpu/runtime.ts';
import type { Backend } from '../../src/gpu/backend.ts';
import type { XbarConfigInput } from '../../src/config/types.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const CPU: Backend = { kind: 'cpu', reason: 'test' };
const GPU = (): Backend => ({ kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session });
/** Small tiles so K spans several tiles, ragged, and the grid has partial workgroups at both edges. */
const SMALL_SHARED = { tm: 2, wgx: 4, wgy: 4, pcMax: 2, kt: 8 };
/** The same device running the real-GPU variant (shared-memory input tiles). */
const SHARED = (): Backend => ({ kind: 'webgpu', runtime: gpu!.runtime, session: withTuning(gpu!.session, { xbar: SMALL_SHARED }) });


describe.skipIf(!gpu)('crossbar kernel, ideal ADC: equals the integer product within 1e-5 of max |Y|', () => {
  forEachIdealCase((name, cfg, shapes) => {
    it(name, async () => {
      for (const [K, N] of shapes) {
        for (const signed of [false, true]) {
          const { W, X } = problem(K, N, 5, signed, K * 31 + N + (signed ? 7 : 0));
          const r = await simulateVmm(GPU(), cfg, W, X);
          const layer = programLayer(W.data, K, N, cfg);
          const want = integerProduct(layer.q, layer.sw, quantizeInputs(X.data, r.sx, layer.geom.Qx), r.sx, X.rows, K, N);
          expect(maxAbsDiff(r.Y, want)).toBeLessThanOrEqual(1e-5 * maxAbs(want));
        }
      }
    });
  });
});

describe.skipIf(!gpu)('crossbar kernel: pruned columns output exactly 0', () => {
  it.each(PRUNED_CONFIGS)('%s', async (_n, over) => {
    const { W, X } = prunedProblem();
    const r = await simulateVmm(GPU(), config(over), W, X);
    for (let b = 0; b < X.rows; b++) for (let j = 1; j < 16; j++) expect(r.Y[b * 16 + j]).toBe(0);
  });
});

/** Largest change of one output from one ADC code: the heaviest plane's LSB, in output units. */
function oneCodeBound(cfg: ReturnType<typeof config>, sx: number, swMax: number, hi: number): number {
  const layer = programLayer(new Float64Array([1]), 1, 1, cfg).geom;
  const signed = cfg.dataflow !== 'digital-sa' || cfg.adc.subtract === 'analog';
  const L = signed ? 2 ** (cfg.adc.bits - 1) - 1 : 2 ** cfg.adc.bits - 1;
  const wmax = cfg.dataflow === 'analog-sa' ? 1 : 2 ** ((cfg.dataflow === 'buffered' ? 0 : (layer.T - 1) * layer.b) + (layer.S - 1) * layer.c);
  return (swMax * sx * wmax * layer.Vm * (hi / L)) / layer.dG;
}

describe.skipIf(!gpu)('crossbar kernel with quantizing ADCs: GPU equals CPU', () => {
  const cases: [string, XbarConfigInput][] = [];
  for (const combo of COMBOS) {
    for (const range of ['full', 'calibrated', 3.4567] as const) cases.push([`${comboName(combo)} range=${range}`, { ...combo, adc: { ...combo.adc, range, bits: 6 } }]);
  }
  it.each(cases)('%s', async (_n, over) => {
    // Non-round device constants: with onOffRatio 100 and 0/1 voltages many currents are sums of
    // 0.01 and 0.33 that sit exactly on a half-LSB, where f32 and f64 legitimately round apart.
    const cfg = config({ array: { rows: 32, cols: 64 }, inputs: { dacBits: 2 }, weights: { cellBits: 2, onOffRatio: 87.3 } }, over);
    const K = 80, N = 13, B = 24;
    const { W, X } = problem(K, N, B, true, 99);
    const cpu = await simulateVmm(CPU, cfg, W, X);
    const gpuR = await simulateVmm(GPU(), cfg, W, X);
    if (cfg.adc.range === 'calibrated') expect(Math.abs(gpuR.calibratedHi - cpu.calibratedHi)).toBeLessThanOrEqual(1e-5 * cpu.calibratedHi);
    // Conversions whose ideal input lies within float rounding of a code boundary (half an LSB):
    // there f32 and f64 may legitimately pick neighbouring codes. Count them on the CPU.
    const layer = programLayer(W.data, K, N, cfg);
    const g = layer.geom;
    const ranges = blockRanges(g, cfg, cpu.calibratedHi);
    const L = adcLevels(cfg.adc.bits, adcIsSigned(cfg));
    let nearTies = 0;
    let p = 0;
    const xq = quantizeInputs(X.data, cpu.sx, g.Qx);
    for (p = 0; p < g.blocks.length; p++) {
      const step = ranges[p] / L;
      const blockOnly = { ...layer, geom: { ...g, blocks: [g.blocks[p]] } };
      vmmRef(blockOnly, cfg, xq, B, cpu.sx, {
        hi: () => ranges[p],
        trace: (x) => {
          const r = Math.abs(x / step);
          if (r <= L + 0.5 && Math.abs((r % 1) - 0.5) < 1e-4) nearTies++;
        },
      });
    }
    const bound = oneCodeBound(cfg, cpu.sx, Math.max(...layer.sw), Math.max(...ranges));
    let differing = 0;
    let worst = 0;
    const scale = maxAbs(cpu.Y);
    for (let i = 0; i < cpu.Y.length; i++) {
      const d = Math.abs(cpu.Y[i] - gpuR.Y[i]);
      if (d > 1e-5 * scale) differing++;
      worst = Math.max(worst, d);
    }
    console.log(`${_n}: ${differing}/${cpu.Y.length} outputs differ; ${nearTies} conversions lie at a code boundary`);
    expect(differing).toBeLessThanOrEqual(nearTies);
    // Each boundary conversion moves its output by at most one code of the heaviest plane (x2: f32 range).
    expect(worst).toBeLessThanOrEqual(Math.max(1e-5 * scale, 2 * bound * Math.min(nearTies, 4)));
  });
});

describe.skipIf(!gpu)('results do not depend on the dispatch size', () => {
  it.each(COMBOS.map((c) => [comboName(c), c] as const))('%s: 1, 7, 256 vectors per dispatch', async (_n, combo) => {
    const cfg = config({ array: { rows: 32, cols: 32 }, adc: { bits: 5, range: 'calibrated' } }, combo);
    const { W, X } = problem(50, 9, 40, true, 5);
    const runs = [];
    for (const vpd of [1, 7, 256]) runs.push(await simulateVmm(GPU(), cfg, W, X, { vectorsPerDispatch: vpd }));
    expect(Array.from(runs[1].Y)).toEqual(Array.from(runs[0].Y));
    expect(Array.from(runs[2].Y)).toEqual(Array.from(runs[0].Y));
    expect(runs[1].calibratedHi).toBe(runs[0].calibratedHi);
  });

  it('calibration covers the whole input set, not one dispatch', async () => {
    const cfg = config({ array: { rows: 32, cols: 32 }, adc: { bits: 5, range: 'calibrated' } });
    const X = { data: randomArray(20 * 8, 3, 0, 0.1), rows: 20, cols: 8 };
    (X.data as Float32Array)[19 * 8 + 3] = 5; // the largest input is in the last vector
    const W = { data: randomArray(8 * 4, 4), rows: 8, cols: 4 };
    const a = await simulateVmm(GPU(), cfg, W, X, { vectorsPerDispatch: 1 });
    const b = await simulateVmm(CPU, cfg, W, X);
    expect(a.sx).toBe(b.sx);
    expect(a.sx).toBeCloseTo(5 / 255, 12);
    expect(Math.abs(a.calibratedHi - b.calibratedHi)).toBeLessThanOrEqual(1e-5 * b.calibratedHi);
  });
});

describe('crossbar program descriptors', () => {
  const base = { tm: 4, wgx: 8, wgy: 8, npl: 8, pc: 4, cycles: 8, signed: false, collapsed: false, trace: false, kt: 0, read: 'none', deviceRead: false, approx: false, pairs: false, gain: false, analogNoise: false, adcNoise: false, adcTable: false, digital: 'none', digitalRelu: false, digitalSaturate: false, digitalExact: false, nsa: false, nsaSlices: false, exact: false, bitplane: false, wbits: 0, exactF32: false, ideal: false } as const;
  it('generate WGSL for valid programs and reject invalid ones', () => {
    expect(xbarSource(base)).toMatch(/const NPL: u32 = 8u;/);
    expect(() => xbarSource({ ...base, pc: 3 })).toThrow(/must divide/);
    expect(() => xbarSource({ ...base, collapsed: true })).toThrow(/one cycle/);
    expect(() => xbarSource({ ...base, wgx: 64, wgy: 64 })).toThrow(/exceeds/);
    expect(() => xbarSource({ ...base, tm: 9 })).toThrow(/tm=9/);
    expect(() => xbarSource({ ...base, trace: true, read: 'additive' })).toThrow(/noise-free/);
    expect(() => xbarSource({ ...base, gain: true })).toThrow(/buffered and analog-sa/);
    expect(xbarSource({ ...base, kt: 16 })).toMatch(/const SHARED: bool = true;/);
    expect(() => xbarSource({ ...base, kt: 64, wgy: 32, tm: 8, wgx: 1 })).toThrow(/16 KiB/);
  });
});

describe.skipIf(!gpu)('real-GPU variant (shared-memory input tiles), run on this adapter', () => {
  forEachIdealCase((name, cfg, shapes) => {
    if (cfg.inputs.dacBits !== 2 || cfg.weights.cellBits === 1) return;
    it(`ideal ADC equals the integer product: ${name}`, async () => {
      for (const [K, N] of shapes) {
        const { W, X } = problem(K, N, 11, true, K * 17 + N);
        const r = await simulateVmm(SHARED(), cfg, W, X);
        const layer = programLayer(W.data, K, N, cfg);
        const want = integerProduct(layer.q, layer.sw, quantizeInputs(X.data, r.sx, layer.geom.Qx), r.sx, X.rows, K, N);
        expect(maxAbsDiff(r.Y, want)).toBeLessThanOrEqual(1e-5 * maxAbs(want));
      }
    });
  });
  it('with proportional read noise and a calibrated ADC: equals the register variant bit for bit', async () => {
    const cfg = config({ dataflow: 'analog-sa', array: { rows: 32, cols: 64 }, adc: { bits: 6, range: 'calibrated' }, noise: { read: { sigma: 0.02, model: 'proportional' } } });
    const { W, X } = problem(70, 9, 21, true, 5);
    const shared = await simulateVmm(SHARED(), cfg, W, X, { chip: 2 });
    const regs = await simulateVmm(GPU(), cfg, W, X, { chip: 2 });
    expect(shared.calibratedHi).toBe(regs.calibratedHi);
    expect(maxAbsDiff(shared.Y, regs.Y)).toBeLessThanOrEqual(1e-6 * maxAbs(regs.Y));
  });
});
