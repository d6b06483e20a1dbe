/**
 * Ops that make constants and shapes (Constant, ConstantOfShape, Shape, Size, Range), casts (Cast,
 * CastLike), and pass-throughs (Identity, Dropout). Shape computations fold at import, the batch
 * size a symbol; a ConstantOfShape whose shape holds the batch (at any axis) is a `constant` op.
 */
import { BATCH, BatchDim, count, floatsOf, intsOf, isBatchDim, plainIntsOf, showDims } from '../consts.ts';
import type { Const, Dim } from '../consts.ts';
import { dataTypeName, decodeSparseTensor } from '../decode.ts';
import { foldRange } from '../fold.ts';
import { NodeError } from '../node.ts';
import type { DType, NodeContext, OpTable } from '../node.ts';
import { DataType, quote } from '../proto.ts';

/** Largest constant that folding may create (ConstantOfShape, Range): guards against corrupt files, fits VGG's 25088×4096 layer. */
const MAX_FOLDED_ELEMENTS = 1 << 28;

function passThrough(n: NodeContext): void {
  // The output is already an alias of the input (prepass); a constant stays a constant.
  if (!n.ins[0]) throw new NodeError('input 0 is missing');
  if (n.op !== 'Dropout') return;
  const mode = n.ins[2] ? n.imp.constOf(n.ins[2]) : undefined;
  if (mode && n.scalar(mode, 'training_mode') !== 0) {
    // Training-mode dropout draws a random mask, except at ratio 0 where it keeps everything.
    const ratio = n.ins[1] ? n.imp.constOf(n.ins[1]) : undefined;
    if (!ratio || n.scalar(ratio, 'ratio') !== 0) throw new NodeError('training_mode is true with a nonzero ratio (a random mask); only inference is supported');
  }
  const mask = n.outs[1];
  if (mask && n.imp.usesOf(mask) > 0) {
    // Inference keeps every element: the mask is all true.
    const x = n.imp.valueOf(n.ins[0]);
    const dims = x ? x.shape : n.constAt(0)!.dims;
    const ones: Const = { kind: 'int', dims, data: new Array<Dim>(count(dims)).fill(1) };
    if (x) n.constValue(ones, dims, 'mask', mask, 'bool');
    else n.imp.setConst(mask, ones);
  }
}

function constant(n: NodeContext): void {
  const a = n.a;
  let c: Const;
  const t = a.has('value') ? a.tensor('value') : null;
  const sparse = a.sparse('sparse_value');
  if (t) c = n.imp.tensor(t, n.where);
  else if (sparse) {
    const { name: _, ...dense } = decodeSparseTensor(sparse, n.where);
    c = dense;
  }
  else if (a.has('value_float')) c = { kind: 'float', dims: [], data: Float32Array.of(a.float('value_float', 0)) };
  else if (a.has('value_floats')) {
    const v = a.floats('value_floats', []);
    c = { kind: 'float', dims: [v.length], data: Float32Array.from(v) };
  } else if (a.has('value_int')) c = { kind: 'int', dims: [], data: [a.int('value_int', 0)] };
  else if (a.has('value_ints')) {
    const v = a.ints('value_ints', []);
    c = { kind: 'int', dims: [v.length], data: v };
  } else {
    throw new NodeError(`has no supported value attribute (has: ${a.names().map((x) => quote(x)).join(', ') || 'none'}; value, sparse_value, value_float(s) and value_int(s) are supported)`);
  }
  n.imp.setConst(n.out, c);
}

/** The full shape of input 0 (a constant's dims, or an activation's with the batch symbol first). */
function fullShape(n: NodeContext): Dim[] {
  const c = n.constAt(0);
  if (c) return [...c.dims];
  // The batch wherever it sits (a transposed [T, batch, D] inside PyTorch's attention).
  const x = n.valueAnyBatch(0, 'data', true);
  if (!n.imp.batched) return [...x.shape];
  const at = x.batchAt ?? 0;
  if (x.merged) return x.shape.map((d, i) => (i === at ? new BatchDim(d) : d));
  return [...x.shape.slice(0, at), BATCH, ...x.shape.slice(at)];
}

function shape(n: NodeContext): void {
  const dims = fullShape(n);
  const r = dims.length;
  const clampAxis = (v: number): number => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const start = clampAxis(n.a.int('start', 0));
  const end = n.a.has('end') ? clampAxis(n.a.int('end', r)) : r;
  const data = dims.slice(start, Math.max(start, end));
  n.imp.setConst(n.out, { kind: 'int', dims: [data.length], data });
}

function size(n: NodeContext): void {
  const dims = fullShape(n);
  const known = count(dims.filter((d): d is number => !isBatchDim(d)));
  const batch = dims.find(isBatchDim);
  n.imp.setConst(n.out, { kind: 'int', dims: [], data: [batch ? (known === 0 ? 0 : new BatchDim(batch.k * known)) : known] });
}

function constantOfShape(n: NodeContext): void {
  const shapeIn = n.constAt(0);
  if (!shapeIn) throw new NodeError('its shape input must be a constant; a shape computed from the data is not supported');
  const t = n.a.tensor('value');
  filled(n, intsOf(shapeIn), t ? n.imp.tensor(t, n.where) : { kind: 'float', dims: [1], data: Float32Array.of(0) });
}

/**
 * ConstantFill, ONNX's former experimental op (PyTorch's opset 7 and 8 exports write torch.zeros
 * with it): `value` (attribute, default 0) of type `dtype` over the shape the input holds
 * (input_as_shape = 1), the input's own shape (0), or the `shape` attribute without an input, then
 * `extra_shape`.
 */
function constantFill(n: NodeContext): void {
  let dims: Dim[];
  if (!n.ins[0]) dims = n.a.ints('shape', []);
  else if (n.a.int('input_as_shape', 0) !== 0) {
    const c = n.constAt(0);
    if (!c) throw new NodeError('its shape input must be a constant; a shape computed from the data is not supported');
    dims = intsOf(c);
  } else dims = fullShape(n);
  dims = [...dims, ...n.a.ints('extra_shape', [])];
  const value = n.a.float('value', 0);
  const kind = castKind(n.a.int('dtype', DataType.FLOAT));
  filled(n, dims, kind === 'float' ? { kind: 'float', dims: [1], data: Float32Array.of(value) } : { kind: 'int', dims: [1], data: [kind === 'bool' ? (value !== 0 ? 1 : 0) : Math.trunc(value)] });
}

/** `v`'s one value over `dims` (numbers, or one of them the batch: then a value of every sample), as `n`'s output. */
function filled(n: NodeContext, dims: readonly Dim[], v: Const): void {
  const fill = (numeric: number[]): Const => {
    if (numeric.some((d) => !Number.isInteger(d) || d < 0) || count(numeric) > MAX_FOLDED_ELEMENTS) {
      throw new NodeError(`shape [${numeric.join(', ')}] is invalid or too large to fold`);
    }
    const k = count(numeric);
    return v.kind === 'float' ? { kind: 'float', dims: numeric, data: new Float32Array(k).fill(v.data[0]) } : { kind: 'int', dims: numeric, data: new Array<Dim>(k).fill(v.data[0]) };
  };
  if (!dims.some(isBatchDim)) return n.imp.setConst(n.out, fill(dims as number[]));
  // One dim is the batch: every sample holds the other dims. Not first, it is a moved batch (an RNN's
  // zero initial state [layers, batch, H]). A multiple k·batch is the batch merged with a dim of k
  // (torch.zeros_like of attention's [batch·heads, 1, T] key-padding mask): every sample holds k rows
  // alike, so the merge order does not matter to the data and is PyTorch's view order, batch major.
  const at = dims.findIndex(isBatchDim);
  const b = dims[at];
  const rest = dims.filter((_, i) => i !== at);
  if (!isBatchDim(b) || rest.some(isBatchDim)) {
    throw new NodeError(`shape ${showDims(dims)} holds the batch size in more than one dim`);
  }
  const merged = b.k !== 1;
  const per = fill(merged ? dims.map((d) => (isBatchDim(d) ? d.k : d)) : (rest as number[]));
  n.constValue(per, per.dims, 'value', n.out, per.kind === 'int' ? 'int' : 'float', at, merged ? 'major' : undefined);
}

/** Element types a Cast cannot make: complex64/128, the float8 types (e8m0 too) and float4e2m1. */
const NOT_CARRIED = new Set([14, 15, 17, 18, 19, 20, 23, 24]);

/** What Cast's `to` (or another op's `dtype`) makes of a value. */
export function castKind(to: number): DType {
  // 16-bit floats are carried in f32 as every float is (a float16 model's Casts at its boundary).
  if (to === DataType.FLOAT || to === DataType.DOUBLE || to === DataType.FLOAT16 || to === DataType.BFLOAT16) return 'float';
  if (to === DataType.BOOL) return 'bool';
  if (to === DataType.STRING) throw new NodeError('Cast to string is not supported');
  // 8- and 4-bit floats round too coarsely to pass as f32, and neither they nor complex numbers are integers.
  if (NOT_CARRIED.has(to)) throw new NodeError(`Cast to ${dataTypeName(to)} is not supported (float32, float64, float16, bfloat16, integers and bool are)`);
  return 'int';
}

function castConst(x: Const, to: DType): Const {
  if (to === 'float') return { kind: 'float', dims: x.dims, data: floatsOf(x, 'Cast input') };
  if (to === 'bool') return { kind: 'int', dims: x.dims, data: intsOf(x).map((d) => (isBatchDim(d) ? 1 : d !== 0 ? 1 : 0)) };
  return { kind: 'int', dims: x.dims, data: intsOf(x) };
}

/** Cast of an activation: floats and integers are all f32 values, so only truncation and booleans compute. */
function castValue(n: NodeContext, to: DType): void {
  // Elementwise: the batch may sit anywhere, merged with another dim or not.
  const x = n.valueAnyBatch(0, 'input', true);
  if (to === 'float' || to === x.dtype || (to === 'int' && x.dtype === 'bool')) {
    n.imp.emit({ kind: 'reshape', name: n.name, inputs: [x.name], output: n.out, outShape: x.shape }, [...x.shape], to, x.batchAt, x.merged);
    return;
  }
  n.imp.emit({ kind: 'unary', name: n.name, inputs: [x.name], output: n.out, fn: to === 'bool' ? 'bool' : 'trunc', alpha: 0, min: -Infinity, max: Infinity }, [...x.shape], to, x.batchAt, x.merged);
}

/** CastLike's target type: that of its second input. */
function likeKind(n: NodeContext): DType {
  const c = n.constAt(1);
  if (c) return c.kind === 'float' ? 'float' : 'int';
  return n.value(1, 'target_type').dtype;
}

function range(n: NodeContext): Const {
  return foldRange(n.constIn(0, 'start'), n.constIn(1, 'limit'), n.constIn(2, 'delta'), MAX_FOLDED_ELEMENTS);
}

/** EyeLike of a constant 2-D tensor (torch.diagonal's mask): ones on diagonal k, the input's type unless `dtype` names one. */
function eyeLike(n: NodeContext): Const {
  const x = n.constIn(0, 'input');
  if (x.dims.length !== 2) throw new NodeError(`input has dims [${x.dims.join(', ')}]; EyeLike takes a 2-D tensor`);
  const [r, c] = x.dims;
  const k = n.a.int('k', 0);
  const kind = n.a.has('dtype') ? castKind(n.a.int('dtype', DataType.FLOAT)) : x.kind;
  const ones = Array.from({ length: r * c }, (_, i) => (i % c === Math.floor(i / c) + k ? 1 : 0));
  return kind === 'float' ? { kind: 'float', dims: [r, c], data: Float32Array.from(ones) } : { kind: 'int', dims: [r, c], data: ones };
}

/** Constant, shape and cast ops by ONNX op type. */
export const CONSTANT_OPS: OpTable = {
  Identity: { always: passThrough, reads: 'alias' },
  Dropout: { always: passThrough, reads: 'alias' },
  Constant: { always: constant },
  Shape: { always: shape, reads: 'shape' },
  Size: { always: size, reads: 'shape' },
  ConstantOfShape: { always: constantOfShape },
  ConstantFill: { always: constantFill },
  Range: { fold: range },
  EyeLike: { fold: eyeLike },
  Cast: { fold: (n) => castConst(n.constIn(0, 'input 0'), castKind(n.a.int('to', DataType.FLOAT))), activation: (n) => castValue(n, castKind(n.a.int('to', DataType.FLOAT))) },
  // Only the target's type matters, so a constant input folds whatever the target is.
  CastLike: { always: (n) => (n.constAt(0) ? n.imp.setConst(n.out, castConst(n.constAt(0)!, likeKind(n))) : castValue(n, likeKind(n))) },
};
