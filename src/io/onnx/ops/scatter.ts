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
import type { NodeContext, OpTable, Value } from '../node.ts';
import { quote } from '../proto.ts';
import { PROBE_BATCHES } from '../probe.ts';
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
  // Constant indices pick samples by number: the batch would be one of the written dims.
  if (n.imp.batched && n.constAt(1)) throw new NodeError(`indices ${quote(n.ins[1])} are a constant, so they name samples by number; only an assignment to every sample (y[:, …] = …) is supported`);
  let upd: SampleUpdates | null = null;
  let map: Int32Array | null = null;
  for (const batch of n.imp.batched ? PROBE_BATCHES : [1]) {
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

export const SCATTER_OPS: OpTable = {
  ScatterND: { fold: foldScatterND, activation: scatterActivation, batchProbe: true },
};
