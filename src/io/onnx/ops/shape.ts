/**
 * Layout ops (Flatten, Reshape, Squeeze, Unsqueeze, Transpose, Concat, Split): on activations they
 * become IR reshapes, transposes, concats and slices that keep the batch dimension first; on
 * constants they fold.
 */
import type { ReshapeOp } from '../../../ir/graph.ts';
import { BatchDim, count, intsOf, isBatchDim, normAxis, plainIntsOf, showDims, uniformAlong, withDims, type Dim } from '../consts.ts';
import type { Const } from '../consts.ts';
import { foldConcat, foldSlice, foldTranspose, reshapeDims } from '../fold.ts';
import { NodeError } from '../node.ts';
import type { BatchMerge, NodeContext, OpTable, Value } from '../node.ts';
import { reshapeBatch } from './batch-reshape.ts';
import { constantToMovedBatch } from './gather.ts';
import { quote } from '../proto.ts';

function emitReshape(n: NodeContext, x: Value, outShape: number[], out = n.out, batchAt = 0, merged?: BatchMerge): void {
  const op: ReshapeOp = { kind: 'reshape', name: n.name, inputs: [x.name], output: out, outShape };
  n.imp.emit(op, outShape, x.dtype, batchAt, merged);
}

function flatten(n: NodeContext): void {
  const x = n.valueAnyBatch(0, 'input');
  const full = x.shape.length + n.lead;
  const raw = n.a.int('axis', 1);
  const axis = raw < 0 ? raw + full : raw;
  if (axis < 0 || axis > full) throw new NodeError(`axis ${raw} is out of range for rank ${full}`);
  if (!n.imp.batched) return emitReshape(n, x, [count(x.shape.slice(0, axis)), count(x.shape.slice(axis))]);
  if (axis === 0) throw new NodeError(`axis ${raw} would flatten the batch dimension into the features; axis 1 or later is supported`);
  const b = x.batchAt ?? 0;
  if (b === 0 && axis === 1) return emitReshape(n, x, [count(x.shape)]);
  // As a Reshape to [d0·…·d(axis−1), d(axis)·…], the group holding the batch a multiple of it: [batch·k,
  // rest] merges the batch into the rows (PyTorch's h[torch.arange(batch), idx] picks a row per
  // sample from it), and advanced indexing's [k, batch] (the batch moved last) keeps it alone.
  const dims: (number | null)[] = [...x.shape];
  dims.splice(b, 0, null);
  const group = (g: (number | null)[]): Dim => (g.includes(null) ? new BatchDim(count(g.filter((d): d is number => d !== null))) : count(g as number[]));
  const target = [group(dims.slice(0, axis)), group(dims.slice(axis))];
  const r = reshapeBatch(x, target, false, n.imp.declaredBatch, showDims(target));
  emitReshape(n, x, r.shape, n.out, r.batchAt, r.merged);
}

function foldFlatten(n: NodeContext): Const {
  const x = n.constIn(0, 'input 0');
  const ax = n.a.int('axis', 1);
  const axis = ax < 0 ? ax + x.dims.length : ax;
  return withDims(x, [count(x.dims.slice(0, axis)), count(x.dims.slice(axis))]);
}

function reshape(n: NodeContext): void {
  const x = n.valueAnyBatch(0, 'data', true);
  const target = intsOf(n.constIn(1, 'shape'));
  const allowZero = n.a.int('allowzero', 0) === 1;
  const show = showDims(target);
  if (n.imp.batched && !batchStaysFirst(n, x, target, allowZero)) {
    const r = reshapeBatch(x, target, allowZero, n.imp.declaredBatch, show);
    return emitReshape(n, x, r.shape, n.out, r.batchAt, r.merged);
  }
  if (!n.imp.batched) {
    const plain = plainIntsOf(n.constIn(1, 'shape'), 'Reshape shape');
    let outShape: number[];
    try {
      outShape = reshapeDims(x.shape, plain, allowZero);
    } catch (e) {
      throw new NodeError(`cannot reshape [${x.shape.join(', ')}] to ${show} (${(e as Error).message})`);
    }
    return emitReshape(n, x, outShape);
  }
  // Batch first and alone (batchStaysFirst): the per-sample reshape of the other dims.
  if (target.length === 0) throw new NodeError(`reshape to a scalar drops the batch dimension`);
  const first = target[0];
  const rest = target.slice(1) as number[];
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
  emitReshape(n, x, outShape);
}

/** Whether a batched Reshape keeps a batch-first input's batch first and alone (the common case, with its own messages). */
function batchStaysFirst(n: NodeContext, x: Value, target: readonly Dim[], allowZero: boolean): boolean {
  if (x.batchAt || x.merged || target.length === 0) return !(x.batchAt || x.merged);
  const first = target[0];
  const declared = n.imp.declaredBatch;
  const keeps = (isBatchDim(first) && first.k === 1) || first === -1 || (first === 0 && !allowZero) || (declared !== null && first === declared);
  const rest = target.slice(1);
  // x.reshape(-1, C) folds the batch into its rows: the -1 holds more than the batch.
  const merges = first === -1 && rest.every((d) => typeof d === 'number' && d > 0) && count(rest as number[]) !== count(x.shape) && count(x.shape) % count(rest as number[]) === 0;
  return keeps && !merges && !rest.some(isBatchDim) && !(first === -1 && rest.includes(-1));
}

function foldReshape(n: NodeContext): Const {
  const x = n.constIn(0, 'input 0');
  const target = plainIntsOf(n.constIn(1, 'shape'), 'Reshape shape');
  return withDims(x, reshapeDims(x.dims, target, n.a.int('allowzero', 0) === 1));
}

function squeeze(n: NodeContext): void {
  const x = n.valueAnyBatch(0, 'data');
  const full = x.shape.length + n.lead;
  const b = n.batchAxis(x);
  const axes = n.axesArg(13);
  let outShape: number[];
  let batchAt = 0;
  if (axes) {
    const norm = new Set(axes.map((ax) => normAxis(ax, full)));
    if (norm.has(b)) throw new NodeError('cannot squeeze the batch dimension');
    const sample = [...norm].map((ax) => (b >= 0 && ax > b ? ax - 1 : ax));
    for (const [k, ax] of sample.entries()) {
      if (x.shape[ax] !== 1) throw new NodeError(`cannot squeeze axis ${[...norm][k]} of size ${x.shape[ax]}`);
    }
    outShape = x.shape.filter((_, i) => !sample.includes(i));
    batchAt = b > 0 ? b - [...norm].filter((ax) => ax < b).length : 0;
  } else {
    if (b > 0 && x.shape.slice(0, b).some((d) => d === 1)) throw new NodeError('squeezes every 1 with the batch dimension moved; name the axes');
    outShape = x.shape.filter((d) => d !== 1);
    batchAt = b > 0 ? b : 0;
  }
  n.imp.emit({ kind: 'reshape', name: n.name, inputs: [x.name], output: n.out, outShape }, outShape, x.dtype, batchAt);
}

function foldSqueeze(n: NodeContext): Const {
  const x = n.constIn(0, 'input 0');
  const axes = n.axesArg(13);
  const norm = axes ? new Set(axes.map((ax) => normAxis(ax, x.dims.length))) : null;
  return withDims(x, x.dims.filter((d, i) => (norm ? !norm.has(i) : d !== 1)));
}

function unsqueezedDims(axes: number[], rank: number, dims: readonly number[], lead: number): { dims: number[]; axes: Set<number> } {
  const full = rank + axes.length;
  const norm = new Set(axes.map((ax) => normAxis(ax, full)));
  if (norm.size !== axes.length) throw new NodeError(`axes [${axes.join(', ')}] repeat an axis`);
  const out: number[] = [];
  for (let i = lead, j = 0; i < full; i++) out.push(norm.has(i) ? 1 : dims[j++]);
  return { dims: out, axes: norm };
}

function unsqueeze(n: NodeContext): void {
  const x = n.valueAnyBatch(0, 'data');
  const axes = n.axesArg(13);
  if (!axes) throw new NodeError('has no axes');
  const b = n.batchAxis(x);
  if (b < 0) return emitReshape(n, x, unsqueezedDims(axes, x.shape.length, x.shape, 0).dims);
  // Inserted before the batch, axes move it (PyTorch's h0.unsqueeze(0) for an RNN's [layers, batch, H] state).
  const onnxIn: (number | null)[] = [...x.shape];
  onnxIn.splice(b, 0, null);
  const u = unsqueezedDims(axes, onnxIn.length, onnxIn.map((d) => d ?? -1), 0);
  const batchAt = [...u.dims.keys()].filter((i) => !u.axes.has(i))[b];
  emitReshape(n, x, u.dims.filter((_, i) => i !== batchAt), n.out, batchAt);
}

function foldUnsqueeze(n: NodeContext): Const {
  const x = n.constIn(0, 'input 0');
  const axes = n.axesArg(13);
  if (!axes) throw new NodeError('has no axes');
  return withDims(x, unsqueezedDims(axes, x.dims.length, x.dims, 0).dims);
}

function transpose(n: NodeContext): void {
  const x = n.valueAnyBatch(0, 'data', true);
  const full = n.rankOf(x);
  const perm = n.a.ints('perm', Array.from({ length: full }, (_, i) => full - 1 - i));
  if (perm.length !== full || [...perm].sort((p, q) => p - q).some((p, i) => p !== i)) {
    throw new NodeError(`perm [${perm.join(', ')}] is not a permutation of ${full} axes`);
  }
  // The batch may move among the ONNX dims (it stays first in memory): its new position is where perm puts it.
  const b = n.batchAxis(x);
  // A merged batch moves with the dim it shares (ONNX and per-sample axes are then the same).
  const toSample = (p: number): number => (b >= 0 && p > b && !x.merged ? p - 1 : p);
  const ps = (x.merged ? perm : perm.filter((p) => p !== b)).map(toSample);
  const batchAt = b >= 0 ? perm.indexOf(b) : 0;
  const outShape = ps.map((p) => x.shape[p]);
  if (ps.every((p, i) => p === i)) {
    n.imp.emit({ kind: 'reshape', name: n.name, inputs: [x.name], output: n.out, outShape }, outShape, x.dtype, batchAt, x.merged);
    return;
  }
  n.imp.emit({ kind: 'transpose', name: n.name, inputs: [x.name], output: n.out, perm: ps, inShape: x.shape }, outShape, x.dtype, batchAt, x.merged);
}

function foldTransposeNode(n: NodeContext): Const {
  const x = n.constIn(0, 'input 0');
  const perm = n.a.ints('perm', x.dims.map((_, i) => x.dims.length - 1 - i));
  return foldTranspose(x, perm);
}

function concat(n: NodeContext): void {
  const idx = n.ins.map((s, i) => (s ? i : -1)).filter((i) => i >= 0);
  const acts = idx.filter((i) => !n.constAt(i)).map((i) => n.valueAnyBatch(i, `input ${idx.indexOf(i)}`));
  // Activations whose batch a Transpose or an RNN moved (stacked LSTMs' h_n [layers, batch, H]) concatenate around it.
  const batchAt = acts[0]?.batchAt ?? 0;
  if (acts.some((v) => (v.batchAt ?? 0) !== batchAt)) throw new NodeError(`inputs have the batch dimension at different axes (${acts.map((v) => v.batchAt ?? 0).join(', ')})`);
  const vals = idx.map((i, k) => {
    const c = n.constAt(i);
    if (!c) return n.valueAnyBatch(i, `input ${k}`);
    if (!n.imp.batched) return n.constValue(c, c.dims, `input${k}`);
    if (batchAt) throw new NodeError(`input ${quote(n.ins[i])} is a constant and the activations have the batch dimension at axis ${batchAt}; only activations concatenate there`);
    // A static export folds Expand(class token, [batch, 1, D]) to a constant with the declared batch: the same in every sample.
    const one = c.dims.length === 0 ? null : c.dims[0] === 1 ? c : uniformAlong(c, 0, n.imp.declaredBatch);
    const per = one && { ...one, dims: one.dims.slice(1) } as Const;
    if (!per) throw new NodeError(`input ${quote(n.ins[i])} is a constant with dims [${c.dims.join(', ')}]; concatenating a constant with activations needs a first (batch) dim of 1 or the declared batch, equal in every sample`);
    return n.constValue(per, per.dims, `input${k}`);
  });
  const rank = vals[0].shape.length;
  const ax = n.axisOf(vals[0], n.a.int('axis', 0));
  for (const v of vals) {
    if (v.shape.length !== rank || v.shape.some((d, i) => i !== ax && d !== vals[0].shape[i])) {
      throw new NodeError(`input shapes ${vals.map((q) => `[${q.shape.join(', ')}]`).join(', ')} do not match off axis ${n.a.int('axis', 0)}`);
    }
  }
  const outShape = [...vals[0].shape];
  outShape[ax] = vals.reduce((s, v) => s + v.shape[ax], 0);
  n.imp.emit({ kind: 'concat', name: n.name, inputs: vals.map((v) => v.name), output: n.out, axis: ax, inShapes: vals.map((v) => v.shape) }, outShape, vals[0].dtype, batchAt);
}


/**
 * DepthToSpace (DCR or CRD order) and SpaceToDepth of [batch, C, H, W] (nn.PixelShuffle and
 * PixelUnshuffle): a per-sample reshape, transpose and reshape, as the ONNX definitions are written.
 */
function depthSpace(toSpace: boolean): (n: NodeContext) => void {
  return (n) => {
    const x = n.value(0, 'input');
    if (x.shape.length + n.lead !== 4) throw new NodeError(`input has rank ${x.shape.length + n.lead}; ${n.op} needs [N, C, H, W]`);
    const [C, H, W] = n.imp.batched ? x.shape : x.shape.slice(1);
    const b = n.a.int('blocksize', 0);
    if (!(b >= 1)) throw new NodeError(`attribute "blocksize" is ${b}; it must be a positive integer`);
    const lead = n.imp.batched ? [] : [x.shape[0]];
    let split: number[];
    let perm: number[];
    let out: number[];
    if (toSpace) {
      if (C % (b * b) !== 0) throw new NodeError(`${C} channels are not divisible by blocksize² = ${b * b}`);
      const crd = n.a.str('mode', 'DCR') === 'CRD';
      if (!crd && n.a.str('mode', 'DCR') !== 'DCR') throw new NodeError(`attribute "mode" is ${quote(n.a.str('mode', ''))}; allowed: "DCR", "CRD"`);
      split = crd ? [C / (b * b), b, b, H, W] : [b, b, C / (b * b), H, W];
      perm = crd ? [0, 3, 1, 4, 2] : [2, 3, 0, 4, 1];
      out = [C / (b * b), H * b, W * b];
    } else {
      if (H % b !== 0 || W % b !== 0) throw new NodeError(`spatial dims ${H}×${W} are not divisible by blocksize ${b}`);
      split = [C, H / b, b, W / b, b];
      perm = [2, 4, 0, 1, 3];
      out = [C * b * b, H / b, W / b];
    }
    const off = lead.length;
    const full = (p: number[]): number[] => (off ? [0, ...p.map((q) => q + 1)] : p);
    const s1 = [...lead, ...split];
    const a = n.imp.fresh(`${n.out}/split`);
    emitReshape(n, x, s1, a);
    const t = n.imp.fresh(`${n.out}/perm`);
    const pp = full(perm);
    n.imp.emit({ kind: 'transpose', name: n.name, inputs: [a], output: t, perm: pp, inShape: s1 }, pp.map((q) => s1[q]), x.dtype);
    emitReshape(n, n.imp.valueOf(t)!, [...lead, ...out]);
  };
}

/** Tile with constant repeats: copies concatenated along each repeated axis (the batch's repeat must be 1). */
function tile(n: NodeContext): void {
  const c = n.constAt(0);
  if (c) {
    // A constant whose 1s are repeated by the batch size: the batch placed there (h0.repeat(1, batch, 1)).
    const reps = intsOf(n.constIn(1, 'repeats'));
    if (reps.length !== c.dims.length) throw new NodeError(`repeats has ${reps.length} entries for a constant of rank ${c.dims.length}`);
    if (reps.every((r) => !isBatchDim(r))) {
      let t = c;
      reps.forEach((r, ax) => {
        if (r !== 1) t = foldConcat(new Array<Const>(r as number).fill(t), ax);
      });
      return n.imp.setConst(n.out, t);
    }
    // A dim of d > 1 repeated batch times is d·batch long: not one dim of the batch's own, refused.
    const target = reps.map((r, i) => (c.dims[i] === 1 ? r : isBatchDim(r) ? new BatchDim(c.dims[i] * r.k) : c.dims[i] * r));
    if (constantToMovedBatch(n, c, target, n.out, true)) return;
    throw new NodeError(`repeats ${showDims(reps)} of a constant: the batch size may only repeat a dim of 1, once`);
  }
  let x = n.value(0, 'input');
  const reps = plainIntsOf(n.constIn(1, 'repeats'), 'repeats');
  if (reps.length !== x.shape.length + n.lead) throw new NodeError(`repeats has ${reps.length} entries for an input of rank ${x.shape.length + n.lead}`);
  if (reps.some((r) => !Number.isInteger(r) || r < 1)) throw new NodeError(`repeats [${reps.join(', ')}] must be positive integers`);
  if (n.lead && reps[0] !== 1) throw new NodeError(`repeats the batch dimension ${reps[0]} times; only 1 is supported`);
  const per = reps.slice(n.lead);
  const last = per.reduce((l, r, i) => (r !== 1 ? i : l), -1);
  if (last < 0) return emitReshape(n, x, [...x.shape]);
  per.forEach((r, ax) => {
    if (r === 1) return;
    const outShape = x.shape.map((d, i) => (i === ax ? d * r : d));
    const out = ax === last ? n.out : n.imp.fresh(`${n.out}/tile${ax}`);
    n.imp.emit({ kind: 'concat', name: n.name, inputs: new Array<string>(r).fill(x.name), output: out, axis: ax, inShapes: new Array(r).fill(x.shape) }, outShape, x.dtype);
    x = n.imp.valueOf(out)!;
  });
}

function foldConcatNode(n: NodeContext): Const {
  const parts = n.ins.filter((x) => x).map((x) => n.imp.constOf(x)!);
  return foldConcat(parts, n.a.int('axis', 0));
}

/** Split's part sizes along an axis of extent `d`: the split input/attribute, num_outputs (opset 18), or equal parts. */
function splitSizes(n: NodeContext, d: number): number[] {
  const k = n.outs.length;
  const given = n.opset >= 13 ? (n.optConst(1, 'split') ? plainIntsOf(n.optConst(1, 'split')!, 'split') : null) : n.a.ints('split', null);
  if (given) {
    if (given.length !== k || given.some((s) => s < 0) || given.reduce((a, b) => a + b, 0) !== d) {
      throw new NodeError(`split [${given.join(', ')}] does not cut an axis of ${d} into ${k} outputs`);
    }
    return given;
  }
  const parts = n.opset >= 18 && n.a.has('num_outputs') ? n.a.int('num_outputs', k) : k;
  if (parts !== k) throw new NodeError(`num_outputs is ${parts} but the node has ${k} outputs`);
  if (n.opset >= 18) {
    // Opset 18: parts of ceil(d / k), the last one smaller.
    const size = Math.ceil(d / k);
    return Array.from({ length: k }, (_, i) => Math.max(0, Math.min(size, d - i * size)));
  }
  if (d % k !== 0) throw new NodeError(`an axis of ${d} does not split into ${k} equal parts`);
  return new Array<number>(k).fill(d / k);
}

function split(n: NodeContext): void {
  const x = n.valueAnyBatch(0, 'input');
  const axis = n.axisOf(x, n.a.int('axis', 0));
  let start = 0;
  splitSizes(n, x.shape[axis]).forEach((size, i) => {
    const outShape = x.shape.map((d, j) => (j === axis ? size : d));
    const starts = x.shape.map((_, j) => (j === axis ? start : 0));
    start += size;
    const out = n.outs[i];
    if (!out) return;
    n.imp.emit({ kind: 'slice', name: n.name, inputs: [x.name], output: out, starts, steps: x.shape.map(() => 1), inShape: x.shape, outShape }, outShape, x.dtype, x.batchAt);
  });
}

/** Split of a constant: every output is set here, so the table runs it as `always` when the input is constant. */
function splitNode(n: NodeContext): void {
  const c = n.constAt(0);
  if (!c) return split(n);
  const axis = normAxis(n.a.int('axis', 0), c.dims.length);
  let start = 0;
  splitSizes(n, c.dims[axis]).forEach((size, i) => {
    if (n.outs[i]) n.imp.setConst(n.outs[i], foldSlice(c, [start], [start + size], [axis], [1]));
    start += size;
  });
}

/** Layout ops by ONNX op type. */
export const SHAPE_OPS: OpTable = {
  Flatten: { activation: flatten, fold: foldFlatten },
  Reshape: { activation: reshape, fold: foldReshape },
  Squeeze: { activation: squeeze, fold: foldSqueeze },
  Unsqueeze: { activation: unsqueeze, fold: foldUnsqueeze },
  Transpose: { activation: transpose, fold: foldTransposeNode },
  Concat: { activation: concat, fold: foldConcatNode },
  DepthToSpace: { activation: depthSpace(true) },
  SpaceToDepth: { activation: depthSpace(false) },
  Tile: { activation: tile, constInputs: true },
  Split: { always: splitNode },
};
