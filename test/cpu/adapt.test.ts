// Adapter training (src/nn/adapt): the CPU oracle's gradients against finite differences, the
// straight-through weights of a chip, the reduced-rank initialiser recovering a known rank-2 error,
// and a short hardware-aware training run.
import { describe, expect, it } from 'vitest';
import { newAdapter, scaledUp, type AdapterSet } from '../../src/adapters/set.ts';
import { Prng } from '../../src/io/datasets/prng.ts';
import { attentionNet, D, T } from '../helpers/attention-net.ts';
import { resolveConfig } from '../../src/config/schema.ts';
import { programLayer } from '../../src/crossbar/program.ts';
import { mnistEvalData } from '../../src/io/datasets/eval-data.ts';
import type { LinearOp, Network } from '../../src/ir/graph.ts';
import { adapterGradients, softmaxCrossEntropy } from '../../src/nn/adapt/backward.ts';
import { decodeWeights } from '../../src/nn/adapt/effective.ts';
import { fitReducedRank } from '../../src/nn/adapt/rrr.ts';
import { AdapterTrainer, adaptedLayers, freshState, initialSet } from '../../src/nn/adapt/train.ts';
import { loadModel } from '../../src/nn/load-model.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { mlpAdapters, MLP } from '../helpers/adapters.ts';

const CPU = { kind: 'cpu', reason: 'test' } as const;
const linear = (net: Network, name: string) => net.ops.find((o) => o.name === name) as LinearOp;

describe('adapter gradients (CPU oracle)', () => {
  it('dA and dB of every layer match central finite differences of the f32 network', async () => {
    const net = loadModel(MLP);
    const data = mnistEvalData(net.input.shape, 6, 1);
    const set: AdapterSet = mlpAdapters(2, 0.05, 21);
    const runner = openNetwork(CPU, net, resolveConfig({ preset: 'ideal' }), true);
    const loss = async (): Promise<number> => {
      runner.setAdapters(set);
      return softmaxCrossEntropy((await runner.forward(null, data.x, data.n, 0)).output, data.labels, data.n).loss;
    };
    runner.setAdapters(set);
    const r = await runner.forward(null, data.x, data.n, 0, true);
    const ce = softmaxCrossEntropy(r.output, data.labels, data.n);
    const adapters = new Map([...set].map(([k, a]) => [k, { a, up: scaledUp(a) }]));
    const grads = adapterGradients(net, r.values!, data.n, ce.grad, { weights: (op) => op.weight, adapters });
    let checked = 0;
    for (const [name, a] of set) {
      const g = grads.get(name)!;
      for (const [which, p, gp] of [['A', a.A, g.dA], ['B', a.B, g.dB]] as const) {
        // The entries with the largest gradients, where a finite difference is well above rounding.
        const idx = Array.from(gp.keys()).sort((i, j) => Math.abs(gp[j]) - Math.abs(gp[i])).slice(0, 4);
        for (const i of idx) {
          const v = p[i];
          const h = 2e-2 * Math.max(Math.abs(v), 0.05);
          p[i] = v + h;
          const up = Math.fround(v + h) - v;
          const lp = await loss();
          p[i] = v - h;
          const dn = v - Math.fround(v - h);
          const lm = await loss();
          p[i] = v;
          const num = (lp - lm) / (up + dn);
          expect(Math.abs(num - gp[i]), `${name}.${which}[${i}]: numeric ${num}, analytic ${gp[i]}`).toBeLessThan(2e-2 * Math.abs(gp[i]) + 2e-5);
          checked++;
        }
      }
    }
    expect(checked).toBe(24);
    runner.destroy();
  });
});

describe('adapter gradients through attention', () => {
  it('q, k, v, mlp and head adapters match finite differences through layernorm, matmul, softmax, gelu, residuals, gather, slice and mean', async () => {
    const net = attentionNet(2);
    const B = 3;
    const rng = new Prng(8);
    const x = Float32Array.from({ length: B * T * D }, () => 2 * rng.uniform() - 1);
    const labels = [1, 4, 0];
    const set: AdapterSet = new Map();
    for (const op of net.ops) if (op.kind === 'linear') set.set(op.name, newAdapter(op.K, op.N, 2, 4, () => (2 * rng.uniform() - 1) * 0.3));
    for (const a of set.values()) for (let i = 0; i < a.B.length; i++) a.B[i] = (2 * rng.uniform() - 1) * 0.3;
    const runner = openNetwork(CPU, net, resolveConfig({ preset: 'ideal' }), true);
    const loss = async (): Promise<number> => {
      runner.setAdapters(set);
      return softmaxCrossEntropy((await runner.forward(null, x, B, 0)).output, labels, B).loss;
    };
    runner.setAdapters(set);
    const r = await runner.forward(null, x, B, 0, true);
    const ce = softmaxCrossEntropy(r.output, labels, B);
    const adapters = new Map([...set].map(([k, a]) => [k, { a, up: scaledUp(a) }]));
    const grads = adapterGradients(net, r.values!, B, ce.grad, { weights: (op) => op.weight, adapters });
    for (const [name, a] of set) {
      const g = grads.get(name)!;
      for (const [which, p, gp] of [['A', a.A, g.dA], ['B', a.B, g.dB]] as const) {
        for (let i = 0; i < p.length; i += Math.max(1, Math.floor(p.length / 5))) {
          const v = p[i];
          const h = 1e-2;
          p[i] = v + h;
          const up = Math.fround(v + h) - v;
          const lp = await loss();
          p[i] = v - h;
          const dn = v - Math.fround(v - h);
          const lm = await loss();
          p[i] = v;
          const num = (lp - lm) / (up + dn);
          expect(Math.abs(num - gp[i]), `${name}.${which}[${i}]: numeric ${num}, analytic ${gp[i]}`).toBeLessThan(2e-2 * Math.abs(gp[i]) + 1e-4);
        }
      }
    }
    runner.destroy();
  });
});

describe('straight-through weights', () => {
  it('the noise-free chip decodes to the quantized weights q·sw exactly', () => {
    const net = loadModel(MLP);
    const op = linear(net, 'fc3');
    for (const preset of ['isaac', 'neural-pim', 'prime']) {
      const cfg = resolveConfig({ preset });
      const pl = programLayer(op.weight, op.K, op.N, cfg);
      const W = decodeWeights(pl);
      for (let i = 0; i < W.length; i++) expect(W[i]).toBeCloseTo(Math.fround(pl.q[i] * pl.sw[i % op.N]), 5);
    }
  });
});

describe('reduced-rank initialiser', () => {
  it('on a noise-free chip whose fc2 carries a known rank-2 perturbation, rank-2 adapters recover the digital outputs', async () => {
    const net = loadModel(MLP);
    const fc2 = linear(net, 'fc2');
    const { K, N } = fc2;
    // W' = W + u1·v1ᵀ + u2·v2ᵀ with a size comparable to W itself.
    const W2 = Float32Array.from(fc2.weight);
    let norm = 0;
    for (const w of fc2.weight) norm += w * w;
    const amp = Math.sqrt(norm / (K * N));
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) W2[k * N + j] += 4 * amp * (Math.sin(0.3 * k) * Math.cos(0.2 * j) + 0.7 * Math.cos(0.11 * k + 1) * Math.sin(0.05 * j + 2));
    const perturbed: Network = { ...net, ops: net.ops.map((o) => (o.name === 'fc2' ? { ...fc2, weight: W2 } : o)) };
    const data = mnistEvalData(net.input.shape, 64, 64);
    const cfg = resolveConfig({ preset: 'ideal' });
    const digital = openNetwork(CPU, net, cfg, true);
    const want = (await digital.forward(null, data.x, data.n, 0)).output;
    digital.destroy();
    const chipNet = openNetwork(CPU, perturbed, cfg, false);
    await chipNet.calibrate(data.calibration!.x, data.calibration!.n);
    const chip = await chipNet.program(0);
    const r = await chipNet.forward(chip, data.x, data.n, 0, true);
    const X = r.values!.get(fc2.inputs[0])!;
    const Y = r.values!.get(fc2.output)!;
    const n = X.length / K;
    const E = new Float64Array(n * N);
    for (let s = 0; s < n; s++) for (let j = 0; j < N; j++) {
      let v = fc2.bias ? fc2.bias[j] : 0;
      for (let k = 0; k < K; k++) v += X[s * K + k] * fc2.weight[k * N + j];
      E[s * N + j] = v - Y[s * N + j];
    }
    chipNet.setAdapters(new Map([['fc2', fitReducedRank(X, E, n, K, N, 2, 16)]]));
    const fixed = (await chipNet.forward(chip, data.x, data.n, 0)).output;
    const err = (y: Float32Array) => {
      let e = 0;
      let s = 0;
      for (let i = 0; i < y.length; i++) (e += (y[i] - want[i]) ** 2), (s += want[i] ** 2);
      return Math.sqrt(e / s);
    };
    const before = err(r.output);
    const after = err(fixed);
    expect(before).toBeGreaterThan(0.3);
    expect(after).toBeLessThan(0.1 * before);
    chip.release();
    chipNet.destroy();
  });
});

describe('on-chip training', () => {
  it('a few Adam steps on one noisy chip lower the training loss', async () => {
    const net = loadModel(MLP);
    const cfg = resolveConfig({ preset: 'prime', noise: { programming: { sigma: 0.1 } }, seed: 1 });
    const data = mnistEvalData(net.input.shape, 96, 64);
    const runner = openNetwork(CPU, net, cfg, false);
    await runner.calibrate(data.calibration!.x, data.calibration!.n);
    const layers = adaptedLayers(net, cfg, null);
    expect(layers.map((l) => l.name)).toEqual(['fc1', 'fc2', 'fc3']);
    const opts = { rank: 4, alpha: 8, layers: null, chip: 0, lr: 5e-3, batch: 32, seed: 3 };
    const trainer = new AdapterTrainer(net, cfg, runner, opts, freshState(initialSet(layers, 4, 8, 3)));
    const train = { x: data.x, labels: data.labels, n: data.n, sampleSize: 784 };
    const first = await trainer.epoch(train, 0);
    let last = first;
    for (let e = 1; e < 4; e++) last = await trainer.epoch(train, e);
    expect(last.loss).toBeLessThan(0.6 * first.loss);
    trainer.release();
    runner.destroy();
  });
});
