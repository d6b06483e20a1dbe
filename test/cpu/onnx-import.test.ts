import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { onnx } from 'onnx-proto';
import { UsageError } from '../../src/errors.ts';
import { buildOnnxModel } from '../../src/io/onnx/build.ts';
import type { BuildModel, BuildNode, BuildTensor } from '../../src/io/onnx/build.ts';
import { decodeModel, decodeTensor } from '../../src/io/onnx/decode.ts';
import { importOnnx } from '../../src/io/onnx/import.ts';
import { int64ToNumber, proto } from '../../src/io/onnx/proto.ts';
import type { BinaryOp, ConvOp, LinearOp, NetOp, Network, ReshapeOp, SoftmaxOp } from '../../src/ir/graph.ts';
import {
  allTestModels,
  convBnModel,
  convVariantsModel,
  mlpModel,
  poolingModel,
  refBatchNorm,
  refConv,
  refGemm,
  refPool,
  refSoftmaxLast,
  residualModel,
  samePads,
  testInput,
  torchFlattenModel,
} from '../helpers/onnx-models.ts';
import type { Batch, Storage } from '../helpers/onnx-models.ts';
import { maxAbs, maxAbsDiff, randomArray } from '../helpers/random.ts';
import { runCli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/files.ts';
import { encodeNpy } from '../../src/io/npy.ts';
import { usageMessage } from '../helpers/errors.ts';
import { resolveConfig } from '../../src/config/schema.ts';
import { openNetwork } from '../../src/nn/runner.ts';
import { digitalForward } from '../helpers/digital-run.ts';

const FILE = 'model.onnx';

function op<K extends NetOp['kind']>(net: Network, name: string, kind: K): Extract<NetOp, { kind: K }> {
  const o = net.ops.find((x) => x.name === name);
  if (!o) throw new Error(`no op ${name} in ${net.ops.map((x) => x.name).join(', ')}`);
  expect(o.kind).toBe(kind);
  return o as Extract<NetOp, { kind: K }>;
}

/** The UsageError thrown by importing, checked to be one line naming the file. */
function importError(bytes: Uint8Array): string {
  const msg = usageMessage(() => importOnnx(bytes, FILE));
  expect(msg.startsWith(`${FILE}: `)).toBe(true);
  return msg;
}

/** A one-input, one-output float model around `nodes`. */
function tiny(nodes: BuildNode[], o: { opset?: number; input?: (number | string)[]; init?: BuildTensor[]; output?: string } = {}): Uint8Array {
  const m: BuildModel = {
    opset: o.opset ?? 13,
    inputs: [{ name: 'x', dims: o.input ?? ['N', 4] }],
    outputs: [{ name: o.output ?? 'y', dims: ['N'] }],
    initializers: o.init ?? [],
    nodes,
  };
  return buildOnnxModel(m);
}

function f32(name: string, dims: number[], values?: number[], seed = 7): BuildTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  return { name, dims, data: values ? Float32Array.from(values) : randomArray(n, seed) };
}

function i64(name: string, values: number[]): BuildTensor {
  return { name, dims: [values.length], data: BigInt64Array.from(values, (v) => BigInt(v)) };
}

/** Encodes a raw ModelProto for cases build.ts cannot express. */
function encodeRaw(m: onnx.IModelProto): Uint8Array {
  return proto.ModelProto.encode(m).finish();
}

function floatInput(name: string, dims: (number | string)[]): onnx.ValueInfoProto {
  return proto.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType: 1, shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } } },
  });
}

describe('build.ts round trip', () => {
  it('encodes attributes with the documented types and tensors in raw and typed form', () => {
    const bytes = buildOnnxModel({
      opset: 11,
      inputs: [{ name: 'x', dims: ['N', 3] }],
      outputs: [{ name: 'y', dims: ['N', 2] }],
      initializers: [
        { name: 'a', dims: [2], data: Float32Array.of(1.5, -2) },
        { name: 'b', dims: [2], data: Float32Array.of(1.5, -2), raw: false },
        { name: 'c', dims: [2], data: Float64Array.of(0.1, 3), raw: false },
        { name: 'd', dims: [2], data: BigInt64Array.of(-1n, 7n) },
        { name: 'e', dims: [2], data: BigInt64Array.of(-1n, 7n), raw: false },
      ],
      nodes: [
        {
          op: 'Foo', inputs: ['x'], outputs: ['y'],
          attrs: { i: 3, f: 0.25, ints: [1, 2], s: 'SAME_UPPER', fl: { floats: [1, 2] }, il: { ints: [] }, t: { tensor: { dims: [1], data: Float32Array.of(4) } } },
        },
        { op: 'Gemm', inputs: ['x', 'a'], outputs: ['z'], attrs: { alpha: 1, transB: 1 } },
        { op: 'Constant', inputs: [], outputs: ['k'], attrs: { value: { tensor: { dims: [2], data: BigInt64Array.of(3n, -1n) } } } },
      ],
    });
    const m = decodeModel(bytes, FILE);
    expect(int64ToNumber(m.opsetImport[0].version)).toBe(11);
    const g = m.graph;
    expect(g.node[0].name).toBe('Foo_0');
    const attrs = Object.fromEntries(g.node[0].attribute.map((a) => [a.name, a]));
    expect([attrs.i.type, attrs.f.type, attrs.ints.type, attrs.s.type, attrs.fl.type, attrs.il.type, attrs.t.type]).toEqual([2, 1, 7, 3, 6, 7, 4]);
    expect(attrs.f.f).toBe(0.25);
    // Spec-typed float attributes stay FLOAT even when integral.
    expect(g.node[1].attribute.map((a) => [a.name, a.type])).toEqual([['alpha', 1], ['transB', 2]]);
    expect(decodeTensor(g.node[2].attribute[0].t!, 'test')).toEqual({ kind: 'int', dims: [2], data: [3, -1], elem: 7 });
    expect(new TextDecoder().decode(attrs.s.s)).toBe('SAME_UPPER');
    const t = (name: string) => decodeTensor(g.initializer.find((x) => x.name === name)!, 'test');
    expect(t('a')).toEqual({ kind: 'float', dims: [2], data: Float32Array.of(1.5, -2) });
    expect(t('b')).toEqual(t('a'));
    expect(g.initializer.find((x) => x.name === 'b')!.rawData.length).toBe(0);
    expect(t('c')).toEqual({ kind: 'float', dims: [2], data: Float32Array.of(0.1, 3) });
    expect(t('d')).toEqual({ kind: 'int', dims: [2], data: [-1, 7], elem: 7 });
    expect(t('e')).toEqual(t('d'));
  });
});

describe('decodeTensor', () => {
  it('reads int64_data given as Long-like objects and int32/float16 raw data', () => {
    const longs = decodeTensor({ dims: [2], dataType: 7, int64Data: [{ low: -1, high: -1 } as never, { low: 5, high: 1 } as never] }, 't');
    expect(longs).toEqual({ kind: 'int', dims: [2], data: [-1, 4294967301], elem: 7 });
    const i32 = decodeTensor({ dims: [2], dataType: 6, rawData: new Uint8Array([1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff]) }, 't');
    expect(i32).toEqual({ kind: 'int', dims: [2], data: [1, -2], elem: 6 });
    const half = decodeTensor({ dims: [3], dataType: 10, rawData: new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0x00, 0x35]) }, 't');
    expect(half).toEqual({ kind: 'float', dims: [3], data: Float32Array.of(1, -2, 0.3125) });
  });

  it('reads raw_data at an unaligned offset', () => {
    const buf = new Uint8Array(9);
    new DataView(buf.buffer).setFloat32(1, 2.5, true);
    new DataView(buf.buffer).setFloat32(5, -1, true);
    expect(decodeTensor({ dims: [2], dataType: 1, rawData: buf.subarray(1) }, 't').data).toEqual(Float32Array.of(2.5, -1));
  });

  it('rejects external data not read by decodeModel, wrong sizes and unsupported types', () => {
    expect(() => decodeTensor({ name: 'w', dims: [2], dataType: 1, dataLocation: 1, externalData: [{ key: 'location', value: 'w.bin' }] }, FILE)).toThrow(/tensor "w" keeps its data in an external file, which was not read/);
    expect(() => decodeTensor({ name: 'w', dims: [3], dataType: 1, floatData: [1, 2] }, FILE)).toThrow(/should hold 3 values, has 2/);
    expect(() => decodeTensor({ name: 'w', dims: [1], dataType: 8, stringData: [new Uint8Array(1)] }, FILE)).toThrow(/string/);
  });
});

describe('importOnnx: model (a) Conv + BatchNorm + Relu + MaxPool + Flatten + Gemm', () => {
  const m = convBnModel();
  const net = importOnnx(m.bytes, FILE);

  it('produces the expected ops, shapes, names and layer indices', () => {
    expect(net.ops.map((o) => o.kind)).toEqual(['conv', 'unary', 'pool', 'reshape', 'linear']);
    expect(net.ops.map((o) => o.name)).toEqual(['conv1', 'relu1', 'pool1', 'flatten', 'fc']);
    expect(net.input).toEqual({ name: 'input', shape: [3, 8, 8] });
    expect(net.output).toBe('output');
    expect(net.opset).toBe(13);
    const conv = op(net, 'conv1', 'conv');
    expect(conv.layerIndex).toBe(0);
    expect(conv).toMatchObject({ cin: 3, cout: 4, group: 1, kh: 3, kw: 3, strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], inShape: [3, 8, 8], outShape: [4, 8, 8] });
    // The BatchNormalization is gone: the conv now writes its output.
    expect(conv.output).toBe('bn');
    expect(op(net, 'relu1', 'unary').inputs).toEqual(['bn']);
    expect(op(net, 'pool1', 'pool')).toMatchObject({ mode: 'max', kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], outShape: [4, 4, 4] });
    expect(op(net, 'flatten', 'reshape').outShape).toEqual([64]);
    const fc = op(net, 'fc', 'linear');
    expect(fc).toMatchObject({ layerIndex: 1, K: 64, N: 10 });
    expect([...net.shapes.entries()]).toEqual([
      ['input', [3, 8, 8]], ['bn', [4, 8, 8]], ['r', [4, 8, 8]], ['p', [4, 4, 4]], ['f', [64]], ['output', [10]],
    ]);
  });

  it('folds BatchNormalization into the conv: conv(folded) equals bn(conv(x))', () => {
    const g = decodeModel(m.bytes, FILE).graph;
    const t = (name: string) => decodeTensor(g.initializer.find((x) => x.name === name)!, 't').data as Float32Array;
    const x: Batch = { data: testInput(m, 3), batch: 3, shape: [3, 8, 8] };
    const direct = refBatchNorm(refConv(x, t('conv1.weight'), [4, 3, 3, 3], t('conv1.bias'), { pads: [1, 1, 1, 1] }), t('bn1.weight'), t('bn1.bias'), t('bn1.running_mean'), t('bn1.running_var'), Math.fround(0.001));
    const conv = op(net, 'conv1', 'conv');
    const folded = refConv(x, conv.weight, [4, 3, 3, 3], conv.bias, { pads: [...conv.pads] as [number, number, number, number] });
    expect(maxAbsDiff(folded.data, direct.data)).toBeLessThan(1e-5 * Math.max(1, maxAbs(direct.data)));
    // Per-element: w' = w·γ/√(var+ε) exactly (one f32 rounding).
    const s0 = t('bn1.weight')[0] / Math.sqrt(t('bn1.running_var')[0] + Math.fround(0.001));
    expect(conv.weight[5]).toBe(Math.fround(t('conv1.weight')[5] * s0));
    const b0 = (t('conv1.bias')[0] - t('bn1.running_mean')[0]) * s0 + t('bn1.bias')[0];
    expect(conv.bias![0]).toBeCloseTo(b0, 6);
  });

  it('stores the Gemm weight transposed to [K, N] and does not alias the initializer', () => {
    const g = decodeModel(m.bytes, FILE).graph;
    const w = decodeTensor(g.initializer.find((x) => x.name === 'fc.weight')!, 't').data as Float32Array;
    const fc = op(net, 'fc', 'linear');
    expect(fc.weight[3 * 10 + 7]).toBe(w[7 * 64 + 3]);
    expect(fc.bias).toHaveLength(10);
  });

  it('gives the same IR for raw, typed, float64 and float64-typed initializers', () => {
    for (const storage of ['typed', 'float64', 'float64-typed'] as Storage[]) {
      const other = importOnnx(convBnModel({ storage }).bytes, FILE);
      expect(other.ops).toEqual(net.ops);
    }
  });
});

describe('importOnnx: model (b) residual block', () => {
  const net = importOnnx(residualModel().bytes, FILE);
  it('keeps the two-activation Add and the global average pool', () => {
    expect(net.ops.map((o) => o.kind)).toEqual(['conv', 'unary', 'conv', 'binary', 'unary', 'pool', 'reshape', 'linear']);
    const add = op(net, 'block.add', 'binary');
    expect(add).toMatchObject({ fn: 'add', b: null, constFirst: false, inputs: ['c2', 'input'], aShape: [4, 6, 6], bShape: [4, 6, 6], outShape: [4, 6, 6] });
    expect(op(net, 'gap', 'pool')).toMatchObject({ mode: 'avg', kernel: [6, 6], strides: [1, 1], pads: [0, 0, 0, 0], outShape: [4, 1, 1], countIncludePad: false });
    expect(net.ops.filter((o) => o.kind === 'conv' || o.kind === 'linear').map((o) => (o as ConvOp | LinearOp).layerIndex)).toEqual([0, 1, 2]);
    // A conv whose output is read twice is never folded into; here nothing is folded at all.
    expect(op(net, 'block.conv2', 'conv').output).toBe('c2');
    expect(op(net, 'head', 'linear')).toMatchObject({ K: 4, N: 5 });
  });
});

describe('importOnnx: model (c) MLP', () => {
  it('folds the bias Adds (either operand order) into the MatMuls', () => {
    const m = mlpModel();
    const net = importOnnx(m.bytes, FILE);
    expect(net.ops.map((o) => `${o.kind}:${o.name}`)).toEqual(['linear:fc1.matmul', 'unary:relu', 'linear:fc2.matmul', 'softmax:softmax']);
    const g = decodeModel(m.bytes, FILE).graph;
    const t = (name: string) => decodeTensor(g.initializer.find((x) => x.name === name)!, 't').data;
    const fc1 = op(net, 'fc1.matmul', 'linear');
    expect(fc1).toMatchObject({ K: 12, N: 16, layerIndex: 0, output: 'h2' });
    expect(fc1.weight).toEqual(t('fc1.weight'));
    expect(fc1.bias).toEqual(t('fc1.bias'));
    expect(op(net, 'fc2.matmul', 'linear')).toMatchObject({ layerIndex: 1, output: 'o2', bias: t('fc2.bias') });
    expect(op(net, 'softmax', 'softmax')).toMatchObject({ axis: 0, inShape: [10] });
    expect(net.shapes.has('h')).toBe(false);
  });
});

describe('importOnnx: model (d) PyTorch flatten pattern', () => {
  for (const opset of [9, 11, 13, 21]) {
    it(`folds Shape → Gather → Unsqueeze → Concat → Reshape into one reshape (opset ${opset})`, () => {
      const net = importOnnx(torchFlattenModel({ opset }).bytes, FILE);
      expect(net.ops.map((o) => o.kind)).toEqual(['conv', 'unary', 'reshape', 'linear']);
      expect(op(net, '/Reshape', 'reshape')).toMatchObject({ inputs: ['r'], outShape: [27] });
      expect(op(net, '/fc/Gemm', 'linear')).toMatchObject({ K: 27, N: 6, layerIndex: 1 });
    });
  }
});

describe('importOnnx: model (e) convolution variants', () => {
  it('resolves groups, strides, asymmetric pads, dilations and auto_pad', () => {
    const net = importOnnx(convVariantsModel().bytes, FILE);
    expect(op(net, 'grouped', 'conv')).toMatchObject({ cin: 4, cout: 6, group: 2, strides: [2, 2], pads: [1, 0, 2, 1], outShape: [6, 5, 4] });
    expect(op(net, 'lrelu', 'unary')).toMatchObject({ fn: 'leaky-relu', alpha: Math.fround(0.1) });
    expect(op(net, 'lrelu_default', 'unary').alpha).toBe(0.01);
    const dil = op(net, 'dilated', 'conv');
    expect(dil).toMatchObject({ dilations: [2, 2], pads: [1, 1, 1, 1], outShape: [4, 5, 4], bias: null });
    // With an even kernel SAME_LOWER puts the odd padding first, SAME_UPPER last.
    expect(op(net, 'depthwise', 'conv')).toMatchObject({ group: 4, cin: 4, cout: 4, pads: [1, 1, 0, 0], outShape: [4, 5, 4] });
    expect(op(net, 'upper', 'conv')).toMatchObject({ group: 1, pads: [0, 0, 1, 1], outShape: [4, 5, 4], layerIndex: 3 });
    expect(op(net, 'avgpool', 'pool')).toMatchObject({ mode: 'avg', countIncludePad: true, pads: [1, 1, 1, 1], outShape: [4, 3, 2] });
    const fc = op(net, 'fc', 'linear');
    expect(fc).toMatchObject({ K: 24, N: 7, bias: null, layerIndex: 4 });
  });

  it('folds Gemm alpha into the weight', () => {
    const m = convVariantsModel();
    const g = decodeModel(m.bytes, FILE).graph;
    const w = decodeTensor(g.initializer.find((x) => x.name === 'fc.weight')!, 't').data as Float32Array;
    const fc = op(importOnnx(m.bytes, FILE), 'fc', 'linear');
    expect(fc.weight[2 * 7 + 5]).toBe(Math.fround(0.5 * w[5 * 24 + 2]));
  });
});

describe('importOnnx: model (f) pooling and activations', () => {
  for (const opset of [9, 11, 13, 21]) {
    it(`pools with ceil_mode and reads Clip bounds from ${opset < 11 ? 'attributes' : 'inputs'} (opset ${opset})`, () => {
      const net = importOnnx(poolingModel({ opset }).bytes, FILE);
      expect(op(net, 'maxpool', 'pool')).toMatchObject({ mode: 'max', pads: opset < 10 ? [1, 1, 2, 2] : [1, 1, 1, 1], outShape: [3, 6, 6] });
      expect(op(net, 'avgpool', 'pool')).toMatchObject({ mode: 'avg', countIncludePad: false, outShape: [3, 3, 3] });
      expect(op(net, 'clip', 'unary')).toMatchObject({ fn: 'clip', min: -0.5, max: 0.75 });
      expect(op(net, 'transpose', 'transpose')).toMatchObject({ perm: [0, 2, 1], inShape: [3, 3, 3] });
      expect(op(net, 'fc.matmul', 'linear')).toMatchObject({ K: 27, N: 4, output: 'output', layerIndex: 0 });
    });
  }
});

describe('importOnnx: opset-dependent semantics', () => {
  it('Clip without bounds is unbounded (opset 9 attributes absent, opset 13 inputs absent)', () => {
    for (const opset of [9, 13]) {
      const net = importOnnx(tiny([{ op: 'Clip', inputs: ['x'], outputs: ['y'] }], { opset }), FILE);
      expect(net.ops[0]).toMatchObject({ kind: 'unary', fn: 'clip', min: -Infinity, max: Infinity });
    }
    const onlyMax = importOnnx(tiny([{ op: 'Clip', inputs: ['x', '', 'hi'], outputs: ['y'] }], { opset: 12, init: [f32('hi', [], [6])] }), FILE);
    expect(onlyMax.ops[0]).toMatchObject({ min: -Infinity, max: 6 });
  });

  it('Softmax: opset < 13 flattens at axis (default 1), opset ≥ 13 uses one axis (default -1)', () => {
    const soft = (opset: number, input: (number | string)[], axis?: number) =>
      tiny([{ op: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: axis === undefined ? {} : { axis } }], { opset, input });
    // [N, 1, 5] at axis 1 (opset 11): flattening [1, 5] is a softmax over the 5.
    expect((importOnnx(soft(11, ['N', 1, 5]), FILE).ops[0] as SoftmaxOp).axis).toBe(1);
    expect((importOnnx(soft(11, ['N', 5, 1]), FILE).ops[0] as SoftmaxOp).axis).toBe(0);
    expect((importOnnx(soft(9, ['N', 2, 3], 2), FILE).ops[0] as SoftmaxOp).axis).toBe(1);
    // Two trailing dims > 1 (issue 12: Softmax-11's 2-D coercion): a softmax over the flattened [6].
    const coerced = importOnnx(soft(11, ['N', 2, 3]), FILE);
    expect(coerced.ops.map((o) => o.kind)).toEqual(['reshape', 'softmax', 'reshape']);
    expect(coerced.ops[1]).toMatchObject({ axis: 0, inShape: [6] });
    expect(coerced.ops[2]).toMatchObject({ outShape: [2, 3] });
    expect((importOnnx(soft(13, ['N', 2, 3]), FILE).ops[0] as SoftmaxOp).axis).toBe(1);
    expect((importOnnx(soft(21, ['N', 2, 3], 1), FILE).ops[0] as SoftmaxOp).axis).toBe(0);
    expect(importError(soft(13, ['N', 3], 0))).toMatch(/axis 0/);
  });

  it('Squeeze/Unsqueeze take axes as attributes before opset 13 and as inputs from 13', () => {
    const sq11 = tiny([
      { op: 'Unsqueeze', inputs: ['x'], outputs: ['u'], attrs: { axes: [1, -1] } },
      { op: 'Squeeze', inputs: ['u'], outputs: ['y'], attrs: { axes: [3] } },
    ], { opset: 11 });
    const n11 = importOnnx(sq11, FILE);
    expect(n11.ops.map((o) => (o as ReshapeOp).outShape)).toEqual([[1, 4, 1], [1, 4]]);
    for (const opset of [13, 21]) {
      const sq = tiny([
        { op: 'Unsqueeze', inputs: ['x', 'ax1'], outputs: ['u'] },
        { op: 'Squeeze', inputs: ['u', 'ax2'], outputs: ['y'] },
      ], { opset, init: [i64('ax1', [1, -1]), i64('ax2', [3])] });
      expect(importOnnx(sq, FILE).ops.map((o) => (o as ReshapeOp).outShape)).toEqual([[1, 4, 1], [1, 4]]);
    }
    const all = importOnnx(tiny([{ op: 'Squeeze', inputs: ['x'], outputs: ['y'] }], { opset: 13, input: ['N', 1, 4, 1] }), FILE);
    expect((all.ops[0] as ReshapeOp).outShape).toEqual([4]);
    expect(importError(tiny([{ op: 'Squeeze', inputs: ['x'], outputs: ['y'], attrs: { axes: [0] } }], { opset: 11 }))).toMatch(/batch/);
    expect(importError(tiny([{ op: 'Squeeze', inputs: ['x'], outputs: ['y'], attrs: { axes: [1] } }], { opset: 11 }))).toMatch(/axis 1 of size 4/);
  });

  it('accepts opsets 7 to 27 (the newest in ONNX\'s node tests) and rejects others naming the opset', () => {
    for (const opset of [7, 8, 9, 21, 27]) expect(importOnnx(tiny([{ op: 'Relu', inputs: ['x'], outputs: ['y'] }], { opset }), FILE).opset).toBe(opset);
    expect(importError(tiny([{ op: 'Relu', inputs: ['x'], outputs: ['y'] }], { opset: 6 }))).toMatch(/opset 6 of the default ONNX domain is not supported \(7–27/);
    expect(importError(tiny([{ op: 'Relu', inputs: ['x'], outputs: ['y'] }], { opset: 28 }))).toMatch(/opset 28/);
  });

  it('reads opsets 7 and 8 where they differ from 9: Upsample\'s scales attribute, BatchNormalization\'s spatial', async () => {
    const up = tiny([{ op: 'Upsample', inputs: ['x'], outputs: ['y'], attrs: { scales: [1, 1, 2, 2], mode: 'nearest' } }], { opset: 7, input: ['N', 1, 2, 2] });
    expect(Array.from(await digitalForward({ kind: 'cpu', reason: 'test' }, up, FILE, Float32Array.of(1, 2, 3, 4), 1))).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
    expect(importError(tiny([{ op: 'Upsample', inputs: ['x'], outputs: ['y'] }], { opset: 8, input: ['N', 1, 2, 2] }))).toMatch(/attribute "scales" is missing/);
    const bn = (spatial: number) => tiny([{ op: 'BatchNormalization', inputs: ['x', 's', 'b', 'm', 'v'], outputs: ['y'], attrs: { spatial } }], {
      opset: 7, input: ['N', 2, 3], init: [f32('s', [2], [1, 2]), f32('b', [2], [0, 1]), f32('m', [2], [0, 0]), f32('v', [2], [1, 1])],
    });
    expect(importOnnx(bn(1), FILE).ops.map((o) => o.kind)).toEqual(['affine']);
    expect(importError(bn(0))).toMatch(/attribute "spatial" is 0 \(statistics per activation\); only 1, per channel, is supported/);
  });
});

describe('importOnnx: folding and shapes', () => {
  it('folds BatchNormalization into Gemm and Add into a conv bias, else emits affine/binary ops', () => {
    const init = [
      f32('w', [4, 3]), f32('g', [3], [1, 2, 0.5]), f32('b', [3], [0.1, 0, -1]), f32('m', [3], [0, 1, 2]), f32('v', [3], [1, 4, 0.25]),
    ];
    const bnAfterGemm = tiny([
      { op: 'Gemm', inputs: ['x', 'w'], outputs: ['h'] },
      { op: 'BatchNormalization', inputs: ['h', 'g', 'b', 'm', 'v'], outputs: ['y'], attrs: { epsilon: 0 } },
    ], { init });
    const net = importOnnx(bnAfterGemm, FILE);
    expect(net.ops).toHaveLength(1);
    const lin = net.ops[0] as LinearOp;
    const x = randomArray(8, 3);
    const h = refGemm({ data: x, batch: 2, shape: [4] }, init[0].data as Float32Array, [4, 3], null);
    const want = refBatchNorm(h, ...(init.slice(1).map((t) => t.data) as [Float32Array, Float32Array, Float32Array, Float32Array]), 0);
    expect(maxAbsDiff(refGemm({ data: x, batch: 2, shape: [4] }, lin.weight as Float32Array, [4, 3], lin.bias).data, want.data)).toBeLessThan(1e-6);

    // The Gemm output is also a graph-visible value read elsewhere: BN stays an affine op.
    const shared = tiny([
      { op: 'Gemm', inputs: ['x', 'w'], outputs: ['h'] },
      { op: 'BatchNormalization', inputs: ['h', 'g', 'b', 'm', 'v'], outputs: ['n'] },
      { op: 'Add', inputs: ['n', 'h'], outputs: ['y'] },
    ], { init });
    const sn = importOnnx(shared, FILE);
    expect(sn.ops.map((o) => o.kind)).toEqual(['linear', 'affine', 'binary']);
    expect(sn.ops[1]).toMatchObject({ inShape: [3] });
    expect((sn.ops[1] as { scale: Float32Array }).scale[1]).toBeCloseTo(2 / Math.sqrt(4 + 1e-5), 6);

    const convAdd = tiny([
      { op: 'Conv', inputs: ['x', 'cw'], outputs: ['c'], attrs: { kernel_shape: [1, 1] } },
      { op: 'Add', inputs: ['c', 'cb'], outputs: ['y'] },
    ], { input: ['N', 2, 3, 3], init: [f32('cw', [3, 2, 1, 1]), f32('cb', [1, 3, 1, 1], [1, 2, 3])] });
    const cn = importOnnx(convAdd, FILE);
    expect(cn.ops).toHaveLength(1);
    expect((cn.ops[0] as ConvOp).bias).toEqual(Float32Array.of(1, 2, 3));

    // A constant that varies along H cannot be a bias.
    const convMul = tiny([
      { op: 'Conv', inputs: ['x', 'cw'], outputs: ['c'] },
      { op: 'Sub', inputs: ['k', 'c'], outputs: ['y'] },
    ], { input: ['N', 2, 3, 3], init: [f32('cw', [3, 2, 1, 1]), f32('k', [3, 1], [1, 2, 3])] });
    const mn = importOnnx(convMul, FILE);
    expect(mn.ops[1]).toMatchObject({ kind: 'binary', fn: 'sub', constFirst: true, aShape: [3, 3, 3], bShape: [3, 1], outShape: [3, 3, 3], inputs: ['c'] });
    expect((mn.ops[1] as BinaryOp).b).toEqual({ dims: [3, 1], data: Float32Array.of(1, 2, 3) });
  });

  it('drops a constant operand\'s leading batch dim of 1 and rejects a real batch dim', () => {
    const ok = importOnnx(tiny([{ op: 'Mul', inputs: ['x', 'k'], outputs: ['y'] }], { init: [f32('k', [1, 4])] }), FILE);
    expect(ok.ops[0]).toMatchObject({ fn: 'mul', aShape: [4], bShape: [4], constFirst: false });
    expect(importError(tiny([{ op: 'Mul', inputs: ['x', 'k'], outputs: ['y'] }], { init: [f32('k', [2, 4])] }))).toMatch(/first \(batch\) dim must be 1/);
    const mixed = tiny([
      { op: 'Unsqueeze', inputs: ['x', 'ax'], outputs: ['u'] },
      { op: 'Add', inputs: ['x', 'u'], outputs: ['y'] },
    ], { init: [i64('ax', [1])] });
    expect(importError(mixed)).toMatch(/different rank/);
  });

  it('folds constant subgraphs (Constant, Cast, Slice, Transpose, Mul) feeding weights and shapes', () => {
    const bytes = tiny([
      { op: 'Transpose', inputs: ['wt'], outputs: ['w'] },
      { op: 'Constant', inputs: [], outputs: ['two'], attrs: { value_float: 2 } },
      { op: 'Mul', inputs: ['w', 'two'], outputs: ['w2'] },
      { op: 'MatMul', inputs: ['x', 'w2'], outputs: ['h'] },
      { op: 'Shape', inputs: ['h'], outputs: ['s'] },
      { op: 'Slice', inputs: ['s', 'st', 'en'], outputs: ['s0'] },
      { op: 'Cast', inputs: ['s0'], outputs: ['s1'], attrs: { to: 7 } },
      { op: 'Constant', inputs: [], outputs: ['rest'], attrs: { value_ints: [3, 1] } },
      { op: 'Concat', inputs: ['s1', 'rest'], outputs: ['shape'], attrs: { axis: 0 } },
      { op: 'Reshape', inputs: ['h', 'shape'], outputs: ['y'] },
    ], { init: [f32('wt', [3, 4], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), i64('st', [0]), i64('en', [1])] });
    const net = importOnnx(bytes, FILE);
    expect(net.ops.map((o) => o.kind)).toEqual(['linear', 'reshape']);
    const lin = net.ops[0] as LinearOp;
    expect(lin).toMatchObject({ K: 4, N: 3 });
    expect(lin.weight[1 * 3 + 2]).toBe(2 * 9);
    expect((net.ops[1] as ReshapeOp).outShape).toEqual([3, 1]);
  });

  it('reads a Constant int64 tensor attribute and Reshape targets starting with 0, -1 or the declared batch', () => {
    const target = (t: number[], input: (number | string)[] = ['N', 2, 6]) => tiny([{ op: 'Reshape', inputs: ['x', 's'], outputs: ['y'] }], { input, init: [i64('s', t)] });
    expect((importOnnx(target([0, -1]), FILE).ops[0] as ReshapeOp).outShape).toEqual([12]);
    expect((importOnnx(target([-1, 3, 4]), FILE).ops[0] as ReshapeOp).outShape).toEqual([3, 4]);
    expect((importOnnx(target([0, 0, 3, 2]), FILE).ops[0] as ReshapeOp).outShape).toEqual([2, 3, 2]);
    expect((importOnnx(target([1, 4, -1], [1, 2, 6]), FILE).ops[0] as ReshapeOp).outShape).toEqual([4, 3]);
    expect(importError(target([2, -1]))).toMatch(/would split the batch from the values around it/);
    expect(importError(target([-1, 5]))).toMatch(/without changing the batch size/);

    // Constant node with a TensorProto value, as PyTorch writes it, via a hand-built ModelProto.
    const model = decodeModel(target([0, -1]), FILE);
    const g = model.graph;
    g.initializer = [];
    const value = proto.AttributeProto.create({ name: 'value', type: 4, t: { dims: [2], dataType: 7, int64Data: [0, -1] } });
    const constant = proto.NodeProto.create({ opType: 'Constant', name: 'c', input: [], output: ['s'] });
    g.node.unshift(Object.assign(constant, { attribute: [value] }));
    const net = importOnnx(proto.ModelProto.encode(model).finish(), FILE);
    expect((net.ops[0] as ReshapeOp).outShape).toEqual([12]);
  });

  it('aliases Identity and Dropout, drops unused ops, and keeps Flatten/Transpose batch rules', () => {
    const bytes = tiny([
      { op: 'Identity', inputs: ['x'], outputs: ['i'] },
      { op: 'Dropout', inputs: ['i'], outputs: ['d', 'mask'], attrs: { ratio: 0.5 } },
      { op: 'Relu', inputs: ['x'], outputs: ['unused'] },
      { op: 'Gemm', inputs: ['d', 'w'], outputs: ['g'] },
      { op: 'BatchNormalization', inputs: ['g', 'one', 'zero', 'zero', 'one'], outputs: ['y'] },
    ], { init: [f32('w', [4, 2]), f32('one', [2], [1, 1]), f32('zero', [2], [0, 0])] });
    const net = importOnnx(bytes, FILE);
    expect(net.ops.map((o) => `${o.kind}:${o.inputs.join('+')}->${o.output}`)).toEqual(['linear:x->y']);
    expect([...net.shapes.keys()]).toEqual(['x', 'y']);
    expect(importError(tiny([{ op: 'Flatten', inputs: ['x'], outputs: ['y'], attrs: { axis: 0 } }]))).toMatch(/axis 0 would flatten the batch/);
    // A Transpose may move the batch among the ONNX dims (timm's attention does), but an output must have it first.
    expect(importError(tiny([{ op: 'Transpose', inputs: ['x'], outputs: ['y'] }]))).toMatch(/graph output "y" has the batch dimension at axis 1; outputs must have it first/);
    const used = tiny([
      { op: 'Dropout', inputs: ['x'], outputs: ['d', 'mask'] },
      { op: 'Add', inputs: ['d', 'mask'], outputs: ['y'] },
    ]);
    // In inference Dropout keeps everything: a mask that is read is all ones (a constant op).
    const withMask = importOnnx(used, FILE);
    expect(withMask.ops.map((o) => o.kind)).toEqual(['constant', 'binary']);
    expect(withMask.ops[0]).toMatchObject({ output: 'mask', value: { dims: [4], data: Float32Array.of(1, 1, 1, 1) } });
  });

  it('concatenates activations along a per-sample axis', () => {
    const net = importOnnx(tiny([
      { op: 'Relu', inputs: ['x'], outputs: ['r'] },
      { op: 'Concat', inputs: ['x', 'r'], outputs: ['y'], attrs: { axis: -1 } },
    ], { input: ['N', 2, 3] }), FILE);
    expect(net.ops[1]).toMatchObject({ kind: 'concat', axis: 1, inShapes: [[2, 3], [2, 3]], inputs: ['x', 'r'] });
    expect(net.shapes.get('y')).toEqual([2, 6]);
  });
});

describe('importOnnx: errors', () => {
  it('names an unsupported op and its node', () => {
    const msg = importError(tiny([{ op: 'Unique', inputs: ['x'], outputs: ['y'], name: 'act/elu' }]));
    expect(msg).toMatch(/^model\.onnx: unsupported op "Unique" at node "act\/elu" \(opset 13; supported: Abs, (\w+, )*Add, .*Conv.*\)$/);
  });

  it('names an unsupported op before any error of the nodes ahead of it (a constant shaped [1, batch, batch], which is refused)', () => {
    const msg = importError(tiny([
      { op: 'Shape', inputs: ['x'], outputs: ['s'] },
      { op: 'Gather', inputs: ['s', 'zero'], outputs: ['b'], attrs: { axis: 0 } },
      { op: 'Unsqueeze', inputs: ['b', 'ax0'], outputs: ['bu'] },
      { op: 'Concat', inputs: ['one', 'bu', 'bu'], outputs: ['hs'], attrs: { axis: 0 } },
      { op: 'ConstantOfShape', inputs: ['hs'], outputs: ['h0'], name: 'h0' },
      { op: 'Unique', inputs: ['x', 'h0'], outputs: ['y'], name: 'rnn' },
    ], { init: [['zero', [0], []], ['ax0', [0], [1]], ['one', [1], [1]]].map(([name, v, dims]) => ({ name: name as string, dims: dims as number[], data: BigInt64Array.from(v as number[], BigInt) })) }));
    expect(msg).toMatch(/^model\.onnx: unsupported op "Unique" at node "rnn"/);
  });

  it('escapes names read from the file so that messages stay on one line', () => {
    const msg = importError(tiny([{ op: 'Unique', inputs: ['x'], outputs: ['y'], name: 'bad\nname' }]));
    expect(msg).toContain('at node "bad\\nname"');
  });

  it('rejects truncated files and random garbage with one-line UsageErrors', () => {
    const bytes = convBnModel().bytes;
    for (const cut of [1, 2, 7, 20, 100, Math.floor(bytes.length / 2), bytes.length - 300, bytes.length - 1]) {
      expect(importError(bytes.slice(0, cut))).toMatch(/^model\.onnx: /);
    }
    expect(importError(bytes.slice(0, 100))).toMatch(/not a valid ONNX file/);
    expect(importError(new Uint8Array(0))).toMatch(/not a valid ONNX file \(no graph\)/);
    for (let seed = 1; seed <= 40; seed++) {
      const garbage = Uint8Array.from(randomArray(64 + seed * 7, seed, 0, 256), (v) => Math.floor(v));
      importError(garbage);
    }
    importError(new TextEncoder().encode('{"not": "onnx"}\n'));
  });

  it('reports a missing initializer and an unsorted graph', () => {
    expect(importError(tiny([{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['y'], name: 'fc' }]))).toBe(
      'model.onnx: node "fc" (MatMul) reads "W", which is not a graph input, an initializer or the output of an earlier node',
    );
    const unsorted = tiny([
      { op: 'Relu', inputs: ['r'], outputs: ['y'], name: 'second' },
      { op: 'Relu', inputs: ['x'], outputs: ['r'], name: 'first' },
    ]);
    expect(importError(unsorted)).toMatch(/node "second" \(Relu\) reads "r" before node 1 produces it: the graph is not topologically sorted/);
  });

  it('rejects other opset domains, custom-domain nodes, and external data given bytes alone', () => {
    const base = decodeModel(tiny([{ op: 'Relu', inputs: ['x'], outputs: ['y'] }]), FILE);
    const noDefault = encodeRaw({ ...base, opsetImport: [{ domain: 'com.microsoft', version: 1 }] });
    expect(importError(noDefault)).toBe('model.onnx: the model imports no opset of the default ONNX domain (imports: "com.microsoft" v1)');
    const custom = decodeModel(tiny([{ op: 'Relu', inputs: ['x'], outputs: ['y'] }]), FILE);
    custom.opsetImport.push(proto.OperatorSetIdProto.create({ domain: 'org.example', version: 1 }));
    custom.graph.node[0].domain = 'org.example';
    custom.graph.node[0].opType = 'Foo';
    expect(importError(encodeRaw(custom))).toMatch(/node "Relu_0" \(Foo\) is in domain "org\.example"; only the default ONNX domain and "com\.microsoft" \(ONNX Runtime's contrib ops\) are supported$/);
    const ext = decodeModel(tiny([{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }], { init: [f32('w', [4, 2])] }), FILE);
    const w = ext.graph.initializer[0];
    w.rawData = new Uint8Array();
    w.dataLocation = 1;
    w.externalData = [{ key: 'location', value: 'model.onnx.data' }];
    expect(importError(encodeRaw(ext))).toBe('model.onnx: tensor "w" keeps its data in "model.onnx.data" beside the model; give the model as a file path (or, in the app, pick the model and its data file together)');
  });

  it('requires float inputs with static per-sample dims; several inputs and outputs are packed', () => {
    const two = buildOnnxModel({ inputs: [{ name: 'a', dims: ['N', 2] }, { name: 'b', dims: ['N', 3] }], outputs: [{ name: 'y', dims: ['N', 2] }], nodes: [{ op: 'Relu', inputs: ['b'], outputs: ['r'] }, { op: 'Add', inputs: ['a', 'a'], outputs: ['y'] }] });
    const net = importOnnx(two, FILE);
    // Only the inputs an output depends on are fed.
    expect(net.input).toEqual({ name: 'a', shape: [2] });
    expect(net.inputs.map((v) => v.name)).toEqual(['a']);
    expect(importError(tiny([{ op: 'Relu', inputs: ['x'], outputs: ['y'] }], { input: ['N', 'C'] }))).toMatch(/symbolic or unknown dim 1 \("C"\)/);
    const m = decodeModel(tiny([{ op: 'Relu', inputs: ['x'], outputs: ['y'] }]), FILE);
    m.graph.output.push(floatInput('x', ['N']));
    const both = importOnnx(encodeRaw(m), FILE);
    expect(both.outputs.map((o) => [o.name, o.offset])).toEqual([['y', 0], ['x', 4]]);
    expect(both.shapes.get(both.output)).toEqual([8]);
    // Old exporters list initializers among the inputs: those do not count.
    const old = decodeModel(tiny([{ op: 'MatMul', inputs: ['x', 'w'], outputs: ['y'] }], { init: [f32('w', [4, 2])] }), FILE);
    old.graph.input.push(floatInput('w', [4, 2]));
    expect(importOnnx(encodeRaw(old), FILE).ops).toHaveLength(1);
  });

  it("takes symbolic per-sample dims from the inputs' shapes, with or without the batch dim, and refuses shapes that disagree", () => {
    const dyn = tiny([{ op: 'Relu', inputs: ['x'], outputs: ['y'] }], { input: ['N', 'C', 'T'] });
    expect(importOnnx(dyn, FILE, { inputShapes: { '': [3, 7] } }).input.shape).toEqual([3, 7]);
    expect(importOnnx(dyn, FILE, { inputShapes: { x: [3, 7] } }).input.shape).toEqual([3, 7]);
    // A function is told each input's declared per-sample dims (null: symbolic).
    expect(importOnnx(dyn, FILE, { inputShapes: (declared) => ({ x: declared.x.length === 2 && declared.x[0] === null ? [3, 7] : [] }) }).input.shape).toEqual([3, 7]);
    expect(usageMessage(() => importOnnx(dyn, FILE, { inputShapes: { '': [5, 3, 7] } }))).toBe(`${FILE}: graph input "x" takes [N, C, T] but its inputs are [N, 5, 3, 7]`);
    expect(usageMessage(() => importOnnx(dyn, FILE, { inputShapes: { other: [3, 7] } }))).toMatch(/symbolic or unknown dim 1 \("C"\); per-sample dims must be static or fixed by the shape of the inputs/);
    // A static model never asks for the shapes (a data file is read only for a model that needs it).
    const asked = vi.fn(() => ({}));
    importOnnx(tiny([{ op: 'Relu', inputs: ['x'], outputs: ['y'] }]), FILE, { inputShapes: asked });
    expect(asked).not.toHaveBeenCalled();
    // A name fixed by one input holds for another; fixed to two sizes, it is refused.
    const two = buildOnnxModel({
      inputs: [{ name: 'ids', dims: ['N', 'seq'] }, { name: 'mask', dims: ['N', 'seq'] }],
      outputs: [{ name: 'y', dims: ['N', 'seq'] }],
      nodes: [{ op: 'Add', inputs: ['ids', 'mask'], outputs: ['y'] }],
    });
    expect(importOnnx(two, FILE, { inputShapes: { ids: [9] } }).inputs.map((v) => v.shape)).toEqual([[9], [9]]);
    expect(usageMessage(() => importOnnx(two, FILE, { inputShapes: { ids: [9], mask: [8] } }))).toBe(`${FILE}: symbolic dim "seq" is 9 in the inputs of "ids" but 8 in those of "mask"`);
  });

  it('a static export\'s constant with the traced batch in it (torch.zeros(layers, batch, H)) is one per sample when its slices agree', async () => {
    const model = (h0: number[]) => buildOnnxModel({
      inputs: [{ name: 'x', dims: [2, 3] }],
      outputs: [{ name: 'y', dims: [2, 1, 3] }],
      initializers: [{ name: 'h0', dims: [1, 2, 3], data: Float32Array.from(h0) }, i64('zero', [0]), i64('one', [1]), i64('three', [3])],
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Gather', inputs: ['s', 'zero'], outputs: ['b'], attrs: { axis: 0 } },
        { op: 'Concat', inputs: ['one', 'b', 'three'], outputs: ['target'], attrs: { axis: 0 } },
        { op: 'Expand', inputs: ['h0', 'target'], outputs: ['e'] },
        { op: 'Transpose', inputs: ['e'], outputs: ['t'], attrs: { perm: [1, 0, 2] } },
        { op: 'Unsqueeze', inputs: ['x', 'one'], outputs: ['x1'] },
        { op: 'Add', inputs: ['t', 'x1'], outputs: ['y'] },
      ],
    });
    const net = importOnnx(model([1, 2, 3, 1, 2, 3]), FILE);
    const r = openNetwork({ kind: 'cpu', reason: 'test' }, net, resolveConfig({ preset: 'ideal' }), true);
    try {
      const y = (await r.forward(null, Float32Array.of(0, 0, 0, 10, 20, 30, 5, 5, 5), 3, 0)).output;
      expect(Array.from(y)).toEqual([1, 2, 3, 11, 22, 33, 6, 7, 8]);
    } finally {
      r.destroy();
    }
    // Samples that differ cannot be one per sample at another batch size.
    expect(importError(model([1, 2, 3, 4, 5, 6]))).toMatch(/node "Expand_3" \(Expand\): shape \[1, batch, 3\] moves the batch size away from the first dimension/);
    // The same for an elementwise operand (torch.zeros_like(x) written out at the traced batch).
    const add = (k: number[]) => buildOnnxModel({
      inputs: [{ name: 'x', dims: [2, 3] }], outputs: [{ name: 'y', dims: [2, 3] }],
      initializers: [{ name: 'k', dims: [2, 3], data: Float32Array.from(k) }],
      nodes: [{ op: 'Add', inputs: ['x', 'k'], outputs: ['y'] }],
    });
    const sum = await digitalForward({ kind: 'cpu', reason: 'test' }, add([1, 2, 3, 1, 2, 3]), FILE, Float32Array.of(0, 0, 0, 1, 1, 1, 2, 2, 2), 3);
    expect(Array.from(sum)).toEqual([1, 2, 3, 2, 3, 4, 3, 4, 5]);
    expect(importError(add([1, 2, 3, 4, 5, 6]))).toMatch(/constant operand has dims \[2, 3\]; its first \(batch\) dim must be 1, or the declared batch with every sample alike/);
  });

  it('over a merged batch·k axis (attention\'s [batch·heads, …] view), a static export\'s constant of every sample\'s k rows alike is one sample\'s', async () => {
    // x [2, 3] viewed as [2·3] (batch-major merge) plus a constant [6] holding each sample's 3 values twice.
    const model = (k: number[]) => buildOnnxModel({
      inputs: [{ name: 'x', dims: [2, 3] }], outputs: [{ name: 'y', dims: [6] }],
      initializers: [i64('flat', [6]), { name: 'k', dims: [6], data: Float32Array.from(k) }, i64('back', [-1, 3])],
      nodes: [
        { op: 'Reshape', inputs: ['x', 'flat'], outputs: ['m'] },
        { op: 'Add', inputs: ['m', 'k'], outputs: ['s'] },
        { op: 'Reshape', inputs: ['s', 'back'], outputs: ['y'] },
      ],
    });
    const y = await digitalForward({ kind: 'cpu', reason: 'test' }, model([10, 20, 30, 10, 20, 30]), FILE, Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9), 3);
    expect(Array.from(y)).toEqual([11, 22, 33, 14, 25, 36, 17, 28, 39]);
    expect(importError(model([10, 20, 30, 40, 50, 60]))).toMatch(/over the activation's merged batch·3 its dim must be 1, or the declared batch·3 with every sample alike/);
  });

  it('explains unsupported uses of supported ops', () => {
    expect(importError(tiny([{ op: 'MatMul', inputs: ['x', 'x'], outputs: ['y'] }]))).toMatch(/MatMul of two activations needs the same per-sample rank of at least 2/);
    expect(importError(tiny([{ op: 'Gemm', inputs: ['x', 'w'], outputs: ['y'], attrs: { transA: 1 } }], { init: [f32('w', [4, 2])] }))).toMatch(/transA/);
    expect(importError(tiny([{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'] }], { init: [f32('w', [2, 4, 1])] }))).toMatch(/only 1-D and 2-D convolution/);
    expect(importError(tiny([{ op: 'Gather', inputs: ['x', 'i'], outputs: ['y'] }], { init: [i64('i', [0])] }))).toMatch(/axis 0 is the batch dimension/);
    expect(importError(tiny([{ op: 'Gather', inputs: ['x', 'x'], outputs: ['y'] }]))).toMatch(/indices "x" and data both come from the data; a Gather with computed indices is supported from a constant table \(an embedding\) only/);
    expect(importError(tiny([{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { auto_pad: 'SAME' } }], { input: ['N', 1, 3, 3], init: [f32('w', [1, 1, 3, 3])] }))).toMatch(/auto_pad "SAME"/);
  });
});

describe('importOnnx: NaN and Inf in weights are refused like in .npy inputs (issue 10 item 2)', () => {
  const gemm = (w: BuildTensor): Uint8Array => tiny([{ op: 'Gemm', inputs: ['x', 'w'], outputs: ['y'] }], { init: [w] });
  const weights = (bad: number, at: number, dims = [4, 3]): Float32Array => {
    const w = randomArray(dims.reduce((a, b) => a * b, 1), 5);
    w[at] = bad;
    return w;
  };

  it('names the initializer and the C-order index, whatever the storage', () => {
    expect(importError(gemm({ name: 'fc.weight', dims: [4, 3], data: weights(NaN, 7) }))).toBe('model.onnx: initializer "fc.weight": NaN at [2, 1]');
    expect(importError(gemm({ name: 'w', dims: [4, 3], data: weights(Infinity, 0), raw: false }))).toBe('model.onnx: initializer "w": Inf at [0, 0]');
    const f64 = Float64Array.from(weights(0, 0));
    f64[11] = -Infinity;
    expect(importError(gemm({ name: 'w', dims: [4, 3], data: f64 }))).toBe('model.onnx: initializer "w": -Inf at [3, 2]');
    // A float16 NaN (0x7e00) in raw_data, written by hand: build.ts writes no float16.
    const m = decodeModel(gemm(f32('w', [4, 3])), FILE);
    const w = m.graph.initializer[0];
    w.dataType = 10;
    w.rawData = new Uint8Array(24);
    w.rawData[2 * 5 + 1] = 0x7e;
    expect(importError(encodeRaw(m))).toBe('model.onnx: initializer "w": NaN at [1, 2]');
  });

  it('refuses them in Constant nodes and in folded constants, naming the node and value', () => {
    const viaConstant = tiny([
      { op: 'Constant', inputs: [], outputs: ['k'], name: 'scale', attrs: { value: { tensor: { dims: [1, 4], data: Float32Array.of(1, 2, NaN, 4) } } } },
      { op: 'Mul', inputs: ['x', 'k'], outputs: ['y'] },
    ]);
    expect(importError(viaConstant)).toBe('model.onnx: node "scale" (Constant): output "k": NaN at [0, 2]');
    expect(importError(tiny([
      { op: 'Constant', inputs: [], outputs: ['k'], name: 'c', attrs: { value_float: Infinity } },
      { op: 'Mul', inputs: ['x', 'k'], outputs: ['y'] },
    ]))).toMatch(/node "c" \(Constant\): output "k": Inf at \[\]$/);
    // An infinite weight reshaped on its way to the layer is still a weight.
    expect(importError(tiny([
      { op: 'Reshape', inputs: ['w', 's'], outputs: ['w2'], name: 'rs' },
      { op: 'Gemm', inputs: ['x', 'w2'], outputs: ['y'] },
    ], { init: [{ name: 'w', dims: [12], data: weights(-Infinity, 4, [12]) }, { name: 's', dims: [2], data: BigInt64Array.from([4n, 3n]) }] }))).toBe('model.onnx: node "rs" (Reshape): output "w2": -Inf at [1, 1]');
    // 1/0 while folding a weight preprocessing chain.
    const folded = tiny([
      { op: 'Div', inputs: ['one', 'w'], outputs: ['inv'], name: 'invert' },
      { op: 'MatMul', inputs: ['x', 'inv'], outputs: ['y'] },
    ], { init: [f32('one', [1], [1]), f32('w', [4, 2], [1, 2, 3, 4, 0, 6, 7, 8])] });
    expect(importError(folded)).toBe('model.onnx: node "invert" (Div): output "inv": Inf at [2, 0]');
    // Finite extremes are weights like any other.
    expect(importOnnx(gemm(f32('w', [4, 3], [3.4e38, -3.4e38, 1e-45, 0, 0, 0, 0, 0, 0, 0, 0, 0])), FILE).ops).toHaveLength(1);
  });

  it('−Inf in an attention mask (added, or selected by Where) imports, as the largest negative float32', async () => {
    const mask = Float32Array.from({ length: 16 }, (_, i) => (i % 4 > Math.floor(i / 4) ? -Infinity : 0));
    const net = importOnnx(tiny([
      { op: 'Reshape', inputs: ['x', 's'], outputs: ['x4'] },
      { op: 'Add', inputs: ['x4', 'mask'], outputs: ['scores'] },
      { op: 'Softmax', inputs: ['scores'], outputs: ['p'], attrs: { axis: -1 } },
      { op: 'Reshape', inputs: ['p', 's16'], outputs: ['y'] },
    ], { input: ['N', 16], init: [{ name: 'mask', dims: [4, 4], data: mask }, { name: 's', dims: [3], data: BigInt64Array.from([0n, 4n, 4n]) }, { name: 's16', dims: [2], data: BigInt64Array.from([0n, 16n]) }] }), FILE);
    const add = net.ops.find((o) => o.kind === 'binary');
    expect(add?.kind === 'binary' && Math.min(...add.b!.data)).toBe(-3.4028234663852886e38);
    const runner = openNetwork({ kind: 'cpu', reason: 'test' }, net, resolveConfig({ preset: 'ideal' }), true);
    const x = randomArray(16, 9);
    const y = (await runner.forward(null, x, 1, 0)).output;
    runner.destroy();
    for (let r = 0; r < 4; r++) {
      const e = [0, 1, 2, 3].map((c) => (c > r ? 0 : Math.exp(x[r * 4 + c])));
      const z = e.reduce((p, q) => p + q, 0);
      for (let c = 0; c < 4; c++) expect(y[r * 4 + c]).toBeCloseTo(e[c] / z, 6);
    }
  });

  it('eval exits 2 with that one line', () => {
    const dir = tempDir();
    const model = join(dir, 'nan.onnx');
    writeFileSync(model, gemm({ name: 'fc.weight', dims: [4, 3], data: weights(NaN, 4) }));
    const x = join(dir, 'x.npy');
    writeFileSync(x, encodeNpy([2, 4], '<f4', new Float32Array(8)));
    const y = join(dir, 'y.npy');
    writeFileSync(y, encodeNpy([2], '<f8', [0, 1]));
    const r = runCli(['eval', '--model', model, '--inputs', x, '--labels', y, '--digital', '--backend', 'cpu']);
    expect(r.code).toBe(2);
    expect(r.ownStderrLines).toEqual([`xbarsim: ${model}: initializer "fc.weight": NaN at [1, 1]`]);
  });
});

describe('test model forward functions (hand-computed cases)', () => {
  const one = (data: number[], shape: number[]): Batch => ({ data: Float32Array.from(data), batch: 1, shape });

  it('refConv: padding, stride, dilation and groups', () => {
    // 1x3x3 input 1..9, 2x2 kernel of ones, pads 1 on top/left only, stride 2.
    const x = one([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3]);
    const y = refConv(x, new Float32Array(4).fill(1), [1, 1, 2, 2], Float32Array.of(0.5), { strides: [2, 2], pads: [1, 1, 0, 0] });
    expect(y.shape).toEqual([1, 2, 2]);
    expect([...y.data]).toEqual([1.5, 5.5, 11.5, 28.5]);
    // Dilation 2: the 2x2 kernel touches the four corners.
    expect([...refConv(x, Float32Array.of(1, 10, 100, 1000), [1, 1, 2, 2], null, { dilations: [2, 2] }).data]).toEqual([1 + 30 + 700 + 9000]);
    // Two groups of one channel each: each output sees only its own channel.
    const x2 = one([1, 2, 3, 4], [2, 1, 2]);
    expect([...refConv(x2, Float32Array.of(1, 1, 10, 10), [2, 1, 1, 2], null, { group: 2 }).data]).toEqual([3, 70]);
  });

  it('refPool: max with ceil_mode, average with and without padding counted', () => {
    const x = one([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3]);
    expect([...refPool(x, 'max', { kernel: [2, 2], strides: [2, 2], ceilMode: true }).data]).toEqual([5, 6, 8, 9]);
    expect([...refPool(x, 'avg', { kernel: [2, 2], strides: [2, 2], ceilMode: true }).data]).toEqual([3, 4.5, 7.5, 9]);
    expect(refPool(x, 'avg', { kernel: [2, 2], strides: [2, 2], pads: [1, 1, 0, 0], countIncludePad: true }).data[0]).toBe(0.25);
    expect(refPool(x, 'avg', { kernel: [2, 2], strides: [2, 2], pads: [1, 1, 0, 0] }).data[0]).toBe(1);
    expect(samePads(5, 2, 1, 1, true)).toEqual([0, 1]);
    expect(samePads(5, 2, 1, 1, false)).toEqual([1, 0]);
    expect(samePads(7, 3, 2, 1, true)).toEqual([1, 1]);
  });

  it('refSoftmaxLast and refGemm', () => {
    const s = refSoftmaxLast(one([0, Math.log(3)], [2])).data;
    expect(s[0]).toBeCloseTo(0.25, 7);
    expect(s[1]).toBeCloseTo(0.75, 7);
    const g = refGemm(one([1, 2], [2]), Float32Array.of(1, 2, 3, 4, 5, 6), [3, 2], Float32Array.of(1, 1, 1), { transB: true, alpha: 2, beta: 3 });
    expect([...g.data]).toEqual([2 * 5 + 3, 2 * 11 + 3, 2 * 17 + 3]);
  });

  it('model forwards are deterministic, per-sample, and sized right', () => {
    for (const m of allTestModels()) {
      const x = testInput(m, 3, 9);
      const y = m.forward(x, 3);
      const per = y.length / 3;
      expect(Number.isInteger(per)).toBe(true);
      expect(y.every(Number.isFinite)).toBe(true);
      expect(m.forward(x, 3)).toEqual(y);
      const n = m.inputShape.reduce((a, b) => a * b, 1);
      expect(m.forward(x.slice(n, 2 * n), 1)).toEqual(y.slice(per, 2 * per));
      const net = importOnnx(m.bytes, `${m.name}.onnx`);
      expect(net.shapes.get(net.output)!.reduce((a, b) => a * b, 1)).toBe(per);
    }
  });

  it('the MLP forward is a softmax: rows sum to 1', () => {
    const m = mlpModel();
    const y = m.forward(testInput(m, 4), 4);
    for (let r = 0; r < 4; r++) expect(y.slice(r * 10, r * 10 + 10).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('pool model forward matches a hand-built pipeline on a constant input', () => {
    // All ones: max pool 1 everywhere, average 1, clip 0.75, sigmoid, tanh: every feature equal.
    const m = poolingModel();
    const x = new Float32Array(300).fill(1);
    const v = Math.tanh(1 / (1 + Math.exp(-0.75)));
    const g = decodeModel(m.bytes, FILE).graph;
    const w = decodeTensor(g.initializer.find((t) => t.name === 'fc.weight')!, 't').data as Float32Array;
    const b = decodeTensor(g.initializer.find((t) => t.name === 'fc.bias')!, 't').data as Float32Array;
    const y = m.forward(x, 1);
    for (let n = 0; n < 4; n++) {
      let acc = b[n];
      for (let k = 0; k < 27; k++) acc += v * w[k * 4 + n];
      expect(y[n]).toBeCloseTo(acc, 5);
    }
  });
});
