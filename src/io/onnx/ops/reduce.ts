/**
 * Ops that reduce along axes: ReduceSum/Mean/Max/Min (axes as an attribute up to opset 12 for
 * ReduceSum and 17 for the others, as an input from then on), ArgMax, Softmax and LogSoftmax (on any
 * axis; before opset 13 on ONNX's 2-D coercion, which becomes reshapes around a one-axis softmax).
 */
import type { ReduceOp } from '../../../ir/graph.ts';
import { NodeError } from '../node.ts';
import type { NodeContext, OpTable, Value } from '../node.ts';

function reduce(fn: ReduceOp['fn']): (n: NodeContext) => void {
  return (n) => {
    const x = n.value(0, 'data');
    const axesFromInput = fn === 'sum' ? 13 : 18;
    const axes = n.axesArg(axesFromInput);
    const keepDims = n.a.int('keepdims', 1) !== 0;
    const noop = n.opset >= axesFromInput && n.a.int('noop_with_empty_axes', 0) !== 0;
    if (!axes || axes.length === 0) {
      if (noop) {
        n.imp.emit({ kind: 'reshape', name: n.name, inputs: [x.name], output: n.out, outShape: x.shape }, [...x.shape], x.dtype);
        return;
      }
      if (n.imp.batched) throw new NodeError('reduces over every axis, the batch dimension too; reducing across samples is not supported');
    }
    const sample = [...new Set((axes && axes.length > 0 ? axes : x.shape.map((_, i) => i)).map((a) => n.sampleAxis(a, x.shape.length)))].sort((p, q) => p - q);
    const outShape = keepDims ? x.shape.map((d, i) => (sample.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !sample.includes(i));
    n.imp.emit({ kind: 'reduce', name: n.name, inputs: [x.name], output: n.out, fn, axes: sample, keepDims, inShape: x.shape, outShape }, outShape, fn === 'sum' || fn === 'mean' ? 'float' : x.dtype);
  };
}

function argmax(n: NodeContext): void {
  const x = n.value(0, 'data');
  const axis = n.sampleAxis(n.a.int('axis', 0), x.shape.length);
  const keepDims = n.a.int('keepdims', 1) !== 0;
  const selectLastIndex = n.a.int('select_last_index', 0) !== 0;
  const outShape = keepDims ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis);
  n.imp.emit({ kind: 'argmax', name: n.name, inputs: [x.name], output: n.out, axis, keepDims, selectLastIndex, inShape: x.shape, outShape }, outShape, 'int');
}

function softmax(log: boolean): (n: NodeContext) => void {
  return (n) => {
    const legacy = n.opset < 13;
    // From opset 13 the batch may sit anywhere (attention's [batch·heads, T, T] scores); before, ONNX's 2-D coercion needs it first.
    const x = legacy ? n.value(0, 'X') : n.valueAnyBatch(0, 'X', true);
    const full = n.rankOf(x);
    const raw = n.a.int('axis', legacy ? 1 : -1);
    const a = raw < 0 ? raw + full : raw;
    if (n.imp.batched && a === n.batchAxis(x)) throw new NodeError(`${log ? 'log-' : ''}softmax over axis ${a} would mix samples of the batch`);
    const axis = n.axisOf(x, raw);
    const emit = (input: Value, ax: number, out: string): void => {
      n.imp.emit({ kind: log ? 'log-softmax' : 'softmax', name: n.name, inputs: [input.name], output: out, axis: ax, inShape: input.shape }, [...input.shape], 'float', x.batchAt, x.merged);
    };
    if (!legacy) return emit(x, axis, n.out);
    // Opset < 13 flattens to [prod(dims[:axis]), prod(dims[axis:])]: the same as a one-axis softmax
    // when at most one of the trailing dims is larger than 1, else a softmax over the flattened tail.
    const rest = x.shape.slice(axis);
    const big = rest.map((d, i) => (d > 1 ? i : -1)).filter((i) => i >= 0);
    if (big.length <= 1) return emit(x, axis + (big[0] ?? 0), n.out);
    const flat = [...x.shape.slice(0, axis), rest.reduce((p, q) => p * q, 1)];
    const inFlat = n.imp.fresh(`${n.name}/flat`);
    n.imp.emit({ kind: 'reshape', name: n.name, inputs: [x.name], output: inFlat, outShape: flat }, flat);
    const outFlat = n.imp.fresh(`${n.name}/flat-out`);
    emit(n.imp.valueOf(inFlat)!, axis, outFlat);
    n.imp.emit({ kind: 'reshape', name: n.name, inputs: [outFlat], output: n.out, outShape: x.shape }, [...x.shape]);
  };
}

/** Reductions and softmax by ONNX op type. */
export const REDUCE_OPS: OpTable = {
  ReduceSum: { activation: reduce('sum') },
  ReduceMean: { activation: reduce('mean') },
  ReduceMax: { activation: reduce('max') },
  ReduceMin: { activation: reduce('min') },
  ArgMax: { activation: argmax },
  Softmax: { activation: softmax(false) },
  LogSoftmax: { activation: softmax(true) },
};
