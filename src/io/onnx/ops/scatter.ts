/**
 * ScatterND. Of constants it folds (a position table written into zeros by slice assignment,
 * `pe[:, 0::2] = torch.sin(...)`). On activations (`y[:, :, 0] = 0`, `y[:, 0] = y[:, 0] * 2`) PyTorch's
 * indices span the batch, built from torch.arange(batch): they are probed at a few batch sizes
 * (probe.ts), and when every sample has the same positions written from its own updates, the op is,
 * per sample, a gather of the updates and a select with a constant mask.
 */
import { count, plainIntsOf } from '../consts.ts';
import type { Const } from '../consts.ts';
import { NodeError } from '../node.ts';
import type { DType, NodeContext, OpTable, Value } from '../node.ts';
import { quote } from '../proto.ts';
import { PROBE_BATCHES } from '../probe.ts';
import { emitBinary } from './elementwise.ts';
import { reshapeTo } from './matrix.ts';

const COMBINE: Readonly<Record<string, (a: number, b: number) => number>> = { none: (_a, b) => b, add: (a, b) => a + b, mul: (a, b) => a * b, max: Math.max, min: Math.min };

function reductionOf(n: NodeContext): (a: number, b: number) => number {
  const reduction = n.a.str('reduction', 'none');
  const f = COMBINE[reduction];
  if (!f) throw new NodeError(`attribute "reduction" is ${quote(reduction)}; allowed: ${Object.keys(COMBINE).join(', ')}`);
  return f;
}

/** The flat element offset in `dims` of each index tuple (the last dim of `ind`, q entries), negatives from the end. */
function tupleOffsets(dims: readonly number[], ind: Const): { offsets: number[]; slice: number } {
  const q = ind.dims[ind.dims.length - 1] ?? 0;
  if (q < 1 || q > dims.length) throw new NodeError(`indices' last dim ${q} must be 1 to the data's rank ${dims.length}`);
  const idx = plainIntsOf(ind, 'indices');
  const slice = count(dims.slice(q));
  const offsets: number[] = [];
  for (let t = 0; t < idx.length / q; t++) {
    let at = 0;
    for (let d = 0; d < q; d++) {
      const raw = idx[t * q + d];
      const i = raw < 0 ? raw + dims[d] : raw;
      if (i < 0 || i >= dims[d]) throw new NodeError(`index ${raw} is out of range for dim ${d} of size ${dims[d]}`);
      at = at * dims[d] + i;
    }
    offsets.push(at * slice);
  }
  return { offsets, slice };
}

function foldScatterND(n: NodeContext): Const | null {
  const data = n.constIn(0, 'data');
  const ind = n.constIn(1, 'indices');
  const upd = n.constIn(2, 'updates');
  if ([data, upd].some((c) => c.data.some((v) => typeof v !== 'number'))) return null;
  const f = reductionOf(n);
  const { offsets, slice } = tupleOffsets(data.dims, ind);
  if (count(upd.dims) !== offsets.length * slice) throw new NodeError(`updates [${upd.dims.join(', ')}] do not hold ${offsets.length} slices of ${slice} elements`);
  const out = Array.from(data.data as ArrayLike<number>);
  const u = upd.data as ArrayLike<number>;
  offsets.forEach((at, t) => {
    for (let k = 0; k < slice; k++) out[at + k] = f(out[at + k], u[t * slice + k]);
  });
  return data.kind === 'float' ? { kind: 'float', dims: data.dims, data: Float32Array.from(out) } : { kind: 'int', dims: data.dims, data: out };
}

/** Updates as each sample reads them: an activation, or a constant (probed) whose samples are alike. */
interface SampleUpdates {
  /** Elements per sample. */
  size: number;
  value?: Value;
  /** A constant's one sample, the same at every probed batch size. */
  sample?: Float32Array;
}

function updatesAt(n: NodeContext, batch: number, known: SampleUpdates | null): SampleUpdates {
  const v = n.imp.valueOf(n.ins[2] ?? '');
  if (v) return { size: count(v.shape), value: n.value(2, 'updates') };
  const c = n.imp.probe(n.ins[2] ?? '', batch);
  const all = Float32Array.from(c.data as ArrayLike<number>);
  const size = all.length / batch;
  const sample = all.subarray(0, size);
  const alike = Number.isInteger(size) && all.every((x, i) => x === sample[i % size]) && (!known?.sample || (known.size === size && sample.every((x, i) => x === known.sample![i])));
  if (!alike) throw new NodeError(`updates ${quote(n.ins[2])} are a constant that differs between samples or batch sizes; only an activation or a per-sample constant can be written`);
  return { size, sample };
}

/**
 * For one batch size: which updates element each data element of a sample takes (−1: kept), the same
 * in every sample, or a refusal naming the batch size where that fails.
 */
function sampleMap(n: NodeContext, sampleDims: readonly number[], batch: number, upd: number): Int32Array {
  const full = n.imp.batched ? [batch, ...sampleDims] : [...sampleDims];
  const { offsets, slice } = tupleOffsets(full, n.imp.probe(n.ins[1] ?? '', batch));
  if (offsets.length * slice !== batch * upd) {
    throw new NodeError(`at batch size ${batch} the indices write ${offsets.length} slices of ${slice} elements and the updates hold ${batch * upd}; the indices must span the batch as the updates do`);
  }
  const per = count(sampleDims);
  const maps = Array.from({ length: batch }, () => new Int32Array(per).fill(-1));
  offsets.forEach((at, t) => {
    const b = Math.floor(at / per);
    const src = t * slice;
    if (Math.floor(src / upd) !== b || Math.floor((src + slice - 1) / upd) !== b) {
      throw new NodeError(`at batch size ${batch} sample ${b} is written from another sample's updates; only each sample's own updates can be written`);
    }
    for (let e = 0; e < slice; e++) maps[b][at - b * per + e] = src - b * upd + e;
  });
  if (maps.some((m) => m.some((s, i) => s !== maps[0][i]))) {
    throw new NodeError(`at batch size ${batch} the samples have different elements written; only the same assignment in every sample is supported`);
  }
  return maps[0];
}

/** ScatterND writing into an activation, per sample: gather the updates, select them where written. */
function scatterActivation(n: NodeContext): void {
  if (reductionOf(n) !== COMBINE.none) throw new NodeError(`reduction ${quote(n.a.str('reduction', 'none'))} on activations is not supported; only none (slice assignment) is`);
  const x = n.value(0, 'data');
  ['indices', 'updates'].forEach((what, i) => {
    if (!n.ins[i + 1]) throw new NodeError(`${what} (input ${i + 1}) is missing`);
  });
  if (n.imp.valueOf(n.ins[1] ?? '')) throw new NodeError(`indices ${quote(n.ins[1])} come from the data; only indices known at import (shape computations) are supported`);
  // Constant indices pick samples by number: the batch would be one of the written dims. A static
  // export's (y[:, 1:3] = u traced at the declared batch) are read at that batch, where they must
  // write the same elements of every sample from its own updates, as a computed assignment does.
  const fixed = n.imp.batched && n.constAt(1);
  if (fixed && n.imp.declaredBatch === null) throw new NodeError(`indices ${quote(n.ins[1])} are a constant, so they name samples by number; only an assignment to every sample (y[:, …] = …) is supported`);
  let upd: SampleUpdates | null = null;
  let map: Int32Array | null = null;
  for (const batch of fixed ? [n.imp.declaredBatch!] : n.imp.batched ? PROBE_BATCHES : [1]) {
    upd = updatesAt(n, batch, upd);
    const m = sampleMap(n, x.shape, batch, upd.size);
    if (map && m.some((s, i) => s !== map![i])) throw new NodeError(`writes different elements of a sample at batch sizes ${PROBE_BATCHES.join(', ')}; only an assignment the same for every batch size is supported`);
    map = m;
  }
  const per = count(x.shape);
  const u = upd!.value ?? n.constValue({ kind: 'float', dims: [upd!.size], data: upd!.sample! }, [upd!.size], 'updates', undefined, x.dtype);
  const flatU = reshapeTo(n, u, [upd!.size]);
  const gathered = n.imp.fresh(`${n.name}/gather`);
  n.imp.emit({ kind: 'gather', name: n.name, inputs: [flatU.name], output: gathered, axis: 0, indices: map!.map((s) => Math.max(s, 0)), indicesShape: [per], inShape: [upd!.size], outShape: [per] }, [per], x.dtype);
  const mask = n.constValue({ kind: 'float', dims: [per], data: Float32Array.from(map!, (s) => (s >= 0 ? 1 : 0)) }, [per], 'written', undefined, 'bool');
  const flatX = reshapeTo(n, x, [per]);
  const selected = n.imp.fresh(`${n.name}/select`);
  n.imp.emit({ kind: 'where', name: n.name, inputs: [mask.name, gathered, flatX.name], output: selected, condShape: [per], xShape: [per], yShape: [per], outShape: [per] }, [per], x.dtype);
  reshapeTo(n, n.imp.valueOf(selected)!, [...x.shape], n.out);
}

/** The reductions ScatterElements takes at the node's opset (none; add and mul from 16; max and min from 18). */
function elementReduction(n: NodeContext): 'none' | 'add' | 'mul' | 'max' | 'min' {
  const allowed = n.opset >= 18 ? (['none', 'add', 'mul', 'max', 'min'] as const) : n.opset >= 16 ? (['none', 'add', 'mul'] as const) : (['none'] as const);
  const r = n.a.str('reduction', 'none');
  const hit = allowed.find((a) => a === r);
  if (!hit) throw new NodeError(`attribute "reduction" is ${quote(r)}; allowed at opset ${n.opset}: ${allowed.map((a) => quote(a)).join(', ')}`);
  return hit;
}

/**
 * ScatterElements (torch.scatter, scatter_add, scatter_reduce; a one-hot by scatter) per sample,
 * indices from the data or constant, as a one-hot over the axis: each update is compared with every
 * position 0 … L−1 of the axis ([…, M, L, …]), and the M updates landing on a position are summed
 * (none, add), multiplied (mul) or maxed (max, min) into it. With reduction none, repeated indices
 * (which ONNX leaves undefined) add up. Off the axis, indices must cover the data's extent.
 */
function scatterElements(n: NodeContext): void {
  const reduction = elementReduction(n);
  const x = n.operand(0, (n.constAt(0)?.dims.length ?? 0), 'data');
  const idx = n.operand(1, (n.constAt(1)?.dims.length ?? 0), 'indices');
  const upd = n.operand(2, (n.constAt(2)?.dims.length ?? 0), 'updates');
  const r = x.shape.length;
  const axis = n.axisOf(x, n.a.int('axis', 0));
  if (idx.shape.length !== r || upd.shape.length !== r || idx.shape.some((d, i) => d !== upd.shape[i])) {
    throw new NodeError(`indices [${idx.shape.join(', ')}] and updates [${upd.shape.join(', ')}] must have one shape, of data's rank ${r} (per sample)`);
  }
  if (idx.shape.some((d, i) => i !== axis && d !== x.shape[i])) {
    throw new NodeError(`indices [${idx.shape.join(', ')}] cover part of data [${x.shape.join(', ')}] off axis ${axis}; only indices as wide as the data there are supported`);
  }
  const L = x.shape[axis];
  const part = (what: string): string => n.imp.fresh(`${n.name}/${what}`);
  const num = (v: number) => ({ c: { kind: 'float' as const, dims: [], data: Float32Array.of(v) } });
  const bin = (fn: Parameters<typeof emitBinary>[1], a: Value, b: Value | number, what: string): Value => {
    const out = part(what);
    emitBinary(n, fn, { v: a }, typeof b === 'number' ? num(b) : { v: b }, out, `${n.name}/${what}`);
    return n.imp.valueOf(out)!;
  };
  // The one-hot's axes: the updates' M at `axis`, the positions' L after it.
  const wide = [...idx.shape.slice(0, axis + 1), 1, ...idx.shape.slice(axis + 1)];
  const wrapped = bin('add', idx, bin('mul', bin('less', idx, 0, 'below'), L, 'negative'), 'index');
  const positions = new Float32Array(L).map((_, j) => j);
  const lattice = wide.map((_, i) => (i === axis + 1 ? L : 1));
  const eq = part('onehot');
  emitBinary(n, 'equal', { v: reshapeTo(n, wrapped, wide, part('column')) }, { c: { kind: 'float', dims: lattice, data: positions } }, eq, `${n.name}/onehot`);
  const onehot = n.imp.valueOf(eq)!;
  const u = reshapeTo(n, upd, wide, part('updates'));
  const reduce = (v: Value, fn: 'sum' | 'prod' | 'max' | 'min', what: string, dtype: DType = 'float'): Value => {
    const out = part(what);
    const outShape = x.shape.map((d, i) => (i === axis ? L : d));
    n.imp.emit({ kind: 'reduce', name: `${n.name}/${what}`, inputs: [v.name], output: out, fn, axes: [axis], keepDims: false, inShape: v.shape, outShape }, outShape, dtype);
    return n.imp.valueOf(out)!;
  };
  if (reduction === 'none' || reduction === 'add') {
    const landed = reduce(bin('mul', onehot, u, 'landing'), 'sum', 'landed');
    if (reduction === 'add') return emitBinary(n, 'add', { v: x }, { v: landed }, n.out);
    const written = bin('greater', reduce(onehot, 'sum', 'hits'), 0, 'written');
    const kept = bin('mul', x, bin('add', bin('mul', written, -1, 'unwritten'), 1, 'keep'), 'kept');
    return emitBinary(n, 'add', { v: kept }, { v: landed }, n.out);
  }
  if (reduction === 'mul') {
    // eq·u + (1 − eq): the update where it lands, 1 elsewhere.
    const factors = bin('add', bin('mul', onehot, u, 'landing'), bin('add', bin('mul', onehot, -1, 'miss'), 1, 'ones'), 'factors');
    return emitBinary(n, 'mul', { v: x }, { v: reduce(factors, 'prod', 'product') }, n.out);
  }
  // Max and min: the update where it lands, the other extreme elsewhere (a select, so no sum loses it).
  const far = n.constValue({ kind: 'float', dims: [1], data: Float32Array.of(reduction === 'max' ? -3.4028234663852886e38 : 3.4028234663852886e38) }, [1], 'far');
  const spread = part('candidates');
  const shape = wide.map((d, i) => (i === axis + 1 ? L : d));
  n.imp.emit({ kind: 'where', name: `${n.name}/candidates`, inputs: [onehot.name, u.name, far.name], output: spread, condShape: onehot.shape, xShape: u.shape, yShape: [1], outShape: shape }, shape, upd.dtype);
  emitBinary(n, reduction, { v: x }, { v: reduce(n.imp.valueOf(spread)!, reduction, 'extreme', upd.dtype) }, n.out);
}

export const SCATTER_OPS: OpTable = {
  ScatterND: { fold: foldScatterND, activation: scatterActivation, batchProbe: true },
  ScatterElements: { activation: scatterElements },
  // Scatter (opsets 9 and 10) is ScatterElements under its former name, without reductions.
  Scatter: { activation: scatterElements },
};
