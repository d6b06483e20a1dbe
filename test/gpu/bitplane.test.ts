import { afterAll, describe, expect, it } from 'vitest';
import { openTestGpu } from '../helpers/gpu.ts';
import { maxAbs, maxAbsDiff, randomArray } from '../helpers/random.ts';
import { config } from '../helpers/vmm-cases.ts';
import { programLayer } from '../../src/crossbar/program.ts';
import { blockRanges } from '../../src/crossbar/adc.ts';
import { GpuCrossbarLayer } from '../../src/kernels/xbar.ts';
import { XBAR, exactDecoded } from '../../src/kernels/xbar-kernel.ts';
import { kernelKeyString } from '../../src/gpu/pipeline-cache.ts';
import { withTuning } from '../../src/gpu/runtime.ts';
import { REGISTER_TILES } from '../../src/gpu/tuning.ts';
import { simulateVmm } from '../../src/nn/crossbar-layer.ts';
import type { Backend } from '../../src/gpu/backend.ts';
import type { XbarConfigInput } from '../../src/config/types.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

/** The bit-plane variant's results must equal the general variants' bit for bit: both sum the same integers. */
const READ = { noise: { read: { sigma: 0.02, model: 'additive' as const } } };
/** [name, config, also against the shared-memory variant and in calibration traces]: the extra plane kinds check the register variant only (compiling every variant of every kind would exceed the suite's budget on lavapipe). */
const PRESETS: [string, XbarConfigInput, boolean][] = [
  ['isaac', { preset: 'isaac', ...READ }, true],
  ['cascade', { preset: 'cascade', ...READ }, true],
  ['neural-pim', { preset: 'neural-pim', ...READ }, true],
  ['prime (3-bit DAC, 4-bit cells)', { preset: 'prime', ...READ }, false],
  ['digital-sa, analog subtract', { preset: 'cascade', dataflow: 'digital-sa', adc: { subtract: 'analog' }, ...READ }, false],
  ['analog-sa with NNS+A', { preset: 'neural-pim', analog: { model: 'neural' }, ...READ }, false],
];
/** K = 1, ragged K and N, and more rows than one array (three row blocks, the last short). */
const SHAPES: [number, number][] = [[1, 5], [45, 13], [300, 9]];
/** Small shared-memory tiles: the general shared variant on the same adapter. */
const SMALL_SHARED = { tm: 2, wgx: 4, wgy: 4, pcMax: 2, kt: 8 };

async function runPaths(cfgIn: XbarConfigInput, K: number, N: number, B: number, seed: number, full: boolean) {
  const cfg = config(cfgIn, { seed: 11 });
  const layer = programLayer(randomArray(K * N, seed), K, N, cfg);
  const x = Float32Array.from(randomArray(B * K, seed + 1, -1, 1));
  const sx = 1 / layer.geom.Qx;
  const out: Record<string, Float32Array> = {};
  const sessions = [['registers', gpu!.session], ['shared', withTuning(gpu!.session, { xbar: SMALL_SHARED })]] as const;
  for (const [name, session] of full ? sessions : sessions.slice(0, 1)) {
    const gl = GpuCrossbarLayer.upload(session, layer, cfg, blockRanges(layer.geom, cfg, 0), { layerIndex: 1, bias: randomArray(N, 3) });
    try {
      const chip = gl.programChip(11, 2);
      out[`general/${name}`] = await gl.run(chip, x, B, { sxq: sx, outScale: sx, kernel: 'general' });
      if (name === 'registers') {
        out.bitplane = await gl.run(chip, x, B, { sxq: sx, outScale: sx, kernel: 'bitplane' });
      }
      if (name === 'registers' && full) {
        out.trace = await gl.run(chip, x, B, { sxq: sx, outScale: sx, kernel: 'bitplane', trace: true });
        out.traceGeneral = await gl.run(chip, x, B, { sxq: sx, outScale: sx, kernel: 'general', trace: true });
      }
      chip.destroy();
    } finally {
      gl.destroy();
    }
  }
  return out;
}

describe.skipIf(!gpu)('bit-plane crossbar kernel equals the general kernel bit for bit (read noise on)', () => {
  it.each(PRESETS)('%s', async (_name, cfg, full) => {
    for (const [K, N] of SHAPES) {
      const r = await runPaths(cfg, K, N, 5, K * 7 + N, full);
      expect(maxAbs(r.bitplane)).toBeGreaterThan(0);
      expect(Array.from(r.bitplane)).toEqual(Array.from(r['general/registers']));
      if (!full) continue;
      expect(Array.from(r.bitplane)).toEqual(Array.from(r['general/shared']));
      expect(Array.from(r.trace)).toEqual(Array.from(r.traceGeneral));
    }
  });

  it('a whole run through the network path: auto (bit planes) equals the general kernel and stays within f32 of the CPU oracle', async () => {
    const GPU = (bitplane: boolean): Backend => ({ kind: 'webgpu', runtime: gpu!.runtime, session: withTuning(gpu!.session, { xbar: { ...gpu!.session.tuning.xbar, bitplane } }) });
    const cfg = config({ preset: 'isaac', adc: { bits: 0 } }, READ, { seed: 5 });
    const K = 140, N = 21, B = 9;
    const W = { data: randomArray(K * N, 41), rows: K, cols: N };
    const X = { data: randomArray(B * K, 42, -1, 1), rows: B, cols: K };
    const fast = await simulateVmm(GPU(true), cfg, W, X, { chip: 1 });
    const general = await simulateVmm(GPU(false), cfg, W, X, { chip: 1 });
    expect(Array.from(fast.Y)).toEqual(Array.from(general.Y));
    // Same result at any dispatch size: the packed words are per vector.
    const oneByOne = await simulateVmm(GPU(true), cfg, W, X, { chip: 1, vectorsPerDispatch: 1 });
    expect(Array.from(oneByOne.Y)).toEqual(Array.from(fast.Y));
    const cpu = await simulateVmm({ kind: 'cpu', reason: 'test' }, cfg, W, X, { chip: 1 });
    expect(maxAbsDiff(fast.Y, cpu.Y)).toBeLessThanOrEqual(2e-4 * maxAbs(cpu.Y));
  });
});

describe.skipIf(!gpu)('the general exact variant on decoded magnitudes (neural-pim, analog-sa)', () => {
  it('equals the bit planes at any dispatch size, through the network path too, and stays within f32 of the CPU oracle', async () => {
    const cfg = config({ preset: 'neural-pim' }, READ, { seed: 5 });
    // Three row blocks (the last short), ragged N, signed inputs (both passes).
    const K = 300, N = 13, B = 9;
    const layer = programLayer(randomArray(K * N, 51), K, N, cfg);
    const x = Float32Array.from(randomArray(B * K, 52, -1, 1));
    const sx = 1 / layer.geom.Qx;
    const gl = GpuCrossbarLayer.upload(gpu!.session, layer, cfg, blockRanges(layer.geom, cfg, 0), { layerIndex: 2, bias: randomArray(N, 4) });
    try {
      expect(gl.kernelPath()).toBe('exact');
      expect(exactDecoded(gl.kernelVariant())).toBe(true);
      const chip = gl.programChip(5, 1);
      const general = await gl.run(chip, x, B, { sxq: sx, outScale: sx, kernel: 'general' });
      const perTwo = await gl.run(chip, x, B, { sxq: sx, outScale: sx, kernel: 'general', vectorsPerDispatch: 2 });
      const bits = await gl.run(chip, x, B, { sxq: sx, outScale: sx, kernel: 'bitplane', vectorsPerDispatch: 4 });
      chip.destroy();
      expect(maxAbs(general)).toBeGreaterThan(0);
      expect(Array.from(perTwo)).toEqual(Array.from(general));
      expect(Array.from(bits)).toEqual(Array.from(general));
    } finally {
      gl.destroy();
    }
    const ideal = config({ preset: 'neural-pim', adc: { bits: 0 } }, READ, { seed: 5 });
    const W = { data: randomArray(K * N, 53), rows: K, cols: N };
    const X = { data: randomArray(B * K, 54, -1, 1), rows: B, cols: K };
    const GPU: Backend = { kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session };
    const fast = await simulateVmm(GPU, ideal, W, X, { chip: 1 });
    const oneByOne = await simulateVmm(GPU, ideal, W, X, { chip: 1, vectorsPerDispatch: 1 });
    expect(Array.from(oneByOne.Y)).toEqual(Array.from(fast.Y));
    const cpu = await simulateVmm({ kind: 'cpu', reason: 'test' }, ideal, W, X, { chip: 1 });
    expect(maxAbsDiff(fast.Y, cpu.Y)).toBeLessThanOrEqual(2e-4 * maxAbs(cpu.Y));
  });
});

describe.skipIf(!gpu)('bit-plane kernel selection', () => {
  const K = 40, N = 6;
  const pathOf = (over: XbarConfigInput, base: XbarConfigInput = { preset: 'isaac' }) => {
    const cfg = config(base, over);
    const layer = programLayer(randomArray(K * N, 9), K, N, cfg);
    const gl = GpuCrossbarLayer.upload(gpu!.session, layer, cfg, blockRanges(layer.geom, cfg, 0));
    try {
      return { path: gl.kernelPath(), reason: gl.exactReason, key: kernelKeyString(XBAR.key(gl.kernelVariant())), gl };
    } finally {
      gl.destroy();
    }
  };

  it('exact levels choose the bit planes where they pay, and the kernel key says so', () => {
    const isaac = pathOf({});
    expect(isaac.path).toBe('bitplane');
    expect(isaac.key).toContain('bitplane=true');
    expect(pathOf({}, { preset: 'cascade' }).path).toBe('bitplane');
    // 8 input bits × 8 digit planes of a slice-weighted difference: more popcounts than multiply-adds.
    const npim = pathOf({}, { preset: 'neural-pim' });
    expect(npim.path).toBe('exact');
    expect(npim.key).toContain('exact=true');
    expect(npim.key).toContain('bitplane=false');
    expect(pathOf({ noise: { read: { sigma: 0.05, model: 'additive' } }, adc: { noise: 0.3 } }).path).toBe('bitplane');
  });

  it.each<[string, XbarConfigInput]>([
    ['programming noise', { noise: { programming: { sigma: 0.01 } } }],
    ['stuck-at cells', { noise: { stuckAt: { sa0: 0.01 } } }],
    ['drift', { noise: { drift: { nu: 0.05, t: 100, t0: 1 } } }],
    ['proportional read noise', { noise: { read: { sigma: 0.02, model: 'proportional' } } }],
    ['a device model', { noise: { device: { model: 'pcm-joshi2020' } } }],
    ['the IR-drop circuit', { circuit: { model: 'approx', rCol: 0.001 } }],
  ])('falls back to the float kernel with %s', (_name, over) => {
    const r = pathOf(over);
    expect(r.path).toBe('float');
    expect(r.reason).not.toBeNull();
    expect(r.key).toContain('exact=false');
    expect(() => r.gl.kernelPath('bitplane')).toThrow(/no bit-plane kernel/);
  });

  it('tuning can keep exact layers on the general variant', () => {
    const cfg = config({ preset: 'isaac' });
    const layer = programLayer(randomArray(K * N, 9), K, N, cfg);
    const gl = GpuCrossbarLayer.upload(withTuning(gpu!.session, { xbar: { ...REGISTER_TILES, bitplane: false } }), layer, cfg, blockRanges(layer.geom, cfg, 0));
    expect(gl.kernelVariant().bitplane).toBe(false);
    expect(gl.kernelVariant().exact).toBe(true);
    gl.destroy();
  });
});
