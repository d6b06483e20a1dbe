/**
 * Matrix ops (Gemm, MatMul, Conv) → the IR's crossbar layers, and the folding of per-channel
 * affine maps (BatchNormalization, bias Adds) into them.
 */
import type { ConvOp, LinearOp } from '../../../ir/graph.ts';
import { count, floatsOf } from '../consts.ts';
import { NodeError } from '../node.ts';
import type { MatrixOp, NodeContext, OpTable } from '../node.ts';
import { spatial } from './window.ts';

function gemm(n: NodeContext): void {
  const x = n.value(0, 'A');
  if (x.shape.length !== 1) throw new NodeError(`input A has per-sample shape [${x.shape.join(', ')}]; Gemm needs [batch, K]`);
  if (n.a.int('transA', 0) !== 0) throw new NodeError('transA = 1 is not supported (A is the batch of activations)');
  const b = n.constIn(1, 'B (weight)');
  if (b.dims.length !== 2) throw new NodeError(`weight B has dims [${b.dims.join(', ')}]; Gemm needs a 2-D B`);
  const transB = n.a.int('transB', 0) !== 0;
  const alpha = n.a.float('alpha', 1);
  const beta = n.a.float('beta', 1);
  const [K, N] = transB ? [b.dims[1], b.dims[0]] : [b.dims[0], b.dims[1]];
  if (K !== x.shape[0]) throw new NodeError(`input has ${x.shape[0]} features but weight B${transB ? 'ᵀ' : ''} has ${K} rows`);
  const bw = floatsOf(b, 'weight B');
  const weight = new Float32Array(K * N);
  for (let k = 0; k < K; k++) {
    for (let j = 0; j < N; j++) weight[k * N + j] = alpha * (transB ? bw[j * K + k] : bw[k * N + j]);
  }
  let bias: Float32Array | null = null;
  const c = n.optConst(2, 'C (bias)');
  if (c && beta !== 0) {
    const v = perOutput(c.dims, N);
    if (!v) throw new NodeError(`bias C has dims [${c.dims.join(', ')}]; it must broadcast to [${N}] (a per-batch bias is not supported)`);
    const cv = floatsOf(c, 'bias C');
    bias = new Float32Array(N);
    for (let j = 0; j < N; j++) bias[j] = beta * cv[v === 'scalar' ? 0 : j];
  }
  emitLinear(n, x.name, K, N, weight, bias);
}

function matmul(n: NodeContext): void {
  if (!n.constAt(1) && n.constAt(0)) {
    throw new NodeError('has a constant left operand; only activations × constant weight is supported');
  }
  const x = n.value(0, 'A');
  const w = n.constIn(1, 'B (weight)');
  if (w.dims.length !== 2) throw new NodeError(`weight B has dims [${w.dims.join(', ')}]; MatMul needs a 2-D constant B`);
  if (x.shape.length !== 1) {
    throw new NodeError(`input A has per-sample shape [${x.shape.join(', ')}]; only [batch, K] × [K, N] is supported`);
  }
  const [K, N] = w.dims;
  if (K !== x.shape[0]) throw new NodeError(`input has ${x.shape[0]} features but weight B has ${K} rows`);
  emitLinear(n, x.name, K, N, Float32Array.from(floatsOf(w, 'weight B')), null);
}

function emitLinear(n: NodeContext, input: string, K: number, N: number, weight: Float32Array, bias: Float32Array | null): void {
  const op: LinearOp = { kind: 'linear', name: n.name, inputs: [input], output: n.out, layerIndex: -1, K, N, weight, bias };
  n.imp.emit(op, [N]);
}

function conv(n: NodeContext): void {
  const x = n.value(0, 'X');
  if (x.shape.length !== 3) throw new NodeError(`input X has per-sample shape [${x.shape.join(', ')}]; only 2-D convolution on [batch, C, H, W] is supported`);
  const w = n.constIn(1, 'W (weight)');
  if (w.dims.length !== 4) throw new NodeError(`weight W has dims [${w.dims.join(', ')}]; only 2-D convolution is supported`);
  const [cout, cinG, kh, kw] = w.dims;
  const [cin, H, W] = x.shape;
  const group = n.a.int('group', 1);
  if (group < 1 || cin % group !== 0 || cout % group !== 0 || cin / group !== cinG) {
    throw new NodeError(`input has ${cin} channels, weight is [${w.dims.join(', ')}] with group ${group}: inconsistent`);
  }
  const ks = n.a.ints('kernel_shape', null);
  if (ks && (ks.length !== 2 || ks[0] !== kh || ks[1] !== kw)) throw new NodeError(`kernel_shape [${ks.join(', ')}] does not match weight [${kh}, ${kw}]`);
  const strides = n.pair('strides', 1);
  const dilations = n.pair('dilations', 1);
  const geo = spatial(n, [H, W], [kh, kw], strides, dilations, false);
  const b = n.optConst(2, 'B (bias)');
  let bias: Float32Array | null = null;
  if (b) {
    if (count(b.dims) !== cout) throw new NodeError(`bias B has dims [${b.dims.join(', ')}], expected [${cout}]`);
    bias = Float32Array.from(floatsOf(b, 'bias B'));
  }
  const op: ConvOp = {
    kind: 'conv', name: n.name, inputs: [x.name], output: n.out, layerIndex: -1,
    weight: Float32Array.from(floatsOf(w, 'weight W')), bias, cin, cout, group, kh, kw,
    strides, pads: geo.pads, dilations, inShape: [cin, H, W], outShape: [cout, geo.out[0], geo.out[1]],
  };
  n.imp.emit(op, [...op.outShape]);
}

/** How a bias of `dims` broadcasts onto N outputs: 'scalar', 'vector', or null when it does not. */
function perOutput(dims: readonly number[], N: number): 'scalar' | 'vector' | null {
  const core = stripLeadingOnes(dims);
  if (core.length === 0 || (core.length === 1 && core[0] === 1)) return 'scalar';
  if (core.length === 1 && core[0] === N) return 'vector';
  return null;
}

function stripLeadingOnes(dims: readonly number[]): number[] {
  let i = 0;
  while (i < dims.length && dims[i] === 1) i++;
  return dims.slice(i);
}

/**
 * The constant operand of an Add/Sub after a matrix op as one value per output channel, or null when
 * it varies along other axes (or would broadcast the layer's output to a bigger shape).
 */
export function channelVector(op: MatrixOp, bShape: readonly number[], data: Float32Array): Float32Array | null {
  const C = op.kind === 'linear' ? op.N : op.cout;
  const rank = op.kind === 'linear' ? 1 : 3;
  if (bShape.length > rank) return null;
  const padded = [...new Array<number>(rank - bShape.length).fill(1), ...bShape];
  if (padded.slice(1).some((d) => d !== 1)) return null;
  if (padded[0] === C) return Float32Array.from(data);
  if (padded[0] === 1) return new Float32Array(C).fill(data[0]);
  return null;
}

/** Folds `y = x·s[c] + t[c]` on the output channels into a matrix op's weight and bias (f64, rounded once). */
export function foldChannelAffine(op: MatrixOp, s: Float64Array, t: Float64Array): void {
  const bias = new Float32Array(s.length);
  for (let c = 0; c < s.length; c++) bias[c] = (op.bias ? op.bias[c] : 0) * s[c] + t[c];
  if (op.kind === 'linear') {
    for (let k = 0; k < op.K; k++) for (let j = 0; j < op.N; j++) op.weight[k * op.N + j] *= s[j];
  } else {
    const per = (op.cin / op.group) * op.kh * op.kw;
    for (let c = 0; c < op.cout; c++) for (let i = 0; i < per; i++) op.weight[c * per + i] *= s[c];
  }
  op.bias = bias;
}

/** Matrix ops by ONNX op type. */
export const MATRIX_OPS: OpTable = {
  Gemm: { activation: gemm },
  MatMul: { activation: matmul },
  Conv: { activation: conv },
};
