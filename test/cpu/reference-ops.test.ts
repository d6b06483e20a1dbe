import { describe, expect, it } from 'vitest';
import { maxAbs, maxAbsDiff, randomArray } from '../helpers/random.ts';
import type { BinaryOp, ConvOp, LinearOp, PoolOp, Shape, UnaryOp } from '../../src/ir/graph.ts';
import type { HostTensor } from '../../src/ir/tensor.ts';
import { colsToNchwTensorRef, convF32Ref, im2colTensorRef, linearF32Ref } from '../../src/nn/ops/matrix.ts';
import { digitalOpRef, gpuKernelMissing, kindsWithoutGpu } from '../../src/nn/ops/registry.ts';
import type { BinaryFn, UnaryFn } from '../../src/ir/graph.ts';

const base = { inputs: ['x'], output: 'y' };

function t(shape: readonly number[], values: readonly number[]): HostTensor {
  return { shape, data: Float32Array.from(values) };
}

function expectValues(got: HostTensor, shape: readonly number[], want: readonly number[], tol = 1e-6): void {
  expect([...got.shape]).toEqual([...shape]);
  expect(got.data.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(got.data[i], `element ${i}`).toBeCloseTo(want[i], -Math.log10(tol));
}

function unary(fn: UnaryOp['fn'], extra: Partial<UnaryOp> = {}): UnaryOp {
  return { ...base, kind: 'unary', name: fn, fn, alpha: 0, min: -Infinity, max: Infinity, ...extra };
}

function binary(fn: BinaryOp['fn'], aShape: Shape, bShape: Shape, outShape: Shape, b: number[] | null, constFirst = false): BinaryOp {
  return { ...base, kind: 'binary', name: fn, fn, b: b ? { dims: bShape, data: Float32Array.from(b) } : null, constFirst, aShape, bShape, outShape };
}

function pool(mode: 'max' | 'avg', inShape: [number, number, number], outShape: [number, number, number], kernel: [number, number], strides: [number, number], pads: [number, number, number, number], dilations: [number, number] = [1, 1], countIncludePad = false): PoolOp {
  return { ...base, kind: 'pool', name: 'pool', mode, kernel, strides, pads, dilations, countIncludePad, inShape, outShape };
}

function convOp(p: Partial<ConvOp> & Pick<ConvOp, 'cin' | 'cout' | 'kh' | 'kw' | 'inShape' | 'outShape' | 'weight'>): ConvOp {
  return { ...base, kind: 'conv', name: 'conv', layerIndex: 0, bias: null, group: 1, strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], ...p };
}

describe('CPU digital ops: hand-computed values', () => {
  const x = t([1, 5], [-2, -0.5, 0, 0.5, 2]);
  it.each([
    ['relu', unary('relu'), [0, 0, 0, 0.5, 2]],
    ['leaky-relu', unary('leaky-relu', { alpha: 0.1 }), [-0.2, -0.05, 0, 0.5, 2]],
    ['clip [-1, 1]', unary('clip', { min: -1, max: 1 }), [-1, -0.5, 0, 0.5, 1]],
    ['clip [-1, inf)', unary('clip', { min: -1 }), [-1, -0.5, 0, 0.5, 2]],
    ['clip (-inf, 0.25]', unary('clip', { max: 0.25 }), [-2, -0.5, 0, 0.25, 0.25]],
    ['sigmoid', unary('sigmoid'), [0.11920292, 0.37754067, 0.5, 0.62245933, 0.88079708]],
    ['tanh', unary('tanh'), [-0.96402758, -0.46211716, 0, 0.46211716, 0.96402758]],
  ] as const)('%s', (_n, op, want) => {
    expectValues(digitalOpRef(op, [x], 1), [1, 5], want);
  });

  it('broadcasts a constant along a per-sample axis, in both operand orders', () => {
    const a = t([2, 2, 1], [1, 2, 3, 4]);
    expectValues(digitalOpRef(binary('add', [2, 1], [3], [2, 3], [10, 20, 30]), [a], 2), [2, 2, 3], [11, 21, 31, 12, 22, 32, 13, 23, 33, 14, 24, 34]);
    expectValues(digitalOpRef(binary('sub', [2, 1], [3], [2, 3], [10, 20, 30], true), [a], 2), [2, 2, 3], [9, 19, 29, 8, 18, 28, 7, 17, 27, 6, 16, 26]);
    expectValues(digitalOpRef(binary('sub', [2, 1], [3], [2, 3], [10, 20, 30]), [a], 2), [2, 2, 3], [-9, -19, -29, -8, -18, -28, -7, -17, -27, -6, -16, -26]);
  });

  it('broadcasts a scalar constant and two batched values', () => {
    expectValues(digitalOpRef(binary('div', [3], [], [3], [2]), [t([1, 3], [1, 2, 3])], 1), [1, 3], [0.5, 1, 1.5]);
    expectValues(digitalOpRef(binary('div', [3], [], [3], [2], true), [t([1, 3], [1, 2, 4])], 1), [1, 3], [2, 1, 0.5]);
    // Each sample's b broadcasts over that sample's a only: the batch dim is never broadcast for values.
    const op = binary('add', [2], [1], [2], null);
    expectValues(digitalOpRef(op, [t([2, 2], [1, 2, 3, 4]), t([2, 1], [10, 100])], 2), [2, 2], [11, 12, 103, 104]);
    expectValues(digitalOpRef(binary('mul', [2, 1], [1, 3], [2, 3], null), [t([1, 2, 1], [2, 3]), t([1, 1, 3], [1, 10, 100])], 1), [1, 2, 3], [2, 20, 200, 3, 30, 300]);
  });

  it('affine scales and shifts per channel', () => {
    const op = { ...base, kind: 'affine' as const, name: 'bn', scale: Float32Array.from([2, -1]), shift: Float32Array.from([0.5, 1]), inShape: [2, 2] };
    expectValues(digitalOpRef(op, [t([1, 2, 2], [1, 2, 3, 4])], 1), [1, 2, 2], [2.5, 4.5, -2, -3]);
  });

  it('softmax on the last axis, on axis 0, and on huge logits', () => {
    const sm = (axis: number, inShape: Shape) => ({ ...base, kind: 'softmax' as const, name: 'sm', axis, inShape });
    expectValues(digitalOpRef(sm(0, [3]), [t([2, 3], [1, 2, 3, 1000, 1001, 1002])], 2), [2, 3], [0.09003057, 0.24472847, 0.66524096, 0.09003057, 0.24472847, 0.66524096]);
    expectValues(digitalOpRef(sm(0, [2, 2]), [t([1, 2, 2], [1, 0, 3, 0])], 1), [1, 2, 2], [0.11920292, 0.5, 0.88079708, 0.5]);
    expectValues(digitalOpRef(sm(-1, [2, 2]), [t([1, 2, 2], [1, 0, 3, 3])], 1), [1, 2, 2], [0.73105858, 0.26894142, 0.5, 0.5]);
  });

  it('max pool 2x2/2, and with dilation', () => {
    const x16 = t([1, 1, 4, 4], Array.from({ length: 16 }, (_, i) => i));
    expectValues(digitalOpRef(pool('max', [1, 4, 4], [1, 2, 2], [2, 2], [2, 2], [0, 0, 0, 0]), [x16], 1), [1, 1, 2, 2], [5, 7, 13, 15]);
    const x5 = t([1, 1, 1, 5], [1, 5, 2, 4, 3]);
    expectValues(digitalOpRef(pool('max', [1, 1, 5], [1, 1, 3], [1, 2], [1, 1], [0, 0, 0, 0], [1, 2]), [x5], 1), [1, 1, 1, 3], [2, 5, 3]);
    // Padding never wins a max, even over negative values.
    const neg = t([1, 1, 1, 2], [-3, -4]);
    expectValues(digitalOpRef(pool('max', [1, 1, 2], [1, 1, 3], [1, 2], [1, 1], [0, 1, 0, 1]), [neg], 1), [1, 1, 1, 3], [-3, -3, -4]);
  });

  it('average pool with pads: count_include_pad on and off', () => {
    const x = t([1, 1, 2, 2], [1, 2, 3, 4]);
    const op = (inc: boolean) => pool('avg', [1, 2, 2], [1, 3, 3], [2, 2], [1, 1], [1, 1, 1, 1], [1, 1], inc);
    expectValues(digitalOpRef(op(false), [x], 1), [1, 1, 3, 3], [1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4]);
    expectValues(digitalOpRef(op(true), [x], 1), [1, 1, 3, 3], [0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1]);
  });

  it('average pool with a ceil_mode overhang: the overhang never counts, the pads do when asked', () => {
    const x = t([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const inc of [false, true]) {
      expectValues(digitalOpRef(pool('avg', [1, 3, 3], [1, 2, 2], [2, 2], [2, 2], [0, 0, 0, 0], [1, 1], inc), [x], 1), [1, 1, 2, 2], [3, 4.5, 7.5, 9]);
    }
    // W=4, kernel 3, stride 2, pads 1/1, ceil: the last window covers input 3, pad 4 and overhang 5.
    const row = t([1, 1, 1, 4], [1, 2, 3, 4]);
    const p = (inc: boolean) => pool('avg', [1, 1, 4], [1, 1, 3], [1, 3], [1, 2], [0, 1, 0, 1], [1, 1], inc);
    expectValues(digitalOpRef(p(false), [row], 1), [1, 1, 1, 3], [1.5, 3, 4]);
    expectValues(digitalOpRef(p(true), [row], 1), [1, 1, 1, 3], [1, 3, 2]);
  });

  it('reshape keeps the data, transpose and concat move it', () => {
    const x = t([2, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const r = digitalOpRef({ ...base, kind: 'reshape', name: 'r', outShape: [6] }, [x], 2);
    expect([...r.shape]).toEqual([2, 6]);
    expect(r.data).toBe(x.data);
    expectValues(digitalOpRef({ ...base, kind: 'transpose', name: 't', perm: [1, 0], inShape: [2, 3] }, [x], 2), [2, 3, 2], [1, 4, 2, 5, 3, 6, 7, 10, 8, 11, 9, 12]);
    const cat = { ...base, kind: 'concat' as const, name: 'c', axis: 1, inShapes: [[2, 1], [2, 2], [2, 1]] };
    expectValues(digitalOpRef(cat, [t([1, 2, 1], [1, 2]), t([1, 2, 2], [3, 4, 5, 6]), t([1, 2, 1], [7, 8])], 1), [1, 2, 4], [1, 3, 4, 7, 2, 5, 6, 8]);
    const cat0 = { ...base, kind: 'concat' as const, name: 'c', axis: 0, inShapes: [[1], [2]] };
    expectValues(digitalOpRef(cat0, [t([2, 1], [1, 2]), t([2, 2], [3, 4, 5, 6])], 2), [2, 3], [1, 3, 4, 2, 5, 6]);
  });

  it('linear layer', () => {
    const op: LinearOp = { ...base, kind: 'linear', name: 'fc', layerIndex: 0, K: 2, N: 3, inShape: [2], weight: Float32Array.from([1, 2, 3, 4, 5, 6]), bias: Float32Array.from([0.5, 0, -1]) };
    expectValues(linearF32Ref(op, t([2, 2], [1, 2, 0, 1]), 2), [2, 3], [9.5, 12, 14, 4.5, 5, 5]);
    expectValues(linearF32Ref({ ...op, bias: null }, t([1, 2], [1, 2]), 1), [1, 3], [9, 12, 15]);
  });
});

describe('CPU im2col and convolution', () => {
  const x9 = t([1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);

  it('im2col rows (b, oh, ow), columns (cin, kh, kw)', () => {
    const op = convOp({ cin: 1, cout: 1, kh: 2, kw: 2, inShape: [1, 3, 3], outShape: [1, 2, 2], weight: new Float32Array(4) });
    expectValues(im2colTensorRef(op, x9, 1, 0), [4, 4], [1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9]);
    const padded = convOp({ cin: 1, cout: 1, kh: 3, kw: 3, strides: [2, 2], pads: [1, 1, 1, 1], inShape: [1, 3, 3], outShape: [1, 2, 2], weight: new Float32Array(9) });
    const cols = im2colTensorRef(padded, x9, 1, 0);
    expect([...cols.data.subarray(0, 9)]).toEqual([0, 0, 0, 0, 1, 2, 0, 4, 5]);
    expect([...cols.data.subarray(27, 36)]).toEqual([5, 6, 0, 8, 9, 0, 0, 0, 0]);
  });

  it('im2col of one group reads only its channels', () => {
    const op = convOp({ cin: 4, cout: 2, group: 2, kh: 1, kw: 1, inShape: [4, 1, 2], outShape: [2, 1, 2], weight: new Float32Array(4) });
    const x = t([1, 4, 1, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    expectValues(im2colTensorRef(op, x, 1, 0), [2, 2], [1, 3, 2, 4]);
    expectValues(im2colTensorRef(op, x, 1, 1), [2, 2], [5, 7, 6, 8]);
  });

  it("colsToNchw writes its group's channels plus the bias slice, nothing else", () => {
    const op = convOp({ cin: 2, cout: 4, group: 2, kh: 1, kw: 1, inShape: [2, 1, 2], outShape: [4, 1, 2], weight: new Float32Array(4), bias: Float32Array.from([100, 200, 300, 400]) });
    const out = t([1, 4, 1, 2], new Array<number>(8).fill(-1));
    colsToNchwTensorRef(op, t([2, 2], [1, 2, 3, 4]), out, 1, 1);
    expect([...out.data]).toEqual([-1, -1, -1, -1, 301, 303, 402, 404]);
  });

  it('a 2x2 box filter with bias', () => {
    const op = convOp({ cin: 1, cout: 1, kh: 2, kw: 2, inShape: [1, 3, 3], outShape: [1, 2, 2], weight: Float32Array.from([1, 1, 1, 1]), bias: Float32Array.from([1]) });
    expectValues(convF32Ref(op, x9, 1), [1, 1, 2, 2], [13, 17, 25, 29]);
  });

  /** Convolution straight from the ONNX definition: no im2col, no matrices. */
  function convDirect(op: ConvOp, x: Float32Array, B: number): Float32Array {
    const [, H, W] = op.inShape;
    const [, OH, OW] = op.outShape;
    const cinG = op.cin / op.group;
    const coutG = op.cout / op.group;
    const y = new Float32Array(B * op.cout * OH * OW);
    for (let b = 0; b < B; b++) {
      for (let co = 0; co < op.cout; co++) {
        const g = Math.floor(co / coutG);
        for (let oh = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++) {
            let acc = op.bias ? op.bias[co] : 0;
            for (let ci = 0; ci < cinG; ci++) {
              for (let i = 0; i < op.kh; i++) {
                for (let j = 0; j < op.kw; j++) {
                  const ih = oh * op.strides[0] - op.pads[0] + i * op.dilations[0];
                  const iw = ow * op.strides[1] - op.pads[1] + j * op.dilations[1];
                  if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                  acc += x[((b * op.cin + g * cinG + ci) * H + ih) * W + iw] * op.weight[((co * cinG + ci) * op.kh + i) * op.kw + j];
                }
              }
            }
            y[((b * op.cout + co) * OH + oh) * OW + ow] = acc;
          }
        }
      }
    }
    return y;
  }

  const outSize = (n: number, k: number, s: number, d: number, p0: number, p1: number) => Math.floor((n + p0 + p1 - d * (k - 1) - 1) / s) + 1;

  it.each([
    ['3x3 pad 1', 3, 4, 1, [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 6, 5],
    ['groups 2, stride 2, dilation 2, asymmetric pads', 4, 6, 2, [3, 2], [2, 1], [1, 0, 2, 1], [2, 2], 9, 8],
    ['depthwise', 3, 3, 3, [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 5, 5],
    ['1x1', 5, 2, 1, [1, 1], [1, 1], [0, 0, 0, 0], [1, 1], 3, 4],
    ['5x5 stride 3 groups 3', 6, 9, 3, [5, 5], [3, 3], [2, 2, 2, 2], [1, 1], 11, 10],
  ] as const)('by definition vs im2col: %s', (_n, cin, cout, group, k, st, pads, dil, H, W) => {
    for (const withBias of [false, true]) {
      const op = convOp({
        cin,
        cout,
        group,
        kh: k[0],
        kw: k[1],
        strides: st,
        pads,
        dilations: dil,
        inShape: [cin, H, W],
        outShape: [cout, outSize(H, k[0], st[0], dil[0], pads[0], pads[2]), outSize(W, k[1], st[1], dil[1], pads[1], pads[3])],
        weight: randomArray(cout * (cin / group) * k[0] * k[1], cin * 7 + cout),
        bias: withBias ? randomArray(cout, 5) : null,
      });
      const B = 2;
      const x = randomArray(B * cin * H * W, H * W);
      const want = convDirect(op, x, B);
      const got = convF32Ref(op, { shape: [B, cin, H, W], data: x }, B);
      expect([...got.shape]).toEqual([B, ...op.outShape]);
      expect(maxAbsDiff(got.data, want)).toBeLessThanOrEqual(1e-5 * maxAbs(want));
    }
  });

  it('rejects a conv whose outShape disagrees with its attributes', () => {
    const op = convOp({ cin: 1, cout: 1, kh: 2, kw: 2, inShape: [1, 3, 3], outShape: [1, 3, 3], weight: new Float32Array(4) });
    expect(() => convF32Ref(op, x9, 1)).toThrow(/conv conv: input \[1, 3, 3\] gives output \[1, 2, 2\]/);
  });
});

describe('CPU digital ops: shape checks', () => {
  it('rejects a pool whose outShape matches neither floor nor ceil mode', () => {
    const op: PoolOp = { ...base, kind: 'pool', name: 'mp', mode: 'max', kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], dilations: [1, 1], countIncludePad: false, inShape: [1, 5, 5], outShape: [1, 4, 2] };
    expect(() => digitalOpRef(op, [{ shape: [1, 1, 5, 5], data: new Float32Array(25) }], 1)).toThrow(/pool mp: output extent 4 on axis 2 is not 2 or 3/);
  });

  it('rejects inputs of the wrong size and bad axes', () => {
    const sm = { ...base, kind: 'softmax' as const, name: 'sm', axis: 2, inShape: [3, 4] };
    expect(() => digitalOpRef(sm, [{ shape: [1, 3, 4], data: new Float32Array(12) }], 1)).toThrow(/softmax sm: axis 2 out of range/);
    expect(() => digitalOpRef({ ...sm, axis: 1 }, [{ shape: [2, 3, 4], data: new Float32Array(24) }], 1)).toThrow(/input has shape \[2, 3, 4\], expected \[1, 3, 4\]/);
    const tr = { ...base, kind: 'transpose' as const, name: 'tr', perm: [0, 0], inShape: [2, 2] };
    expect(() => digitalOpRef(tr, [{ shape: [1, 2, 2], data: new Float32Array(4) }], 1)).toThrow(/not a permutation/);
  });
});

describe('digital op registry', () => {
  it('every digital IR op kind has its CPU oracle and a WebGPU kernel, for every unary and binary function', () => {
    expect(kindsWithoutGpu()).toEqual([]);
    // Records keyed by the IR's function types: a function added to the IR fails to type-check here.
    const unaryFns: Record<UnaryFn, true> = {
      relu: true, 'leaky-relu': true, clip: true, sigmoid: true, tanh: true, gelu: true, 'gelu-tanh': true, 'hard-sigmoid': true, 'hard-swish': true,
      exp: true, log: true, neg: true, abs: true, reciprocal: true, sqrt: true, erf: true, trunc: true, bool: true, not: true,
      elu: true, celu: true, selu: true, softplus: true, softsign: true, mish: true, sign: true,
      sin: true, cos: true, floor: true, ceil: true, round: true, 'is-nan': true, 'is-inf': true,
      tan: true, asin: true, acos: true, atan: true, sinh: true, cosh: true, asinh: true, acosh: true, atanh: true, 'thresholded-relu': true, shrink: true,
    };
    const binaryFns: Record<BinaryFn, true> = { add: true, sub: true, mul: true, div: true, pow: true, max: true, min: true, equal: true, less: true, greater: true };
    const u = { ...base, kind: 'unary' as const, name: 'u', alpha: 0, min: -Infinity, max: Infinity };
    for (const fn of Object.keys(unaryFns) as UnaryFn[]) expect(gpuKernelMissing({ ...u, fn }), fn).toBeNull();
    const b = { ...base, kind: 'binary' as const, name: 'b', b: null, constFirst: false, aShape: [2], bShape: [2], outShape: [2] };
    for (const fn of Object.keys(binaryFns) as BinaryFn[]) expect(gpuKernelMissing({ ...b, fn }), fn).toBeNull();
  });
});
