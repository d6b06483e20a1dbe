import { afterAll, describe, expect, it } from 'vitest';
import { openTestGpu } from '../helpers/gpu.ts';
import { maxAbs, maxAbsDiff, randomArray } from '../helpers/random.ts';
import { config } from '../helpers/vmm-cases.ts';
import { simulateVmm } from '../../src/nn/crossbar-layer.ts';
import { layerGeometry } from '../../src/crossbar/geometry.ts';
import type { Backend } from '../../src/gpu/backend.ts';
import { withTuning } from '../../src/gpu/runtime.ts';
import type { XbarConfigInput } from '../../src/config/types.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const CPU: Backend = { kind: 'cpu', reason: 'test' };
const GPU = (): Backend => ({ kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session });
/** The real-GPU kernel variant (shared-memory input tiles of 8 rows, not aligned with the partitions) on the same device. */
const SHARED = (): Backend => ({ kind: 'webgpu', runtime: gpu!.runtime, session: withTuning(gpu!.session, { xbar: { tm: 2, wgx: 4, wgy: 4, pcMax: 2, kt: 8 } }) });

const base: XbarConfigInput = {
  preset: 'ideal',
  array: { rows: 16, cols: 32 },
  weights: { bits: 6, cellBits: 2, onOffRatio: 20 },
  inputs: { bits: 4, dacBits: 2 },
  adc: { bits: 0 },
};
// Ragged columns and more rows than an array, one row, and a full array plus one.
const SHAPES: [number, number, number][] = [
  [40, 13, 24],
  [1, 7, 5],
  [17, 33, 9],
];
const problem = (K: number, N: number, B: number, seed: number, lo = -1) => ({
  W: { data: randomArray(K * N, seed), rows: K, cols: N },
  X: { data: randomArray(B * K, seed + 1, lo, 1), rows: B, cols: K },
});

describe.skipIf(!gpu)('circuit.model "approx" (aihwkit IR drop) on the GPU equals the CPU oracle', () => {
  const cases: [string, XbarConfigInput][] = [
    ['digital subtract, 200 Ω per segment', { circuit: { model: 'approx', rCol: 200 } }],
    ['digital subtract, 4 horizontal x 2 vertical partitions', { circuit: { model: 'approx', rCol: 200 }, array: { partitions: { rows: 4, cols: 2 } } }],
    ['offset mapping, 3 horizontal partitions, 500 Ω', { weights: { mapping: 'offset' }, circuit: { model: 'approx', rCol: 500 }, array: { partitions: { rows: 3, cols: 1 } } }],
    ['with PCM at 1 day and its read noise', { circuit: { model: 'approx', rCol: 200 }, noise: { device: { model: 'pcm-joshi2020' }, time: 86400 } }],
  ];
  it.each(cases)('%s: every shape, any dispatch size', async (name, over) => {
    const cfg = config(base, over, { seed: 21 });
    const ideal = config(base, over, { circuit: { model: 'none' }, seed: 21 });
    // The device model's own shapes are covered in devices.test.ts: one shape here keeps the suite short.
    for (const [K, N, B] of name.includes('PCM') ? SHAPES.slice(0, 1) : SHAPES) {
      const { W, X } = problem(K, N, B, K + N);
      const runs = [];
      for (const vpd of [1, 7, 64]) runs.push(await simulateVmm(GPU(), cfg, W, X, { chip: 2, vectorsPerDispatch: vpd }));
      expect(runs[0].backend).toBe('webgpu');
      expect(Array.from(runs[1].Y)).toEqual(Array.from(runs[0].Y));
      expect(Array.from(runs[2].Y)).toEqual(Array.from(runs[0].Y));
      const cpu = await simulateVmm(CPU, cfg, W, X, { chip: 2 });
      // Ideal ADC: f32 sums and the f32 cubic against the f64 oracle.
      expect(maxAbsDiff(runs[0].Y, cpu.Y), `${K}x${N}`).toBeLessThanOrEqual(2e-4 * maxAbs(cpu.Y));
      // The drop is there: without it the outputs differ by far more than the tolerance.
      if (K > 1) {
        const none = await simulateVmm(CPU, ideal, W, X, { chip: 2 });
        expect(maxAbsDiff(none.Y, cpu.Y), `${K}x${N} drop`).toBeGreaterThan(1e-3 * maxAbs(cpu.Y));
      }
      expect(runs[0].counts).toEqual(cpu.counts);
    }
  });

  it('the shared-memory variant (real GPUs) gives the same currents: partitions of 6 rows across tiles of 8, with PCM read noise', async () => {
    const cfg = config(base, { circuit: { model: 'approx', rCol: 200 }, array: { partitions: { rows: 3, cols: 1 } }, noise: { device: { model: 'pcm-joshi2020' }, time: 3600 }, seed: 6 });
    const { W, X } = problem(40, 13, 11, 41);
    const sh = await simulateVmm(SHARED(), cfg, W, X, { chip: 1 });
    const c = await simulateVmm(CPU, cfg, W, X, { chip: 1 });
    expect(maxAbsDiff(sh.Y, c.Y)).toBeLessThanOrEqual(2e-4 * maxAbs(c.Y));
  });

  it('8-bit calibrated ADC: GPU codes equal CPU codes except at rounding ties', async () => {
    const cfg = config(base, { adc: { bits: 8, range: 'calibrated' }, circuit: { model: 'approx', rCol: 300 }, array: { partitions: { rows: 2, cols: 1 } }, seed: 4 });
    const { W, X } = problem(40, 13, 30, 31);
    const g = await simulateVmm(GPU(), cfg, W, X, { chip: 1 });
    const c = await simulateVmm(CPU, cfg, W, X, { chip: 1 });
    expect(Math.abs(g.calibratedHi - c.calibratedHi)).toBeLessThanOrEqual(1e-5 * c.calibratedHi);
    let differ = 0;
    for (let i = 0; i < c.Y.length; i++) if (Math.abs(g.Y[i] - c.Y[i]) > 1e-4 * maxAbs(c.Y)) differ++;
    expect(differ).toBeLessThanOrEqual(Math.ceil(0.01 * c.Y.length));
  });

  it('circuits the GPU cannot evaluate are refused with one line naming circuit.model and --backend cpu', async () => {
    const { W, X } = problem(8, 4, 2, 3);
    await expect(simulateVmm(GPU(), config(base, { circuit: { model: 'solve', rRow: 1, rCol: 1 } }), W, X)).rejects.toThrow(/^circuit\.model "solve": .*--backend cpu/);
    await expect(simulateVmm(GPU(), config(base, { dataflow: 'buffered', circuit: { model: 'approx', rCol: 1 } }), W, X)).rejects.toThrow(/^circuit\.model "approx": .*dataflow "digital-sa".*--backend cpu/);
  });
});

describe.skipIf(!gpu)('array.partitions on the GPU', () => {
  it('ideal wires: partition sums equal the whole array (GPU = CPU), partitionAdds counted per cycle, column and extra partition', async () => {
    const K = 40, N = 13, B = 12;
    const cfg = config(base, { array: { partitions: { rows: 4, cols: 2 } }, seed: 8 });
    const { W, X } = problem(K, N, B, 9, 0);
    const g = await simulateVmm(GPU(), cfg, W, X, { chip: 0 });
    const c = await simulateVmm(CPU, cfg, W, X, { chip: 0 });
    const whole = await simulateVmm(GPU(), config(base, { seed: 8 }), W, X, { chip: 0 });
    expect(Array.from(g.Y)).toEqual(Array.from(whole.Y));
    expect(maxAbsDiff(g.Y, c.Y)).toBeLessThanOrEqual(1e-4 * maxAbs(c.Y));
    const geom = layerGeometry(K, N, cfg);
    // Row blocks of 16, 16 and 8 rows in partitions of 4 rows: 3 + 3 + 1 additions per cycle and column; inputs ≥ 0, one pass each.
    expect(g.counts.partitionAdds).toBe(B * geom.T * N * geom.S * geom.pol * 7);
    expect(g.counts).toEqual(c.counts);
  });
});
