/** Elementwise ops (activations, broadcast arithmetic) and Softmax → the IR's digital ops. */
import type { BinaryOp, UnaryOp } from '../../../ir/graph.ts';
import { broadcastShapes, floatsOf, foldBinary, normAxis } from '../consts.ts';
import type { BinaryFn, Const } from '../consts.ts';
import { NodeError } from '../node.ts';
import type { NodeContext, OpImporter, OpTable } from '../node.ts';
import { channelVector } from './matrix.ts';

function unary(fn: UnaryOp['fn']): (n: NodeContext) => void {
  return (n) => {
    const x = n.value(0, 'X');
    let alpha = 0;
    let min = -Infinity;
    let max = Infinity;
    if (fn === 'leaky-relu') alpha = n.a.float('alpha', 0.01);
    if (fn === 'clip') {
      if (n.opset < 11) {
        min = n.a.float('min', -Infinity);
        max = n.a.float('max', Infinity);
      } else {
        const lo = n.optConst(1, 'min');
        const hi = n.optConst(2, 'max');
        if (lo) min = n.scalar(lo, 'min');
        if (hi) max = n.scalar(hi, 'max');
      }
    }
    const op: UnaryOp = { kind: 'unary', name: n.name, inputs: [x.name], output: n.out, fn, alpha, min, max };
    n.imp.emit(op, [...x.shape]);
  };
}

function binary(fn: BinaryFn, n: NodeContext): void {
  const c0 = n.constAt(0);
  const c1 = n.constAt(1);
  if (!c0 && !c1) {
    const a = n.value(0, 'A');
    const b = n.value(1, 'B');
    if (a.shape.length !== b.shape.length) {
      throw new NodeError(`operands have per-sample shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] of different rank; broadcasting would mix the batch dimension with another`);
    }
    const outShape = broadcastShapes(a.shape, b.shape);
    if (!outShape) throw new NodeError(`shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] do not broadcast`);
    const op: BinaryOp = {
      kind: 'binary', name: n.name, inputs: [a.name, b.name], output: n.out, fn, b: null, constFirst: false,
      aShape: a.shape, bShape: b.shape, outShape,
    };
    n.imp.emit(op, outShape);
    return;
  }
  const constFirst = !!c0;
  const x = n.value(constFirst ? 1 : 0, constFirst ? 'B' : 'A');
  const c = (c0 ?? c1)!;
  const full = x.shape.length + 1;
  if (c.dims.length > full) {
    throw new NodeError(`constant operand has dims [${c.dims.join(', ')}], more than the activation's rank ${full}`);
  }
  if (c.dims.length === full && c.dims[0] !== 1) {
    throw new NodeError(`constant operand has dims [${c.dims.join(', ')}]; its first (batch) dim must be 1`);
  }
  const bShape = c.dims.length === full ? c.dims.slice(1) : [...c.dims];
  const outShape = broadcastShapes(x.shape, bShape);
  if (!outShape) throw new NodeError(`shapes [${x.shape.join(', ')}] and [${bShape.join(', ')}] do not broadcast`);
  const data = floatsOf(c, 'constant operand');

  if ((fn === 'add' || fn === 'sub') && !(constFirst && fn === 'sub')) {
    const target = n.imp.foldTarget(x.name);
    const per = target ? channelVector(target, bShape, data) : null;
    if (target && per) {
      const bias = new Float32Array(per.length);
      for (let i = 0; i < per.length; i++) bias[i] = (target.bias ? target.bias[i] : 0) + (fn === 'add' ? per[i] : -per[i]);
      target.bias = bias;
      n.imp.renameOutput(target, n.out);
      return;
    }
  }
  const commutes = fn === 'add' || fn === 'mul';
  const op: BinaryOp = {
    kind: 'binary', name: n.name, inputs: [x.name], output: n.out, fn,
    b: { dims: bShape, data: Float32Array.from(data) }, constFirst: constFirst && !commutes,
    aShape: x.shape, bShape, outShape,
  };
  n.imp.emit(op, outShape);
}

function arithmetic(fn: BinaryFn): OpImporter {
  const c = (n: NodeContext, i: number): Const => n.constIn(i, `input ${i}`);
  return { fold: (n) => foldBinary(fn, c(n, 0), c(n, 1)), activation: (n) => binary(fn, n) };
}

function softmax(n: NodeContext): void {
  const x = n.value(0, 'X');
  const full = x.shape.length + 1;
  const legacy = n.opset < 13;
  const axis = normAxis(n.a.int('axis', legacy ? 1 : -1), full);
  if (axis === 0) throw new NodeError('softmax over axis 0 would mix samples of the batch');
  let perSample = axis - 1;
  if (legacy) {
    // Opset < 13 flattens to [prod(dims[:axis]), prod(dims[axis:])]: the same as a one-axis softmax
    // when at most one of the trailing dims is larger than 1.
    const rest = x.shape.slice(perSample);
    const big = rest.map((d, i) => (d > 1 ? i : -1)).filter((i) => i >= 0);
    if (big.length > 1) {
      throw new NodeError(`opset ${n.opset} softmax at axis ${axis} flattens [${rest.join(', ')}] into one axis, which is not supported (export with opset ≥ 13 or softmax over the last axis)`);
    }
    if (big.length === 1) perSample += big[0];
  }
  n.imp.emit({ kind: 'softmax', name: n.name, inputs: [x.name], output: n.out, axis: perSample, inShape: x.shape }, [...x.shape]);
}

/** Elementwise ops and Softmax by ONNX op type. */
export const ELEMENTWISE_OPS: OpTable = {
  Add: arithmetic('add'),
  Sub: arithmetic('sub'),
  Mul: arithmetic('mul'),
  Div: arithmetic('div'),
  Relu: { activation: unary('relu') },
  LeakyRelu: { activation: unary('leaky-relu') },
  Sigmoid: { activation: unary('sigmoid') },
  Tanh: { activation: unary('tanh') },
  Clip: { activation: unary('clip') },
  Softmax: { activation: softmax },
};
