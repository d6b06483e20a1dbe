/**
 * ONNX Runtime's contrib ops (com.microsoft) in small float-in, float-out models, compared with their
 * definitions in ONNX Runtime's docs/ContribOperators.md written out in f64 (quantized outputs as
 * quantized-ops.ts's Expect, decided roundings only); shared by the CPU and WebGPU tests.
 */
import { roundHalfEven } from '../../src/crossbar/rounding.ts';
import type { BuildNode, BuildTensor } from '../../src/io/onnx/build.ts';
import { contribNode, f32, floats, xyModel } from './onnx-nodes.ts';
import { I8, U8, dynamicDef, dynamicInput, gridInput, intMatMul, ints, onGrid, quantized, type Expect, type QCase } from './quantized-ops.ts';
import { randomArray } from './random.ts';

const prod = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);
const u8 = (name: string, v: number): BuildTensor => ({ name, dims: [], data: Uint8Array.of(v) });
const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
/** erf by its Maclaurin series, which converges to f64 precision for the |x| < 3 used here. */
const erf = (x: number): number => {
  let sum = x;
  let term = x;
  for (let k = 1; k < 200; k++) {
    term *= (-x * x) / k;
    sum += term / (2 * k + 1);
    if (Math.abs(term) < 1e-17) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
};
const gelu = (v: number): number => 0.5 * v * (1 + erf(v / Math.SQRT2));

const model = xyModel;

/** Nodes quantizing x to xq (scale xs, uint8 zero point xz), running `ops`, and dequantizing yq with ys/yz. */
const qdq = (ops: BuildNode[]): BuildNode[] => [
  { op: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] },
  ...ops,
  { op: 'DequantizeLinear', inputs: ['yq', 'ys', 'yz'], outputs: ['y'] },
];

const ms = contribNode;

const [XS, XZ] = [0.05, 100];
const [YS, YZ] = [0.07, 80];
const XQ = (x: ArrayLike<number>): number[] => Array.from(x, (v) => onGrid(v, XS, XZ));
const qOut = (real: number): Expect => quantized(real / YS, YZ, U8, YS, YZ);
const QPARAMS = [f32('xs', XS), u8('xz', XZ), f32('ys', YS), u8('yz', YZ)];

/** A quantized unary op on uint8 x of per-sample dims `dims`: y = quantize(f(dequantize(x))). */
function qUnary(op: string, dims: number[], f: (a: number[]) => number[], attrs?: BuildNode['attrs'], inputs = ['xq', 'xs', 'xz', 'ys', 'yz']): QCase {
  return {
    model: model(dims, qdq([ms(op, inputs, ['yq'], attrs)]), QPARAMS),
    input: gridInput(dims, XS, XZ, U8, 51),
    expect: (x) => f(XQ(x).map((q) => (q - XZ) * XS)).map(qOut),
  };
}

/** QLinearAdd / QLinearMul of x with x requantized at 3× the scale (b, no ties: (q − 100)/3 is never half an integer), or with a constant. */
function qBinary(op: 'QLinearAdd' | 'QLinearMul', constB: boolean): QCase {
  const dims = [3, 4];
  const f = op === 'QLinearAdd' ? (a: number, b: number) => a + b : (a: number, b: number) => a * b;
  const bq = ints(4, 53, 60, 200);
  const [BS, BZ] = [XS * 3, 90];
  return {
    model: model(dims, qdq([
      ...(constB ? [] : [{ op: 'QuantizeLinear', inputs: ['x', 'bs', 'bz'], outputs: ['bq'] }]),
      ms(op, ['xq', 'xs', 'xz', 'bq', 'bs', 'bz', 'ys', 'yz'], ['yq']),
    ]), [...QPARAMS, f32('bs', BS), u8('bz', BZ), ...(constB ? [{ name: 'bq', dims: [4], data: Uint8Array.from(bq) }] : [])]),
    input: gridInput(dims, XS, XZ, U8, 55),
    expect: (x) => XQ(x).map((q, i) => {
      const b = constB ? (bq[i % 4] - BZ) * BS : roundHalfEven(((q - XZ) * XS) / BS) * BS;
      return qOut(f((q - XZ) * XS, b));
    }),
  };
}

/** QLinearAdd of int8 x (zero point −5) and an int8 constant, no output zero point: the output is int8 (the inputs' type) at zero point 0. */
function qAddInt8(): QCase {
  const [xs, xz, cs] = [0.04, -5, 0.06];
  const bq = [-100, -3, 0, 77];
  return {
    model: model([2, 4], [
      { op: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] },
      ms('QLinearAdd', ['xq', 'xs', 'xz', 'bq', 'xs', 'xz', 'cs'], ['yq']),
      { op: 'DequantizeLinear', inputs: ['yq', 'cs'], outputs: ['y'] },
    ], [f32('xs', xs), { name: 'xz', dims: [], data: Int8Array.of(xz) }, { name: 'bq', dims: [4], data: Int8Array.from(bq) }, f32('cs', cs)]),
    input: gridInput([2, 4], xs, xz, I8, 59),
    expect: (x) => Array.from(x, (v, i) => onGrid(v, xs, xz)).map((q, i) => quantized((((q - xz) + (bq[i % 4] - xz)) * xs) / cs, 0, I8, cs, 0)),
  };
}

/** Softmax over the last axis of [rows, cols] values. */
function softmaxRows(v: number[], cols: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < v.length / cols; r++) {
    const row = v.slice(r * cols, (r + 1) * cols);
    const m = Math.max(...row);
    const ex = row.map((e) => Math.exp(e - m));
    const s = ex.reduce((a, b) => a + b, 0);
    out.push(...ex.map((e) => e / s));
  }
  return out;
}

/** QLinearConcat of x (at XS) and x requantized at 3·XS along axis 1 of [3, 4]. */
function qConcat(): QCase {
  const [BS, BZ] = [XS * 3, 90];
  return {
    model: model([3, 4], qdq([
      { op: 'QuantizeLinear', inputs: ['x', 'bs', 'bz'], outputs: ['bq'] },
      ms('QLinearConcat', ['ys', 'yz', 'xq', 'xs', 'xz', 'bq', 'bs', 'bz'], ['yq'], { axis: -1 }),
    ]), [...QPARAMS, f32('bs', BS), u8('bz', BZ)]),
    input: gridInput([3, 4], XS, XZ, U8, 57),
    expect: (x) => {
      const a = XQ(x).map((q) => (q - XZ) * XS);
      const b = a.map((v) => roundHalfEven(v / BS) * BS);
      return [0, 1, 2].flatMap((r) => [...a.slice(r * 4, r * 4 + 4), ...b.slice(r * 4, r * 4 + 4)]).map(qOut);
    },
  };
}

/** Mean over the spatial axes of a [C, H, W] (or channels-last [H, W, C]) sample. */
function globalMean(v: number[], d: [number, number, number], last: boolean): number[] {
  const [C, P] = last ? [d[2], d[0] * d[1]] : [d[0], d[1] * d[2]];
  return Array.from({ length: C }, (_, c) => Array.from({ length: P }, (_, p) => v[last ? p * C + c : c * P + p]).reduce((a, b) => a + b, 0) / P);
}

/** 2×2 average pooling, stride 2, of a channels-last [H, W, C] sample (H, W even). */
function pool2x2Last(v: number[], [H, W, C]: [number, number, number]): number[] {
  const out: number[] = [];
  for (let i = 0; i < H / 2; i++) for (let j = 0; j < W / 2; j++) for (let c = 0; c < C; c++) {
    let s = 0;
    for (const [a, b] of [[0, 0], [0, 1], [1, 0], [1, 1]]) s += v[((2 * i + a) * W + 2 * j + b) * C + c];
    out.push(s / 4);
  }
  return out;
}

/** 3×3 average pooling, stride 1, pad 1, pads not counted, of a [C, H, W] sample. */
function pool3x3(v: number[], [C, H, W]: [number, number, number]): number[] {
  const out: number[] = [];
  for (let c = 0; c < C; c++) for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) {
    let [s, k] = [0, 0];
    for (let a = -1; a <= 1; a++) for (let b = -1; b <= 1; b++) {
      if (i + a < 0 || i + a >= H || j + b < 0 || j + b >= W) continue;
      s += v[(c * H + i + a) * W + j + b];
      k++;
    }
    out.push(s / k);
  }
  return out;
}

/** QGemm of uint8 x [K] with an int8 B, per-column scales, an int32 C ([N], or one value for every column); quantized or float output. */
function qgemm(transB: boolean, float: boolean, scalarC = false): QCase {
  const [K, N, alpha] = [6, 4, float ? 0.5 : 1];
  const bq = ints(K * N, 61, -127, 127); // [K, N] row-major
  const bScale = [0.01, 0.02, 0.015, 0.03];
  const bZero = [0, 3, -2, 1];
  const c = scalarC ? new Array<number>(N).fill(321) : ints(N, 63, -500, 500);
  const stored = transB ? Array.from({ length: N * K }, (_, i) => bq[(i % K) * N + Math.floor(i / K)]) : bq;
  const nodes = [ms('QGemm', ['xq', 'xs', 'xz', 'b', 'bs', 'bz', 'c', ...(float ? [] : ['ys', 'yz'])], [float ? 'y' : 'yq'], { transB: transB ? 1 : 0, alpha })];
  return {
    model: model([K], float ? [{ op: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] }, ...nodes] : qdq(nodes), [
      ...QPARAMS, { name: 'b', dims: transB ? [N, K] : [K, N], data: Int8Array.from(stored) }, floats('bs', [N], bScale),
      { name: 'bz', dims: [N], data: Int8Array.from(bZero) }, scalarC ? { name: 'c', dims: [], data: Int32Array.of(321) } : { name: 'c', dims: [N], data: Int32Array.from(c) },
    ]),
    input: gridInput([K], XS, XZ, U8, 65),
    expect: (x) => intMatMul(XQ(x), XZ, bq, bZero, 1, K, N).map((acc, j) => {
      const v = (acc + c[j]) * alpha * XS * bScale[j];
      return float ? { value: v } : qOut(v);
    }),
  };
}

/** MatMulIntegerToFloat of uint8 x with a uint8 B (per-column scale and zero point) and a bias. */
function matMulIntegerToFloat(): QCase {
  const [K, N] = [5, 3];
  const bq = ints(K * N, 67, 0, 255);
  const [bScale, bZero, bias] = [[0.01, 0.004, 0.02], [128, 120, 131], [0.5, -0.25, 1]];
  return {
    model: model([K], [
      { op: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] },
      ms('MatMulIntegerToFloat', ['xq', 'b', 'xs', 'bs', 'xz', 'bz', 'bias'], ['y']),
    ], [...QPARAMS, { name: 'b', dims: [K, N], data: Uint8Array.from(bq) }, floats('bs', [N], bScale), { name: 'bz', dims: [N], data: Uint8Array.from(bZero) }, floats('bias', [N], bias)]),
    input: gridInput([K], XS, XZ, U8, 69),
    expect: (x) => intMatMul(XQ(x), XZ, bq, bZero, 1, K, N).map((acc, j) => ({ value: acc * XS * bScale[j] + bias[j] })),
  };
}

/** DynamicQuantizeMatMul of float x (per-sample range, dynamicInput's decided grid) with an int8 B and a bias, in a model of `opset`. */
function dynamicQuantizeMatMul(opset: number): QCase {
  const [K, N, bScale, bias] = [8, 3, 0.02, [0.1, 0.2, -0.3]];
  const bq = ints(K * N, 71, -127, 127);
  return {
    model: model([K], [ms('DynamicQuantizeMatMul', ['x', 'b', 'bs', '', 'bias'], ['y'])], [{ name: 'b', dims: [K, N], data: Int8Array.from(bq) }, f32('bs', bScale), floats('bias', [N], bias)], opset),
    input: dynamicInput(K),
    expect: (x) => {
      const d = dynamicDef(x);
      const xq = d.y.map((e) => ('value' in e ? e.value : Math.min(255, Math.max(0, roundHalfEven(e.real) + e.add))));
      return intMatMul(xq, d.zero, bq, [0], 1, K, N).map((a, j) => ({ value: a * (d.scale || 1) * bScale + bias[j] }));
    },
  };
}

/** Packs unsigned `bits`-bit values from the low bits of each byte up. */
function pack(values: number[], bits: number): number[] {
  const bytes = new Array<number>(Math.ceil((values.length * bits) / 8)).fill(0);
  values.forEach((v, i) => (bytes[Math.floor((i * bits) / 8)] |= v << ((i * bits) % 8)));
  return bytes;
}

/** MatMulNBits of float x [K]: a [N, K] weight in blocks, with packed, float or default zero points, and a bias. */
function matMulNBits(o: { K: number; N: number; bits: number; block: number; zero: 'packed' | 'float' | 'default'; bias: boolean }): QCase {
  const { K, N, bits, block } = o;
  const blocks = Math.ceil(K / block);
  const max = 2 ** bits - 1;
  const q = ints(N * blocks * block, 73, 0, max); // [N][blocks·block], the padding past K included
  const scales = Array.from({ length: N * blocks }, (_, i) => 0.01 + 0.003 * i);
  const zInt = ints(N * blocks, 75, 0, max);
  const zFloat = zInt.map((z) => z + 0.25);
  const zeroOf = (n: number, b: number): number => (o.zero === 'default' ? 2 ** (bits - 1) : o.zero === 'float' ? zFloat[n * blocks + b] : zInt[n * blocks + b]);
  const bias = Array.from({ length: N }, (_, i) => 0.1 * i - 0.2);
  const packed = Array.from({ length: N * blocks }, (_, nb) => pack(q.slice(nb * block, (nb + 1) * block), bits)).flat();
  const zp: BuildTensor[] = o.zero === 'packed'
    ? [{ name: 'zp', dims: [N, Math.ceil((blocks * bits) / 8)], data: Uint8Array.from(Array.from({ length: N }, (_, n) => pack(zInt.slice(n * blocks, (n + 1) * blocks), bits)).flat()) }]
    : o.zero === 'float' ? [floats('zp', [N, blocks], zFloat)] : [];
  return {
    model: model([K], [ms('MatMulNBits', ['x', 'b', 's', zp.length ? 'zp' : '', '', o.bias ? 'bias' : ''], ['y'], { K, N, bits, block_size: block })], [
      { name: 'b', dims: [N, blocks, (block * bits) / 8], data: Uint8Array.from(packed) }, floats('s', [N, blocks], scales), ...zp, ...(o.bias ? [floats('bias', [N], bias)] : []),
    ]),
    input: (B) => randomArray(B * K, 77, -1, 1),
    expect: (x) => Array.from({ length: N }, (_, n) => {
      let s = o.bias ? bias[n] : 0;
      for (let k = 0; k < K; k++) {
        const b = Math.floor(k / block);
        s += x[k] * (q[n * blocks * block + k] - zeroOf(n, b)) * scales[n * blocks + b];
      }
      return { value: s };
    }),
  };
}

/** A float contrib op on x [T, H] with other inputs given as constants, against `f` on one sample. */
function floatCase(dims: number[], nodes: BuildNode[], init: BuildTensor[], f: (x: number[]) => number[]): QCase {
  return { model: model(dims, nodes, init), input: (B) => randomArray(B * prod(dims), 79, -2, 2), expect: (x) => f(Array.from(x)).map((value) => ({ value })) };
}

const H = 8;
const GAMMA = Array.from({ length: H }, (_, i) => 0.5 + 0.1 * i);
const BETA = Array.from({ length: H }, (_, i) => 0.05 * i - 0.2);
const BIAS = Array.from({ length: H }, (_, i) => 0.3 - 0.07 * i);
const SKIP_T = 2; // skip is a constant [T, H]: it broadcasts over the batch
const SKIP = Array.from({ length: SKIP_T * H }, (_, i) => Math.sin(i));
const rows = (v: number[], f: (r: number[]) => number[]): number[] => Array.from({ length: v.length / H }, (_, r) => f(v.slice(r * H, (r + 1) * H))).flat();
const layerNorm = (r: number[], eps: number, gamma: number[], beta: number[] | null): number[] => {
  const m = r.reduce((a, b) => a + b, 0) / H;
  const v = r.reduce((a, b) => a + (b - m) ** 2, 0) / H;
  return r.map((e, i) => ((e - m) / Math.sqrt(v + eps)) * gamma[i] + (beta ? beta[i] : 0));
};
const rmsNorm = (r: number[], eps: number, gamma: number[]): number[] => {
  const ms2 = r.reduce((a, b) => a + b * b, 0) / H;
  return r.map((e, i) => (e / Math.sqrt(ms2 + eps)) * gamma[i]);
};
/** input + skip (+ bias) of a [T, H] sample. */
const skipSum = (x: number[], bias: boolean): number[] => x.map((v, i) => v + SKIP[i] + (bias ? BIAS[i % H] : 0));

/** SkipLayerNormalization or SkipSimplifiedLayerNormalization, its output plus a quarter of input_skip_bias_sum (output 3). */
function skipNorm(simplified: boolean): QCase {
  const op = simplified ? 'SkipSimplifiedLayerNormalization' : 'SkipLayerNormalization';
  const inputs = simplified ? ['x', 'skip', 'gamma', 'bias'] : ['x', 'skip', 'gamma', 'beta', 'bias'];
  return floatCase([SKIP_T, H], [
    ms(op, inputs, ['normed', '', '', 'sum'], { epsilon: 1e-5 }),
    { op: 'Mul', inputs: ['sum', 'quarter'], outputs: ['part'] },
    { op: 'Add', inputs: ['normed', 'part'], outputs: ['y'] },
  ], [floats('skip', [SKIP_T, H], SKIP), floats('gamma', [H], GAMMA), floats('beta', [H], BETA), floats('bias', [H], BIAS), f32('quarter', 0.25)], (x) => {
    const s = skipSum(x, true);
    const normed = rows(s, (r) => (simplified ? rmsNorm(r, 1e-5, GAMMA) : layerNorm(r, 1e-5, GAMMA, BETA)));
    return normed.map((v, i) => v + 0.25 * s[i]);
  });
}

/** A same-size 3×3 convolution (pad 1) of a [C, H, W] sample by w [M, C, 3, 3] plus b. */
function conv3x3(x: number[], [C, H, W]: [number, number, number], w: number[], b: number[], M: number): number[] {
  const y: number[] = [];
  for (let m = 0; m < M; m++) for (let i = 0; i < H; i++) for (let j = 0; j < W; j++) {
    let s = b[m];
    for (let c = 0; c < C; c++) for (let a = 0; a < 3; a++) for (let d = 0; d < 3; d++) {
      const [h, v] = [i + a - 1, j + d - 1];
      if (h >= 0 && h < H && v >= 0 && v < W) s += x[(c * H + h) * W + v] * w[((m * C + c) * 3 + a) * 3 + d];
    }
    y.push(s);
  }
  return y;
}

const CW = Array.from(randomArray(3 * 3 * 9, 141, -0.4, 0.4));
const CB = [0.1, -0.2, 0.05];
const fusedConvCase = (act: string, params: number[], f: (v: number) => number, residual: boolean): QCase =>
  floatCase([3, 4, 4], [ms('FusedConv', ['x', 'w', 'b', ...(residual ? ['x'] : [])], ['y'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], ...(act ? { activation: act, activation_params: { floats: params } } : {}) })],
    [floats('w', [3, 3, 3, 3], CW), floats('b', [3], CB)], (x) => conv3x3(x, [3, 4, 4], CW, CB, 3).map((v, i) => f(v + (residual ? x[i] : 0))));

const GB = Array.from(randomArray(5 * 6, 143, -0.5, 0.5)); // [N, K] = [5, 6], used transposed
const GC = [0.3, -0.1, 0.2, 0, -0.4];
const gemmRef = (x: number[]): number[] => Array.from({ length: 5 }, (_, j) => 0.5 * x.reduce((a, v, k) => a + v * GB[j * 6 + k], 0) + 2 * GC[j]);

export const CONTRIB_CASES: [string, QCase][] = [
  ['QLinearAdd of two activations', qBinary('QLinearAdd', false)],
  ['QLinearMul by a constant', qBinary('QLinearMul', true)],
  ['QLinearSigmoid', qUnary('QLinearSigmoid', [3, 4], (a) => a.map(sigmoid))],
  ['QLinearLeakyRelu, alpha 0.1', qUnary('QLinearLeakyRelu', [3, 4], (a) => a.map((v) => (v >= 0 ? v : 0.1 * v)), { alpha: 0.1 })],
  ['QLinearSoftmax over the last axis', qUnary('QLinearSoftmax', [3, 4], (a) => softmaxRows(a, 4), { axis: -1, opset: 13 })],
  ['QLinearConcat of two quantizations', qConcat()],
  ['QLinearReduceMean over the last axis, keepdims 0', qUnary('QLinearReduceMean', [3, 4], (a) => [0, 1, 2].map((r) => a.slice(r * 4, r * 4 + 4).reduce((p, q) => p + q, 0) / 4), { axes: [-1], keepdims: 0 })],
  ['QLinearGlobalAveragePool, NCHW', qUnary('QLinearGlobalAveragePool', [2, 3, 3], (a) => globalMean(a, [2, 3, 3], false))],
  ['QLinearGlobalAveragePool, channels last', qUnary('QLinearGlobalAveragePool', [3, 3, 2], (a) => globalMean(a, [3, 3, 2], true), { channels_last: 1 })],
  ['QLinearAveragePool 2×2 stride 2, channels last', qUnary('QLinearAveragePool', [4, 4, 3], (a) => pool2x2Last(a, [4, 4, 3]), { kernel_shape: [2, 2], strides: [2, 2], channels_last: 1 })],
  ['QLinearAveragePool 3×3 padded, pads not counted', qUnary('QLinearAveragePool', [2, 5, 5], (a) => pool3x3(a, [2, 5, 5]), { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })],
  ['QGemm, int8 per-column B, int32 C, quantized output', qgemm(false, false)],
  ['QGemm, B transposed, alpha 0.5, float output', qgemm(true, true)],
  ['MatMulIntegerToFloat, per-column B, bias', matMulIntegerToFloat()],
  ['DynamicQuantizeMatMul, int8 B, bias', dynamicQuantizeMatMul(13)],
  ['DynamicQuantizeMatMul in an opset-10 model (Clip bounds as attributes)', dynamicQuantizeMatMul(10)],
  ['QLinearAdd of int8 tensors without an output zero point', qAddInt8()],
  ['QGemm, one int32 C for every column, per-column scales', qgemm(false, false, true)],
  ['MatMulNBits 4-bit, default zero points, K 40 in blocks of 16', matMulNBits({ K: 40, N: 3, bits: 4, block: 16, zero: 'default', bias: false })],
  ['MatMulNBits 4-bit, packed zero points (3 blocks), bias', matMulNBits({ K: 48, N: 5, bits: 4, block: 16, zero: 'packed', bias: true })],
  ['MatMulNBits 8-bit, float zero points', matMulNBits({ K: 32, N: 4, bits: 8, block: 32, zero: 'float', bias: false })],
  ['MatMulNBits 2-bit, packed zero points', matMulNBits({ K: 64, N: 3, bits: 2, block: 16, zero: 'packed', bias: true })],
  ['FastGelu with a bias', floatCase([SKIP_T, H], [ms('FastGelu', ['x', 'bias'], ['y'])], [floats('bias', [H], BIAS)], (x) => x.map((v, i) => {
    const u = v + BIAS[i % H];
    return 0.5 * u * (1 + Math.tanh(0.7978845608028654 * (u + 0.044715 * u ** 3)));
  }))],
  ['Gelu', floatCase([SKIP_T, H], [ms('Gelu', ['x'], ['y'])], [], (x) => x.map(gelu))],
  ['BiasGelu', floatCase([SKIP_T, H], [ms('BiasGelu', ['x', 'bias'], ['y'])], [floats('bias', [H], BIAS)], (x) => x.map((v, i) => gelu(v + BIAS[i % H])))],
  ['QuickGelu, default alpha', floatCase([SKIP_T, H], [ms('QuickGelu', ['x'], ['y'])], [], (x) => x.map((v) => v * sigmoid(1.702 * v)))],
  ['BiasAdd', floatCase([SKIP_T, H], [{ op: 'Mul', inputs: ['x', 'half'], outputs: ['skip'] }, ms('BiasAdd', ['x', 'bias', 'skip'], ['y'])], [floats('bias', [H], BIAS), f32('half', 0.5)], (x) => x.map((v, i) => v + BIAS[i % H] + 0.5 * v))],
  ['SkipLayerNormalization with beta, bias and input_skip_bias_sum', skipNorm(false)],
  ['SkipSimplifiedLayerNormalization with bias and input_skip_bias_sum', skipNorm(true)],
  ['FusedConv, LeakyRelu 0.2', fusedConvCase('LeakyRelu', [0.2], (v) => (v >= 0 ? v : 0.2 * v), false)],
  ['FusedConv with the residual input Z, Clip [-0.5, 0.7]', fusedConvCase('Clip', [-0.5, 0.7], (v) => Math.min(0.7, Math.max(-0.5, v)), true)],
  ['FusedConv, Silu', fusedConvCase('Silu', [], (v) => v / (1 + Math.exp(-v)), false)],
  ['FusedConv without an activation (the identity)', fusedConvCase('', [], (v) => v, true)],
  ['FusedGemm, Selu (activation_alpha 1.5, activation_gamma 1.2)', floatCase([6], [ms('FusedGemm', ['x', 'b', 'c'], ['y'], { transB: 1, alpha: 0.5, beta: 2, activation: 'Selu', activation_alpha: 1.5, activation_gamma: 1.2 })],
    [floats('b', [5, 6], GB), floats('c', [5], GC)], (x) => gemmRef(x).map((v) => 1.2 * (v > 0 ? v : 1.5 * (Math.exp(v) - 1))))],
  ['FusedGemm, ScaledTanh (0.8, 1.7)', floatCase([6], [ms('FusedGemm', ['x', 'b', 'c'], ['y'], { transB: 1, alpha: 0.5, beta: 2, activation: 'ScaledTanh', activation_alpha: 0.8, activation_beta: 1.7 })],
    [floats('b', [5, 6], GB), floats('c', [5], GC)], (x) => gemmRef(x).map((v) => 0.8 * Math.tanh(1.7 * v)))],
  ['FusedGemm, transB, alpha 0.5, beta 2, HardSigmoid (0.3, 0.4)', floatCase([6], [ms('FusedGemm', ['x', 'b', 'c'], ['y'], { transB: 1, alpha: 0.5, beta: 2, activation: 'HardSigmoid', activation_alpha: 0.3, activation_beta: 0.4 })],
    [floats('b', [5, 6], GB), floats('c', [5], GC)], (x) => gemmRef(x).map((v) => Math.min(1, Math.max(0, 0.3 * v + 0.4))))],
  ['FusedMatMul, transB, alpha 0.7', floatCase([3, 6], [ms('FusedMatMul', ['x', 'b'], ['y'], { transB: 1, alpha: 0.7 })], [floats('b', [5, 6], GB)],
    (x) => Array.from({ length: 15 }, (_, i) => 0.7 * Array.from({ length: 6 }, (_, k) => x[Math.floor(i / 5) * 6 + k] * GB[(i % 5) * 6 + k]).reduce((a, b) => a + b, 0)))],
  ['FusedMatMul, transA of a per-sample [6, 3]', floatCase([6, 3], [ms('FusedMatMul', ['x', 'b'], ['y'], { transA: 1 })], [floats('b', [6, 5], GB)],
    (x) => Array.from({ length: 15 }, (_, i) => Array.from({ length: 6 }, (_, k) => x[k * 3 + Math.floor(i / 5)] * GB[k * 5 + (i % 5)]).reduce((a, b) => a + b, 0)))],
  ['SimplifiedLayerNormalization (default domain)', floatCase([SKIP_T, H], [{ op: 'SimplifiedLayerNormalization', inputs: ['x', 'gamma'], outputs: ['y'], attrs: { epsilon: 1e-6 } }], [floats('gamma', [H], GAMMA)], (x) => rows(x, (r) => rmsNorm(r, 1e-6, GAMMA)))],
];

/**
 * DynamicQuantizeLSTM (bidirectional, per-column W scales, per-direction R scales) and the LSTM it
 * stands for, with its weights dequantized and transposed here: x [batch, T, I] → seq-first → Y as
 * [batch, T, dirs, hidden]. The two models' outputs must agree (the LSTM itself is tested elsewhere).
 */
export function lstmPair(): { quantized: Uint8Array; float: Uint8Array; dims: number[] } {
  const [T, I, Hh, D] = [4, 3, 2, 2];
  const G = 4 * Hh;
  const wq = ints(D * I * G, 161, -127, 127);
  const rq = ints(D * Hh * G, 163, 0, 255);
  const ws = Array.from({ length: D * G }, (_, i) => 0.004 + 0.001 * (i % 5));
  const rs = [0.003, 0.005];
  const rz = [128, 120];
  const bias = Array.from(randomArray(D * 2 * G, 165, -0.3, 0.3));
  // LSTM's layout: W[d][g][i] = (Wq[d][i][g] − 0)·ws[d][g]; R[d][g][h] = (Rq[d][h][g] − rz[d])·rs[d].
  const wf = Array.from({ length: D * G * I }, (_, j) => { const [d, g, i] = [Math.floor(j / (G * I)), Math.floor(j / I) % G, j % I]; return wq[(d * I + i) * G + g] * ws[d * G + g]; });
  const rf = Array.from({ length: D * G * Hh }, (_, j) => { const [d, g, h] = [Math.floor(j / (G * Hh)), Math.floor(j / Hh) % G, j % Hh]; return (rq[(d * Hh + h) * G + g] - rz[d]) * rs[d]; });
  const around = (lstm: BuildNode): BuildNode[] => [
    { op: 'Transpose', inputs: ['x'], outputs: ['xt'], attrs: { perm: [1, 0, 2] } },
    lstm,
    { op: 'Transpose', inputs: ['Y'], outputs: ['y'], attrs: { perm: [2, 0, 1, 3] } },
  ];
  const attrs = { hidden_size: Hh, direction: 'bidirectional' };
  return {
    dims: [T, I],
    quantized: model([T, I], around(ms('DynamicQuantizeLSTM', ['xt', 'w', 'r', 'b', '', '', '', '', 'ws', '', 'rs', 'rz'], ['Y'], attrs)), [
      { name: 'w', dims: [D, I, G], data: Int8Array.from(wq) }, { name: 'r', dims: [D, Hh, G], data: Uint8Array.from(rq) }, floats('b', [D, 2 * G], bias),
      floats('ws', [D, G], ws), floats('rs', [D], rs), { name: 'rz', dims: [D], data: Uint8Array.from(rz) },
    ]),
    float: model([T, I], around({ op: 'LSTM', inputs: ['xt', 'w', 'r', 'b'], outputs: ['Y'], attrs }), [floats('w', [D, G, I], wf), floats('r', [D, G, Hh], rf), floats('b', [D, 2 * G], bias)]),
  };
}
