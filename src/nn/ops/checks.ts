/**
 * Shape and attribute checks of the digital ops, shared by their CPU and GPU implementations so both
 * refuse exactly the same malformed IR with the same message.
 */
import { sizeOf, type AffineOp, type BinaryOp, type ConcatOp, type Shape, type SoftmaxOp, type TransposeOp } from '../../ir/graph.ts';
import { elementCount } from '../../ir/tensor.ts';

/** An op as errors name it. */
export interface Named {
  kind: string;
  name: string;
}

/** Throws `<kind> <name>: msg`. */
export function fail(op: Named, msg: string): never {
  throw new Error(`${op.kind} ${op.name}: ${msg}`);
}

/** Throws unless `t` holds B samples of per-sample shape `shape`. */
export function checkInput(op: Named, t: { shape: readonly number[] }, B: number, shape: Shape, which = 'input'): void {
  if (elementCount(t.shape) !== B * sizeOf(shape)) fail(op, `${which} has shape [${t.shape.join(', ')}], expected [${[B, ...shape].join(', ')}]`);
}

/** Throws unless the op got `n` inputs. */
export function checkArity(op: Named, inputs: readonly unknown[], n: number): void {
  if (inputs.length !== n) fail(op, `expects ${n} input${n === 1 ? '' : 's'}, got ${inputs.length}`);
}

/** An axis in [0, rank), accepting negative axes as ONNX does. */
export function opAxis(op: Named, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) fail(op, `axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** A binary operand's per-sample shape left-padded with 1s to the output's rank (numpy alignment). */
function alignShape(op: BinaryOp, shape: Shape, which: string): number[] {
  const out = op.outShape;
  let s = [...shape];
  while (s.length > out.length && s[0] === 1) s = s.slice(1);
  if (s.length > out.length) fail(op, `${which} [${shape.join(', ')}] has more dims than the output [${out.join(', ')}]`);
  s = [...new Array<number>(out.length - s.length).fill(1), ...s];
  s.forEach((d, k) => {
    if (d !== out[k] && d !== 1) fail(op, `${which} [${shape.join(', ')}] does not broadcast to [${out.join(', ')}]`);
  });
  return s;
}

/** Checks a binary op's shapes; returns both operands' aligned per-sample shapes. */
export function binaryShapes(op: BinaryOp): { a: number[]; b: number[] } {
  const a = alignShape(op, op.aShape, 'aShape');
  const b = alignShape(op, op.bShape, 'bShape');
  op.outShape.forEach((d, k) => {
    if (d !== Math.max(a[k], b[k]) && !(a[k] === 1 && b[k] === 1 && d === 1)) fail(op, `outShape [${op.outShape.join(', ')}] is not the broadcast of the operands`);
  });
  if (op.b && op.b.data.length !== sizeOf(op.bShape)) fail(op, `constant has ${op.b.data.length} values, bShape [${op.bShape.join(', ')}] needs ${sizeOf(op.bShape)}`);
  return { a, b };
}

/** Checks a transpose's permutation; returns its per-sample output shape. */
export function transposeShape(op: TransposeOp): number[] {
  const r = op.inShape.length;
  if (op.perm.length !== r || [...op.perm].sort((x, y) => x - y).some((p, k) => p !== k)) fail(op, `perm [${op.perm.join(', ')}] is not a permutation of ${r} axes`);
  return op.perm.map((p) => op.inShape[p]);
}

/** Checks a concat's input shapes; returns its normalized axis and per-sample output shape. */
export function concatShape(op: ConcatOp): { axis: number; shape: number[] } {
  if (op.inShapes.length < 1) fail(op, 'no inputs');
  const r = op.inShapes[0].length;
  const axis = opAxis(op, op.axis, r);
  const shape = [...op.inShapes[0]];
  shape[axis] = 0;
  for (const s of op.inShapes) {
    if (s.length !== r || s.some((d, k) => k !== axis && d !== op.inShapes[0][k])) fail(op, `input shapes [${op.inShapes.map((x) => x.join('x')).join('], [')}] differ off axis ${op.axis}`);
    shape[axis] += s[axis];
  }
  return { axis, shape };
}

/** A softmax as outer × L × inner rows over its axis. */
export function softmaxView(op: SoftmaxOp, B: number): { axis: number; outer: number; L: number; inner: number } {
  const axis = opAxis(op, op.axis, op.inShape.length);
  return { axis, outer: B * sizeOf(op.inShape.slice(0, axis)), L: op.inShape[axis], inner: sizeOf(op.inShape.slice(axis + 1)) };
}

/** Checks an affine op's scale and shift against its channel axis; returns the channel count. */
export function affineChannels(op: AffineOp): number {
  if (op.inShape.length < 1) fail(op, 'needs a channel axis');
  const C = op.inShape[0];
  if (op.scale.length !== C || op.shift.length !== C) fail(op, `scale/shift have ${op.scale.length}/${op.shift.length} values for ${C} channels`);
  return C;
}
