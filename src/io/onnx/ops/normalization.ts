/**
 * Normalization ops: BatchNormalization (folded into the preceding crossbar layer, or an affine op),
 * InstanceNormalization, LayerNormalization (its Mean and InvStdDev outputs computed by reduce and
 * elementwise ops when read), GroupNormalization, RMSNormalization, MeanVarianceNormalization and LRN.
 */
import type { AffineOp, ReduceOp } from '../../../ir/graph.ts';
import { count, floatsOf, normAxis } from '../consts.ts';
import type { Const } from '../consts.ts';
import { foldExpand } from '../fold.ts';
import { NodeError } from '../node.ts';
import type { NodeContext, OpTable, Value } from '../node.ts';
import { emitBinary, emitUnary, operandAt } from './elementwise.ts';
import { foldChannelAffine, reshapeTo } from './matrix.ts';
import { emitReduce } from './reduce.ts';

/** Ops whose channel axis is ONNX axis 1 need it to be the first per-sample axis: a batched import. */
function channelsFirst(n: NodeContext, x: Value): number {
  if (!n.imp.batched) throw new NodeError(`normalizes per channel of axis 1, which needs a batched import (axis 0 the batch)`);
  if (x.shape.length < 1) throw new NodeError('input has no channel dimension');
  return x.shape[0];
}

function batchNorm(n: NodeContext): void {
  n.requireUnusedExtraOutputs('running statistics');
  if (n.a.int('training_mode', 0) !== 0) throw new NodeError('training_mode = 1 is not supported');
  // BatchNormalization-7's spatial = 0 normalizes each activation by its own statistics, not each channel.
  if (n.opset < 9 && n.a.int('spatial', 1) !== 1) throw new NodeError('attribute "spatial" is 0 (statistics per activation); only 1, per channel, is supported');
  const x = n.value(0, 'X');
  const C = channelsFirst(n, x);
  const vec = (i: number, what: string): Float32Array => {
    const c = n.constIn(i, what);
    if (count(c.dims) !== C) throw new NodeError(`${what} has dims [${c.dims.join(', ')}], expected [${C}]`);
    return floatsOf(c, what);
  };
  const gamma = vec(1, 'scale');
  const beta = vec(2, 'B');
  const mean = vec(3, 'mean');
  const variance = vec(4, 'var');
  const eps = n.a.float('epsilon', 1e-5);
  // f64 per-channel factors: folding is exact math, rounded to f32 once at the end.
  const s = new Float64Array(C);
  const t = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    s[c] = gamma[c] / Math.sqrt(variance[c] + eps);
    t[c] = beta[c] - mean[c] * s[c];
  }
  const target = n.imp.foldTarget(x.name);
  // A linear layer's channels are its outputs only when each sample is one vector.
  if (target && target.layers.every((l) => l.kind === 'conv' || l.inShape.length === 1)) {
    n.imp.foldInto(target, n.out, (l) => foldChannelAffine(l, s, t));
    return;
  }
  const op: AffineOp = {
    kind: 'affine', name: n.name, inputs: [x.name], output: n.out,
    scale: Float32Array.from(s), shift: Float32Array.from(t), inShape: x.shape,
  };
  n.imp.emit(op, [...x.shape]);
}

function instanceNorm(n: NodeContext): void {
  const x = n.value(0, 'input');
  const C = channelsFirst(n, x);
  if (x.shape.length < 2) throw new NodeError(`input has per-sample shape [${x.shape.join(', ')}]; InstanceNormalization needs [batch, C, spatial...]`);
  const vec = (i: number, what: string): Float32Array => {
    const c = n.constIn(i, what);
    if (count(c.dims) !== C) throw new NodeError(`${what} has dims [${c.dims.join(', ')}], expected [${C}]`);
    return Float32Array.from(floatsOf(c, what));
  };
  const op = { kind: 'instancenorm' as const, name: n.name, inputs: [x.name], output: n.out, epsilon: n.a.float('epsilon', 1e-5), scale: vec(1, 'scale'), bias: vec(2, 'B'), inShape: x.shape };
  n.imp.emit(op, [...x.shape]);
}

/**
 * GroupNormalization (opset 18; 21 changed scale and bias from one per group to one per channel;
 * `nn.GroupNorm` as PyTorch's torch.export-based exporter writes it from opset 21): each sample's
 * [C, spatial…] regrouped as [G, C/G · spatial], layer-normalized over its second axis, and the
 * per-channel affine applied to the result shaped back (stash_type only picks the precision of the
 * statistics, which are f32 here anyway).
 */
function groupNorm(n: NodeContext): void {
  const x = n.value(0, 'X');
  const C = channelsFirst(n, x);
  const G = n.a.int('num_groups', 0);
  if (!n.a.has('num_groups')) throw new NodeError('attribute "num_groups" is missing');
  if (!(G >= 1) || C % G !== 0) throw new NodeError(`attribute "num_groups" is ${G}; it must divide the ${C} channels`);
  const perChannel = n.opset >= 21;
  const vec = (i: number, what: string): Float32Array => {
    const c = n.constIn(i, what);
    const want = perChannel ? C : G;
    if (count(c.dims) !== want) throw new NodeError(`${what} has dims [${c.dims.join(', ')}], expected [${want}] (one per ${perChannel ? 'channel from opset 21' : 'group before opset 21'})`);
    const v = floatsOf(c, what);
    return perChannel ? Float32Array.from(v) : Float32Array.from({ length: C }, (_, ch) => v[Math.floor(ch / (C / G))]);
  };
  const scale = vec(1, 'scale');
  const bias = vec(2, 'bias');
  const grouped = reshapeTo(n, x, [G, count(x.shape) / G]);
  const normed = n.imp.fresh(`${n.out}/normalized`);
  n.imp.emit({ kind: 'layernorm', name: `${n.name}/normalize`, inputs: [grouped.name], output: normed, axis: 1, epsilon: n.a.float('epsilon', 1e-5), scale: null, bias: null, inShape: grouped.shape }, [...grouped.shape]);
  const back = reshapeTo(n, n.imp.valueOf(normed)!, [...x.shape]);
  n.imp.emit({ kind: 'affine', name: n.name, inputs: [back.name], output: n.out, scale, shift: bias, inShape: x.shape }, [...x.shape]);
}

/** A LayerNormalization scale or bias broadcast to the normalized dims. */
function perElement(c: Const | null, dims: number[], what: string): Float32Array | null {
  if (!c) return null;
  if (c.dims.length > dims.length) throw new NodeError(`${what} has dims [${c.dims.join(', ')}], more than the normalized dims [${dims.join(', ')}]`);
  const e = foldExpand(c, dims);
  if (e.dims.join() !== dims.join()) throw new NodeError(`${what} has dims [${c.dims.join(', ')}], which do not broadcast to the normalized dims [${dims.join(', ')}]`);
  return Float32Array.from(floatsOf(e, what));
}

/**
 * Input X of a norm over the trailing axes from attribute `axis` on, with that axis per sample; a
 * seq-first [T, batch, D] (nn.TransformerEncoderLayer's default layout) normalizes over D like any other.
 */
function trailingAxes(n: NodeContext): { x: Value; axis: number; b: number } {
  const x = n.valueAnyBatch(0, 'X');
  const raw = n.a.int('axis', -1);
  const b = n.batchAxis(x);
  if (b > 0 && normAxis(raw, n.rankOf(x)) < b) throw new NodeError(`normalizes over axes ${normAxis(raw, n.rankOf(x))}… that include the batch dimension at axis ${b}`);
  return { x, axis: n.axisOf(x, raw), b };
}

function layerNorm(n: NodeContext): void {
  const { x, axis, b } = trailingAxes(n);
  const epsilon = n.a.float('epsilon', 1e-5);
  const normDims = x.shape.slice(axis);
  // PyTorch writes F.layer_norm without a weight as an empty Scale input: a scale of 1.
  const scale = perElement(n.optConst(1, 'Scale'), normDims, 'Scale');
  const bias = perElement(n.optConst(2, 'B'), normDims, 'B');
  n.imp.emit({ kind: 'layernorm', name: n.name, inputs: [x.name], output: n.out, axis, epsilon, scale, bias, inShape: x.shape }, [...x.shape], 'float', x.batchAt);
  const [, meanOut, invOut] = n.outs;
  const used = (o: string | undefined): o is string => !!o && n.imp.usesOf(o) > 0;
  if (!used(meanOut) && !used(invOut)) return;
  if (b > 0) throw new NodeError(`its Mean and InvStdDev outputs are used with the batch dimension at axis ${b}; they need it first`);
  // The statistics outputs are [d0, …, d(axis−1), 1, …, 1]: mean, and 1/sqrt(population var + ε).
  const axes = normDims.map((_, i) => axis + i);
  const statShape = x.shape.map((d, i) => (i < axis ? d : 1));
  const reduce = (input: Value, out: string): Value => {
    const op: ReduceOp = { kind: 'reduce', name: `${n.name}/mean`, inputs: [input.name], output: out, fn: 'mean', axes, keepDims: true, inShape: input.shape, outShape: statShape };
    n.imp.emit(op, [...statShape]);
    return n.imp.valueOf(out)!;
  };
  const mean = reduce(x, used(meanOut) ? meanOut : n.imp.fresh(`${n.name}/mean`));
  if (!used(invOut)) return;
  const step = (suffix: string, make: (out: string) => void, shape: number[], last = false): Value => {
    const out = last ? invOut : n.imp.fresh(`${n.name}/${suffix}`);
    make(out);
    return n.imp.valueOf(out) ?? (() => { throw new NodeError(`internal: ${suffix} not emitted`); })();
  };
  const bin = (fn: 'sub' | 'mul', a: Value, b: Value) => (out: string) =>
    n.imp.emit({ kind: 'binary', name: `${n.name}/${fn}`, inputs: [a.name, b.name], output: out, fn, b: null, constFirst: false, aShape: a.shape, bShape: b.shape, outShape: x.shape }, [...x.shape]);
  const d = step('centered', bin('sub', x, mean), x.shape);
  const sq = step('squared', bin('mul', d, d), x.shape);
  const variance = reduce(sq, n.imp.fresh(`${n.name}/var`));
  const plus = step('var+eps', (out) => n.imp.emit({ kind: 'binary', name: `${n.name}/eps`, inputs: [variance.name], output: out, fn: 'add', b: { dims: [], data: Float32Array.of(epsilon) }, constFirst: false, aShape: statShape, bShape: [], outShape: statShape }, [...statShape]), statShape);
  const un = (fn: 'sqrt' | 'reciprocal', a: Value) => (out: string) =>
    n.imp.emit({ kind: 'unary', name: `${n.name}/${fn}`, inputs: [a.name], output: out, fn, alpha: 0, min: -Infinity, max: Infinity }, [...statShape]);
  const root = step('std', un('sqrt', plus), statShape);
  step('invstd', un('reciprocal', root), statShape, true);
}

function lrn(n: NodeContext): void {
  const x = n.value(0, 'X');
  channelsFirst(n, x);
  const size = n.a.int('size', 0);
  if (!(size >= 1)) throw new NodeError(`attribute "size" is ${size}; it must be a positive integer`);
  const op = { kind: 'lrn' as const, name: n.name, inputs: [x.name], output: n.out, size, alpha: n.a.float('alpha', 1e-4), beta: n.a.float('beta', 0.75), bias: n.a.float('bias', 1), inShape: x.shape };
  n.imp.emit(op, [...x.shape]);
}

/**
 * RMSNormalization (opset 23: LLaMA-style RMSNorm, `nn.RMSNorm` exported at opset 23 or later):
 * X / sqrt(mean(X² over axes axis…) + epsilon) · scale, as elementwise ops and a mean (stash_type
 * only picks the precision of that mean, which xbarsim computes in f32 anyway).
 */
function rmsNorm(n: NodeContext): void {
  const { x, axis } = trailingAxes(n);
  const part = (what: string): string => n.imp.fresh(`${n.out}/${what}`);
  const squared = part('squared');
  emitBinary(n, 'mul', { v: x }, { v: x }, squared, `${n.name}/squared`);
  const mean = emitReduce(n, 'mean', n.imp.valueOf(squared)!, x.shape.map((_, i) => i).filter((i) => i >= axis), true, part('mean'));
  const shifted = part('plus-eps');
  emitBinary(n, 'add', { v: mean }, { c: { kind: 'float', dims: [], data: Float32Array.of(n.a.float('epsilon', 1e-5)) } }, shifted, `${n.name}/eps`);
  const rms = emitUnary(n, 'sqrt', n.imp.valueOf(shifted)!, part('rms'), `${n.name}/rms`);
  const normed = part('normed');
  emitBinary(n, 'div', { v: x }, { v: rms }, normed, `${n.name}/normed`);
  emitBinary(n, 'mul', { v: n.imp.valueOf(normed)! }, operandAt(n, 1, 'scale'), n.out);
}

/** Normalization ops by ONNX op type. */
/**
 * MeanVarianceNormalization (Caffe's MVN): (x − E[x]) / (√(E[x²] − E[x]²) + 1e-9) over `axes`
 * (default [0, 2, 3]), computed as ONNX's function body does it. In a batched import axis 0 is the
 * batch, and normalizing across samples is refused: name the per-sample axes. Before opset 9 it is
 * the experimental MVN-1 (ONNX Runtime's MeanVarianceNormalization_0): per sample, over each
 * channel's H·W or, with across_channels, over C·H·W, divided by the deviation only with
 * normalize_variance (default 1).
 */
function meanVarianceNorm(n: NodeContext): void {
  const x = n.value(0, 'X');
  const legacy = n.opset < 9;
  const given = legacy ? (n.a.int('across_channels', 0) !== 0 ? [1, 2, 3] : [2, 3]) : n.a.ints('axes', [0, 2, 3]);
  const axes = [...new Set(given.map((a) => n.axisOf(x, a, 'axes entry')))].sort((p, q) => p - q);
  const fresh = (s: string): string => n.imp.fresh(`${n.out}/${s}`);
  const bin = (fn: 'sub' | 'mul' | 'div', a: Value, b: Value, out: string): Value => {
    emitBinary(n, fn, { v: a }, { v: b }, out);
    return n.imp.valueOf(out)!;
  };
  const mean = emitReduce(n, 'mean', x, axes, true, fresh('mean'));
  if (legacy && n.a.int('normalize_variance', 1) === 0) {
    bin('sub', x, mean, n.out);
    return;
  }
  const meanOfSquares = emitReduce(n, 'mean', bin('mul', x, x, fresh('square')), axes, true, fresh('mean-square'));
  const std = emitUnary(n, 'sqrt', bin('sub', meanOfSquares, bin('mul', mean, mean, fresh('mean2')), fresh('var')), fresh('std'));
  const den = fresh('den');
  emitBinary(n, 'add', { v: std }, { c: { kind: 'float', dims: [], data: Float32Array.of(1e-9) } }, den);
  bin('div', bin('sub', x, mean, fresh('centred')), n.imp.valueOf(den)!, n.out);
}

export const NORMALIZATION_OPS: OpTable = {
  BatchNormalization: { activation: batchNorm },
  GroupNormalization: { activation: groupNorm },
  InstanceNormalization: { activation: instanceNorm },
  LayerNormalization: { activation: layerNorm },
  LRN: { activation: lrn },
  MeanVarianceNormalization: { activation: meanVarianceNorm },
  RMSNormalization: { activation: rmsNorm },
};
