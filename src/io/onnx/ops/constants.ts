/**
 * Ops that make or pick apart constants and shapes (Constant, ConstantOfShape, Shape, Cast, Gather,
 * Slice) and pass-throughs (Identity, Dropout). Shape computations fold to constants at import, so
 * none of these reaches the IR.
 */
import { BATCH, count, floatsOf, foldGather, foldSlice, intsOf, normAxis, plainIntsOf } from '../consts.ts';
import type { Const, Dim } from '../consts.ts';
import { NodeError } from '../node.ts';
import type { NodeContext, OpTable } from '../node.ts';
import { DataType, quote } from '../proto.ts';

/** Largest constant that folding may create from a shape (ConstantOfShape): guards against corrupt files. */
const MAX_FOLDED_ELEMENTS = 1 << 26;

function passThrough(n: NodeContext): void {
  if (n.op === 'Dropout') {
    n.requireUnusedExtraOutputs('mask');
    const mode = n.ins[2] ? n.imp.constOf(n.ins[2]) : undefined;
    if (mode && n.scalar(mode, 'training_mode') !== 0) throw new NodeError('training_mode is true; only inference is supported');
  }
  // The output is already an alias of the input (prepass); a constant stays a constant.
  if (!n.ins[0]) throw new NodeError('input 0 is missing');
}

function constant(n: NodeContext): void {
  const a = n.a;
  let c: Const;
  const t = a.has('value') ? a.tensor('value') : null;
  if (t) c = n.imp.tensor(t, n.where);
  else if (a.has('value_float')) c = { kind: 'float', dims: [], data: Float32Array.of(a.float('value_float', 0)) };
  else if (a.has('value_floats')) {
    const v = a.floats('value_floats', []);
    c = { kind: 'float', dims: [v.length], data: Float32Array.from(v) };
  } else if (a.has('value_int')) c = { kind: 'int', dims: [], data: [a.int('value_int', 0)] };
  else if (a.has('value_ints')) {
    const v = a.ints('value_ints', []);
    c = { kind: 'int', dims: [v.length], data: v };
  } else {
    throw new NodeError(`has no supported value attribute (has: ${a.names().map((x) => quote(x)).join(', ') || 'none'}; value, value_float(s) and value_int(s) are supported)`);
  }
  n.imp.setConst(n.out, c);
}

function shape(n: NodeContext): void {
  const x = n.ins[0];
  const c = x ? n.imp.constOf(x) : undefined;
  let dims: Dim[];
  if (c) dims = [...c.dims];
  else dims = [BATCH, ...n.value(0).shape];
  const r = dims.length;
  const clampAxis = (v: number): number => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const start = clampAxis(n.a.int('start', 0));
  const end = n.a.has('end') ? clampAxis(n.a.int('end', r)) : r;
  const data = dims.slice(start, Math.max(start, end));
  n.imp.setConst(n.out, { kind: 'int', dims: [data.length], data });
}

function cast(n: NodeContext): Const {
  const x = n.constIn(0, 'input 0');
  const to = n.a.int('to', DataType.FLOAT);
  if (to === DataType.FLOAT || to === DataType.DOUBLE || to === DataType.FLOAT16) {
    return { kind: 'float', dims: x.dims, data: floatsOf(x, 'Cast input') };
  }
  if (to === DataType.BOOL) return { kind: 'int', dims: x.dims, data: intsOf(x).map((d) => (d === BATCH ? 1 : d !== 0 ? 1 : 0)) };
  if (to === DataType.STRING) throw new NodeError('Cast to string is not supported');
  return { kind: 'int', dims: x.dims, data: intsOf(x) };
}

function gather(n: NodeContext): Const {
  return foldGather(n.constIn(0, 'input 0'), n.constIn(1, 'input 1'), n.a.int('axis', 0));
}

function slice(n: NodeContext): Const {
  const x = n.constIn(0, 'input 0');
  let starts: number[];
  let ends: number[];
  let axes: number[] | null;
  let steps: number[] | null = null;
  if (n.opset < 10) {
    starts = n.a.ints('starts', []);
    ends = n.a.ints('ends', []);
    axes = n.a.ints('axes', null);
  } else {
    starts = plainIntsOf(n.constIn(1, 'starts'), 'starts');
    ends = plainIntsOf(n.constIn(2, 'ends'), 'ends');
    const ax = n.optConst(3, 'axes');
    axes = ax ? plainIntsOf(ax, 'axes') : null;
    const st = n.optConst(4, 'steps');
    steps = st ? plainIntsOf(st, 'steps') : null;
  }
  const ax = (axes ?? starts.map((_, i) => i)).map((v) => normAxis(v, x.dims.length));
  return foldSlice(x, starts, ends, ax, steps ?? ax.map(() => 1));
}

function constantOfShape(n: NodeContext): Const {
  const dims = plainIntsOf(n.constIn(0, 'input 0'), 'ConstantOfShape shape');
  if (dims.some((d) => !Number.isInteger(d) || d < 0) || count(dims) > MAX_FOLDED_ELEMENTS) {
    throw new NodeError(`shape [${dims.join(', ')}] is invalid or too large to fold`);
  }
  const t = n.a.tensor('value');
  const v = t ? n.imp.tensor(t, n.where) : { kind: 'float' as const, dims: [1], data: Float32Array.of(0) };
  const size = count(dims);
  if (v.kind === 'float') return { kind: 'float', dims, data: new Float32Array(size).fill(v.data[0]) };
  return { kind: 'int', dims, data: new Array<Dim>(size).fill(v.data[0]) };
}

/** Constant and shape ops by ONNX op type. */
export const CONSTANT_OPS: OpTable = {
  Identity: { always: passThrough, reads: 'alias' },
  Dropout: { always: passThrough, reads: 'alias' },
  Constant: { always: constant },
  Shape: { always: shape, reads: 'shape' },
  Cast: { fold: cast },
  Gather: { fold: gather },
  Slice: { fold: slice },
  ConstantOfShape: { fold: constantOfShape },
};
