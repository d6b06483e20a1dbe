// The conv backward of `adapt --full` on WebGPU (src/nn/adapt/backward-gpu.ts) against the CPU oracle
// (src/nn/adapt/backward.ts) on the same kept values: a small CNN with every op the shipped CNNs and
// the ViT's patch embedding cross (conv padded, strided, dilated, grouped; clip, max and average
// pooling, affine, pad, a constant class token and concat), the shipped MobileNet's depthwise convs,
// LeNet-5 and the ViT on a noisy chip's effective weights, and weight gradients split into row blocks
// (linear) and blocks of samples (conv) when one binding is too small.
import { afterAll, describe, expect, it } from 'vitest';
import { openTestGpu } from '../helpers/gpu.ts';
import { relErr } from '../helpers/rel-err.ts';
import { FAST, MLP, NOISY } from '../helpers/adapters.ts';
import { convNet } from '../helpers/conv-net.ts';
import type { Backend } from '../../src/gpu/backend.ts';
import { withLimits } from '../../src/gpu/runtime.ts';
import { resolveConfig } from '../../src/config/schema.ts';
import { mnistEvalData } from '../../src/io/datasets/eval-data.ts';
import { Prng } from '../../src/io/datasets/prng.ts';
import type { Network } from '../../src/ir/graph.ts';
import { parameterGradients, softmaxCrossEntropy, type BackwardContext } from '../../src/nn/adapt/backward.ts';
import { gpuBackwardGap, gpuGradients, rowBlocks } from '../../src/nn/adapt/backward-gpu.ts';
import { biasAdd, FullTrainer, fullLayers, fullState } from '../../src/nn/adapt/full.ts';
import { ChipWeights } from '../../src/nn/adapt/train.ts';
import { loadModel } from '../../src/nn/load-model.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import type { XbarConfig } from '../../src/config/types.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());
const CPU: Backend = { kind: 'cpu', reason: 'test' };

/** Kept values and the loss gradient of B samples on chip `chip` (null: the digital network). */
async function forward(net: Network, cfg: XbarConfig, x: Float32Array, labels: number[], B: number, chip: number | null): Promise<{ values: ReadonlyMap<string, Float32Array>; grad: Float64Array; W: Map<string, Float32Array> | null }> {
  const runner = openNetwork(CPU, net, cfg, chip === null);
  try {
    if (chip === null) {
      const r = await runner.forward(null, x, B, 0, true);
      return { values: r.values!, grad: softmaxCrossEntropy(r.output, labels, B).grad, W: null };
    }
    await runner.calibrate(x, B);
    const h = await runner.program(chip);
    const r = await runner.forward(h, x, B, 0, true);
    const W = new ChipWeights(net, cfg).forChip(h);
    h.release();
    return { values: r.values!, grad: softmaxCrossEntropy(r.output, labels, B).grad, W };
  } finally {
    runner.destroy();
  }
}

/** Every trained tensor's GPU gradient against the oracle's; returns how many were compared. */
async function compare(net: Network, ctx: BackwardContext, values: ReadonlyMap<string, Float32Array>, grad: Float64Array, B: number, tol: number, session = gpu!.session): Promise<number> {
  const c = parameterGradients(net, values, B, grad, ctx);
  const g = (await gpuGradients(session, net, values, B, grad, ctx)).params;
  expect([...g.keys()].sort()).toEqual([...c.keys()].sort());
  let n = 0;
  for (const [name, cg] of c) {
    expect(relErr(g.get(name)!.dW, cg.dW, 1e-3), `${name}.dW B=${B}`).toBeLessThan(tol);
    n++;
    if (cg.db) {
      expect(relErr(g.get(name)!.db!, cg.db, 1e-3), `${name}.db B=${B}`).toBeLessThan(tol);
      n++;
    }
  }
  return n;
}

describe('row blocks of a weight larger than one binding', () => {
  it('cover every row once, each block within the binding; one row too wide is refused', () => {
    expect(rowBlocks(10, 3, 48)).toEqual([{ k0: 0, k1: 4 }, { k0: 4, k1: 8 }, { k0: 8, k1: 10 }]);
    expect(rowBlocks(784, 256, 2 ** 27)).toEqual([{ k0: 0, k1: 784 }]);
    for (const [K, N, max] of [[784, 256, 65536], [7, 5, 20], [1, 1, 4]]) {
      const b = rowBlocks(K, N, max);
      expect(b[0].k0).toBe(0);
      expect(b[b.length - 1].k1).toBe(K);
      for (let i = 0; i < b.length; i++) {
        expect((b[i].k1 - b[i].k0) * N * 4).toBeLessThanOrEqual(max);
        if (i > 0) expect(b[i].k0).toBe(b[i - 1].k1);
      }
    }
    expect(() => rowBlocks(4, 100, 256)).toThrow(/one row of 100 weights \(400 bytes\) exceeds this adapter's maxStorageBufferBindingSize \(256\)/);
  });
});

describe.skipIf(!gpu)('conv backward on WebGPU', () => {
  it('small CNN: dW, db of both convs (one grouped) and both linear layers equal the oracle through clip, pools, affine, pad, concat (batch 1 and 3)', async () => {
    const net = convNet(2);
    expect(gpuBackwardGap(net, (op) => op.name === 'c1')).toBeNull();
    const rng = new Prng(5);
    for (const B of [1, 3]) {
      const x = Float32Array.from({ length: B * 98 }, () => 2 * rng.uniform() - 1);
      const f = await forward(net, resolveConfig({ preset: 'ideal' }), x, [0, 2, 1].slice(0, B), B, null);
      const ctx = { weights: (op: { weight: ArrayLike<number> }) => op.weight, adapters: new Map(), params: new Set(['c1', 'c2', 'l1', 'head']) };
      expect(await compare(net, ctx, f.values, f.grad, B, 1e-5)).toBe(8);
    }
  });

  it('LeNet-5 on a noisy chip: every conv and linear layer\'s dW and db equal the oracle (dx through the effective weights)', async () => {
    const net = loadModel('models/lenet5.onnx');
    const cfg = resolveConfig(NOISY);
    const layers = fullLayers(net, cfg, null);
    const data = mnistEvalData(net.input.shape, 4, 4);
    const f = await forward(net, cfg, data.x, Array.from(data.labels, (l) => (l + 3) % 10), 4, 2);
    const ctx = { weights: (op: { name: string }) => f.W!.get(op.name)!, adapters: new Map(), params: new Set(layers.map((l) => l.name)) };
    expect(await compare(net, ctx, f.values, f.grad, 4, 1e-5)).toBe(10);
  });

  it('the shipped ViT on a noisy chip: --full\'s gradients of all 18 layers (patch-embedding conv included) and bias Adds equal the oracle', async () => {
    const net = loadModel('models/fmnist-vit.onnx');
    const cfg = resolveConfig({ ...FAST, noise: { programming: { sigma: 0.05 } }, calibration: { samples: 8 }, seed: 2 });
    const layers = fullLayers(net, cfg, null);
    expect(layers).toHaveLength(18);
    const names = new Set(layers.map((l) => l.name));
    for (const op of layers) {
      const b = biasAdd(net, op);
      if (b) names.add(b.name);
    }
    const rng = new Prng(9);
    const x = Float32Array.from({ length: 2 * 784 }, () => rng.uniform());
    const f = await forward(net, cfg, x, [3, 7], 2, 1);
    const ctx = { weights: (op: { name: string }) => f.W!.get(op.name)!, adapters: new Map(), params: names };
    expect(await compare(net, ctx, f.values, f.grad, 2, 1e-4)).toBeGreaterThanOrEqual(36);
  });

  it('the shipped MobileNet (depthwise convs, clip, residual adds, global average pool), digital: every layer\'s dW and db equal the oracle', async () => {
    const net = loadModel('models/fmnist-mobilenet.onnx');
    const layers = fullLayers(net, resolveConfig({ preset: 'isaac' }), null);
    expect(layers.filter((l) => l.kind === 'conv' && l.group === l.cin && l.group > 1).length).toBeGreaterThan(5);
    const rng = new Prng(11);
    const x = Float32Array.from({ length: 2 * 784 }, () => rng.uniform());
    const f = await forward(net, resolveConfig({ preset: 'ideal' }), x, [4, 8], 2, null);
    const ctx = { weights: (op: { weight: ArrayLike<number> }) => op.weight, adapters: new Map(), params: new Set(layers.map((l) => l.name)) };
    expect(await compare(net, ctx, f.values, f.grad, 2, 1e-4)).toBe(2 * layers.length);
  });

  it('a binding too small for a layer\'s weights: dW in row blocks and dx from blocks of W equal the unsplit GPU result and the oracle', async () => {
    const net = loadModel(MLP);
    const cfg = resolveConfig(NOISY);
    const data = mnistEvalData(net.input.shape, 7, 7);
    const f = await forward(net, cfg, data.x, Array.from(data.labels), 7, 1);
    const ctx = { weights: (op: { name: string }) => f.W!.get(op.name)!, adapters: new Map(), params: new Set(['fc1', 'fc2', 'fc3']) };
    // fc1's dW (784 × 256 f32, 800 KB) and fc2's W (128 KB) both exceed 64 KB: 13 and 2 blocks.
    const small = withLimits(gpu!.session, { maxStorageBufferBindingSize: 65536 });
    const whole = (await gpuGradients(gpu!.session, net, f.values, 7, f.grad, ctx)).params;
    const split = (await gpuGradients(small, net, f.values, 7, f.grad, ctx)).params;
    for (const name of ['fc1', 'fc2', 'fc3']) {
      expect(Array.from(split.get(name)!.dW), name).toEqual(Array.from(whole.get(name)!.dW));
      expect(Array.from(split.get(name)!.db!), name).toEqual(Array.from(whole.get(name)!.db!));
    }
    expect(await compare(net, ctx, f.values, f.grad, 7, 1e-5, small)).toBe(6);
  });

  it('LeNet-5 with a 128 KB binding: the convs\' backward runs over blocks of samples (conv1 one by one), fc1 in row blocks; equal to the unsplit result and the oracle', async () => {
    const net = loadModel('models/lenet5.onnx');
    const cfg = resolveConfig(NOISY);
    const layers = fullLayers(net, cfg, null);
    const data = mnistEvalData(net.input.shape, 5, 5);
    const f = await forward(net, cfg, data.x, Array.from(data.labels, (l) => (l + 1) % 10), 5, 3);
    const ctx = { weights: (op: { name: string }) => f.W!.get(op.name)!, adapters: new Map(), params: new Set(layers.map((l) => l.name)) };
    const small = withLimits(gpu!.session, { maxStorageBufferBindingSize: 131072 });
    const whole = (await gpuGradients(gpu!.session, net, f.values, 5, f.grad, ctx)).params;
    const split = (await gpuGradients(small, net, f.values, 5, f.grad, ctx)).params;
    for (const l of layers) {
      // Summed block by block in f32: the same terms in another order.
      expect(relErr(split.get(l.name)!.dW, whole.get(l.name)!.dW), `${l.name}.dW`).toBeLessThan(1e-6);
      expect(relErr(split.get(l.name)!.db!, whole.get(l.name)!.db!), `${l.name}.db`).toBeLessThan(1e-6);
    }
    expect(await compare(net, ctx, f.values, f.grad, 5, 1e-5, small)).toBe(10);
    // A binding smaller than one sample's im2col is refused with one line naming the layer.
    await expect(gpuGradients(withLimits(gpu!.session, { maxStorageBufferBindingSize: 32768 }), net, f.values, 5, f.grad, ctx)).rejects.toThrow(/one sample's im2col of conv\d/);
  });

  it('--full on LeNet-5 on WebGPU (forward, re-programming and backward there) follows the CPU run\'s loss curve, convs trained', async () => {
    const cfg = resolveConfig({ ...FAST, noise: { programming: { sigma: 0.15 } }, calibration: { samples: 16 }, seed: 4 });
    const curves: number[][] = [];
    const moved: boolean[] = [];
    for (const backend of [{ kind: 'webgpu', runtime: gpu!.runtime, session: gpu!.session } as Backend, CPU]) {
      const net = loadModel('models/lenet5.onnx');
      const data = mnistEvalData(net.input.shape, 32, 16);
      const layers = fullLayers(net, cfg, null);
      const w0 = Float32Array.from(layers[0].weight);
      const trainer = new FullTrainer(backend, net, cfg, data.calibration!, layers, { chip: 0, lr: 1e-3, batch: 16, seed: 3 }, fullState(net, layers));
      expect(trainer.backwardOn).toBe(backend.kind);
      const losses: number[] = [];
      for (let e = 0; e < 2; e++) await trainer.epoch({ x: data.x, labels: data.labels, n: data.n, sampleSize: 784 }, e, (r) => losses.push(r.loss));
      curves.push(losses);
      moved.push(layers[0].weight.some((v, i) => v !== w0[i]));
    }
    expect(moved).toEqual([true, true]);
    const [g, c] = curves;
    expect(g).toHaveLength(4);
    for (let i = 0; i < c.length; i++) expect(Math.abs(g[i] - c[i]), `step ${i}: ${g[i]} vs ${c[i]}`).toBeLessThan(5e-2 * Math.max(1, c[i]));
  });
});
