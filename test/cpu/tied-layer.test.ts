import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import type { XbarConfig } from '../../src/config/types.ts';
import { sequentialUses } from '../../src/ir/graph.ts';
import { planMatrices } from '../../src/nn/matrices.ts';
import { openNetwork, type NetworkRunner } from '../../src/nn/runner.ts';
import { K, tiedInputs, tiedNet, usesOf } from '../helpers/tied-net.ts';
import { torchCase } from '../helpers/torch-fixtures.ts';

// A tied layer (LinearOp.tie: an unrolled RNN's recurrent weights) is one physical crossbar layer:
// one programmed chip (its uses see the same static noise), one calibration over every use, its
// arrays counted once, and each use its own per-read noise draws.
const CPU = { kind: 'cpu' as const, reason: 'test' };
const B = 48;
const x = tiedInputs(B);

const config = (noise: { programming?: number; read?: number }): XbarConfig =>
  resolveConfig({ preset: 'isaac', noise: { programming: { sigma: noise.programming ?? 0 }, read: { sigma: noise.read ?? 0 } } });

async function calibrated(tied: boolean, cfg: XbarConfig): Promise<NetworkRunner> {
  const r = openNetwork(CPU, tiedNet(tied), cfg, false);
  await r.calibrate(x, B);
  return r;
}

async function outputs(r: NetworkRunner, chip: number): Promise<Float32Array> {
  const h = await r.program(chip);
  try {
    return (await r.forward(h, x, B, 0)).output;
  } finally {
    h.release();
  }
}

/** Pearson correlation of two equally long series. */
function correlation(a: readonly number[], b: readonly number[]): number {
  const mean = (v: readonly number[]) => v.reduce((s, e) => s + e, 0) / v.length;
  const ma = mean(a);
  const mb = mean(b);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

describe('tied crossbar layers', () => {
  it('plan one layer with three uses, listed once with its arrays counted once', () => {
    const cfg = config({});
    const [tied] = planMatrices(tiedNet(true), cfg, false);
    expect(planMatrices(tiedNet(true), cfg, false)).toHaveLength(1);
    expect(tied.ops.map((o) => o.output)).toEqual(['r0', 'r1', 'r2']);
    expect([tied.vectorsPerUse, tied.vectorsPerSample, tied.parts[0].matrixIndex]).toEqual([1, 3, 0]);
    const untied = planMatrices(tiedNet(false), cfg, false);
    expect(untied.map((l) => l.parts[0].matrixIndex)).toEqual([0, 1, 2]);
    const a = openNetwork(CPU, tiedNet(true), cfg, false);
    const u = openNetwork(CPU, tiedNet(false), cfg, false);
    expect(a.analogLayers).toEqual([{ ...u.analogLayers[0], name: 'rec', vectorsPerSample: 3, uses: 3 }]);
    a.destroy();
    u.destroy();
  });

  it('share their programmed conductances: the same input at two uses reads the same cells', async () => {
    const cfg = config({ programming: 0.05 });
    const tied = await calibrated(true, cfg);
    const untied = await calibrated(false, cfg);
    const y = await outputs(tied, 0);
    const u = await outputs(untied, 0);
    for (let b = 0; b < B; b++) {
      const [r0, , r2] = usesOf(y, b);
      expect(r2).toEqual(r0);
    }
    // Three separate layers of the same weights are three programmings: their outputs differ.
    const [u0, , u2] = usesOf(u, 0);
    expect(u2).not.toEqual(u0);
    // And the programming noise is really there.
    const ideal = await outputs(await calibrated(true, config({})), 0);
    expect(usesOf(y, 0)[0]).not.toEqual(usesOf(ideal, 0)[0]);
    tied.destroy();
    untied.destroy();
  });

  it('draw independent per-read noise at each use, of the same size', async () => {
    const noisy = await calibrated(true, config({ read: 0.04 }));
    const clean = await calibrated(true, config({}));
    const y = await outputs(noisy, 0);
    const y0 = await outputs(clean, 0);
    const e0: number[] = [];
    const e2: number[] = [];
    for (let b = 0; b < B; b++) {
      const [n0, , n2] = usesOf(y, b);
      const [c0, , c2] = usesOf(y0, b);
      for (let j = 0; j < K; j++) {
        e0.push(n0[j] - c0[j]);
        e2.push(n2[j] - c2[j]);
      }
    }
    // Same input, same cells: only the draws differ. Independent draws have ρ ≈ 0 (σ_ρ = 1/√n ≈ 0.023).
    expect(Math.abs(correlation(e0, e2))).toBeLessThan(4 / Math.sqrt(e0.length));
    const v0 = e0.reduce((s, e) => s + e * e, 0);
    const v2 = e2.reduce((s, e) => s + e * e, 0);
    expect(v0).toBeGreaterThan(0);
    expect(v2 / v0).toBeGreaterThan(0.85);
    expect(v2 / v0).toBeLessThan(1.15);
    noisy.destroy();
    clean.destroy();
  });

  it('calibrate one input scale over every use', async () => {
    const cfg = config({});
    const tied = await calibrated(true, cfg);
    const untied = await calibrated(false, cfg);
    // The second use reads 3·sigmoid(·), larger than x: its range sets the scale of all three.
    expect(untied.scales[1].sx).toBeGreaterThan(untied.scales[0].sx);
    expect(tied.scales[0].sx).toBe(Math.max(...untied.scales.map((s) => s.sx)));
    tied.destroy();
    untied.destroy();
  });

  it('count every use’s events, and the arrays once', async () => {
    const cfg = config({});
    const tied = await calibrated(true, cfg);
    const untied = await calibrated(false, cfg);
    const t = await tied.forward(await tied.program(0), x, B, 0);
    const u = await untied.forward(await untied.program(0), x, B, 0);
    // Inputs ≥ 0 at every use: no X⁻ pass, so the counts depend on the shapes alone.
    expect([...t.negVectors.flat(), ...u.negVectors.flat()].every((n) => n === 0)).toBe(true);
    const c = tied.layerCounts(0, B, t.negVectors[0]);
    const parts = [0, 1, 2].map((i) => untied.layerCounts(i, B, u.negVectors[i]));
    for (const [k, v] of Object.entries(c)) {
      const sum = parts.reduce((s, p) => s + (p as unknown as Record<string, number>)[k], 0);
      expect(v, k).toBe(k === 'arrays' ? (parts[0] as unknown as Record<string, number>)[k] : sum);
    }
    tied.destroy();
    untied.destroy();
  });

  it('give the same results at any batch size', async () => {
    const r = await calibrated(true, config({ programming: 0.03, read: 0.03 }));
    const h = await r.program(2);
    const whole = (await r.forward(h, x, B, 0)).output;
    const split = new Float32Array(whole.length);
    for (let s0 = 0; s0 < B; s0 += 5) {
      const n = Math.min(5, B - s0);
      split.set((await r.forward(h, x.subarray(s0 * K, (s0 + n) * K), n, s0)).output, s0 * 3 * K);
    }
    expect(split).toEqual(whole);
    h.release();
    r.destroy();
  });

  it('come from a module called again: an nn.LSTMCell loop and a Siamese encoder import with each layer tied across its calls', () => {
    const layersOf = (name: string) => {
      const { net } = torchCase(name);
      return net.ops.flatMap((o) => (o.kind === 'linear' ? [{ index: o.layerIndex, name: o.name, tied: o.tie !== undefined }] : []));
    };
    // Five steps of the cell's two Gemms (input and hidden weights), then the head.
    const cell = layersOf('lstmcell-loop');
    expect(cell.map((l) => l.index)).toEqual([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2]);
    expect(cell.filter((l) => l.tied).map((l) => l.name)).toEqual(Array.from({ length: 5 }, () => ['/cell/Gemm', '/cell/Gemm_1']).flat());
    expect(layersOf('siamese').map((l) => `${l.index}:${l.name}`)).toEqual(['0:/enc/enc.0/Gemm', '1:/enc/enc.2/Gemm', '0:/enc/enc.0/Gemm', '1:/enc/enc.2/Gemm']);
    expect(planMatrices(torchCase('siamese').net, config({}), false).map((l) => l.ops.length)).toEqual([2, 2]);
  });

  it('tie a module called twice whatever PyTorch makes of it (a Linear on 3-D input, a Conv with its BatchNorm folded, a whole nn.LSTM), and keep equal copies with different biases apart', () => {
    const indices = (name: string) => torchCase(name).net.ops.flatMap((o) => (o.kind === 'linear' || o.kind === 'conv' ? [o.layerIndex] : []));
    expect(indices('reuse-linear3d')).toEqual([0, 0]);
    expect(indices('reuse-conv-bn')).toEqual([0, 0]);
    // Each call: the projection (0) and two recurrent steps after the zero state (1), all one pair of layers.
    expect(indices('reuse-lstm')).toEqual([0, 1, 1, 0, 1, 1]);
    expect(indices('equal-copies')).toEqual([0, 1]);
  });

  it('give both halves of a Siamese encoder one chip: equal halves cancel exactly under programming noise', async () => {
    const { net } = torchCase('siamese');
    const n = 6;
    const x = new Float32Array(n * 12);
    for (let b = 0; b < n; b++) for (let k = 0; k < 6; k++) x[b * 12 + k] = x[b * 12 + 6 + k] = Math.sin(7 * b + k);
    const r = openNetwork(CPU, net, config({ programming: 0.05 }), false);
    await r.calibrate(x, n);
    const h = await r.program(0);
    const y = (await r.forward(h, x, n, 0)).output;
    expect(Array.from(y).every((v) => v === 0)).toBe(true);
    h.release();
    r.destroy();
  });

  it('count the uses that must run one after another: a chain of reads, not every use', () => {
    // r1 reads r0's output; r2 reads only x: two in a row at most.
    expect(sequentialUses(tiedNet(true).ops)).toEqual(new Map([[0, 2]]));
    expect(sequentialUses(tiedNet(false).ops)).toEqual(new Map());
    // The hidden-state Gemm reads the last step at each of the five steps; the input Gemm reads x only.
    expect([...sequentialUses(torchCase('lstmcell-loop').net.ops).values()].sort()).toEqual([1, 5]);
    // The Siamese encoder's two calls are independent.
    expect([...sequentialUses(torchCase('siamese').net.ops).values()]).toEqual([1, 1]);
  });

  it('hold their weights once in the analog weight count', async () => {
    const { analogWeightCount } = await import('../../src/cli/adapt-common.ts');
    expect(analogWeightCount(tiedNet(true))).toBe(K * K);
    expect(analogWeightCount(tiedNet(false))).toBe(3 * K * K);
  });

  it('refuse adapter training on a recurrent weight, in one line', async () => {
    const { adaptedLayers } = await import('../../src/nn/adapt/train.ts');
    expect(() => adaptedLayers(tiedNet(true), config({}), ['rec'])).toThrow(/^--layers: "rec" is a recurrent weight used at 3 time steps; adapt cannot adapt it/);
  });
});
