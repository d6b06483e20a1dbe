import { afterAll, describe, expect, it } from 'vitest';
import { openTestGpu } from '../helpers/gpu.ts';
import { Batch, checkOpOn, expectClose, host } from '../helpers/gpu-batch.ts';
import { maxAbsDiff, randomArray } from '../helpers/random.ts';
import type { GpuSession } from '../../src/gpu/runtime.ts';
import { uploadStorage } from '../../src/gpu/buffers.ts';
import type { BinaryOp, ConcatOp, ConvOp, LinearOp, PoolOp, Shape, SoftmaxOp, TransposeOp, UnaryOp } from '../../src/ir/graph.ts';
import { sizeOf } from '../../src/ir/graph.ts';
import type { HostTensor } from '../../src/ir/tensor.ts';
import type { GpuTensor } from '../../src/gpu/encoder.ts';
import {
  colsToNchwTensorRef,
  convF32Ref,
  im2colTensorRef,
  linearF32Ref,
  encodeAddBias,
  encodeColsToNchw,
  encodeConvF32,
  encodeIm2col,
  encodeLinearF32,
  prepareConvF32,
  prepareLinearF32,
  type F32Weights,
} from '../../src/nn/ops/matrix.ts';
import { digitalOpRef, encodeDigitalOp } from '../../src/nn/ops/registry.ts';
import type { DigitalOp } from '../../src/nn/ops/types.ts';
import { elementwiseSource } from '../../src/kernels/elementwise.ts';
import { layoutSource } from '../../src/kernels/layout.ts';
import { poolSource } from '../../src/kernels/pool.ts';
import { softmaxSource } from '../../src/kernels/softmax.ts';
import { im2colSource } from '../../src/kernels/im2col.ts';
import { groupMatrix } from '../../src/kernels/linear-f32.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

function session(): GpuSession {
  return gpu!.session;
}

/** The same device with a tiny workgroup grid, to exercise the 2-D grid and GEMM row-chunk paths cheaply. */
function tinyGridSession(maxDim = 4): GpuSession {
  const s = session();
  return { ...s, ctx: { ...s.ctx, limits: { ...s.ctx.limits, maxComputeWorkgroupsPerDimension: maxDim } } };
}

/** Runs op on the GPU and on the CPU and compares. */
function checkOp(op: DigitalOp, inputs: HostTensor[], B: number, s = session()): Promise<Float32Array> {
  return checkOpOn(s, op, inputs, B);
}

const base = { inputs: ['x'], output: 'y' };

function unary(fn: UnaryOp['fn'], extra: Partial<UnaryOp> = {}): UnaryOp {
  return { ...base, kind: 'unary', name: fn, fn, alpha: 0, min: -Infinity, max: Infinity, ...extra };
}

function outShape(a: Shape, b: Shape): number[] {
  const r = Math.max(a.length, b.length);
  const pa = [...new Array<number>(r - a.length).fill(1), ...a];
  const pb = [...new Array<number>(r - b.length).fill(1), ...b];
  return pa.map((d, k) => Math.max(d, pb[k]));
}

function poolOut(size: number, k: number, s: number, d: number, p0: number, p1: number, ceil: boolean): number {
  const span = size + p0 + p1 - d * (k - 1) - 1;
  return (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
}

function pool(name: string, mode: 'max' | 'avg', inShape: [number, number, number], k: [number, number], st: [number, number], pads: [number, number, number, number], dil: [number, number], ceil: boolean, countIncludePad = false): PoolOp {
  const OH = poolOut(inShape[1], k[0], st[0], dil[0], pads[0], pads[2], ceil);
  const OW = poolOut(inShape[2], k[1], st[1], dil[1], pads[1], pads[3], ceil);
  return { ...base, kind: 'pool', name, mode, kernel: k, strides: st, pads, dilations: dil, countIncludePad, inShape, outShape: [inShape[0], OH, OW] };
}

function conv(name: string, cin: number, cout: number, group: number, k: [number, number], st: [number, number], pads: [number, number, number, number], dil: [number, number], H: number, W: number, bias: boolean, seed: number): ConvOp {
  const OH = poolOut(H, k[0], st[0], dil[0], pads[0], pads[2], false);
  const OW = poolOut(W, k[1], st[1], dil[1], pads[1], pads[3], false);
  return {
    ...base,
    kind: 'conv',
    name,
    layerIndex: 0,
    weight: randomArray(cout * (cin / group) * k[0] * k[1], seed),
    bias: bias ? randomArray(cout, seed + 1) : null,
    cin,
    cout,
    group,
    kh: k[0],
    kw: k[1],
    strides: st,
    pads,
    dilations: dil,
    inShape: [cin, H, W],
    outShape: [cout, OH, OW],
  };
}

function linear(K: number, N: number, bias: boolean, seed: number): LinearOp {
  return { ...base, kind: 'linear', name: `fc${K}x${N}`, layerIndex: 0, K, N, inShape: [K], weight: randomArray(K * N, seed), bias: bias ? randomArray(N, seed + 1) : null };
}

describe.skipIf(!gpu)('digital ops on WebGPU vs the CPU oracle', () => {
  describe('unary', () => {
    const cases: [string, UnaryOp][] = [
      ['relu', unary('relu')],
      ['leaky-relu', unary('leaky-relu', { alpha: 0.1 })],
      ['clip both', unary('clip', { min: -0.3, max: 0.5 })],
      ['clip max only', unary('clip', { max: 0.2 })],
      ['clip min only', unary('clip', { min: -0.1 })],
      ['clip unbounded', unary('clip')],
      ['sigmoid', unary('sigmoid')],
      ['tanh', unary('tanh')],
    ];
    it.each(cases)('%s', async (_n, op) => {
      await checkOp(op, [host([1, 7], 1)], 1);
      // Large magnitudes: sigmoid and tanh must saturate, not overflow to NaN.
      await checkOp(op, [host([70, 3, 5], 2, -60, 60)], 70);
    });
  });

  describe('binary with broadcasting', () => {
    const valueConst: [string, BinaryOp['fn'], Shape, Shape, boolean][] = [
      ['[C,H,W] + const [C,1,1]', 'add', [4, 5, 6], [4, 1, 1], false],
      ['const [C,1,1] - [C,H,W]', 'sub', [4, 5, 6], [4, 1, 1], true],
      ['[C,H,W] - const [C,1,1]', 'sub', [4, 5, 6], [4, 1, 1], false],
      ['[C,H,W] * scalar const', 'mul', [3, 2, 7], [], false],
      ['scalar const / [C,H,W]', 'div', [3, 2, 7], [], true],
      ['[C,H,W] / const [W]', 'div', [3, 2, 7], [7], false],
      ['[N] + const [N]', 'add', [10], [10], false],
      ['[C,1,W] * const [1,H,1]', 'mul', [3, 1, 5], [1, 4, 1], false],
      ['const [C,H,W] - [C,1,1] (output from the constant)', 'sub', [3, 1, 1], [3, 4, 5], true],
    ];
    it.each(valueConst)('%s', async (name, fn, aShape, bShape, constFirst) => {
      for (const B of [1, 67]) {
        const bData = fn === 'div' && constFirst ? randomArray(sizeOf(bShape), 9) : randomArray(sizeOf(bShape), 9, 0.5, 1.5);
        const op: BinaryOp = { ...base, kind: 'binary', name, fn, b: { dims: bShape, data: bData }, constFirst, aShape, bShape, outShape: outShape(aShape, bShape) };
        const xs = fn === 'div' && constFirst ? host([B, ...aShape], B, 0.5, 2) : host([B, ...aShape], B);
        await checkOp(op, [xs], B);
      }
    });

    const valueValue: [string, BinaryOp['fn'], Shape, Shape][] = [
      ['same shape', 'add', [3, 4, 5], [3, 4, 5]],
      ['[C,H,W] * [C,1,1]', 'mul', [4, 5, 6], [4, 1, 1]],
      ['[C,1,1] - [C,H,W]', 'sub', [4, 1, 1], [4, 5, 6]],
      ['[1,H,W] / [C,1,1] (both broadcast)', 'div', [1, 5, 6], [4, 1, 1]],
      ['[C,H,W] + [W] (lower rank)', 'add', [2, 3, 9], [9]],
    ];
    it.each(valueValue)('values: %s', async (name, fn, aShape, bShape) => {
      for (const B of [1, 33]) {
        const op: BinaryOp = { ...base, inputs: ['a', 'b'], kind: 'binary', name, fn, b: null, constFirst: false, aShape, bShape, outShape: outShape(aShape, bShape) };
        const b = fn === 'div' ? host([B, ...bShape], 5, 0.5, 2) : host([B, ...bShape], 5);
        await checkOp(op, [host([B, ...aShape], 4), b], B);
      }
    });

    it('the same tensor as both operands', async () => {
      const op: BinaryOp = { ...base, inputs: ['a', 'a'], kind: 'binary', name: 'x*x', fn: 'mul', b: null, constFirst: false, aShape: [5], bShape: [5], outShape: [5] };
      const x = host([3, 5], 6);
      const batch = new Batch(session());
      const t = batch.upload(x);
      const [got] = await batch.run(encodeDigitalOp(batch.e, op, [t, t], 3));
      expectClose(got, x.data.map((v) => v * v));
    });

    it('rejects shapes that do not broadcast', async () => {
      const op: BinaryOp = { ...base, kind: 'binary', name: 'bad', fn: 'add', b: { dims: [3], data: new Float32Array(3) }, constFirst: false, aShape: [4], bShape: [3], outShape: [4] };
      expect(() => digitalOpRef(op, [host([1, 4], 1)], 1)).toThrow(/binary bad: bShape \[3\] does not broadcast/);
      const batch = new Batch(session());
      expect(() => encodeDigitalOp(batch.e, op, [batch.upload(host([1, 4], 1))], 1)).toThrow(/does not broadcast/);
      await batch.run();
    });
  });

  it('affine per channel (unfused BatchNormalization)', async () => {
    for (const [inShape, B] of [[[4, 3, 5], 1], [[6], 70], [[3, 2, 2, 2], 9]] as [number[], number][]) {
      const C = inShape[0];
      await checkOp({ ...base, kind: 'affine', name: `affine[${inShape.join(',')}]`, scale: randomArray(C, 1), shift: randomArray(C, 2), inShape }, [host([B, ...inShape], 3)], B);
    }
  });

  describe('softmax', () => {
    const cases: [Shape, number, number][] = [
      [[10], 0, 1],
      [[10], 0, 130],
      [[5, 7, 3], 0, 2],
      [[5, 7, 3], 1, 3],
      [[5, 7, 3], 2, 65],
      [[5, 7, 3], -1, 4],
    ];
    it.each(cases)('shape %j axis %i batch %i', async (inShape, axis, B) => {
      const op: SoftmaxOp = { ...base, kind: 'softmax', name: `softmax${axis}`, axis, inShape };
      // Logits up to ±100: exp would overflow f32 without subtracting the max.
      await checkOp(op, [host([B, ...inShape], axis + 7, -100, 100)], B);
    });
  });

  describe('pooling', () => {
    const cases: PoolOp[] = [
      pool('max 2x2/2', 'max', [3, 8, 8], [2, 2], [2, 2], [0, 0, 0, 0], [1, 1], false),
      pool('max 3x3/2 pad 1', 'max', [2, 9, 7], [3, 3], [2, 2], [1, 1, 1, 1], [1, 1], false),
      pool('max 3x3/1 dilation 2 asym pads', 'max', [2, 9, 8], [3, 3], [1, 1], [2, 0, 1, 2], [2, 2], false),
      pool('max 2x2/2 ceil', 'max', [2, 7, 7], [2, 2], [2, 2], [0, 0, 0, 0], [1, 1], true),
      pool('avg 2x2/2', 'avg', [3, 6, 6], [2, 2], [2, 2], [0, 0, 0, 0], [1, 1], false),
      pool('avg 3x3/2 pad 1 exclude pad', 'avg', [2, 7, 6], [3, 3], [2, 2], [1, 1, 1, 1], [1, 1], false, false),
      pool('avg 3x3/2 pad 1 include pad', 'avg', [2, 7, 6], [3, 3], [2, 2], [1, 1, 1, 1], [1, 1], false, true),
      pool('avg 3x3/2 pad 1 ceil include pad', 'avg', [2, 6, 6], [3, 3], [2, 2], [1, 1, 1, 1], [1, 1], true, true),
      pool('avg 3x3/2 pad 1 ceil exclude pad', 'avg', [2, 6, 6], [3, 3], [2, 2], [1, 1, 1, 1], [1, 1], true, false),
      pool('avg 2x3 strides 1x2 dilation 2x1 asym pads include', 'avg', [2, 8, 9], [2, 3], [1, 2], [1, 0, 0, 2], [2, 1], true, true),
      pool('global average', 'avg', [5, 6, 7], [6, 7], [1, 1], [0, 0, 0, 0], [1, 1], false),
    ];
    it.each(cases.map((c) => [c.name, c] as const))('%s', async (_n, op) => {
      for (const B of [1, 5]) await checkOp(op, [host([B, ...op.inShape], B + 11)], B);
    });
  });

  it('reshape shares the buffer', async () => {
    const batch = new Batch(session());
    const x = batch.upload(host([2, 3, 4], 1));
    const y = encodeDigitalOp(batch.e, { ...base, kind: 'reshape', name: 'flatten', outShape: [12] }, [x], 2);
    expect(y.buf).toBe(x.buf);
    expect([...y.shape]).toEqual([2, 12]);
    await batch.run();
    expect(() => digitalOpRef({ ...base, kind: 'reshape', name: 'r', outShape: [5] }, [host([2, 3, 4], 1)], 2)).toThrow(/cannot reshape/);
  });

  describe('transpose', () => {
    const cases: [Shape, number[], number][] = [
      [[2, 3, 4], [2, 0, 1], 3],
      [[2, 3, 4], [1, 0, 2], 1],
      [[3, 4, 5], [1, 2, 0], 70],
      [[7, 11], [1, 0], 2],
      [[2, 3, 2, 3, 2, 2], [5, 3, 1, 0, 4, 2], 2],
    ];
    it.each(cases)('shape %j perm %j batch %i', async (inShape, perm, B) => {
      const op: TransposeOp = { ...base, kind: 'transpose', name: 't', perm, inShape };
      await checkOp(op, [host([B, ...inShape], 1)], B);
    });
  });

  describe('concat of three inputs', () => {
    const cases: [Shape[], number][] = [
      [[[2, 3, 4], [1, 3, 4], [3, 3, 4]], 0],
      [[[2, 1, 4], [2, 5, 4], [2, 2, 4]], 1],
      [[[2, 3, 1], [2, 3, 4], [2, 3, 3]], 2],
      [[[5], [1], [7]], -1],
    ];
    it.each(cases)('shapes %j axis %i', async (inShapes, axis) => {
      const op: ConcatOp = { ...base, inputs: ['a', 'b', 'c'], kind: 'concat', name: 'cat', axis, inShapes };
      for (const B of [1, 66]) await checkOp(op, inShapes.map((s, k) => host([B, ...s], k + B)), B);
    });
  });

  describe('linear f32', () => {
    const cases: [number, number, number, boolean][] = [
      [1, 1, 1, true],
      [1, 300, 7, true],
      [37, 129, 8, false],
      [130, 70, 33, true],
      [65, 16, 12, true],
      [5, 20, 10, false],
    ];
    it.each(cases)('B=%i K=%i N=%i bias=%s', async (B, K, N, bias) => {
      const s = session();
      const op = linear(K, N, bias, K + N);
      const x = host([B, K], B);
      const want = linearF32Ref(op, x, B);
      const w = prepareLinearF32(s, op);
      try {
        for (let rep = 0; rep < 2; rep++) {
          const misses = s.pipelines.misses;
          const batch = new Batch(s);
          const y = encodeLinearF32(batch.e, w, batch.upload(x), B);
          expect([...y.shape]).toEqual([B, N]);
          const [got] = await batch.run(y);
          expectClose(got, want.data);
          if (rep === 1) expect(s.pipelines.misses).toBe(misses);
        }
      } finally {
        w.destroy();
      }
    });

    it('adds a bias in place (crossbar linear output)', async () => {
      const [M, N] = [70, 13];
      const y = host([M, N], 3);
      const bias = randomArray(N, 4);
      const batch = new Batch(session());
      const t = batch.upload(y);
      encodeAddBias(batch.e, t, batch.e.temp(uploadStorage(session().ctx.device, bias, 'bias')), M, N);
      const [got] = await batch.run(t);
      expectClose(got, y.data.map((v, i) => v + bias[i % N]));
    });
  });

  it('grouped f32 conv in chunks of whole samples when a batch exceeds one binding', async () => {
    // Samples of 256 bytes in and out, bindings of 1 KiB: 9 samples in chunks of 4, 4 and 1.
    const base = session();
    const s = { ...base, ctx: { ...base.ctx, limits: { ...base.ctx.limits, maxStorageBufferBindingSize: 1024 } } };
    const op = conv('depthwise, small bindings', 4, 4, 4, [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 4, 4, true, 7);
    const w = prepareConvF32(s, op);
    try {
      const B = 9;
      const x = host([B, ...op.inShape], 30);
      const batch = new Batch(s);
      const [got] = await batch.run(encodeConvF32(batch.e, w, batch.upload(x), B));
      expectClose(got, convF32Ref(op, x, B).data);
    } finally {
      w.destroy();
    }
  });

  describe('convolution: im2col + GEMM + colsToNchw, or direct with groups', () => {
    const cases: ConvOp[] = [
      conv('3x3 pad 1', 3, 5, 1, [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 7, 6, true, 1),
      conv('groups 2 stride 2 dilation 2 asym pads', 4, 6, 2, [3, 2], [2, 1], [1, 0, 2, 1], [2, 2], 9, 8, true, 2),
      conv('depthwise', 3, 3, 3, [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 5, 5, true, 3),
      conv('1x1 no bias', 8, 5, 1, [1, 1], [1, 1], [0, 0, 0, 0], [1, 1], 4, 3, false, 4),
      conv('5x5 stride 3 groups 3', 6, 9, 3, [5, 5], [3, 3], [2, 2, 2, 2], [1, 1], 11, 10, false, 5),
      conv('depthwise 16 channels, multiplier 2, one row', 16, 32, 16, [1, 3], [1, 2], [0, 1, 0, 1], [1, 1], 1, 9, true, 6),
    ];
    it.each(cases.map((c) => [c.name, c] as const))('f32 conv: %s', async (_n, op) => {
      const s = session();
      const w = prepareConvF32(s, op);
      try {
        for (const B of [1, 3]) {
          const x = host([B, ...op.inShape], B + 20);
          const want = convF32Ref(op, x, B);
          const batch = new Batch(s);
          const y = encodeConvF32(batch.e, w, batch.upload(x), B);
          expect([...y.shape]).toEqual([B, ...op.outShape]);
          const [got] = await batch.run(y);
          expectClose(got, want.data);
        }
      } finally {
        w.destroy();
      }
    });

    it.each(cases.map((c) => [c.name, c] as const))('crossbar building blocks: %s', async (_n, op) => {
      // The crossbar conv path: im2col per group, a matrix product (here the f32 linear layer on
      // the group's matrix), then the scatter into one shared NCHW output with the bias slice.
      const s = session();
      const B = 2;
      const x = host([B, ...op.inShape], 40);
      const cg = op.cout / op.group;
      const kc = (op.cin / op.group) * op.kh * op.kw;
      const batch = new Batch(s);
      const xt = batch.upload(x);
      const out: GpuTensor = { shape: [B, ...op.outShape], buf: batch.e.alloc(B * sizeOf(op.outShape) * 4, 'out') };
      const colsGpu: GpuTensor[] = [];
      const weights: F32Weights[] = [];
      for (let g = 0; g < op.group; g++) {
        const cols = encodeIm2col(batch.e, op, xt, B, g);
        expect([...cols.shape]).toEqual([B * op.outShape[1] * op.outShape[2], kc]);
        colsGpu.push(cols);
        const w = prepareLinearF32(s, { ...op, kind: 'linear', K: kc, N: cg, weight: groupMatrix(op.weight, kc, cg, g), bias: null });
        weights.push(w);
        const prod = encodeLinearF32(batch.e, w, cols, cols.shape[0]);
        encodeColsToNchw(batch.e, op, prod, out, B, g);
      }
      const [got, ...colsGot] = await batch.run(out, ...colsGpu);
      for (const w of weights) w.destroy();
      for (let g = 0; g < op.group; g++) expectClose(colsGot[g], im2colTensorRef(op, x, B, g).data, `im2col group ${g}`);
      expectClose(got, convF32Ref(op, x, B).data);
    });

    it('scatters host columns like the CPU version, bias slice included', async () => {
      const op = conv('scatter', 6, 6, 3, [1, 1], [1, 1], [0, 0, 0, 0], [1, 1], 3, 5, true, 9);
      const B = 2;
      const P = 15;
      const cols = host([B * P, 2], 5);
      const want: HostTensor = { shape: [B, 6, 3, 5], data: new Float32Array(B * 6 * P).fill(7) };
      colsToNchwTensorRef(op, cols, want, B, 1);
      const batch = new Batch(session());
      const out = batch.upload({ shape: want.shape, data: new Float32Array(B * 6 * P).fill(7) });
      encodeColsToNchw(batch.e, op, batch.upload(cols), out, B, 1);
      const [got] = await batch.run(out);
      expect(maxAbsDiff(got, want.data)).toBeLessThanOrEqual(1e-6);
      // Only group 1's channels (2 and 3) change.
      expect(got[0]).toBe(7);
      expect(got[2 * P]).not.toBe(7);
    });
  });

  describe('beyond one row of the workgroup grid', () => {
    it('runs elementwise, layout, pool, softmax and conv on a 2-D grid and in GEMM row chunks', async () => {
      // 40 workgroups per dimension: every kernel below needs several grid rows.
      const s = tinyGridSession(40);
      const B = 9;
      await checkOp(unary('tanh'), [host([B, 5, 13, 11], 1, -3, 3)], B, s);
      const aShape = [5, 13, 11];
      await checkOp(
        { ...base, kind: 'binary', name: 'add', fn: 'add', b: { dims: [5, 1, 1], data: randomArray(5, 2) }, constFirst: false, aShape, bShape: [5, 1, 1], outShape: aShape },
        [host([B, ...aShape], 3)],
        B,
        s,
      );
      await checkOp({ ...base, kind: 'transpose', name: 't', perm: [2, 0, 1], inShape: aShape }, [host([B, ...aShape], 4)], B, s);
      await checkOp(pool('avg', 'avg', [5, 13, 11], [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], false, true), [host([B, ...aShape], 5)], B, s);
      await checkOp({ ...base, kind: 'softmax', name: 'sm', axis: 2, inShape: [5, 13, 11] }, [host([B, ...aShape], 6)], B, tinyGridSession(4));
      const op = conv('chunked', 3, 7, 1, [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 13, 11, true, 7);
      const w = prepareConvF32(s, op);
      try {
        const x = host([B, ...op.inShape], 8);
        const batch = new Batch(s);
        const y = encodeConvF32(batch.e, w, batch.upload(x), B);
        const [got] = await batch.run(y);
        expectClose(got, convF32Ref(op, x, B).data);
      } finally {
        w.destroy();
      }
    });

    it('refuses work that cannot fit the grid', async () => {
      const s = tinyGridSession(2);
      const batch = new Batch(s);
      const x = batch.upload(host([1, 1000], 1));
      expect(() => encodeDigitalOp(batch.e, unary('relu'), [x], 1)).toThrow(/workgroup grid/);
      await batch.run();
    });
  });

  it('compiles each program once (pipelines cached by program key)', async () => {
    const s = session();
    const op = unary('leaky-relu', { alpha: 0.2 });
    await checkOp(op, [host([2, 9], 1)], 2);
    const misses = s.pipelines.misses;
    await checkOp({ ...op, alpha: 0.3 }, [host([5, 3], 2)], 5);
    await checkOp(op, [host([1, 100], 3)], 1);
    expect(s.pipelines.misses).toBe(misses);
  });

  it('rejects bad program parameters', () => {
    expect(() => elementwiseSource({ entry: 'unary', fn: 'relu', wg: 48 })).toThrow(/power of two/);
    expect(() => elementwiseSource({ entry: 'binary', fn: 'add', wg: 512 })).toThrow(/wg=512/);
    expect(() => layoutSource({ bias: true, wg: 0 })).toThrow(/wg=0/);
    expect(() => poolSource({ mode: 'max', wg: 3 })).toThrow(/power of two/);
    expect(() => softmaxSource({ log: false, wg: 1024 })).toThrow(/wg=1024/);
    expect(() => im2colSource({ wg: 7 })).toThrow(/power of two/);
    expect(softmaxSource({ log: false, wg: 64 })).toContain('@workgroup_size(64)');
  });
});
