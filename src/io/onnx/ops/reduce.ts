/**
 * Ops that reduce along axes: ReduceSum/Mean/Max/Min (axes as an attribute up to opset 12 for
 * ReduceSum and 17 for the others, as an input from then on), LpNormalization, ArgMax, ArgMin,
 * Softmax, LogSoftmax and Hardmax (on any axis; before opset 13 on ONNX's 2-D coercion, which
 * becomes reshapes around a one-axis softmax), CumSum (running sums along one axis) and TopK.
 */
import type { BinaryFn, BinaryOp, ReduceOp, UnaryOp } from '../../../ir/graph.ts';
import { count, normAxis, plainIntsOf, type Const } from '../consts.ts';
import { NodeError } from '../node.ts';
import { emitBinary, emitUnary } from './elementwise.ts';
import { reshapeTo } from './matrix.ts';
import type { NodeContext, OpTable, Value } from '../node.ts';

/** The per-sample axes a Reduce* node reduces (null: none, with noop_with_empty_axes) and whether it keeps them. */
function reduceAxes(n: NodeContext, x: Value, axesFromInput: number): { axes: number[] | null; keepDims: boolean } {
  const axes = n.axesArg(axesFromInput);
  const keepDims = n.a.int('keepdims', 1) !== 0;
  if (!axes || axes.length === 0) {
    if (n.opset >= axesFromInput && n.a.int('noop_with_empty_axes', 0) !== 0) return { axes: null, keepDims };
    if (n.imp.batched) throw new NodeError('reduces over every axis, the batch dimension too; reducing across samples is not supported');
  }
  const sample = [...new Set((axes && axes.length > 0 ? axes.map((a) => n.axisOf(x, a)) : x.shape.map((_, i) => i)))].sort((p, q) => p - q);
  return { axes: sample, keepDims };
}

/** Emits reduce `fn` of `x` over per-sample `axes` into `out`, returning the value. */
export function emitReduce(n: NodeContext, fn: ReduceOp['fn'], x: Value, axes: number[], keepDims: boolean, out: string): Value {
  const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  // A moved batch (seq-first [T, batch, D]) shifts left by the dropped axes before it.
  const b = x.batchAt ?? 0;
  const batchAt = keepDims ? b : b - axes.filter((a) => a < b).length;
  n.imp.emit({ kind: 'reduce', name: n.name, inputs: [x.name], output: out, fn, axes, keepDims, inShape: x.shape, outShape }, outShape, fn === 'sum' || fn === 'mean' ? 'float' : x.dtype, batchAt);
  return n.imp.valueOf(out)!;
}

function reduce(fn: ReduceOp['fn']): (n: NodeContext) => void {
  return (n) => {
    const x = n.valueAnyBatch(0, 'data');
    const { axes, keepDims } = reduceAxes(n, x, fn === 'sum' ? 13 : 18);
    if (!axes) {
      n.imp.emit({ kind: 'reshape', name: n.name, inputs: [x.name], output: n.out, outShape: x.shape }, [...x.shape], x.dtype, x.batchAt);
      return;
    }
    emitReduce(n, fn, x, axes, keepDims, n.out);
  };
}

/**
 * ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSum and ReduceLogSumExp (F.normalize, torch.norm,
 * torch.logsumexp) from the IR's elementwise ops and sum/max reductions; log-sum-exp subtracts the
 * maximum first.
 */
function reduceComposite(kind: 'l1' | 'l2' | 'sumsquare' | 'logsum' | 'logsumexp'): (n: NodeContext) => void {
  return (n) => {
    const x = n.value(0, 'data');
    const { axes: given, keepDims } = reduceAxes(n, x, 18);
    if (!given) throw new NodeError('noop_with_empty_axes = 1 with no axes is not supported for this reduction');
    const axes = given;
    const fresh = (s: string): string => n.imp.fresh(`${n.out}/${s}`);
    const un = (fn: UnaryOp['fn'], v: Value, out: string): Value => emitUnary(n, fn, v, out);
    const bin = (fn: BinaryFn, a: Value, b: Value, out: string): Value => {
      emitBinary(n, fn, { v: a }, { v: b }, out);
      return n.imp.valueOf(out)!;
    };
    if (kind === 'l1') return void emitReduce(n, 'sum', un('abs', x, fresh('abs')), axes, keepDims, n.out);
    if (kind === 'logsum') return void un('log', emitReduce(n, 'sum', x, axes, keepDims, fresh('sum')), n.out);
    if (kind === 'logsumexp') {
      const m = emitReduce(n, 'max', x, axes, true, fresh('max'));
      const s = emitReduce(n, 'sum', un('exp', bin('sub', x, m, fresh('shifted')), fresh('exp')), axes, true, fresh('sum'));
      const l = bin('add', un('log', s, fresh('log')), m, keepDims ? n.out : fresh('lse'));
      if (!keepDims) reshapeTo(n, l, l.shape.filter((_, i) => !axes.includes(i)), n.out);
      return;
    }
    const sq = emitSquare(n, x, fresh('square'));
    if (kind === 'sumsquare') return void emitReduce(n, 'sum', sq, axes, keepDims, n.out);
    un('sqrt', emitReduce(n, 'sum', sq, axes, keepDims, fresh('sum')), n.out);
  };
}

/**
 * LpNormalization (p 1 or 2): x over its L1 or L2 norm along one per-sample axis, as ONNX defines it
 * (no epsilon: a zero vector gives NaN, as in onnxruntime). The L1 norm sums |x|, which the Lp norm
 * means; onnx's reference op sums x itself for p = 1.
 */
function lpNormalization(n: NodeContext): void {
  const x = n.value(0, 'input');
  const p = n.a.int('p', 2);
  if (p !== 1 && p !== 2) throw new NodeError(`attribute "p" is ${p}; allowed: 1, 2`);
  const axis = n.axisOf(x, n.a.int('axis', -1));
  const fresh = (s: string): string => n.imp.fresh(`${n.out}/${s}`);
  const norm = p === 1
    ? emitReduce(n, 'sum', emitUnary(n, 'abs', x, fresh('abs')), [axis], true, fresh('l1'))
    : emitUnary(n, 'sqrt', emitReduce(n, 'sum', emitSquare(n, x, fresh('square')), [axis], true, fresh('sum')), fresh('l2'));
  emitBinary(n, 'div', { v: x }, { v: norm }, n.out);
}

function emitSquare(n: NodeContext, x: Value, out: string): Value {
  emitBinary(n, 'mul', { v: x }, { v: x }, out);
  return n.imp.valueOf(out)!;
}

/** ReduceProd of a constant (torch.var's element count from Shape): folded; on activations it is not supported. */
function foldReduceProd(n: NodeContext): Const {
  const c = n.constIn(0, 'data');
  const v = c.kind === 'int' ? plainIntsOf(c, 'data') : Array.from(c.data);
  const r = c.dims.length;
  const axes = (n.axesArg(18) ?? []).map((a) => normAxis(a, r));
  const all = axes.length === 0 ? c.dims.map((_, i) => i) : axes;
  const keep = n.a.int('keepdims', 1) !== 0;
  const outDims = keep ? c.dims.map((d, i) => (all.includes(i) ? 1 : d)) : c.dims.filter((_, i) => !all.includes(i));
  const out = new Array<number>(count(outDims)).fill(1);
  const strides = c.dims.map((_, i) => count(c.dims.slice(i + 1)));
  const kept = c.dims.map((_, i) => i).filter((i) => !all.includes(i));
  v.forEach((x, flat) => {
    let o = 0;
    for (const i of kept) o = o * c.dims[i] + (Math.floor(flat / strides[i]) % c.dims[i]);
    out[o] *= x;
  });
  return c.kind === 'int' ? { kind: 'int', dims: outDims, data: out } : { kind: 'float', dims: outDims, data: Float32Array.from(out) };
}

/** ArgMax, or ArgMin as the ArgMax of −x (the same ties, first or last). */
function argmax(n: NodeContext, min = false): void {
  const v = n.value(0, 'data');
  const x = min ? emitUnary(n, 'neg', v, n.imp.fresh(`${n.out}/neg`), `${n.name}/neg`, v.dtype === 'float' ? 'float' : 'int') : v;
  const axis = n.sampleAxis(n.a.int('axis', 0), x.shape.length);
  const keepDims = n.a.int('keepdims', 1) !== 0;
  const selectLastIndex = n.a.int('select_last_index', 0) !== 0;
  const outShape = keepDims ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis);
  n.imp.emit({ kind: 'argmax', name: n.name, inputs: [x.name], output: n.out, axis, keepDims, selectLastIndex, inShape: x.shape, outShape }, outShape, 'int');
}

/** CumSum's axis (a scalar input) and flags. */
function cumsumArgs(n: NodeContext): { axis: number; exclusive: boolean; reverse: boolean } {
  return { axis: n.scalar(n.constIn(1, 'axis'), 'axis'), exclusive: n.a.int('exclusive', 0) !== 0, reverse: n.a.int('reverse', 0) !== 0 };
}

/** CumSum of an activation along a per-sample axis; the batch may sit anywhere but on that axis. */
function cumsum(n: NodeContext): void {
  const x = n.valueAnyBatch(0, 'x');
  const { axis, exclusive, reverse } = cumsumArgs(n);
  const a = n.axisOf(x, axis);
  n.imp.emit({ kind: 'cumsum', name: n.name, inputs: [x.name], output: n.out, axis: a, exclusive, reverse, inShape: x.shape }, [...x.shape], x.dtype === 'bool' ? 'int' : x.dtype, x.batchAt);
}

/** CumSum of a constant (position ids of a fixed mask); null when it holds batch-size symbols. */
function foldCumsum(n: NodeContext): Const | null {
  const c = n.constIn(0, 'x');
  if (c.data.some((v) => typeof v !== 'number')) return null;
  const { axis, exclusive, reverse } = cumsumArgs(n);
  const a = normAxis(axis, c.dims.length);
  const L = c.dims[a];
  const inner = count(c.dims.slice(a + 1));
  const out = new Float64Array(c.data.length);
  for (let o = 0; o < count(c.dims.slice(0, a)); o++) {
    for (let j = 0; j < inner; j++) {
      let acc = 0;
      for (let i = 0; i < L; i++) {
        const k = (o * L + (reverse ? L - 1 - i : i)) * inner + j;
        if (exclusive) out[k] = acc;
        acc += c.data[k] as number;
        if (!exclusive) out[k] = acc;
      }
    }
  }
  return c.kind === 'float' ? { kind: 'float', dims: c.dims, data: Float32Array.from(out) } : { kind: 'int', dims: c.dims, data: Array.from(out) };
}

/** TopK along a per-sample axis: one `topk` op per output that is used (values, indices). */
function topk(n: NodeContext): void {
  const x = n.valueAnyBatch(0, 'X');
  const axis = n.axisOf(x, n.a.int('axis', -1));
  const k = n.opset < 10 ? n.a.int('k', 0) : n.scalar(n.constIn(1, 'K'), 'K');
  const L = x.shape[axis];
  if (!Number.isInteger(k) || k < 0 || k > L) throw new NodeError(`K is ${k}; it must be an integer in [0, ${L}] (the axis's length)`);
  const largest = n.opset < 11 || n.a.int('largest', 1) !== 0;
  const outShape = x.shape.map((d, i) => (i === axis ? k : d));
  (['values', 'indices'] as const).forEach((gives, i) => {
    const out = n.outs[i];
    if (!out) return;
    n.imp.emit({ kind: 'topk', name: `${n.name}/${gives}`, inputs: [x.name], output: out, axis, k, largest, gives, inShape: x.shape, outShape }, [...outShape], gives === 'indices' ? 'int' : x.dtype, x.batchAt);
  });
}

/** Softmax, LogSoftmax and Hardmax: one axis from opset 13, ONNX's 2-D coercion before. */
function softmax(kind: 'softmax' | 'log-softmax' | 'hardmax'): (n: NodeContext) => void {
  return (n) => {
    const legacy = n.opset < 13;
    // The batch may sit anywhere (attention's [batch·heads, T, T] scores), outside the axes normalized.
    const x = n.valueAnyBatch(0, 'X', true);
    const full = n.rankOf(x);
    const raw = n.a.int('axis', legacy ? 1 : -1);
    const a = raw < 0 ? raw + full : raw;
    const b = n.batchAxis(x);
    if (n.imp.batched && (a === b || (legacy && b > a))) throw new NodeError(`${kind} over axis ${a}${legacy ? ' and the axes after it' : ''} would mix samples of the batch`);
    const axis = n.axisOf(x, raw);
    const emit = (input: Value, ax: number, out: string): void => {
      if (kind === 'hardmax') return hardmax(n, input, ax, out);
      n.imp.emit({ kind, name: n.name, inputs: [input.name], output: out, axis: ax, inShape: input.shape }, [...input.shape], 'float', x.batchAt, x.merged);
    };
    if (!legacy) return emit(x, axis, n.out);
    // Opset < 13 flattens to [prod(dims[:axis]), prod(dims[axis:])]: the same as a one-axis softmax
    // when at most one of the trailing dims is larger than 1, else a softmax over the flattened tail.
    const rest = x.shape.slice(axis);
    const big = rest.map((d, i) => (d > 1 ? i : -1)).filter((i) => i >= 0);
    if (big.length <= 1) return emit(x, axis + (big[0] ?? 0), n.out);
    if (b > 0 || x.merged) n.value(0, 'X'); // the flattening reshapes below need the batch first (this refuses otherwise)
    const flat = [...x.shape.slice(0, axis), rest.reduce((p, q) => p * q, 1)];
    const inFlat = n.imp.fresh(`${n.name}/flat`);
    n.imp.emit({ kind: 'reshape', name: n.name, inputs: [x.name], output: inFlat, outShape: flat }, flat);
    const outFlat = n.imp.fresh(`${n.name}/flat-out`);
    emit(n.imp.valueOf(inFlat)!, axis, outFlat);
    n.imp.emit({ kind: 'reshape', name: n.name, inputs: [outFlat], output: n.out, outShape: x.shape }, [...x.shape]);
  };
}

/**
 * Hardmax along per-sample axis `ax`: 1 where ArgMax (the first of equal maxima, as ONNX's reference
 * takes) picks, else 0, from an ArgMax and an Equal with the axis's indices.
 */
function hardmax(n: NodeContext, x: Value, ax: number, out: string): void {
  if (x.batchAt || x.merged) n.value(0, 'input'); // ArgMax needs the batch first (this refuses otherwise)
  const idxShape = x.shape.map((d, i) => (i === ax ? 1 : d));
  const idx = n.imp.fresh(`${n.name}/argmax`);
  n.imp.emit({ kind: 'argmax', name: `${n.name}/argmax`, inputs: [x.name], output: idx, axis: ax, keepDims: true, selectLastIndex: false, inShape: x.shape, outShape: idxShape }, idxShape, 'int');
  const iotaShape = x.shape.map((d, i) => (i === ax ? d : 1));
  const op: BinaryOp = {
    kind: 'binary', name: n.name, inputs: [idx], output: out, fn: 'equal', constFirst: false,
    b: { dims: iotaShape, data: Float32Array.from({ length: x.shape[ax] }, (_, i) => i) }, aShape: idxShape, bShape: iotaShape, outShape: [...x.shape],
  };
  n.imp.emit(op, [...x.shape], 'float');
}

/** Reductions and softmax by ONNX op type. */
export const REDUCE_OPS: OpTable = {
  ReduceSum: { activation: reduce('sum') },
  ReduceMean: { activation: reduce('mean') },
  ReduceMax: { activation: reduce('max') },
  ReduceMin: { activation: reduce('min') },
  ReduceL1: { activation: reduceComposite('l1') },
  ReduceL2: { activation: reduceComposite('l2') },
  ReduceSumSquare: { activation: reduceComposite('sumsquare') },
  ReduceLogSumExp: { activation: reduceComposite('logsumexp') },
  ReduceLogSum: { activation: reduceComposite('logsum') },
  LpNormalization: { activation: lpNormalization },
  ReduceProd: { fold: foldReduceProd, activation: reduce('prod') },
  ArgMax: { activation: (n) => argmax(n) },
  ArgMin: { activation: (n) => argmax(n, true) },
  CumSum: { fold: foldCumsum, activation: cumsum },
  TopK: { activation: topk },
  Softmax: { activation: softmax('softmax') },
  LogSoftmax: { activation: softmax('log-softmax') },
  Hardmax: { activation: softmax('hardmax') },
};
