/**
 * ONNX Runtime's contrib ops (domain com.microsoft) that its quantizer, graph optimizer and transformer
 * optimizer write into models users bring: the QOperator format's QLinearAdd, QLinearMul,
 * QLinearSigmoid, QLinearLeakyRelu, QLinearSoftmax, QLinearConcat, QLinearReduceMean,
 * QLinearGlobalAveragePool, QLinearAveragePool and QGemm; MatMulIntegerToFloat, DynamicQuantizeMatMul
 * and DynamicQuantizeLSTM; MatMulNBits (block-quantized 2-, 4- or 8-bit weights); FusedConv, FusedGemm
 * and FusedMatMul; FastGelu, Gelu, BiasGelu, QuickGelu, BiasAdd, SkipLayerNormalization and
 * SkipSimplifiedLayerNormalization; and SimplifiedLayerNormalization (RMSNorm), which ONNX Runtime
 * registers in the default domain. Each expands into the default-domain nodes it stands for, as
 * docs/ContribOperators.md defines it, so a constant weight folds onto its crossbar as the values it
 * stands for.
 */
import type { onnx } from 'onnx-proto';
import { count, floatsOf, plainIntsOf } from '../consts.ts';
import { NodeError } from '../node.ts';
import type { NodeContext, OpTable } from '../node.ts';
import type { Const } from '../consts.ts';
import { AttrType } from '../proto.ts';
import { CONV_ATTRIBUTES, Expansion, copied, dimsOf, floatAttr, intAttr } from './expansion.ts';
import { parametricSoftplus, scaledTanh } from './experimental.ts';

/** ONNX Runtime's contrib-op domain. */
export const CONTRIB_DOMAIN = 'com.microsoft';


/** Input `i` (a quantized tensor) dequantized with the scale and zero point at `i + 1` and `i + 2`. */
function dequantized(n: NodeContext, e: Expansion, i: number, what: string, attrs: onnx.IAttributeProto[] = []): string {
  return e.op('DequantizeLinear', [n.ins[i], n.ins[i + 1], n.ins[i + 2] ?? ''], `${what}-float`, attrs);
}

/**
 * Quantizes `v` with the scale and zero point at inputs `i` and `i + 1`, as the node's output. Without
 * an output zero point, the output has the type of the input zero points (inputs `like`): the ops'
 * integer types are one type variable, and xbarsim's values carry no uint8/int8 of their own.
 */
function finishQuantized(n: NodeContext, e: Expansion, v: string, i: number, like: number[]): void {
  if (n.ins[i + 1]) return e.finish([e.op('QuantizeLinear', [v, n.ins[i], n.ins[i + 1]], 'quantized')]);
  const elem = like.map((k) => (n.ins[k] ? n.constAt(k) : undefined)).find((c) => c?.kind === 'int')?.elem;
  if (elem === undefined) throw new NodeError('no zero point is given, so the output\'s integer type (uint8 or int8) is unknown; give the output zero point');
  e.finish([e.op('QuantizeLinear', [v, n.ins[i]], 'quantized', [intAttr('output_dtype', elem)])]);
}

/** QLinearAdd / QLinearMul: (A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp). */
function qlinearBinary(op: 'Add' | 'Mul'): (n: NodeContext) => void {
  return (n) => {
    const e = new Expansion(n);
    finishQuantized(n, e, e.op(op, [dequantized(n, e, 0, 'A'), dequantized(n, e, 3, 'B')], op.toLowerCase()), 6, [2, 5]);
  };
}

/** QLinearSigmoid / QLinearLeakyRelu / QLinearSoftmax: (X, X_scale, X_zp, Y_scale, Y_zp). */
function qlinearUnary(op: string, attrs: (n: NodeContext) => onnx.IAttributeProto[] = () => []): (n: NodeContext) => void {
  return (n) => {
    const e = new Expansion(n);
    finishQuantized(n, e, e.op(op, [dequantized(n, e, 0, 'X')], op.toLowerCase(), attrs(n)), 3, [2]);
  };
}

/** QLinearSoftmax's axis: its `opset` attribute says whether the input is coerced to 2-D first (before 13). */
function softmaxAttrs(n: NodeContext): onnx.IAttributeProto[] {
  const axis = n.a.int('axis', -1);
  if (!n.a.has('opset')) throw new NodeError('attribute "opset" (the original Softmax\'s opset) is missing; QLinearSoftmax requires it');
  const opset = n.a.int('opset', 13);
  const rank = dimsOf(n, 0, 'X').length;
  const normalized = axis < 0 ? axis + rank : axis;
  // Coerced to 2-D at the last axis is the same as a softmax over that axis alone.
  if (opset < 13 && normalized !== rank - 1) throw new NodeError(`axis ${axis} with opset ${opset} coerces the input to 2-D over several axes; only the last axis is supported there`);
  if (n.opset < 13 && normalized !== rank - 1) throw new NodeError(`the model's opset ${n.opset} Softmax cannot express a softmax over axis ${axis} alone`);
  return [intAttr('axis', axis)];
}

/** QLinearReduceMean: (data, data_scale, data_zp, reduced_scale, reduced_zp), axes and keepdims both required. */
function qlinearReduceMean(n: NodeContext): void {
  for (const a of ['axes', 'keepdims']) if (!n.a.has(a)) throw new NodeError(`attribute ${JSON.stringify(a)} is missing; QLinearReduceMean requires it`);
  const e = new Expansion(n);
  const mean = e.reduce('ReduceMean', dequantized(n, e, 0, 'data'), n.a.ints('axes', []), n.a.int('keepdims', 1) !== 0, 'mean');
  finishQuantized(n, e, mean, 3, [2]);
}

/** QLinearConcat: (Y_scale, Y_zp, then X, X_scale, X_zp for each input). */
function qlinearConcat(n: NodeContext): void {
  if ((n.ins.length - 2) % 3 !== 0 || n.ins.length < 5) throw new NodeError(`has ${n.ins.length} inputs; it takes Y_scale, Y_zero_point and a (tensor, scale, zero point) triple per input`);
  if (!n.a.has('axis')) throw new NodeError('attribute "axis" is missing; QLinearConcat requires it');
  const e = new Expansion(n);
  const parts = Array.from({ length: (n.ins.length - 2) / 3 }, (_, k) => dequantized(n, e, 2 + 3 * k, `input${k}`));
  finishQuantized(n, e, e.op('Concat', parts, 'concat', [intAttr('axis', n.a.int('axis', 0))]), 0, []);
}

/** A channels-last (NHWC) input moved to NCHW around `inner`, and back. */
function channelsFirst(n: NodeContext, e: Expansion, x: string, inner: (v: string) => string): string {
  if (n.a.int('channels_last', 0) === 0) return inner(x);
  const r = dimsOf(n, 0, 'X').length;
  const toFirst = [0, r - 1, ...Array.from({ length: r - 2 }, (_, i) => i + 1)];
  const toLast = [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2), 1];
  return e.transpose(inner(e.transpose(x, toFirst, 'nchw')), toLast, 'nhwc');
}

function qlinearGlobalAveragePool(n: NodeContext): void {
  const e = new Expansion(n);
  finishQuantized(n, e, channelsFirst(n, e, dequantized(n, e, 0, 'X'), (v) => e.op('GlobalAveragePool', [v], 'pool')), 3, [2]);
}

function qlinearAveragePool(n: NodeContext): void {
  const e = new Expansion(n);
  const attrs = copied(n, ['auto_pad', 'ceil_mode', 'count_include_pad', 'kernel_shape', 'pads', 'strides']);
  finishQuantized(n, e, channelsFirst(n, e, dequantized(n, e, 0, 'X'), (v) => e.op('AveragePool', [v], 'pool', attrs)), 3, [2]);
}

/**
 * QGemm: (A, a_scale, a_zp, B, b_scale, b_zp, C, y_scale, y_zp). B is per tensor or per output column
 * (axis 0 of B when transposed). C is int32, added to the integer accumulator, so it is scaled by
 * alpha·a_scale·b_scale[column] like the product. Without y_scale the output is float.
 */
function qgemm(n: NodeContext): void {
  const e = new Expansion(n);
  const transB = n.a.int('transB', 0) !== 0;
  const alpha = n.a.float('alpha', 1);
  const bScale = floatsOf(n.constIn(4, 'b_scale'), 'b_scale');
  const perColumn = bScale.length > 1;
  const a = dequantized(n, e, 0, 'A');
  const b = dequantized(n, e, 3, 'B', perColumn ? [intAttr('axis', transB ? 0 : 1)] : []);
  const inputs = [a, b];
  const c = n.optConst(6, 'C');
  if (c) {
    const scale = alpha * n.scalar(n.constIn(1, 'a_scale'), 'a_scale');
    const values = floatsOf(c, 'C');
    const cols = c.dims[c.dims.length - 1] ?? 1;
    // A per-column scale gives a bias of one column (a scalar, or [M, 1]) a value per column.
    const N = perColumn ? bScale.length : cols;
    const dims = perColumn && cols === 1 ? [...c.dims.slice(0, -1), N] : c.dims;
    const rows = count(dims) / N;
    const data = Float32Array.from({ length: rows * N }, (_, i) => values[cols === 1 ? Math.floor(i / N) % values.length : i] * scale * bScale[perColumn ? i % N : 0]);
    inputs.push(e.const({ kind: 'float', dims: dims.length ? dims : [1], data }, 'C-float'));
  }
  const attrs = [intAttr('transA', n.a.int('transA', 0)), intAttr('transB', transB ? 1 : 0), floatAttr('alpha', alpha), floatAttr('beta', 1)];
  const y = e.op('Gemm', inputs, 'gemm', attrs);
  if (!n.ins[7]) return e.finish([y]);
  finishQuantized(n, e, y, 7, [2]);
}

/** (A − a_zp)·a_scale times constant B (inputs bAt, bAt + 1 scale, bAt + 2 zero point; per tensor or per column) plus the bias at `biasAt`, as the node's output. */
/** A quantized activation as float, (a − zero)·scale, its scale and zero point (which may be computed, as DynamicQuantizeLinear's) named; no zero point: 0. */
export function dequantizedActivation(e: Expansion, a: string, scale: string, zero: string, what: string): string {
  return e.op('Mul', [zero ? e.op('Sub', [a, zero], `${what}-centred`) : a, scale], `${what}-float`);
}

function finishFloatProduct(n: NodeContext, e: Expansion, a: string, scale: string, zero: string, bAt: number, scaleAt: number, zeroAt: number, biasAt: number): void {
  const rank = dimsOf(n, bAt, 'B').length;
  const perColumn = count(n.constIn(scaleAt, 'b_scale').dims) > 1;
  const wf = e.op('DequantizeLinear', [n.ins[bAt], n.ins[scaleAt], n.ins[zeroAt] ?? ''], 'B-float', perColumn ? [intAttr('axis', rank - 1)] : []);
  e.finish([plusBias(n, e, e.op('MatMul', [dequantizedActivation(e, a, scale, zero, 'A'), wf], 'product'), biasAt)]);
}

/** MatMulIntegerToFloat: (A, B, a_scale, b_scale, a_zp, b_zp, bias) → (A − a_zp)·a_scale × (B − b_zp)·b_scale + bias; a_scale and a_zp may be computed. */
function matMulIntegerToFloat(n: NodeContext): void {
  finishFloatProduct(n, new Expansion(n), n.ins[0], n.ins[2], n.ins[4] ?? '', 1, 3, 5, 6);
}

/** DynamicQuantizeMatMul: (A, B, b_scale, b_zp, bias), A quantized per tensor to uint8 as DynamicQuantizeLinear does. */
function dynamicQuantizeMatMul(n: NodeContext): void {
  const e = new Expansion(n);
  const [q, scale, zero] = e.ops('DynamicQuantizeLinear', [n.ins[0]], 'A-quantized', ['', 'scale', 'zero-point']);
  finishFloatProduct(n, e, q, scale, zero, 1, 2, 3, 4);
}

/**
 * MatMulNBits: A times a [K, N] weight stored transposed in blocks of `block_size` along K, each of
 * `bits`-bit unsigned values packed from the low bits of each byte up, with a scale per block and a
 * zero point per block (packed like the values, or one float each; 2^(bits−1) when absent):
 * w[k][n] = (q[n][k] − zp[n][k / block_size])·scale[n][k / block_size]. The weight folds to f32.
 */
function matMulNBits(n: NodeContext): void {
  const K = n.a.int('K', 0);
  const N = n.a.int('N', 0);
  const bits = n.a.int('bits', 4);
  const block = n.a.int('block_size', 0);
  if (![2, 4, 8].includes(bits)) throw new NodeError(`attribute "bits" is ${bits}; allowed: 2, 4, 8`);
  if (K < 1 || N < 1) throw new NodeError(`attributes K and N are ${K} and ${N}; both must be positive`);
  if (block < 16 || (block & (block - 1)) !== 0) throw new NodeError(`attribute "block_size" is ${block}; it must be a power of 2 of at least 16`);
  if (n.ins[4]) throw new NodeError('g_idx (input 4, act-order quantization) is not supported');
  if (n.a.int('weight_prepacked', 0) !== 0) throw new NodeError(`attribute "weight_prepacked" is ${n.a.int('weight_prepacked', 0)}; only 0 (the plain layout) is supported`);
  const blocks = Math.ceil(K / block);
  const blob = (block * bits) / 8;
  const packed = plainIntsOf(n.constIn(1, 'B'), 'B');
  if (packed.length !== N * blocks * blob) throw new NodeError(`B has ${packed.length} bytes; N·ceil(K/block_size)·block_size·bits/8 = ${N * blocks * blob}`);
  const scales = floatsOf(n.constIn(2, 'scales'), 'scales');
  if (scales.length !== N * blocks) throw new NodeError(`scales has ${scales.length} values; N·ceil(K/block_size) = ${N * blocks}`);
  const zeroAt = zeroPoints(n, N, blocks, bits);
  const mask = (1 << bits) - 1;
  const perByte = 8 / bits;
  const w = new Float32Array(K * N);
  for (let c = 0; c < N; c++) {
    for (let k = 0; k < K; k++) {
      const at = (c * blocks + Math.floor(k / block)) * blob * perByte + (k % block);
      const q = (packed[Math.floor(at / perByte)] >> ((at % perByte) * bits)) & mask;
      const b = c * blocks + Math.floor(k / block);
      w[k * N + c] = (q - zeroAt(c, Math.floor(k / block))) * scales[b];
    }
  }
  const e = new Expansion(n);
  const y = e.op('MatMul', [n.ins[0], e.const({ kind: 'float', dims: [K, N], data: w }, 'weight')], 'product');
  e.finish([n.ins[5] ? e.op('Add', [y, n.ins[5]], 'biased') : y]);
}

/** MatMulNBits's zero point of column c, block b: packed bits-bit integers, floats, or 2^(bits−1). */
function zeroPoints(n: NodeContext, N: number, blocks: number, bits: number): (c: number, b: number) => number {
  const z = n.optConst(3, 'zero_points');
  if (!z) return () => 2 ** (bits - 1);
  if (z.kind === 'float') {
    const f = floatsOf(z, 'zero_points');
    if (f.length !== N * blocks) throw new NodeError(`zero_points has ${f.length} floats; N·ceil(K/block_size) = ${N * blocks}`);
    return (c, b) => f[c * blocks + b];
  }
  const perByte = 8 / bits;
  const rowBytes = Math.ceil(blocks / perByte);
  const bytes = plainIntsOf(z, 'zero_points');
  if (bytes.length !== N * rowBytes) throw new NodeError(`zero_points has ${bytes.length} bytes; N·ceil(ceil(K/block_size)·bits/8) = ${N * rowBytes}`);
  return (c, b) => (bytes[c * rowBytes + Math.floor(b / perByte)] >> ((b % perByte) * bits)) & ((1 << bits) - 1);
}

/** x + bias when the bias input `i` is present. */
function plusBias(n: NodeContext, e: Expansion, x: string, i: number): string {
  return n.ins[i] ? e.op('Add', [x, n.ins[i]], 'biased') : x;
}

/** FastGelu (X, bias): the tanh approximation of GELU on X + bias. */
function fastGelu(n: NodeContext): void {
  const e = new Expansion(n);
  e.finish([e.op('Gelu', [plusBias(n, e, n.ins[0], 1)], 'gelu', [{ name: 'approximate', type: AttrType.STRING, s: new TextEncoder().encode('tanh') }])]);
}

/** Gelu (X) and BiasGelu (A, B): exact GELU of X, or of A + B. */
function exactGelu(n: NodeContext): void {
  const e = new Expansion(n);
  e.finish([e.op('Gelu', [plusBias(n, e, n.ins[0], 1)], 'gelu')]);
}

/** QuickGelu: x·sigmoid(alpha·x). */
function quickGelu(n: NodeContext): void {
  const e = new Expansion(n);
  const x = n.ins[0];
  e.finish([e.op('Mul', [x, e.op('Sigmoid', [e.op('Mul', [x, e.scalar(n.a.float('alpha', 1.702), 'alpha')], 'scaled')], 'gate')], 'gated')]);
}

/** BiasAdd (X, bias, skip): X + bias + skip. */
function biasAdd(n: NodeContext): void {
  const e = new Expansion(n);
  e.finish([e.op('Add', [e.op('Add', [n.ins[0], n.ins[1]], 'biased'), n.ins[2]], 'sum')]);
}

/**
 * SkipLayerNormalization (input, skip, gamma, beta, bias) and SkipSimplifiedLayerNormalization
 * (input, skip, gamma, bias): s = input + skip (+ bias), normalized over the last axis (a layer norm,
 * or RMS without the mean), with outputs (output, mean, inv_std_var, input_skip_bias_sum); the
 * statistics outputs must be unused.
 */
function skipNorm(simplified: boolean): (n: NodeContext) => void {
  return (n) => {
    for (const k of [1, 2]) {
      const o = n.outs[k];
      if (o && n.imp.usesOf(o) > 0) throw new NodeError(`its ${k === 1 ? 'mean' : 'inv_std_var'} output ${JSON.stringify(o)} is used, which is not supported`);
    }
    const e = new Expansion(n);
    const sum = plusBias(n, e, e.op('Add', [n.ins[0], n.ins[1]], 'skip-sum'), simplified ? 3 : 4);
    const eps = floatAttr('epsilon', n.a.float('epsilon', 1e-12));
    const normed = simplified
      ? e.op('RMSNormalization', [sum, n.ins[2]], 'normed', [intAttr('axis', -1), eps])
      : e.op('LayerNormalization', [sum, n.ins[2], ...(n.ins[3] ? [n.ins[3]] : [])], 'normed', [intAttr('axis', -1), eps]);
    e.finish([normed, null, null, sum]);
  };
}

/** SimplifiedLayerNormalization (X, scale): RMS normalization over the axes from `axis` on. */
function simplifiedNorm(n: NodeContext): void {
  const o = n.outs[1];
  if (o && n.imp.usesOf(o) > 0) throw new NodeError(`its inv_std_var output ${JSON.stringify(o)} is used, which is not supported`);
  const e = new Expansion(n);
  e.finish([e.op('RMSNormalization', [n.ins[0], n.ins[1]], 'normed', [intAttr('axis', n.a.int('axis', -1)), floatAttr('epsilon', n.a.float('epsilon', 1e-5))])]);
}

/**
 * The activation ONNX Runtime fused into FusedConv / FusedGemm, on `v`, with its parameters in order
 * (alpha, beta, gamma), among the activations that fusion takes (`allowed`); none is the identity.
 */
function fusedActivation(n: NodeContext, e: Expansion, v: string, params: readonly (number | undefined)[], allowed: readonly string[]): string {
  const act = n.a.str('activation', '');
  if (!act) return v;
  if (!allowed.includes(act)) throw new NodeError(`attribute "activation" is ${JSON.stringify(act)}; allowed: ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
  const p = (i: number, def: number): number => params[i] ?? def;
  switch (act) {
    case 'LeakyRelu':
      return e.op('LeakyRelu', [v], 'leaky-relu', [floatAttr('alpha', p(0, 0.01))]);
    case 'HardSigmoid':
      return e.op('HardSigmoid', [v], 'hard-sigmoid', [floatAttr('alpha', p(0, 0.2)), floatAttr('beta', p(1, 0.5))]);
    case 'Clip':
      return e.clip(v, p(0, -Infinity), p(1, Infinity), 'clip');
    case 'Elu':
    case 'ThresholdedRelu':
      return e.op(act, [v], act.toLowerCase(), [floatAttr('alpha', p(0, 1))]);
    case 'Selu':
      // ONNX Selu's defaults (its spec's constants).
      return e.op('Selu', [v], 'selu', [floatAttr('alpha', p(0, 1.67326319217681884765625)), floatAttr('gamma', p(2, 1.05070102214813232421875))]);
    case 'Silu':
      return e.op('Mul', [v, e.op('Sigmoid', [v], 'gate')], 'silu');
    case 'ScaledTanh':
      // ONNX's former experimental ops (defaults 1).
      return scaledTanh(e, v, p(0, 1), p(1, 1));
    case 'ParametricSoftplus':
      return parametricSoftplus(e, v, p(0, 1), p(1, 1));
    default:
      return e.op(act, [v], act.toLowerCase());
  }
}

/** Activations ONNX Runtime fuses into Conv (fused_activation.cc) and into Gemm (gemm_activation_fusion.cc). */
const CONV_ACTIVATIONS = ['Relu', 'Tanh', 'Sigmoid', 'LeakyRelu', 'HardSigmoid', 'Clip', 'Silu'];
const GEMM_ACTIVATIONS = ['Relu', 'Tanh', 'Sigmoid', 'LeakyRelu', 'HardSigmoid', 'Clip', 'Elu', 'Selu', 'Softplus', 'Softsign', 'ThresholdedRelu', 'ScaledTanh', 'ParametricSoftplus'];

/** FusedConv: Conv (X, W, B) plus the optional sum input Z, then the fused activation (parameters in activation_params). */
function fusedConv(n: NodeContext): void {
  const e = new Expansion(n);
  const attrs = copied(n, CONV_ATTRIBUTES);
  const conv = e.op('Conv', n.ins.slice(0, 3).filter((x, i) => i < 2 || x), 'conv', attrs);
  const summed = n.ins[3] ? e.op('Add', [conv, n.ins[3]], 'sum') : conv;
  e.finish([fusedActivation(n, e, summed, n.a.floats('activation_params', []), CONV_ACTIVATIONS)]);
}

/** FusedGemm: Gemm (alpha, beta, transA, transB), then the activation, its attributes renamed activation_alpha, _beta, _gamma. */
function fusedGemm(n: NodeContext): void {
  const e = new Expansion(n);
  const attrs = copied(n, ['alpha', 'beta', 'transA', 'transB']);
  const gemm = e.op('Gemm', n.ins.filter((x, i) => i < 2 || x), 'gemm', attrs);
  const given = (name: string): number | undefined => (n.a.has(name) ? n.a.float(name, 0) : undefined);
  e.finish([fusedActivation(n, e, gemm, [given('activation_alpha'), given('activation_beta'), given('activation_gamma')], GEMM_ACTIVATIONS)]);
}

/** FusedMatMul: alpha · op(A) · op(B), op transposing the last two axes when transA / transB; batch transposes are refused. */
function fusedMatMul(n: NodeContext): void {
  if (n.a.int('transBatchA', 0) || n.a.int('transBatchB', 0)) throw new NodeError('attributes transBatchA and transBatchB are not supported');
  const e = new Expansion(n);
  const op = (i: number, flag: string, what: string): string => {
    const x = n.ins[i];
    if (!n.a.int(flag, 0)) return x;
    const r = dimsOf(n, i, what).length;
    if (r < 2) throw new NodeError(`${flag} is 1 but ${what} has rank ${r}`);
    return e.transpose(x, [...Array.from({ length: r - 2 }, (_, k) => k), r - 1, r - 2], `${what}ᵀ`);
  };
  const y = e.op('MatMul', [op(0, 'transA', 'A'), op(1, 'transB', 'B')], 'product');
  const alpha = n.a.float('alpha', 1);
  e.finish([alpha === 1 ? y : e.op('Mul', [y, e.scalar(alpha, 'alpha')], 'scaled')]);
}

/**
 * A DynamicQuantizeLSTM weight, [dirs, K, 4·hidden] quantized per direction or per direction and
 * column, dequantized and laid out as LSTM's [dirs, 4·hidden, K].
 */
function lstmWeight(n: NodeContext, i: number, scaleAt: number, what: string): Const {
  const q = n.constIn(i, what);
  if (q.dims.length !== 3) throw new NodeError(`${what} has dims [${q.dims.join(', ')}]; it must be [num_directions, K, 4·hidden_size]`);
  const [D, K, G] = q.dims;
  const s = floatsOf(n.constIn(scaleAt, `${what}_scale`), `${what}_scale`);
  const z = n.optConst(scaleAt + 1, `${what}_zero_point`);
  const zp = z ? floatsOf(z, `${what}_zero_point`) : new Float32Array(s.length);
  if ((s.length !== D && s.length !== D * G) || zp.length !== s.length) throw new NodeError(`${what}_scale and ${what}_zero_point have ${s.length} and ${zp.length} values; both must be num_directions (${D}) or num_directions·4·hidden_size (${D * G})`);
  const at = (d: number, g: number): number => (s.length === D ? d : d * G + g);
  const v = floatsOf(q, what);
  const out = new Float32Array(D * G * K);
  for (let d = 0; d < D; d++) for (let k = 0; k < K; k++) for (let g = 0; g < G; g++) out[(d * G + g) * K + k] = (v[(d * K + k) * G + g] - zp[at(d, g)]) * s[at(d, g)];
  return { kind: 'float', dims: [D, G, K], data: out };
}

/**
 * DynamicQuantizeLSTM: an LSTM whose W and R are int8 or uint8 ([dirs, K, 4·hidden], transposed from
 * LSTM's layout) with scales and zero points per direction or per column (inputs 8–11). The weights
 * dequantize to LSTM's, so they program crossbars; the dynamic 8-bit quantization of X and h that
 * ONNX Runtime's kernel does inside its integer GEMMs is the crossbars' own input quantization here.
 */
function dynamicQuantizeLstm(n: NodeContext): void {
  const e = new Expansion(n);
  const w = e.const(lstmWeight(n, 1, 8, 'W'), 'W-float');
  const r = e.const(lstmWeight(n, 2, 10, 'R'), 'R-float');
  const attrs = copied(n, ['activation_alpha', 'activation_beta', 'activations', 'clip', 'direction', 'hidden_size', 'input_forget']);
  e.finish(e.ops('LSTM', [n.ins[0], w, r, ...n.ins.slice(3, 8).map((x) => x ?? '')], 'lstm', ['Y', 'Y_h', 'Y_c'], attrs));
}

/** ONNX Runtime contrib ops (domain com.microsoft) by op type. */
export const CONTRIB_OPS: OpTable = {
  QLinearAdd: { activation: qlinearBinary('Add') },
  QLinearMul: { activation: qlinearBinary('Mul') },
  QLinearSigmoid: { activation: qlinearUnary('Sigmoid') },
  QLinearLeakyRelu: { activation: qlinearUnary('LeakyRelu', (n) => [floatAttr('alpha', n.a.float('alpha', 0.01))]) },
  QLinearSoftmax: { activation: qlinearUnary('Softmax', softmaxAttrs) },
  QLinearConcat: { activation: qlinearConcat },
  QLinearReduceMean: { activation: qlinearReduceMean },
  QLinearGlobalAveragePool: { activation: qlinearGlobalAveragePool },
  QLinearAveragePool: { activation: qlinearAveragePool },
  QGemm: { activation: qgemm },
  MatMulIntegerToFloat: { activation: matMulIntegerToFloat },
  DynamicQuantizeMatMul: { activation: dynamicQuantizeMatMul },
  DynamicQuantizeLSTM: { activation: dynamicQuantizeLstm },
  MatMulNBits: { activation: matMulNBits },
  FastGelu: { activation: fastGelu },
  Gelu: { activation: exactGelu },
  BiasGelu: { activation: exactGelu },
  QuickGelu: { activation: quickGelu },
  BiasAdd: { activation: biasAdd },
  SkipLayerNormalization: { activation: skipNorm(false) },
  SkipSimplifiedLayerNormalization: { activation: skipNorm(true) },
  SimplifiedLayerNormalization: { activation: simplifiedNorm },
  FusedConv: { activation: fusedConv },
  FusedGemm: { activation: fusedGemm },
  FusedMatMul: { activation: fusedMatMul },
};

/** ONNX Runtime's ops that it registers in the default domain (its transformer optimizer's RMSNorm). */
export const ORT_DEFAULT_DOMAIN_OPS: OpTable = {
  SimplifiedLayerNormalization: { activation: simplifiedNorm },
};
