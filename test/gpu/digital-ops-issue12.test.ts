/**
 * The WGSL kernels of issue 12's digital ops against the CPU oracle (src/reference) on shapes the
 * ONNX node tests do not reach (cumsum has none): ragged sizes, one row, batches, more elements than one workgroup
 * row of the grid (a tiny-grid session), negative steps and pads, broadcast batch dims.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openTestGpu } from '../helpers/gpu.ts';
import { Batch, checkOpOn, host } from '../helpers/gpu-batch.ts';
import { randomArray } from '../helpers/random.ts';
import type { GpuSession } from '../../src/gpu/runtime.ts';
import type { BinaryOp, Col2ImOp, GatherElementsOp, GatherOp, LookupOp, MatMulOp, PadOp, ReduceOp, ResizeOp, Shape, SliceOp, UnaryOp } from '../../src/ir/graph.ts';
import { sizeOf } from '../../src/ir/graph.ts';
import type { HostTensor } from '../../src/ir/tensor.ts';
import type { DigitalOp } from '../../src/nn/ops/types.ts';
import { digitalOpRef, encodeDigitalOp } from '../../src/nn/ops/registry.ts';

const gpu = await openTestGpu();
afterAll(() => gpu?.runtime.release());

/** The same device with a 4-workgroup-wide grid, so a few hundred elements span several grid rows. */
function tinyGrid(): GpuSession {
  const s = gpu!.session;
  return { ...s, ctx: { ...s.ctx, limits: { ...s.ctx.limits, maxComputeWorkgroupsPerDimension: 4 } } };
}

const check = (op: DigitalOp, inputs: HostTensor[], B: number, s?: GpuSession): Promise<Float32Array> => checkOpOn(s ?? gpu!.session, op, inputs, B);
const base = { inputs: ['x'], output: 'y' };
const ints = (shape: readonly number[], seed: number, levels: number): HostTensor => ({ shape, data: randomArray(sizeOf(shape), seed, 0, levels).map(Math.floor) });

function broadcastShape(...shapes: Shape[]): number[] {
  const r = Math.max(...shapes.map((s) => s.length));
  const al = shapes.map((s) => [...new Array<number>(r - s.length).fill(1), ...s]);
  return al[0].map((_, k) => Math.max(...al.map((s) => s[k])));
}

describe.skipIf(!gpu)('issue 12 digital ops on WebGPU vs the CPU oracle', () => {
  describe('unary functions', () => {
    const fns: [UnaryOp['fn'], number, number][] = [
      ['gelu', -6, 6], ['gelu-tanh', -6, 6], ['hard-sigmoid', -4, 4], ['hard-swish', -5, 5], ['exp', -8, 8],
      ['log', 0.01, 50], ['neg', -3, 3], ['abs', -3, 3], ['reciprocal', 0.1, 4], ['sqrt', 0, 9], ['erf', -4, 4],
      ['trunc', -9, 9], ['bool', -1.5, 1.5], ['not', -1.5, 1.5],
      ['elu', -6, 6], ['celu', -6, 6], ['selu', -6, 6], ['softplus', -30, 30], ['softsign', -9, 9], ['mish', -12, 12], ['sign', -2, 2],
      // Fourier features and NeRF encodings take sin and cos of large arguments.
      ['sin', -3000, 3000], ['cos', -3000, 3000], ['floor', -9, 9], ['ceil', -9, 9], ['round', -9, 9],
      ['is-nan', -9, 9], ['is-inf', -9, 9],
      // Per element, domain edges and NaN in test/gpu/onnx-unary-math.test.ts.
      ['atan', -50, 50], ['sinh', -20, 20], ['cosh', -20, 20], ['asinh', -1e5, 1e5],
      ['thresholded-relu', -2, 2], ['shrink', -2, 2],
    ];
    it.each(fns)('%s on ragged, one-row and grid-spanning shapes', async (fn, lo, hi) => {
      const op: UnaryOp = { ...base, kind: 'unary', name: fn, fn, alpha: 0.2, beta: 0.6, min: -Infinity, max: Infinity };
      await check(op, [host([1, 7], 1, lo, hi)], 1);
      await check(op, [host([5, 3, 37], 2, lo, hi)], 5);
      await check(op, [host([1, 613], 3, lo, hi)], 1, tinyGrid());
      if (fn === 'bool' || fn === 'not') await check(op, [{ shape: [1, 9], data: Float32Array.from([0, 1, -0, 2, 0, -3, 0.5, 0, 1]) }], 1);
      if (fn === 'round') await check(op, [{ shape: [1, 8], data: Float32Array.from([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999998, -3.5]) }], 1);
      if (fn === 'is-nan' || fn === 'is-inf') {
        // NaN (quiet and with a payload), ±Inf, the largest finite and the smallest subnormal.
        const x = new Float32Array(new Uint32Array([0x7fc00000, 0xffc00001, 0x7f800000, 0xff800000, 0x7f7fffff, 0x00000001, 0, 0x80000000]).buffer);
        expect(Array.from(await check(op, [{ shape: [1, 8], data: x }], 1))).toEqual(fn === 'is-nan' ? [1, 1, 0, 0, 0, 0, 0, 0] : [0, 0, 1, 1, 0, 0, 0, 0]);
      }
    });
  });

  describe('binary functions with broadcasting', () => {
    const cases: [BinaryOp['fn'], Shape, Shape][] = [
      ['max', [2, 5, 7], [5, 1]], ['min', [5, 1], [2, 5, 7]], ['equal', [3, 4], [4]], ['less', [3, 4], [3, 1]], ['greater', [1, 6], [4, 1]], ['pow', [2, 3, 5], [5]],
    ];
    it.each(cases)('%s of %j and %j, both activations, batches 1 and 3', async (fn, aShape, bShape) => {
      const op: BinaryOp = { ...base, inputs: ['a', 'b'], kind: 'binary', name: fn, fn, b: null, constFirst: false, aShape, bShape, outShape: broadcastShape(aShape, bShape) };
      for (const B of [1, 3]) {
        const integer = fn === 'equal' || fn === 'less' || fn === 'greater';
        const a = integer ? ints([B, ...aShape], 4, 3) : host([B, ...aShape], 4, fn === 'pow' ? 0.1 : -2, 2);
        const b = integer ? ints([B, ...bShape], 5, 3) : host([B, ...bShape], 5, -2, 2);
        await check(op, [a, b], B);
      }
    });

    it('pow: integer exponents of negative bases are exact with numpy signs; zero bases', async () => {
      const op: BinaryOp = { ...base, kind: 'binary', name: 'pow-int', fn: 'pow', b: { dims: [6], data: Float32Array.from([0, 1, 2, 3, -1, -2]) }, constFirst: false, aShape: [4, 6], bShape: [6], outShape: [4, 6] };
      const x = { shape: [1, 4, 6], data: Float32Array.from({ length: 24 }, (_, i) => [-3, -1.5, 2, 0.5][i % 4]) };
      await check(op, [x], 1);
      const zero: BinaryOp = { ...op, name: 'pow-zero', b: { dims: [3], data: Float32Array.from([0, 2, 0.5]) }, aShape: [3], bShape: [3], outShape: [3] };
      await check(zero, [{ shape: [1, 3], data: new Float32Array(3) }], 1);
    });
  });

  it('where broadcasts condition, x and y', async () => {
    const [condShape, xShape, yShape] = [[1, 7], [2, 5, 7], [5, 1]];
    const op: DigitalOp = { ...base, inputs: ['c', 'x', 'y'], kind: 'where', name: 'where', condShape, xShape, yShape, outShape: broadcastShape(condShape, xShape, yShape) };
    for (const B of [1, 4]) await check(op, [ints([B, ...condShape], 6, 2), host([B, ...xShape], 7), host([B, ...yShape], 8)], B);
  });

  describe('matmul of two activations', () => {
    const cases: [string, Shape, Shape][] = [
      ['[3,5,7] × [7,9] (b broadcast over the lead dim)', [3, 5, 7], [7, 9]],
      ['[2,1,4,6] × [3,6,5] (both broadcast)', [2, 1, 4, 6], [3, 6, 5]],
      ['one row [1,13] × [13,1]', [1, 13], [13, 1]],
      ['[65,300] × [300,33] (long K, ragged)', [65, 300], [300, 33]],
      ['attention [4,16,8] × [4,8,16]', [4, 16, 8], [4, 8, 16]],
    ];
    it.each(cases)('%s', async (name, aShape, bShape) => {
      const lead = broadcastShape(aShape.slice(0, -2), bShape.slice(0, -2));
      const outShape = [...lead, aShape[aShape.length - 2], bShape[bShape.length - 1]];
      const op: MatMulOp = { ...base, inputs: ['a', 'b'], kind: 'matmul', name, aShape, bShape, outShape };
      for (const B of [1, 2]) await check(op, [host([B, ...aShape], 9), host([B, ...bShape], 10)], B);
    });
  });

  describe('reductions', () => {
    const cases: [ReduceOp['fn'], number[], boolean][] = [
      ['sum', [0, 2], false], ['mean', [1], true], ['max', [0, 1, 2], false], ['min', [2], true], ['mean', [0, 2], true], ['sum', [1, 2], false],
      ['prod', [1], false], ['prod', [0, 2], true],
    ];
    it.each(cases)('%s over %j (keepDims %s) of [3,4,5], batches 1 and 3', async (fn, axes, keepDims) => {
      const inShape = [3, 4, 5];
      const outShape = keepDims ? inShape.map((d, k) => (axes.includes(k) ? 1 : d)) : inShape.filter((_, k) => !axes.includes(k));
      const op: ReduceOp = { ...base, kind: 'reduce', name: `${fn}`, fn, axes, keepDims, inShape, outShape };
      for (const B of [1, 3]) await check(op, [host([B, ...inShape], 11)], B);
    });
    it('a long reduction over a grid-spanning output, and an empty one', async () => {
      const op: ReduceOp = { ...base, kind: 'reduce', name: 'mean-long', fn: 'mean', axes: [1], keepDims: false, inShape: [300, 700], outShape: [300] };
      await check(op, [host([1, 300, 700], 12)], 1, tinyGrid());
      const empty: ReduceOp = { ...base, kind: 'reduce', name: 'sum-empty', fn: 'sum', axes: [1], keepDims: true, inShape: [3, 0], outShape: [3, 1] };
      await check(empty, [{ shape: [2, 3, 0], data: new Float32Array(0) }], 2);
    });
  });

  it('argmax with ties, first and last index, every axis', async () => {
    const inShape = [4, 7, 3];
    for (const selectLastIndex of [false, true]) {
      for (const axis of [0, 1, 2]) {
        const outShape = inShape.map((d, k) => (k === axis ? 1 : d));
        await check({ ...base, kind: 'argmax', name: `argmax${axis}`, axis, keepDims: true, selectLastIndex, inShape, outShape }, [ints([2, ...inShape], 13, 3)], 2);
      }
    }
  });

  it('cumsum on every axis, inclusive and exclusive, from either end; one element; a grid-spanning one', async () => {
    const inShape = [4, 7, 3];
    for (const axis of [0, 1, 2]) {
      for (const exclusive of [false, true]) {
        for (const reverse of [false, true]) {
          await check({ ...base, kind: 'cumsum', name: `cumsum${axis}`, axis, exclusive, reverse, inShape }, [host([3, ...inShape], 17 + axis)], 3);
        }
      }
    }
    await check({ ...base, kind: 'cumsum', name: 'cumsum-one', axis: 0, exclusive: false, reverse: false, inShape: [1] }, [host([1, 1], 20)], 1);
    await check({ ...base, kind: 'cumsum', name: 'cumsum-long', axis: 1, exclusive: false, reverse: true, inShape: [300, 41] }, [ints([2, 300, 41], 21, 2)], 2, tinyGrid());
  });

  it('topk on every axis, largest and smallest, values and indices, with ties and NaN; a grid-spanning one', async () => {
    const inShape = [4, 7, 3];
    const x = ints([2, ...inShape], 23, 3);
    // NaN ranks above every number; the comparison of values cannot see NaN, so it goes to the indices only.
    const withNan = { shape: x.shape, data: Float32Array.from(x.data) };
    withNan.data[5] = NaN;
    withNan.data[40] = NaN;
    for (const axis of [0, 1, 2]) {
      for (const largest of [true, false]) {
        for (const gives of ['values', 'indices'] as const) {
          const k = Math.min(3, inShape[axis]);
          const outShape = inShape.map((d, i) => (i === axis ? k : d));
          await check({ ...base, kind: 'topk', name: `topk${axis}`, axis, k, largest, gives, inShape, outShape }, [gives === 'values' ? x : withNan], 2);
        }
      }
    }
    await check({ ...base, kind: 'topk', name: 'topk-long', axis: 1, k: 5, largest: true, gives: 'indices', inShape: [30, 20], outShape: [30, 5] }, [host([1, 30, 20], 24)], 1, tinyGrid());
  });

  it('log-softmax on every axis, with large logits', async () => {
    const inShape = [5, 6, 7];
    for (const axis of [0, 1, 2]) await check({ ...base, kind: 'log-softmax', name: `lsm${axis}`, axis, inShape }, [host([3, ...inShape], 14, -40, 40)], 3);
  });

  it('layer norm over trailing axes, with and without scale and bias; instance norm', async () => {
    const inShape = [5, 4, 6];
    await check({ ...base, kind: 'layernorm', name: 'ln1', axis: 1, epsilon: 1e-5, scale: randomArray(24, 15), bias: randomArray(24, 16), inShape }, [host([3, ...inShape], 17, -3, 5)], 3);
    await check({ ...base, kind: 'layernorm', name: 'ln2', axis: 2, epsilon: 1e-3, scale: null, bias: null, inShape }, [host([1, ...inShape], 18)], 1);
    await check({ ...base, kind: 'layernorm', name: 'ln-row', axis: 0, epsilon: 1e-5, scale: null, bias: randomArray(97, 19), inShape: [97] }, [host([1, 97], 20)], 1);
    await check({ ...base, kind: 'instancenorm', name: 'in', epsilon: 1e-5, scale: randomArray(3, 21), bias: randomArray(3, 22), inShape: [3, 5, 7] }, [host([2, 3, 5, 7], 23)], 2);
  });

  it('LRN with odd and even windows', async () => {
    for (const size of [3, 4, 1]) {
      await check({ ...base, kind: 'lrn', name: `lrn${size}`, size, alpha: 1e-2, beta: 0.75, bias: 2, inShape: [7, 3, 5] }, [host([2, 7, 3, 5], 24, -3, 3)], 2);
    }
  });

  it('slice with negative steps and offsets; gather with 2-D indices on every axis', async () => {
    const sl: SliceOp = { ...base, kind: 'slice', name: 'slice', starts: [2, 5, 0], steps: [-1, -2, 3], inShape: [4, 6, 8], outShape: [3, 3, 3] };
    for (const B of [1, 3]) await check(sl, [host([B, 4, 6, 8], 25)], B);
    const inShape = [4, 5, 6];
    for (const axis of [0, 1, 2]) {
      const idx = Int32Array.from([0, 3, 1, 1, 2, 3]);
      const outShape = [...inShape.slice(0, axis), 2, 3, ...inShape.slice(axis + 1)];
      const g: GatherOp = { ...base, kind: 'gather', name: `gather${axis}`, axis, indices: idx, indicesShape: [2, 3], inShape, outShape };
      await check(g, [host([2, ...inShape], 26)], 2);
    }
  });

  it('embedding lookup: 2-D indices (negative ones from the end), one index, a grid-spanning table read', async () => {
    const table = { dims: [7, 3, 2], data: randomArray(42, 27) };
    const op = (indicesShape: number[]): LookupOp => ({ ...base, kind: 'lookup', name: 'lookup', table, indicesShape, outShape: [...indicesShape, 3, 2] });
    const idx = (shape: number[], seed: number): HostTensor => ({ shape, data: randomArray(sizeOf(shape), seed, -7, 7).map(Math.floor) });
    for (const B of [1, 3]) await check(op([2, 5]), [idx([B, 2, 5], 28)], B);
    await check(op([1]), [idx([1, 1], 29)], 1);
    await check(op([40]), [idx([2, 40], 30)], 2, tinyGrid());
  });

  it('embedding lookup: an index that picks no row (out of range, fractional, NaN) gives NaN on both sides', async () => {
    const table = { dims: [4, 3], data: randomArray(12, 31) };
    const op: LookupOp = { ...base, kind: 'lookup', name: 'lookup', table, indicesShape: [8], outShape: [8, 3] };
    const x: HostTensor = { shape: [1, 8], data: Float32Array.from([0, 3, -4, 4, -5, 1.5, NaN, -1]) };
    const want = digitalOpRef(op, [x], 1).data;
    const batch = new Batch(gpu!.session);
    const [got] = await batch.run(encodeDigitalOp(batch.e, op, [batch.upload(x)], 1));
    expect(Array.from(got, Number.isNaN)).toEqual(Array.from({ length: 24 }, (_, i) => [3, 4, 5, 6].includes(Math.floor(i / 3))));
    expect(Array.from(got).filter((v) => !Number.isNaN(v))).toEqual(Array.from(want).filter((v) => !Number.isNaN(v)));
    expect(Array.from(want.subarray(6, 9))).toEqual(Array.from(table.data.subarray(0, 3)));
    expect(Array.from(want.subarray(21, 24))).toEqual(Array.from(table.data.subarray(9, 12)));
  });

  it('gather-elements along each axis: indices narrower than the data, negative ones, a grid-spanning read, and NaN where an index picks nothing', async () => {
    const inShape = [3, 4, 5];
    for (const axis of [0, 1, 2]) {
      const outShape = inShape.map((d, k) => (k === axis ? d + 2 : Math.max(1, d - 1)));
      const op: GatherElementsOp = { ...base, inputs: ['x', 'i'], kind: 'gather-elements', name: `take${axis}`, axis, inShape, outShape };
      const L = inShape[axis];
      for (const B of [1, 3]) await check(op, [host([B, ...inShape], 40 + axis), { shape: [B, ...outShape], data: randomArray(B * sizeOf(outShape), 50 + axis, -L, L).map(Math.floor) }], B);
    }
    const wide: GatherElementsOp = { ...base, inputs: ['x', 'i'], kind: 'gather-elements', name: 'wide', axis: 0, inShape: [9, 40], outShape: [3, 40] };
    await check(wide, [host([2, 9, 40], 60), { shape: [2, 3, 40], data: randomArray(240, 61, -9, 9).map(Math.floor) }], 2, tinyGrid());
    const one: GatherElementsOp = { ...base, inputs: ['x', 'i'], kind: 'gather-elements', name: 'bad', axis: 0, inShape: [4], outShape: [6] };
    const x = host([1, 4], 62);
    const i: HostTensor = { shape: [1, 6], data: Float32Array.from([0, -4, 4, 1.5, NaN, 3]) };
    const want = digitalOpRef(one, [x, i], 1).data;
    const batch = new Batch(gpu!.session);
    const [got] = await batch.run(encodeDigitalOp(batch.e, one, [batch.upload(x), batch.upload(i)], 1));
    expect(Array.from(got, Number.isNaN)).toEqual([false, false, true, true, true, false]);
    expect(Array.from(want, Number.isNaN)).toEqual([false, false, true, true, true, false]);
    expect([got[0], got[1], got[5]]).toEqual([x.data[0], x.data[0], x.data[3]]);
  });

  it('pad in every mode, with crops and pads longer than the axis', async () => {
    const inShape = [3, 4, 5];
    const pads = [0, 7, -1, 1, 9, 2];
    const outShape = inShape.map((d, k) => d + pads[k] + pads[3 + k]);
    for (const mode of ['constant', 'reflect', 'edge', 'wrap'] as const) {
      const op: PadOp = { ...base, kind: 'pad', name: mode, mode, pads, value: 0.25, inShape, outShape };
      for (const B of [1, 2]) await check(op, [host([B, ...inShape], 27)], B);
    }
  });

  it('expand and constant', async () => {
    await check({ ...base, kind: 'expand', name: 'expand', inShape: [3, 1], outShape: [2, 3, 4] }, [host([2, 3, 1], 28)], 2);
    await check({ ...base, inputs: [], kind: 'constant', name: 'const', value: { dims: [2, 3], data: randomArray(6, 29) } }, [], 5);
  });

  describe('resize', () => {
    const cases: [string, Partial<ResizeOp>, number[], number[]][] = [
      ['nearest half_pixel up ×2.5 (round_prefer_floor)', { mode: 'nearest', coordinateTransform: 'half_pixel' }, [2, 1, 2.5, 2.5], [1, 3, 4, 4]],
      ['nearest asymmetric floor down', { mode: 'nearest', coordinateTransform: 'asymmetric', nearestMode: 'floor' }, [1, 1, 0.6, 0.5], [1, 2, 5, 8]],
      ['linear half_pixel up', { mode: 'linear', coordinateTransform: 'half_pixel' }, [1, 1, 2, 3], [2, 2, 3, 3]],
      ['linear align_corners', { mode: 'linear', coordinateTransform: 'align_corners' }, [1, 1, 1.5, 0.6], [1, 2, 4, 5]],
      ['linear pytorch_half_pixel down', { mode: 'linear', coordinateTransform: 'pytorch_half_pixel' }, [1, 1, 0.5, 0.25], [1, 1, 6, 8]],
      ['linear antialias down', { mode: 'linear', coordinateTransform: 'half_pixel', antialias: true }, [1, 1, 0.4, 0.6], [1, 2, 10, 5]],
      ['tf_crop_and_resize with extrapolation', { mode: 'linear', coordinateTransform: 'tf_crop_and_resize', roi: [0, 0, -0.2, 0.3, 1, 1, 0.7, 1.3], extrapolationValue: 7 }, [1, 1, 1.5, 1.4], [1, 1, 4, 5]],
      ['cubic pytorch_half_pixel up (bicubic)', { mode: 'cubic', coordinateTransform: 'pytorch_half_pixel' }, [1, 1, 2, 2.5], [1, 2, 5, 4]],
      ['cubic A −0.5 exclude_outside down', { mode: 'cubic', coordinateTransform: 'half_pixel', cubicCoeffA: -0.5, excludeOutside: true }, [1, 1, 0.6, 0.8], [1, 1, 10, 5]],
      ['cubic antialias down', { mode: 'cubic', coordinateTransform: 'half_pixel', antialias: true }, [1, 1, 0.4, 0.6], [1, 2, 10, 5]],
    ];
    it.each(cases)('%s', async (name, p, scales, inShape) => {
      const outShape = inShape.map((d, k) => Math.floor(d * scales[k]));
      const op: ResizeOp = {
        ...base, kind: 'resize', name, mode: 'nearest', coordinateTransform: 'half_pixel', nearestMode: 'round_prefer_floor', roi: null, extrapolationValue: 0, antialias: false, cubicCoeffA: -0.75, excludeOutside: false,
        ...p, scales, inShape, outShape,
      };
      for (const B of [1, 2]) await check(op, [host([B, ...inShape], 30)], B);
    });
  });

  it('col2im with strides, pads and dilations', async () => {
    const geo: [number, number, number, [number, number], [number, number, number, number], [number, number], number, number][] = [
      [2, 3, 3, [2, 2], [1, 0, 1, 0], [1, 1], 4, 5],
      [3, 2, 4, [1, 3], [0, 2, 0, 1], [2, 1], 3, 3],
    ];
    for (const [cout, kh, kw, strides, pads, dilations, H, W] of geo) {
      const OH = (H - 1) * strides[0] - pads[0] - pads[2] + dilations[0] * (kh - 1) + 1;
      const OW = (W - 1) * strides[1] - pads[1] - pads[3] + dilations[1] * (kw - 1) + 1;
      const op: Col2ImOp = { ...base, kind: 'col2im', name: 'col2im', cout, kh, kw, strides, pads, dilations, inSize: [H, W], bias: randomArray(cout, 31), outShape: [cout, OH, OW] };
      for (const B of [1, 2]) await check(op, [host([B, H * W, cout * kh * kw], 32)], B);
    }
  });

  it('the GPU refuses a slice that reads outside its input, naming the op', async () => {
    const sl: SliceOp = { ...base, kind: 'slice', name: 'bad', starts: [5], steps: [1], inShape: [4], outShape: [1] };
    await expect(check(sl, [host([1, 4], 33)], 1)).rejects.toThrow(/slice bad: /);
  });
});
