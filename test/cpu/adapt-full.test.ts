// `adapt --full` (issue 17 item 3, hardware-aware training of all weights): weight and bias gradients of
// the CPU oracle against finite differences (the MLP, and an attention block whose head has PyTorch's
// MatMul + Add bias), and the command end to end on the MNIST MLP: the loss falls, the written ONNX is
// the original graph with new weights, `eval` of it reproduces the reported accuracy, a resumed run
// equals an uninterrupted one, and a non-.onnx --out is refused.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/schema.ts';
import { mnistEvalData } from '../../src/io/datasets/eval-data.ts';
import { Prng } from '../../src/io/datasets/prng.ts';
import { decodeModel, decodeTensor } from '../../src/io/onnx/decode.ts';
import type { ConvOp, LinearOp, Network, NetOp } from '../../src/ir/graph.ts';
import { biasAdd, fullState } from '../../src/nn/adapt/full.ts';
import { adaptedLayers } from '../../src/nn/adapt/train.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { OnnxParamWriter } from '../../src/io/onnx/rewrite.ts';
import { externalDataBeside, loadModel } from '../../src/nn/load-model.ts';
import { attentionNet, C, D, T } from '../helpers/attention-net.ts';
import { MLP } from '../helpers/adapters.ts';
import { checkParamGradients, largest } from '../helpers/param-grads.ts';
import { runMain } from '../helpers/cli.ts';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import { encodeNpy } from '../../src/io/npy.ts';

/** The MLP's and the attention block's linear layers (and bias Adds) as --full trains them, checked at 2% relative steps. */
const check = (net: Network, x: Float32Array, labels: number[], B: number, picks: (g: Float64Array) => number[], tol: number) =>
  checkParamGradients(net, net.ops.filter((o): o is LinearOp => o.kind === 'linear'), x, labels, B, picks, { tol, step: 2e-2 });

describe('weight gradients (CPU oracle)', () => {
  it('dW and db of every MLP layer match central finite differences of the f32 network', async () => {
    const net = loadModel(MLP);
    const data = mnistEvalData(net.input.shape, 6, 1);
    expect(await check(net, data.x, Array.from(data.labels), data.n, largest(4), 2e-5)).toBe(24);
  });

  it('attention block: dW and db of q, k, v, mlp and the head, and the constant of a MatMul + Add bias', async () => {
    const base = attentionNet(3);
    // The head as PyTorch exports a Linear on tokens: MatMul without bias, then Add of a constant.
    const head = base.ops.find((o) => o.name === 'head') as LinearOp;
    const rng = new Prng(4);
    const addOp: NetOp = { kind: 'binary', name: 'head.add', inputs: ['head.mm'], output: 'head', fn: 'add', b: { dims: [C], data: Float32Array.from({ length: C }, () => rng.uniform() - 0.5) }, constFirst: false, aShape: [C], bShape: [C], outShape: [C] };
    const net: Network = { ...base, ops: [...base.ops.map((o) => (o === head ? { ...head, output: 'head.mm', bias: null } : o)), addOp], shapes: new Map([...base.shapes, ['head.mm', [C]]]) };
    expect(biasAdd(net, net.ops.find((o) => o.name === 'head') as LinearOp)?.name).toBe('head.add');
    const B = 3;
    const x = Float32Array.from({ length: B * T * D }, () => 2 * rng.uniform() - 1);
    const every = (g: Float64Array) => Array.from({ length: 5 }, (_, i) => Math.floor((i * g.length) / 5));
    // q, k, v, mlp: weight and bias (8 tensors); head: weight and the Add's constant.
    expect(await check(net, x, [1, 4, 0], B, every, 1e-4)).toBe(10 * 5);
  });
});

const dir = mkdtempSync(join(tmpdir(), 'xbarsim-full-'));
const cfg = join(dir, 'noisy.json');
// As test/cpu/adapt-cli.test.ts: one 8-bit cycle and slice, heavy programming noise (about 50% on chip 0);
// 64 calibration images, since every step re-calibrates the re-programmed network.
writeFileSync(cfg, JSON.stringify({ preset: 'prime', inputs: { dacBits: 8 }, weights: { cellBits: 8, mapping: 'differential' }, adc: { bits: 8 }, noise: { programming: { sigma: 0.15 } }, calibration: { samples: 64 }, seed: 4 }));
const base = ['adapt', '--full', '--model', MLP, '--dataset', 'mnist', '--config', cfg, '--chip', '0', '--lr', '0.0005', '--limit', '128', '--holdout', '32', '--eval-limit', '100', '--backend', 'cpu', '--json'];

describe('writing trained weights back', () => {
  it('a file whose nodes have no names: layers are found by the importer\'s own names (opType_index)', () => {
    const m = onnx.ModelProto.decode(readFileSync(MLP));
    for (const n of m.graph!.node!) n.name = '';
    const bytes = onnx.ModelProto.encode(m).finish();
    const net = importOnnx(bytes, 'unnamed');
    const layers = adaptedLayers(net, resolveConfig({ preset: 'isaac' }), null);
    expect(layers.length).toBeGreaterThan(1);
    const w = new OnnxParamWriter(bytes, 'unnamed');
    for (const op of layers) w.addLinear(op);
    for (const op of layers) op.weight[0] += 0.25;
    const back = importOnnx(w.encode(), 'written');
    for (const op of layers) expect((back.ops.find((x) => x.name === op.name) as LinearOp).weight[0], op.name).toBe(op.weight[0]);
  });

  it('the shipped ViT: every linear layer\'s MatMul weight and folded Add bias, and the Gemm head, are written where import reads them', () => {
    const file = 'models/fmnist-vit.onnx';
    const net = loadModel(file);
    const layers = adaptedLayers(net, resolveConfig({ preset: 'isaac' }), null);
    expect(layers).toHaveLength(17);
    const w = new OnnxParamWriter(readFileSync(file), file);
    for (const op of layers) w.addLinear(op);
    const state = fullState(net, layers);
    expect(state.params).toHaveLength(34);
    const rng = new Prng(2);
    for (const p of state.params) for (let i = 0; i < p.data.length; i += 7) p.data[i] += rng.uniform() - 0.5;
    const back = importOnnx(w.encode(), 'written');
    for (const op of layers) {
      const o = back.ops.find((x) => x.name === op.name) as LinearOp;
      expect(Array.from(o.weight), op.name).toEqual(Array.from(op.weight));
      expect(Array.from(o.bias!), op.name).toEqual(Array.from(op.bias!));
    }
    expect(JSON.stringify(back.ops.map((o) => [o.kind, o.name, o.inputs, o.output]))).toBe(JSON.stringify(net.ops.map((o) => [o.kind, o.name, o.inputs, o.output])));
  });

  it('a PyTorch export with modules as functions, and one with its weights in an external file: written back as one flat file with the weights embedded', () => {
    for (const name of ['module-functions-15', 'external-data-17']) {
      const file = `test/fixtures/torch-exports/${name}/model.onnx`;
      const net = loadModel(file);
      const w = new OnnxParamWriter(readFileSync(file), file, externalDataBeside(file));
      const layers = net.ops.filter((o): o is LinearOp | ConvOp => o.kind === 'linear' || o.kind === 'conv');
      expect(layers).toHaveLength(4);
      for (const op of layers) {
        if (op.kind === 'conv') w.addConv(op);
        else w.addLinear(op);
        op.weight[0] += 0.25;
      }
      // No external data reader: the written file must hold everything itself.
      const back = importOnnx(w.encode(), 'written');
      for (const op of layers) expect((back.ops.find((x) => x.name === op.name) as LinearOp | ConvOp).weight[0], `${name} ${op.name}`).toBe(op.weight[0]);
      expect(back.ops.map((o) => o.name)).toEqual(net.ops.map((o) => o.name));
    }
  });
});

describe('xbarsim adapt --full', () => {
  it('lowers the loss; the written ONNX is the original graph with new weights and eval reproduces the accuracy; resuming equals running on', async () => {
    const out = join(dir, 'full.onnx');
    const r = await runMain([...base, '--epochs', '2', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout);
    const log = rep.epochLog as { loss: number }[];
    expect(log).toHaveLength(2);
    expect(log[1].loss).toBeLessThan(0.8 * log[0].loss);
    expect(rep.evaluation.accuracyWith).toBeGreaterThan(rep.evaluation.accuracyWithout + 0.1);
    expect(rep.trainedParams).toBe(784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);

    // Same nodes, same initializer names, types and dims; only the trained tensors' values differ.
    const a = decodeModel(readFileSync(MLP), 'a');
    const b = decodeModel(readFileSync(out), 'b');
    expect(JSON.stringify(b.graph.node)).toBe(JSON.stringify(a.graph.node));
    expect(b.graph.initializer.map((t) => [t.name, t.dataType, t.dims.map(Number)])).toEqual(a.graph.initializer.map((t) => [t.name, t.dataType, t.dims.map(Number)]));
    const changed = b.graph.initializer.filter((t, i) => !decodeTensor(t, 'b').data.every((v, j) => v === decodeTensor(a.graph.initializer[i], 'a').data[j]));
    expect(changed.length).toBe(6);

    const ev = await runMain(['eval', '--model', out, '--dataset', 'mnist', '--config', cfg, '--limit', '100', '--chips', '1', '--backend', 'cpu', '--json']);
    expect(ev.code, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout).chips[0].accuracy).toBe(rep.evaluation.accuracyWith);

    const out2 = join(dir, 'resumed.onnx');
    expect((await runMain([...base, '--epochs', '1', '--out', out2])).code).toBe(0);
    const res = await runMain([...base, '--epochs', '2', '--out', out2, '--resume']);
    expect(res.code, res.stderr).toBe(0);
    expect(JSON.parse(res.stdout).epochLog).toEqual(log);
    expect(readFileSync(out2).equals(readFileSync(out))).toBe(true);
  });

  it.each([
    [['--out', join(dir, 'w.npz')], /--out .*w.npz: --full writes the re-programmed model, an .onnx file \(allowed: .onnx\)/],
    [['--init', 'rrr'], /--init rrr: --full/],
  ])('refuses %j with one line, exit 2, nothing written', async (extra, re) => {
    const args = [...base, '--epochs', '1', '--out', join(dir, 'never.onnx'), ...extra];
    const r = await runMain(args);
    expect(r.code).toBe(2);
    expect(r.ownStderrLines).toHaveLength(1);
    expect(r.stderr).toMatch(re);
    expect(existsSync(join(dir, 'never.onnx'))).toBe(false);
    expect(existsSync(join(dir, 'w.npz'))).toBe(false);
  });

  it('a model with a dynamic height and width: trained at the data\'s size, and the written file re-imported at it', async () => {
    const model = join(dir, 'dyn-hw.onnx');
    writeFileSync(model, buildOnnxModel({
      inputs: [{ name: 'x', dims: ['N', 2, 'H', 'W'] }],
      outputs: [{ name: 'y', dims: ['N', 3] }],
      initializers: [{ name: 'w', dims: [3, 2], data: Float32Array.of(0.5, -0.2, 0.1, 0.3, -0.4, 0.2) }, { name: 'b', dims: [3], data: new Float32Array(3) }],
      nodes: [{ op: 'GlobalAveragePool', inputs: ['x'], outputs: ['p'] }, { op: 'Flatten', inputs: ['p'], outputs: ['f'] }, { op: 'Gemm', inputs: ['f', 'w', 'b'], outputs: ['y'], attrs: { transB: 1 } }],
    }));
    const rng = new Prng(3);
    const x = join(dir, 'dyn-x.npy');
    writeFileSync(x, encodeNpy([12, 2, 3, 5], '<f4', Float32Array.from({ length: 12 * 30 }, () => rng.uniform() * 2 - 1)));
    const y = join(dir, 'dyn-y.npy');
    writeFileSync(y, encodeNpy([12], '<f8', Array.from({ length: 12 }, (_, i) => i % 3)));
    const out = join(dir, 'dyn-hw-trained.onnx');
    const r = await runMain(['adapt', '--full', '--model', model, '--inputs', x, '--labels', y, '--preset', 'ideal', '--holdout', '4', '--epochs', '1', '--out', out, '--backend', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
  });
});
