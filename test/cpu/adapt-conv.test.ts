// `adapt --full` through convolutional networks (issue 17): the CPU oracle's gradients of conv weights
// and biases (and the linear layers after them) against central finite differences of the f32
// network, through conv (padded, strided, dilated, grouped), clip, max and average pooling, affine,
// pad and a constant class token concatenated to the tokens (test/helpers/conv-net.ts), and through the
// shipped LeNet-5 and the ViT's patch embedding; dx of a conv through the chip's effective weights; the
// rewrite of conv tensors into the three shipped CNN/ViT files, and `adapt --full` on LeNet-5 end to end.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { mnistEvalData } from '../../src/io/datasets/eval-data.ts';
import { Prng } from '../../src/io/datasets/prng.ts';
import type { ConvOp, LinearOp, Network } from '../../src/ir/graph.ts';
import { parameterGradients, softmaxCrossEntropy, unsupportedOp } from '../../src/nn/adapt/backward.ts';
import { fullLayers, fullState, type FullLayer } from '../../src/nn/adapt/full.ts';
import { ChipWeights } from '../../src/nn/adapt/train.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { OnnxParamWriter } from '../../src/io/onnx/rewrite.ts';
import { loadModel } from '../../src/nn/load-model.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { convNet } from '../helpers/conv-net.ts';
import { checkParamGradients, largest } from '../helpers/param-grads.ts';
import { runMain } from '../helpers/cli.ts';
import { decodeModel, decodeTensor } from '../../src/io/onnx/decode.ts';

const CPU = { kind: 'cpu', reason: 'test' } as const;

/** --full's finite-difference check at 1% relative steps, every tensor's gradient well above the tolerance. */
const checkGradients = (net: Network, layers: readonly FullLayer[], x: Float32Array, labels: number[], B: number, picks: (g: Float64Array) => number[], tol: number) =>
  checkParamGradients(net, layers, x, labels, B, picks, { tol, step: 1e-2, minPeak: 20 * tol });

const spread = (k: number) => (g: Float64Array) => Array.from({ length: k }, (_, i) => Math.floor(((i + 0.5) * g.length) / k));

describe('conv backward (CPU oracle)', () => {
  it('every op of the small CNN has a backward; conv, pool, affine, pad, concat and constant are on the list', () => {
    expect(unsupportedOp(convNet(1), 0)).toBeNull();
  });

  it('small CNN: dW and db of both convs (one grouped) and both linear layers match central finite differences', async () => {
    const net = convNet(2);
    const layers = net.ops.filter((o): o is FullLayer => o.kind === 'conv' || o.kind === 'linear');
    const rng = new Prng(5);
    const B = 3;
    const x = Float32Array.from({ length: B * 2 * 7 * 7 }, () => 2 * rng.uniform() - 1);
    // 8 tensors (weight and bias of 4 layers), up to 6 entries each: the largest and some spread over the tensor (zeros included).
    const pick = (g: Float64Array) => [...new Set([...largest(3)(g), ...spread(3)(g)])];
    expect(await checkGradients(net, layers, x, [0, 2, 1], B, pick, 2e-4)).toBeGreaterThan(30);
  });

  it('LeNet-5: both convs\' weights and biases through relu and max pooling match finite differences', async () => {
    const net = loadModel('models/lenet5.onnx');
    const layers = fullLayers(net, resolveConfig({ preset: 'isaac' }), null);
    expect(layers.map((l) => l.kind)).toEqual(['conv', 'conv', 'linear', 'linear', 'linear']);
    const data = mnistEvalData(net.input.shape, 2, 1);
    const convs = layers.filter((l) => l.kind === 'conv');
    // Wrong labels: the trained network's loss on its own labels is too flat for f32 differences.
    expect(await checkGradients(net, convs, data.x, Array.from(data.labels, (l) => (l + 1) % 10), data.n, largest(3), 2e-4)).toBe(12);
  });

  it('the ViT: the patch-embedding conv is trained by default, its gradient crossing the class-token concat', async () => {
    const net = loadModel('models/fmnist-vit.onnx');
    const layers = fullLayers(net, resolveConfig({ preset: 'isaac' }), null);
    expect(layers).toHaveLength(18);
    expect(layers[0].kind).toBe('conv');
    const rng = new Prng(3);
    const x = Float32Array.from({ length: 2 * 784 }, () => rng.uniform());
    expect(await checkGradients(net, [layers[0]], x, [3, 7], 2, largest(3), 2e-4)).toBe(6);
  });

  it('a conv\'s dx runs through the chip\'s effective weights (W_eff of every group in the ONNX layout)', async () => {
    const net = convNet(4);
    const cfg = resolveConfig({ preset: 'isaac', noise: { programming: { sigma: 0.1 } }, seed: 3 });
    const rng = new Prng(8);
    const B = 2;
    const x = Float32Array.from({ length: B * 98 }, () => 2 * rng.uniform() - 1);
    const runner = openNetwork(CPU, net, cfg, false);
    await runner.calibrate(x, B);
    const chip = await runner.program(1);
    const W = new ChipWeights(net, cfg).forChip(chip);
    // From op 1 on (what a backward whose first trained op is c1 reads): c1 is not programmed, the rest is the same.
    const later = new ChipWeights(net, cfg, 1).forChip(chip);
    expect([...later.keys()]).toEqual(['c2', 'l1', 'head']);
    for (const [k, v] of later) expect(Array.from(v), k).toEqual(Array.from(W.get(k)!));
    const r = await runner.forward(chip, x, B, 0, true);
    chip.release();
    runner.destroy();
    const c2 = net.ops.find((o) => o.name === 'c2') as ConvOp;
    const eff = W.get('c2')!;
    expect(eff.length).toBe(c2.weight.length);
    // Noisy but close to the programmed weights, group by group.
    let err = 0;
    let ref = 0;
    for (let i = 0; i < eff.length; i++) {
      err += (eff[i] - c2.weight[i]) ** 2;
      ref += c2.weight[i] ** 2;
    }
    expect(Math.sqrt(err / ref)).toBeGreaterThan(1e-3);
    expect(Math.sqrt(err / ref)).toBeLessThan(0.5);
    // Without programming noise only 8-bit quantization separates them: a layout that mixed up groups,
    // outputs or taps would be off by the weights' own size.
    const clean = resolveConfig({ preset: 'isaac', seed: 3 });
    const r0 = openNetwork(CPU, net, clean, false);
    await r0.calibrate(x, B);
    const chip0 = await r0.program(1);
    const eff0 = new ChipWeights(net, clean).forChip(chip0).get('c2')!;
    chip0.release();
    r0.destroy();
    let err0 = 0;
    for (let i = 0; i < eff0.length; i++) err0 += (eff0[i] - c2.weight[i]) ** 2;
    expect(Math.sqrt(err0 / ref)).toBeLessThan(0.02);
    const ce = softmaxCrossEntropy(r.output, [1, 2], B);
    const ctx = (w: (op: LinearOp | ConvOp) => ArrayLike<number>) => ({ weights: w, adapters: new Map(), params: new Set(['c1']) });
    const withEff = parameterGradients(net, r.values!, B, ce.grad, ctx((op) => W.get(op.name)!)).get('c1')!.dW;
    const withIdeal = parameterGradients(net, r.values!, B, ce.grad, ctx((op) => op.weight)).get('c1')!.dW;
    // c1's gradient crosses c2 backward: it depends on which weights c2's dx uses.
    expect(withEff.some((v, i) => Math.abs(v - withIdeal[i]) > 1e-6 * Math.abs(v))).toBe(true);
    // c2 digital: its effective weights are its own.
    const digital = new ChipWeights(net, resolveConfig({ preset: 'isaac', layers: { c2: { digital: true } } }));
    const rr = openNetwork(CPU, net, resolveConfig({ preset: 'isaac', layers: { c2: { digital: true } } }), false);
    await rr.calibrate(x, B);
    const h = await rr.program(0);
    expect(Array.from(digital.forChip(h).get('c2')!)).toEqual(Array.from(c2.weight));
    h.release();
    rr.destroy();
  });
});

describe('writing trained conv weights back', () => {
  it.each(['models/lenet5.onnx', 'models/fmnist-mobilenet.onnx', 'models/fmnist-vit.onnx'])('%s: every conv\'s weight and bias land where import reads them; the graph is unchanged', (file) => {
    const net = loadModel(file);
    const layers = fullLayers(net, resolveConfig({ preset: 'isaac' }), null);
    expect(layers.some((l) => l.kind === 'conv')).toBe(true);
    const w = new OnnxParamWriter(readFileSync(file), file);
    for (const op of layers) {
      if (op.kind === 'conv') w.addConv(op);
      else w.addLinear(op);
    }
    const rng = new Prng(6);
    for (const p of fullState(net, layers).params) for (let i = 0; i < p.data.length; i += 5) p.data[i] += rng.uniform() - 0.5;
    const back = importOnnx(w.encode(), 'written');
    for (const op of layers) {
      const o = back.ops.find((x) => x.name === op.name) as FullLayer;
      expect(Array.from(o.weight), op.name).toEqual(Array.from(op.weight));
      if (op.bias) expect(Array.from(o.bias!), op.name).toEqual(Array.from(op.bias));
    }
    expect(JSON.stringify(back.ops.map((o) => [o.kind, o.name, o.inputs, o.output]))).toBe(JSON.stringify(net.ops.map((o) => [o.kind, o.name, o.inputs, o.output])));
  });
});

describe('xbarsim adapt --full on LeNet-5', () => {
  it('trains and writes back the convs with the linear layers; eval of the written file reproduces the accuracy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xbarsim-fullconv-'));
    const cfg = join(dir, 'noisy.json');
    writeFileSync(cfg, JSON.stringify({ preset: 'prime', inputs: { dacBits: 8 }, weights: { cellBits: 8, mapping: 'differential' }, adc: { bits: 8 }, noise: { programming: { sigma: 0.15 } }, calibration: { samples: 16 }, seed: 4 }));
    const out = join(dir, 'lenet-full.onnx');
    const file = 'models/lenet5.onnx';
    const r = await runMain(['adapt', '--full', '--model', file, '--dataset', 'mnist', '--config', cfg, '--chip', '0', '--lr', '0.001', '--batch', '16', '--limit', '32', '--holdout', '16', '--eval-limit', '40', '--epochs', '1', '--backend', 'cpu', '--json', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout);
    const net = loadModel(file);
    const convs = net.ops.filter((o): o is ConvOp => o.kind === 'conv');
    expect(rep.layers.slice(0, 2)).toEqual(convs.map((c) => c.name));
    expect(rep.trainedParams).toBe(net.ops.reduce((n, o) => n + (o.kind === 'conv' || o.kind === 'linear' ? o.weight.length + (o.bias?.length ?? 0) : 0), 0));
    // Every conv and linear tensor changed in the written file, the graph did not.
    const a = decodeModel(readFileSync(file), 'a');
    const b = decodeModel(readFileSync(out), 'b');
    expect(JSON.stringify(b.graph.node)).toBe(JSON.stringify(a.graph.node));
    const changed = b.graph.initializer.filter((t, i) => !decodeTensor(t, 'b').data.every((v, j) => v === decodeTensor(a.graph.initializer[i], 'a').data[j]));
    expect(changed.length).toBe(10);
    const back = loadModel(out);
    for (const c of convs) expect((back.ops.find((o) => o.name === c.name) as ConvOp).weight.some((v, i) => v !== c.weight[i]), c.name).toBe(true);
    const ev = await runMain(['eval', '--model', out, '--dataset', 'mnist', '--config', cfg, '--limit', '40', '--chips', '1', '--backend', 'cpu', '--json']);
    expect(ev.code, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout).chips[0].accuracy).toBe(rep.evaluation.accuracyWith);
  });

  it('--layers names conv layers too; an unknown name is refused with the allowed ones, exit 2, nothing written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'xbarsim-fullconv-'));
    const out = join(dir, 'never.onnx');
    const r = await runMain(['adapt', '--full', '--model', 'models/lenet5.onnx', '--dataset', 'mnist', '--preset', 'isaac', '--layers', 'conv2,nope', '--backend', 'cpu', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.ownStderrLines).toHaveLength(1);
    expect(r.stderr).toMatch(/--layers: "nope" is not a linear \(Gemm\/MatMul\) or Conv layer \(allowed: conv1, conv2, fc1, fc2, fc3\)/);
    expect(existsSync(out)).toBe(false);
    expect(fullLayers(loadModel('models/lenet5.onnx'), resolveConfig({ preset: 'isaac' }), ['conv2']).map((l) => l.name)).toEqual(['conv2']);
  });
});
