/**
 * Layout ops (Flatten, Reshape, Squeeze, Unsqueeze, Transpose, Concat): on activations they become
 * IR reshapes, transposes and concats that keep the batch dimension first; on constants they fold.
 */
import type { ReshapeOp } from '../../../ir/graph.ts';
import { BATCH, count, foldConcat, foldTranspose, intsOf, normAxis, plainIntsOf, reshapeDims, withDims } from '../consts.ts';
import type { Const } from '../consts.ts';
import { NodeError } from '../node.ts';
import type { NodeContext, OpTable } from '../node.ts';
import { quote } from '../proto.ts';

function emitReshape(n: NodeContext, input: string, outShape: number[]): void {
  const op: ReshapeOp = { kind: 'reshape', name: n.name, inputs: [input], output: n.out, outShape };
  n.imp.emit(op, outShape);
}

function flatten(n: NodeContext): void {
  const x = n.value(0, 'input');
  const full = x.shape.length + 1;
  const raw = n.a.int('axis', 1);
  const axis = raw < 0 ? raw + full : raw;
  if (axis !== 1) {
    throw new NodeError(`axis ${raw} would ${axis === 0 ? 'flatten the batch dimension into the features' : 'merge the batch dimension with others'}; only axis 1 is supported`);
  }
  emitReshape(n, x.name, [count(x.shape)]);
}

function foldFlatten(n: NodeContext): Const {
  const x = n.constIn(0, 'input 0');
  const ax = n.a.int('axis', 1);
  const axis = ax < 0 ? ax + x.dims.length : ax;
  return withDims(x, [count(x.dims.slice(0, axis)), count(x.dims.slice(axis))]);
}

function reshape(n: NodeContext): void {
  const x = n.value(0, 'data');
  const target = intsOf(n.constIn(1, 'shape'));
  const allowZero = n.a.int('allowzero', 0) === 1;
  const show = `[${target.map((d) => (d === BATCH ? 'batch' : d)).join(', ')}]`;
  if (target.length === 0) throw new NodeError(`reshape to a scalar drops the batch dimension`);
  const first = target[0];
  const declared = n.imp.declaredBatch;
  const keepsBatch = first === BATCH || first === -1 || (first === 0 && !allowZero) || (declared !== null && first === declared);
  if (!keepsBatch) {
    throw new NodeError(`target shape ${show} does not keep the batch dimension first (it must start with 0, -1, the batch size from Shape, or the input's declared batch size)`);
  }
  const rest = target.slice(1).map((d) => {
    if (d === BATCH) throw new NodeError(`target shape ${show} moves the batch size away from the first dimension`);
    return d;
  });
  if (first === -1 && rest.includes(-1)) throw new NodeError(`target shape ${show} has more than one -1`);
  const copied = rest.map((d, i) => {
    if (d !== 0 || allowZero) return d;
    if (i >= x.shape.length) throw new NodeError(`target shape ${show} copies dimension ${i + 1}, which the input lacks`);
    return x.shape[i];
  });
  let outShape: number[];
  try {
    outShape = reshapeDims(x.shape, copied, allowZero);
  } catch (e) {
    throw new NodeError(`cannot reshape per-sample [${x.shape.join(', ')}] to ${show}${first === -1 ? ' without changing the batch size' : ''} (${(e as Error).message})`);
  }
  emitReshape(n, x.name, outShape);
}

function foldReshape(n: NodeContext): Const {
  const x = n.constIn(0, 'input 0');
  const target = plainIntsOf(n.constIn(1, 'shape'), 'Reshape shape');
  return withDims(x, reshapeDims(x.dims, target, n.a.int('allowzero', 0) === 1));
}

function squeeze(n: NodeContext): void {
  const x = n.value(0, 'data');
  const full = x.shape.length + 1;
  const axes = n.axesArg(13);
  let outShape: number[];
  if (axes) {
    const norm = new Set(axes.map((ax) => normAxis(ax, full)));
    if (norm.has(0)) throw new NodeError('cannot squeeze the batch dimension');
    for (const ax of norm) {
      if (x.shape[ax - 1] !== 1) throw new NodeError(`cannot squeeze axis ${ax} of size ${x.shape[ax - 1]}`);
    }
    outShape = x.shape.filter((_, i) => !norm.has(i + 1));
  } else {
    outShape = x.shape.filter((d) => d !== 1);
  }
  emitReshape(n, x.name, outShape);
}

function foldSqueeze(n: NodeContext): Const {
  const x = n.constIn(0, 'input 0');
  const axes = n.axesArg(13);
  const norm = axes ? new Set(axes.map((ax) => normAxis(ax, x.dims.length))) : null;
  return withDims(x, x.dims.filter((d, i) => (norm ? !norm.has(i) : d !== 1)));
}

function unsqueeze(n: NodeContext): void {
  const x = n.value(0, 'data');
  const axes = n.axesArg(13);
  if (!axes) throw new NodeError('has no axes');
  const full = x.shape.length + 1 + axes.length;
  const norm = new Set(axes.map((ax) => normAxis(ax, full)));
  if (norm.size !== axes.length) throw new NodeError(`axes [${axes.join(', ')}] repeat an axis`);
  if (norm.has(0)) throw new NodeError('cannot insert an axis before the batch dimension');
  const outShape: number[] = [];
  for (let i = 1, j = 0; i < full; i++) outShape.push(norm.has(i) ? 1 : x.shape[j++]);
  emitReshape(n, x.name, outShape);
}

function foldUnsqueeze(n: NodeContext): Const {
  const x = n.constIn(0, 'input 0');
  const axes = n.axesArg(13);
  if (!axes) throw new NodeError('has no axes');
  const r = x.dims.length + axes.length;
  const norm = new Set(axes.map((ax) => normAxis(ax, r)));
  const dims: number[] = [];
  for (let i = 0, j = 0; i < r; i++) dims.push(norm.has(i) ? 1 : x.dims[j++]);
  return withDims(x, dims);
}

function transpose(n: NodeContext): void {
  const x = n.value(0, 'data');
  const full = x.shape.length + 1;
  const perm = n.a.ints('perm', Array.from({ length: full }, (_, i) => full - 1 - i));
  if (perm.length !== full || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) {
    throw new NodeError(`perm [${perm.join(', ')}] is not a permutation of ${full} axes`);
  }
  if (perm[0] !== 0) throw new NodeError(`perm [${perm.join(', ')}] moves the batch dimension; it must stay first`);
  const ps = perm.slice(1).map((p) => p - 1);
  const outShape = ps.map((p) => x.shape[p]);
  if (ps.every((p, i) => p === i)) return emitReshape(n, x.name, outShape);
  n.imp.emit({ kind: 'transpose', name: n.name, inputs: [x.name], output: n.out, perm: ps, inShape: x.shape }, outShape);
}

function foldTransposeNode(n: NodeContext): Const {
  const x = n.constIn(0, 'input 0');
  const perm = n.a.ints('perm', x.dims.map((_, i) => x.dims.length - 1 - i));
  return foldTranspose(x, perm);
}

function concat(n: NodeContext): void {
  const present = n.ins.filter((s) => s);
  const vals = present.map((s, i) => {
    if (n.imp.constOf(s)) throw new NodeError(`input ${quote(s)} is a constant; concatenating constants with activations is not supported`);
    return n.value(n.ins.indexOf(s), `input ${i}`);
  });
  const full = vals[0].shape.length + 1;
  const axis = normAxis(n.a.int('axis', 0), full);
  if (axis === 0) throw new NodeError('concatenation along the batch dimension is not supported');
  const ax = axis - 1;
  for (const v of vals) {
    if (v.shape.length !== full - 1 || v.shape.some((d, i) => i !== ax && d !== vals[0].shape[i])) {
      throw new NodeError(`input shapes ${vals.map((q) => `[${q.shape.join(', ')}]`).join(', ')} do not match off axis ${axis}`);
    }
  }
  const outShape = [...vals[0].shape];
  outShape[ax] = vals.reduce((s, v) => s + v.shape[ax], 0);
  n.imp.emit({ kind: 'concat', name: n.name, inputs: vals.map((v) => v.name), output: n.out, axis: ax, inShapes: vals.map((v) => v.shape) }, outShape);
}

function foldConcatNode(n: NodeContext): Const {
  const parts = n.ins.filter((x) => x).map((x) => n.imp.constOf(x)!);
  return foldConcat(parts, n.a.int('axis', 0));
}

/** Layout ops by ONNX op type. */
export const SHAPE_OPS: OpTable = {
  Flatten: { activation: flatten, fold: foldFlatten },
  Reshape: { activation: reshape, fold: foldReshape },
  Squeeze: { activation: squeeze, fold: foldSqueeze },
  Unsqueeze: { activation: unsqueeze, fold: foldUnsqueeze },
  Transpose: { activation: transpose, fold: foldTransposeNode },
  Concat: { activation: concat, fold: foldConcatNode },
};
