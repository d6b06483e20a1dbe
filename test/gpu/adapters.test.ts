// Adapters on the WebGPU executor: zero-B bit identity and switching sets, and the branch against
// the CPU reference (src/adapters/set.ts adapterBranchRef) through a whole network.
import { afterAll, describe, expect, it } from 'vitest';
import { openTestGpu } from '../helpers/gpu.ts';
import { checkZeroBAndSwitching, mlpAdapters, MLP, NOISY } from '../helpers/adapters.ts';
import { newAdapter, scaledUp, type AdapterSet } from '../../src/adapters/set.ts';
import { Prng } from '../../src/io/datasets/prng.ts';
import { attentionNet, D, T, tokenNet } from '../helpers/attention-net.ts';
import { adapterGradients, softmaxCrossEntropy } from '../../src/nn/adapt/backward.ts';
import { ChipWeights } from '../../src/nn/adapt/train.ts';
import type { Backend } from '../../src/gpu/backend.ts';
import { loadModel } from '../../src/nn/load-model.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { resolveConfig } from '../../src/config/schema.ts';
import { mnistEvalData } from '../../src/io/datasets/eval-data.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const CPU: Backend = { kind: 'cpu', reason: 'test' };
const GPU = (): Backend => ({ kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session });

/** GPU and CPU outputs of the token MLP (test/helpers/attention-net.ts) with random adapters on every linear layer. */
async function tokenOutputs(net = tokenNet(5)): Promise<Float32Array[]> {
  const rng = new Prng(6);
  const set: AdapterSet = new Map();
  for (const op of net.ops) if (op.kind === 'linear') {
    const a = newAdapter(op.K, op.N, 3, 6, () => 2 * rng.uniform() - 1);
    a.B.forEach((_, i) => (a.B[i] = 2 * rng.uniform() - 1));
    set.set(op.name, a);
  }
  const B = 7;
  const x = Float32Array.from({ length: B * T * D }, () => 2 * rng.uniform() - 1);
  const out: Float32Array[] = [];
  for (const backend of [GPU(), CPU]) {
    const runner = openNetwork(backend, net, resolveConfig({ preset: 'ideal' }), true);
    try {
      runner.setAdapters(set);
      out.push((await runner.forward(null, x, B, 0)).output);
    } finally {
      runner.destroy();
    }
  }
  return out;
}

describe.skipIf(!gpu)('adapters on WebGPU', () => {
  it('zero-B adapters leave every output bit-identical; switching sets needs no reprogramming', async () => {
    await checkZeroBAndSwitching(GPU());
  });

  it('f32 networks with adapters (the MLP, a token MLP, an attention block) equal the CPU reference', async () => {
    const net = loadModel(MLP);
    const data = mnistEvalData(net.input.shape, 33, 8);
    const set = mlpAdapters(5, 0.1, 9);
    const outs: Float32Array[] = [];
    for (const backend of [GPU(), CPU]) {
      const runner = openNetwork(backend, net, resolveConfig({ preset: 'ideal' }), true);
      try {
        runner.setAdapters(set);
        outs.push((await runner.forward(null, data.x, data.n, 0)).output);
      } finally {
        runner.destroy();
      }
    }
    outs.push(...(await tokenOutputs()));
    const [g, c] = outs;
    let worst = 0;
    for (let i = 0; i < c.length; i++) worst = Math.max(worst, Math.abs(g[i] - c[i]) / Math.max(1, Math.abs(c[i])));
    expect(worst).toBeLessThan(1e-4);
    // Adapters on a linear layer with several vectors (tokens) per sample.
    const [ga, ca] = outs.slice(2);
    for (let i = 0; i < ca.length; i++) expect(Math.abs(ga[i] - ca[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(ca[i])));
    // The attention block (layernorm, matmul, softmax, erf, gather, slice, reduce) with adapters on q, k, v, mlp and head.
    const [gb, cb] = await tokenOutputs(attentionNet(5));
    for (let i = 0; i < cb.length; i++) expect(Math.abs(gb[i] - cb[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(cb[i])));
  });
});

describe.skipIf(!gpu)('adapter training forward on WebGPU', () => {
  it('gradients from the GPU forward equal those from the CPU reference (f32 network and a noisy chip)', async () => {
    const net = loadModel(MLP);
    const data = mnistEvalData(net.input.shape, 16, 32);
    const set = mlpAdapters(3, 0.05, 12);
    for (const [cfgIn, digital, tol] of [[{ preset: 'ideal' }, true, 1e-4], [NOISY, false, 5e-2]] as const) {
      const cfg = resolveConfig(cfgIn);
      const grads = [];
      for (const backend of [GPU(), CPU]) {
        const runner = openNetwork(backend, net, cfg, digital);
        try {
          if (!digital) await runner.calibrate(data.calibration!.x, data.calibration!.n);
          const chip = digital ? null : await runner.program(3);
          runner.setAdapters(set);
          const r = await runner.forward(chip, data.x, data.n, 0, true);
          const ce = softmaxCrossEntropy(r.output, data.labels, data.n);
          const W = chip ? new ChipWeights(net, cfg).forChip(chip) : null;
          const adapters = new Map([...set].map(([k, a]) => [k, { a, up: scaledUp(a) }]));
          grads.push(adapterGradients(net, r.values!, data.n, ce.grad, { weights: (op) => (W ? W.get(op.name)! : op.weight), adapters }));
          chip?.release();
        } finally {
          runner.destroy();
        }
      }
      for (const [name, g] of grads[1]) {
        const h = grads[0].get(name)!;
        for (const [x, y] of [[h.dA, g.dA], [h.dB, g.dB]]) {
          let num = 0;
          let den = 0;
          for (let i = 0; i < x.length; i++) (num += (x[i] - y[i]) ** 2), (den += y[i] ** 2);
          expect(Math.sqrt(num / den), `${name} (${digital ? 'f32' : 'chip'})`).toBeLessThan(tol);
        }
      }
    }
  });
});
